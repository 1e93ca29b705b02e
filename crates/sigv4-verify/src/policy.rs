//! [`Policy`]: what the verifier accepts.

use std::time::Duration;

use sigv4_sign::{Service, Settings};

/// The rules a [`crate::Verifier`] applies. Start from [`Policy::default`]
/// (strict, AWS limits) and adjust with the `with_*` methods.
///
/// ```
/// use std::time::Duration;
/// use sigv4_verify::Policy;
/// let p = Policy::default()
///     .with_allowed_regions(["us-east-1"])
///     .with_allowed_services(["s3"])
///     .with_max_skew(Duration::from_secs(300));
/// assert!(p.strict);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Policy {
    /// Largest difference between the request time and the server clock (15 min).
    pub max_skew: Duration,
    /// Longest presigned URL lifetime accepted (7 days).
    pub max_presign_expiry: Duration,
    /// Regions this server serves (`None`: any). A SigV4 request is
    /// accepted when the region of its credential scope is one of them
    /// (exactly). A SigV4a request (feature `sigv4a`), whose scope has no
    /// region, is accepted when its `X-Amz-Region-Set` names at least one of
    /// them: a set entry names a region when it equals it or, where it holds
    /// `*`, when the `*`s can stand for runs of characters that make it
    /// equal (`*` names every region, `us-*` names `us-east-1`). Entries
    /// here are plain names: a `*` in this list is only a region called `*`.
    pub allowed_regions: Option<Vec<String>>,
    /// Services accepted in the credential scope (`None`: any).
    pub allowed_services: Option<Vec<String>>,
    /// Strict mode (default on): every `x-amz-*` header present, and
    /// `content-type` / `content-md5` when present, must be signed.
    pub strict: bool,
    /// More header names (lower-case) that must be signed when present.
    pub required_signed_headers: Vec<String>,
    /// Accept `x-amz-content-sha256: UNSIGNED-PAYLOAD` with header auth (and
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`).
    pub allow_unsigned_payload_header: bool,
    /// Accept `UNSIGNED-PAYLOAD` in presigned URLs.
    pub allow_unsigned_payload_query: bool,
    /// Tell an unknown access key (`InvalidAccessKeyId`) apart from a bad
    /// signature (`SignatureDoesNotMatch`). On by default, as S3 does; off
    /// hides which keys exist.
    pub distinguish_unknown_key: bool,
    /// Put the server's canonical request and string to sign into
    /// `SignatureDoesNotMatch` (off by default).
    pub expose_signature_debug: bool,
    /// A header set by a trusted reverse proxy that carries the `Host` the
    /// client signed (for example `x-forwarded-host`).
    pub forwarded_host_header: Option<String>,
    /// Largest aws-chunked chunk accepted, in bytes (16 MiB).
    pub max_chunk_size: usize,
    /// Largest body the tower layer buffers, in bytes (16 MiB).
    pub max_body_size: usize,
    /// Signing rules per service name, overriding [`Settings::for_service`].
    pub service_settings: Vec<(String, Settings)>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            max_skew: Duration::from_secs(15 * 60),
            max_presign_expiry: Duration::from_secs(604_800),
            allowed_regions: None,
            allowed_services: None,
            strict: true,
            required_signed_headers: Vec::new(),
            allow_unsigned_payload_header: true,
            allow_unsigned_payload_query: true,
            distinguish_unknown_key: true,
            expose_signature_debug: false,
            forwarded_host_header: None,
            max_chunk_size: 16 << 20,
            max_body_size: 16 << 20,
            service_settings: Vec::new(),
        }
    }
}

impl Policy {
    /// With this clock skew allowance.
    #[must_use]
    pub fn with_max_skew(mut self, d: Duration) -> Self {
        self.max_skew = d;
        self
    }

    /// With this presigned URL lifetime limit (capped at 7 days).
    #[must_use]
    pub fn with_max_presign_expiry(mut self, d: Duration) -> Self {
        self.max_presign_expiry = d.min(Duration::from_secs(604_800));
        self
    }

    /// Accept only these regions.
    #[must_use]
    pub fn with_allowed_regions<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        r: I,
    ) -> Self {
        self.allowed_regions = Some(r.into_iter().map(Into::into).collect());
        self
    }

    /// Accept only these services.
    #[must_use]
    pub fn with_allowed_services<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        s: I,
    ) -> Self {
        self.allowed_services = Some(s.into_iter().map(Into::into).collect());
        self
    }

    /// Strict mode on or off.
    #[must_use]
    pub fn with_strict(mut self, on: bool) -> Self {
        self.strict = on;
        self
    }

    /// Require this header to be signed whenever present.
    #[must_use]
    pub fn with_required_signed_header(mut self, name: impl Into<String>) -> Self {
        self.required_signed_headers
            .push(name.into().to_ascii_lowercase());
        self
    }

    /// Accept `UNSIGNED-PAYLOAD` with header auth, or not.
    #[must_use]
    pub fn with_unsigned_payload_header(mut self, on: bool) -> Self {
        self.allow_unsigned_payload_header = on;
        self
    }

    /// Accept `UNSIGNED-PAYLOAD` in presigned URLs, or not.
    #[must_use]
    pub fn with_unsigned_payload_query(mut self, on: bool) -> Self {
        self.allow_unsigned_payload_query = on;
        self
    }

    /// Tell unknown keys apart from bad signatures, or not.
    #[must_use]
    pub fn with_distinguish_unknown_key(mut self, on: bool) -> Self {
        self.distinguish_unknown_key = on;
        self
    }

    /// Include the canonical request and string to sign in `SignatureDoesNotMatch`.
    #[must_use]
    pub fn with_signature_debug(mut self, on: bool) -> Self {
        self.expose_signature_debug = on;
        self
    }

    /// Trust this header (set by your reverse proxy) for the signed `Host`.
    #[must_use]
    pub fn with_forwarded_host_header(mut self, name: impl Into<String>) -> Self {
        self.forwarded_host_header = Some(name.into().to_ascii_lowercase());
        self
    }

    /// With this aws-chunked chunk size limit.
    #[must_use]
    pub fn with_max_chunk_size(mut self, n: usize) -> Self {
        self.max_chunk_size = n;
        self
    }

    /// With this buffered body size limit (tower layer).
    #[must_use]
    pub fn with_max_body_size(mut self, n: usize) -> Self {
        self.max_body_size = n;
        self
    }

    /// Verify `service` with these signing rules.
    #[must_use]
    pub fn with_service_settings(mut self, service: impl Into<String>, s: Settings) -> Self {
        let service = service.into();
        self.service_settings.retain(|(n, _)| *n != service);
        self.service_settings.push((service, s));
        self
    }

    /// The signing rules for `service`.
    pub fn settings_for<'a>(&'a self, service: &Service) -> &'a Settings {
        self.service_settings
            .iter()
            .find(|(n, _)| n == service.as_str())
            .map_or_else(|| Settings::for_service(service), |(_, s)| s)
    }

    pub(crate) fn region_allowed(&self, r: &str) -> bool {
        self.allowed_regions
            .as_ref()
            .is_none_or(|a| a.iter().any(|x| x == r))
    }

    /// SigV4a: whether the region set names an allowed region (see
    /// [`Policy::allowed_regions`]).
    #[cfg(feature = "sigv4a")]
    pub(crate) fn region_set_allowed(&self, set: &str) -> bool {
        self.allowed_regions
            .as_ref()
            .is_none_or(|a| a.iter().any(|r| crate::v4a::set_covers(set, r)))
    }

    pub(crate) fn service_allowed(&self, s: &str) -> bool {
        self.allowed_services
            .as_ref()
            .is_none_or(|a| a.iter().any(|x| x == s))
    }
}
