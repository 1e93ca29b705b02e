//! [`Verifier`]: parse, check, recompute, compare.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;
use std::time::SystemTime;

use sigv4_sign::canonical::{
    hash_canonical_request, write_string_to_sign, CanonicalHeader, CanonicalRequest,
};
#[cfg(feature = "sigv4a")]
use sigv4_sign::Region;
use sigv4_sign::{
    sha256_hex, AmzDate, CredentialScope, Credentials, SessionTokenPlacement, SignableRequest,
    SigningKey, SigningKeyCache, EMPTY_SHA256, STREAMING_SIGNED_PAYLOAD,
    STREAMING_SIGNED_PAYLOAD_TRAILER, STREAMING_UNSIGNED_PAYLOAD_TRAILER, UNSIGNED_PAYLOAD,
};
use subtle::ConstantTimeEq;

use crate::chunked::{ChunkMode, ChunkedDecoder};
use crate::parse::{
    check_signature_hex, check_signed_headers, malformed, split_authorization, split_credential,
    split_semicolons, Algorithm, QueryAuth,
};
use crate::{Clock, Policy, SecretStore, SignatureDebug, SystemClock, VerifyError};

/// Where the request carried its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthLocation {
    /// The `Authorization` header.
    Header,
    /// Presigned-URL query parameters.
    Query,
    /// A browser-upload POST form.
    PostForm,
}

/// How the body is covered by the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadMode {
    /// A SHA-256 (hex) of the whole body is signed. When the body was not
    /// given to the verifier, the caller must check it (see
    /// [`Verified::check_body`]).
    Sha256(String),
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// aws-chunked; decode with [`Verified::chunked_decoder`].
    Chunked(ChunkMode),
}

/// Who signed the request: what the tower layer puts into request extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// The access key id that signed.
    pub access_key_id: String,
    /// `date/region/service/aws4_request` of the signature. A SigV4a
    /// signature's scope has no region: its region here is `*`, and
    /// [`Identity::region_set`] holds the regions it was signed for.
    pub scope: CredentialScope,
    /// Header, query or POST form.
    pub location: AuthLocation,
    /// The signing time.
    pub time: AmzDate,
    /// SigV4a: the signed `X-Amz-Region-Set` (such as `us-east-1,eu-*`).
    /// `None` for SigV4.
    pub region_set: Option<String>,
}

impl Identity {
    /// The credential scope as it was signed: `date/region/service/aws4_request`,
    /// or `date/service/aws4_request` for SigV4a.
    pub fn scope_string(&self) -> String {
        if self.region_set.is_some() {
            format!(
                "{}/{}/aws4_request",
                self.scope.date(),
                self.scope.service()
            )
        } else {
            self.scope.to_string()
        }
    }
}

/// A request whose signature verified.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Who signed.
    pub identity: Identity,
    /// How the payload is covered.
    pub payload: PayloadMode,
    /// The decoded payload of an aws-chunked body, when the body was given.
    pub decoded_body: Option<Vec<u8>>,
    /// Trailing headers of an aws-chunked body, when the body was given.
    pub trailers: Vec<(String, String)>,
    /// aws-chunked only: the request's signature, which seeds the chunk chain.
    seed_signature: String,
    /// The SigV4 signing key (`None` for SigV4a).
    key: Option<Arc<SigningKey>>,
    announced_trailers: Vec<String>,
    decoded_length: Option<u64>,
    max_chunk: usize,
}

impl Verified {
    /// For an aws-chunked body: a decoder that verifies its chunks as they arrive.
    pub fn chunked_decoder(&self) -> Option<ChunkedDecoder> {
        let PayloadMode::Chunked(mode) = self.payload else {
            return None;
        };
        let key = self.key.as_ref()?;
        Some(ChunkedDecoder::new(
            mode,
            Arc::clone(key),
            self.identity.time,
            self.identity.scope.to_string(),
            &self.seed_signature,
            self.max_chunk,
            self.announced_trailers.clone(),
            self.decoded_length,
        ))
    }

    /// Checks a body that was not given to the verifier against the signed hash.
    pub fn check_body(&self, body: &[u8]) -> Result<(), VerifyError> {
        if let PayloadMode::Sha256(h) = &self.payload {
            let computed = if body.is_empty() {
                let mut e = [0u8; 64];
                e.copy_from_slice(EMPTY_SHA256.as_bytes());
                e
            } else {
                sha256_hex(body)
            };
            if computed.as_slice() != h.as_bytes() {
                return Err(VerifyError::XAmzContentSha256Mismatch {
                    client: h.clone(),
                    computed: String::from_utf8_lossy(&computed).into_owned(),
                });
            }
        }
        Ok(())
    }
}

/// Verifies SigV4-signed (and, with the `sigv4a` feature, SigV4a-signed)
/// requests.
///
/// Holds a [`SecretStore`], a [`Clock`] and a [`Policy`]; derives each
/// signing key once per (access key, day, region, service), and each SigV4a
/// public key once per access key.
pub struct Verifier {
    store: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    policy: Policy,
    keys: SigningKeyCache,
    #[cfg(feature = "sigv4a")]
    v4a_keys: crate::v4a::PublicKeyCache,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Verifier");
        d.field("policy", &self.policy).field("keys", &self.keys);
        #[cfg(feature = "sigv4a")]
        d.field("v4a_keys", &self.v4a_keys);
        d.finish_non_exhaustive()
    }
}

/// The request, parsed and checked up to the point where the secret is needed.
struct Parsed<'r> {
    location: AuthLocation,
    algorithm: Algorithm,
    access_key_id: Cow<'r, str>,
    scope: CredentialScope,
    scope_str: Cow<'r, str>,
    time: AmzDate,
    signature: Cow<'r, str>,
    /// SHA-256 (hex) of the canonical request.
    canonical_hash: [u8; 64],
    /// The canonical request itself, kept only for [`SignatureDebug`].
    canonical: Option<Vec<u8>>,
    payload: PayloadMode,
    token: Option<Cow<'r, str>>,
    region_set: Option<Cow<'r, str>>,
    announced_trailers: Vec<String>,
    decoded_length: Option<u64>,
}

/// The first value of a header and how many times it appeared.
#[derive(Clone, Copy, Default)]
struct Slot<'r> {
    first: Option<&'r [u8]>,
    count: u32,
}

impl<'r> Slot<'r> {
    fn note(&mut self, v: &'r [u8]) {
        if self.first.is_none() {
            self.first = Some(v);
        }
        self.count += 1;
    }

    /// The value, trimmed: an error when the header is repeated or not UTF-8.
    fn one(&self, name: &'static str) -> Result<Option<&'r str>, VerifyError> {
        if self.count > 1 {
            return Err(VerifyError::InvalidRequest(format!(
                "the header `{name}` appears more than once; send it once"
            )));
        }
        let Some(v) = self.first else {
            return Ok(None);
        };
        let s = std::str::from_utf8(v).map_err(|_| {
            VerifyError::InvalidArgument(format!("the header `{name}` is not valid UTF-8"))
        })?;
        Ok(Some(s.trim_matches(|c| c == ' ' || c == '\t')))
    }
}

/// The headers the verifier reads, found in one pass.
#[derive(Default)]
struct Known<'r> {
    authorization: Slot<'r>,
    amz_date: Slot<'r>,
    date: Slot<'r>,
    host: Slot<'r>,
    token: Slot<'r>,
    content_sha: Slot<'r>,
    trailer: Slot<'r>,
    decoded_length: Slot<'r>,
    region_set: Slot<'r>,
}

impl<'r> Known<'r> {
    fn note(&mut self, name: &str, value: &'r [u8]) {
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        let slot = match name.len() {
            4 if is("host") => &mut self.host,
            4 if is("date") => &mut self.date,
            10 if is("x-amz-date") => &mut self.amz_date,
            13 if is("authorization") => &mut self.authorization,
            13 if is("x-amz-trailer") => &mut self.trailer,
            16 if is("x-amz-region-set") => &mut self.region_set,
            20 if is("x-amz-security-token") => &mut self.token,
            20 if is("x-amz-content-sha256") => &mut self.content_sha,
            28 if is("x-amz-decoded-content-length") => &mut self.decoded_length,
            _ => return,
        };
        slot.note(value);
    }
}

/// How many headers the verifier keeps on the stack before it allocates.
const INLINE_HEADERS: usize = 24;

/// The canonical headers: a stack array, spilling to a `Vec` past it.
struct CanonBuf<'a, 'h> {
    inline: &'a mut [CanonicalHeader<'h>; INLINE_HEADERS],
    len: usize,
    spilled: Vec<CanonicalHeader<'h>>,
}

impl<'h> CanonBuf<'_, 'h> {
    fn push(&mut self, h: CanonicalHeader<'h>) {
        if self.len < INLINE_HEADERS {
            self.inline[self.len] = h;
        } else {
            if self.spilled.is_empty() {
                self.spilled.extend_from_slice(&self.inline[..]);
            }
            self.spilled.push(h);
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }

    fn as_slice(&self) -> &[CanonicalHeader<'h>] {
        if self.spilled.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spilled
        }
    }
}

/// The credential scope as parsed, before the request time is known.
enum Scope {
    /// `date/region/service/aws4_request`.
    V4(CredentialScope),
    /// `date/service/aws4_request`: SigV4a scopes have no region.
    #[cfg(feature = "sigv4a")]
    V4a {
        date: [u8; 8],
        service: sigv4_sign::Service,
    },
}

/// Checks the form of a signature: 64 lower-case hex digits (SigV4), the
/// lower-case hex of a DER signature (SigV4a).
fn check_signature(algorithm: Algorithm, sig: &str) -> Result<(), String> {
    match algorithm {
        Algorithm::V4 => check_signature_hex(sig),
        #[cfg(feature = "sigv4a")]
        Algorithm::V4a => crate::parse::check_signature_der_hex(sig),
        #[cfg(not(feature = "sigv4a"))]
        Algorithm::V4a => Err("SigV4a is not enabled on this server".into()),
    }
}

/// Constant-time comparison of a computed 64-digit signature with the one
/// sent, eight bytes at a time.
fn hex64_eq(computed: &[u8; 64], sent: &[u8]) -> bool {
    if sent.len() != 64 {
        return false;
    }
    let words = |b: &[u8]| {
        let mut w = [0u64; 8];
        for (w, c) in w.iter_mut().zip(b.chunks_exact(8)) {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            *w = u64::from_ne_bytes(a);
        }
        w
    };
    bool::from(words(computed).ct_eq(&words(sent)))
}

fn fmt_time(t: SystemTime) -> String {
    AmzDate::from_system_time(t).map_or_else(|_| "invalid".into(), |d| d.as_str().to_owned())
}

fn unix(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn redact_token(canonical: &str) -> String {
    let mut out = String::with_capacity(canonical.len());
    for (i, line) in canonical.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.starts_with("x-amz-security-token:") {
            out.push_str("x-amz-security-token:** redacted **");
        } else if i == 2 && line.contains("X-Amz-Security-Token=") {
            let parts: Vec<String> = line
                .split('&')
                .map(|p| {
                    if p.starts_with("X-Amz-Security-Token=") {
                        "X-Amz-Security-Token=**redacted**".to_owned()
                    } else {
                        p.to_owned()
                    }
                })
                .collect();
            out.push_str(&parts.join("&"));
        } else {
            out.push_str(line);
        }
    }
    out
}

thread_local! {
    /// A buffer for canonical requests and strings to sign, kept per thread
    /// so that a verification does not allocate one each time.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The largest scratch buffer kept for the next verification.
const SCRATCH_KEEP: usize = 64 * 1024;

/// The thread's scratch buffer, empty (a nested call gets a new one).
fn take_scratch() -> Vec<u8> {
    let mut v = SCRATCH.try_with(Cell::take).unwrap_or_default();
    v.clear();
    v
}

fn return_scratch(v: Vec<u8>) {
    if v.capacity() <= SCRATCH_KEEP {
        let _ = SCRATCH.try_with(|c| c.set(v));
    }
}

/// Whether a header must be signed in strict mode: `x-amz-*`,
/// `content-type`, `content-md5`.
fn strict_needs_signing(name: &str) -> bool {
    name.as_bytes()
        .get(..6)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"x-amz-"))
        || name.eq_ignore_ascii_case("content-type")
        || name.eq_ignore_ascii_case("content-md5")
}

impl Verifier {
    /// A verifier with the default [`Policy`] and the system clock.
    pub fn new(store: impl SecretStore + 'static) -> Self {
        Self::with_store(Arc::new(store))
    }

    /// A verifier sharing a store.
    pub fn with_store(store: Arc<dyn SecretStore>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            policy: Policy::default(),
            keys: SigningKeyCache::with_capacity(1024),
            #[cfg(feature = "sigv4a")]
            v4a_keys: crate::v4a::PublicKeyCache::with_capacity(1024),
        }
    }

    /// With this clock.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// With this policy.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The current time of the verifier's clock.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// How many signing keys are cached (SigV4 keys per scope, plus SigV4a
    /// public keys per access key).
    pub fn cached_keys(&self) -> usize {
        #[cfg(feature = "sigv4a")]
        let v4a = self.v4a_keys.len();
        #[cfg(not(feature = "sigv4a"))]
        let v4a = 0;
        self.keys.len() + v4a
    }

    /// Verifies a request: its signature, time, scope and, when `body` is
    /// given, its payload hash (or its aws-chunked chunks, decoded into
    /// [`Verified::decoded_body`]).
    pub async fn verify(
        &self,
        request: &SignableRequest<'_>,
        body: Option<&[u8]>,
    ) -> Result<Verified, VerifyError> {
        let parsed = self.parse(request, body)?;
        let creds = self.store_lookup(&parsed.access_key_id).await?;
        self.finish(parsed, creds.as_ref(), body)
    }

    /// [`Verifier::verify`] with the credentials looked up synchronously by
    /// `lookup` instead of the store.
    pub fn verify_with(
        &self,
        request: &SignableRequest<'_>,
        body: Option<&[u8]>,
        lookup: impl FnOnce(&str) -> Option<Credentials>,
    ) -> Result<Verified, VerifyError> {
        let parsed = self.parse(request, body)?;
        let creds = lookup(&parsed.access_key_id);
        self.finish(parsed, creds.as_ref(), body)
    }

    pub(crate) async fn store_lookup(
        &self,
        akid: &str,
    ) -> Result<Option<Credentials>, VerifyError> {
        let found = match self.store.lookup_now(akid) {
            Some(now) => now,
            None => self.store.lookup(akid).await,
        };
        found.map_err(|e| VerifyError::Store(e.0))
    }

    /// The signing key of a scope, from the cache. A key costs four HMACs
    /// to derive, so concurrent misses may each derive it; the cache keeps one.
    pub(crate) fn signing_key(
        &self,
        creds: &Credentials,
        scope: &CredentialScope,
    ) -> Arc<SigningKey> {
        self.keys
            .get(creds, scope.date(), scope.region(), scope.service())
    }

    fn scope_error(location: AuthLocation, reason: String, region: Option<String>) -> VerifyError {
        match location {
            AuthLocation::Query => VerifyError::AuthorizationQueryParametersError(reason),
            AuthLocation::PostForm => VerifyError::InvalidRequest(reason),
            AuthLocation::Header => VerifyError::AuthorizationHeaderMalformed {
                part: "Credential",
                reason,
                expected_region: region,
            },
        }
    }

    fn check_scope_date(
        scope_date: &str,
        time: &AmzDate,
        location: AuthLocation,
    ) -> Result<(), VerifyError> {
        if scope_date != time.date() {
            return Err(Self::scope_error(
                location,
                format!(
                    "invalid credential date {scope_date}: it must be the date of X-Amz-Date ({})",
                    time.date()
                ),
                None,
            ));
        }
        Ok(())
    }

    fn check_service(
        &self,
        service: &sigv4_sign::Service,
        location: AuthLocation,
    ) -> Result<(), VerifyError> {
        if !self.policy.service_allowed(service.as_str()) {
            return Err(Self::scope_error(
                location,
                format!("the service '{service}' is not served here"),
                None,
            ));
        }
        Ok(())
    }

    pub(crate) fn check_scope(
        &self,
        scope: &CredentialScope,
        time: &AmzDate,
        location: AuthLocation,
    ) -> Result<(), VerifyError> {
        Self::check_scope_date(scope.date(), time, location)?;
        if !self.policy.region_allowed(scope.region().as_str()) {
            let expected = self
                .policy
                .allowed_regions
                .as_ref()
                .and_then(|r| r.first().cloned());
            return Err(Self::scope_error(
                location,
                format!(
                    "the region '{}' is wrong; expecting '{}'",
                    scope.region(),
                    expected.as_deref().unwrap_or("")
                ),
                expected,
            ));
        }
        self.check_service(scope.service(), location)
    }

    /// SigV4a: the region set must be well formed and name a region this
    /// server accepts (see [`Policy::allowed_regions`]).
    #[cfg(feature = "sigv4a")]
    fn check_region_set(&self, set: &str, location: AuthLocation) -> Result<(), VerifyError> {
        if sigv4_sign::sigv4a::RegionSet::parse(set).is_err() {
            let reason = format!(
                "X-Amz-Region-Set {set:?} is not a comma-separated list of regions (such as us-east-1,us-west-2, us-* or *)"
            );
            return Err(match location {
                AuthLocation::Query => VerifyError::AuthorizationQueryParametersError(reason),
                _ => VerifyError::InvalidArgument(reason),
            });
        }
        if !self.policy.region_set_allowed(set) {
            let expected = self
                .policy
                .allowed_regions
                .as_ref()
                .and_then(|r| r.first().cloned());
            let reason = format!(
                "the region set '{set}' names no region served here; expecting '{}'",
                expected.as_deref().unwrap_or("")
            );
            return Err(match location {
                AuthLocation::Query => VerifyError::AuthorizationQueryParametersError(reason),
                _ => VerifyError::AuthorizationHeaderMalformed {
                    part: "X-Amz-Region-Set",
                    reason,
                    expected_region: expected,
                },
            });
        }
        Ok(())
    }

    pub(crate) fn check_skew(&self, time: &AmzDate) -> Result<(), VerifyError> {
        let now = self.clock.now();
        let skew = i64::try_from(self.policy.max_skew.as_secs()).unwrap_or(i64::MAX);
        if (unix(now).saturating_sub(time.unix())).abs() > skew {
            return Err(VerifyError::RequestTimeTooSkewed {
                request_time: time.as_str().to_owned(),
                server_time: fmt_time(now),
                max_skew_ms: u64::try_from(self.policy.max_skew.as_millis()).unwrap_or(u64::MAX),
            });
        }
        Ok(())
    }

    /// The credential of a request, checked for syntax only: key id, scope
    /// text, and the scope (its date is checked once the time is known).
    fn credential(
        algorithm: Algorithm,
        cred: &str,
        location: AuthLocation,
    ) -> Result<(&str, &str, Scope), VerifyError> {
        let bad = |r: String| match location {
            AuthLocation::Header => malformed("Credential", r),
            _ => VerifyError::AuthorizationQueryParametersError(format!("X-Amz-Credential: {r}")),
        };
        match algorithm {
            Algorithm::V4 => {
                let (a, s, sc) = split_credential(cred).map_err(bad)?;
                Ok((a, s, Scope::V4(sc)))
            }
            #[cfg(feature = "sigv4a")]
            Algorithm::V4a => {
                let c = crate::parse::split_credential_v4a(cred).map_err(bad)?;
                let mut date = [0u8; 8];
                date.copy_from_slice(c.date.as_bytes());
                Ok((
                    c.access_key_id,
                    c.scope_str,
                    Scope::V4a {
                        date,
                        service: c.service,
                    },
                ))
            }
            #[cfg(not(feature = "sigv4a"))]
            Algorithm::V4a => Err(bad(
                "SigV4a (AWS4-ECDSA-P256-SHA256) is not enabled on this server".into(),
            )),
        }
    }

    /// Checks the scope against the request time and the policy; returns
    /// the scope of the [`Identity`].
    #[cfg_attr(not(feature = "sigv4a"), allow(unused_variables))]
    fn check_scope_parts(
        &self,
        scope: Scope,
        time: &AmzDate,
        region_set: Option<&str>,
        location: AuthLocation,
    ) -> Result<CredentialScope, VerifyError> {
        match scope {
            Scope::V4(s) => {
                self.check_scope(&s, time, location)?;
                Ok(s)
            }
            #[cfg(feature = "sigv4a")]
            Scope::V4a { date, service } => {
                Self::check_scope_date(std::str::from_utf8(&date).unwrap_or(""), time, location)?;
                self.check_service(&service, location)?;
                self.check_region_set(region_set.unwrap_or(""), location)?;
                let any =
                    Region::new("*").map_err(|e| VerifyError::InvalidRequest(e.to_string()))?;
                Ok(CredentialScope::new(time, &any, &service))
            }
        }
    }

    #[allow(clippy::too_many_lines)]
    fn parse<'r>(
        &self,
        req: &SignableRequest<'r>,
        body: Option<&[u8]>,
    ) -> Result<Parsed<'r>, VerifyError> {
        // The request's headers: on the stack up to INLINE_HEADERS of them.
        let mut inline: [(&'r str, &'r [u8]); INLINE_HEADERS] = [("", &[]); INLINE_HEADERS];
        let mut spilled: Vec<(&'r str, &'r [u8])> = Vec::new();
        let mut count = 0;
        let mut known = Known::default();
        req.for_each_header(|n, v| {
            known.note(n, v);
            if count < INLINE_HEADERS {
                inline[count] = (n, v);
            } else {
                if spilled.is_empty() {
                    spilled.extend_from_slice(&inline);
                }
                spilled.push((n, v));
            }
            count += 1;
        });
        let headers: &[(&'r str, &'r [u8])] = if spilled.is_empty() {
            &inline[..count]
        } else {
            &spilled
        };
        if known.authorization.count > 1 {
            return Err(VerifyError::InvalidRequest(
                "the Authorization header appears more than once; send one".into(),
            ));
        }
        let query = QueryAuth::parse(req.query())?;
        let (location, algorithm, akid, scope_str, scope_parts, signed_headers, signature, time);
        let (token, expires, region_set);
        match (known.authorization.first, query) {
            (Some(_), Some(_)) => {
                return Err(VerifyError::InvalidRequest(
                    "only one auth mechanism allowed; send either the Authorization header or the X-Amz-Algorithm/X-Amz-Credential/X-Amz-Signature query parameters".into(),
                ))
            }
            (None, None) => return Err(VerifyError::MissingAuthentication),
            (Some(a), None) => {
                let a = std::str::from_utf8(a).map_err(|_| malformed("format", "not valid UTF-8"))?;
                let raw = split_authorization(a)?;
                algorithm = raw.algorithm;
                location = AuthLocation::Header;
                if algorithm == Algorithm::V4a && !cfg!(feature = "sigv4a") {
                    return Err(malformed(
                        "algorithm",
                        "SigV4a (AWS4-ECDSA-P256-SHA256) is not enabled on this server",
                    ));
                }
                let (a, s, sc) = Self::credential(algorithm, raw.credential, location)?;
                check_signed_headers(raw.signed_headers)
                    .map_err(|r| malformed("SignedHeaders", r))?;
                check_signature(algorithm, raw.signature).map_err(|r| malformed("Signature", r))?;
                let (date_str, date_header) = match known.amz_date.one("x-amz-date")? {
                    Some(d) => (d, "x-amz-date"),
                    None => match known.date.one("date")? {
                        Some(d) => (d, "date"),
                        None => {
                            return Err(VerifyError::AccessDenied(
                                "AWS authentication requires a valid Date or x-amz-date header".into(),
                            ))
                        }
                    },
                };
                time = parse_time(date_str, date_header == "date").ok_or_else(|| {
                    VerifyError::AccessDenied(format!(
                        "the {date_header} header {date_str:?} is not a valid time (expected YYYYMMDDTHHMMSSZ)"
                    ))
                })?;
                if !split_semicolons(raw.signed_headers).any(|h| h == date_header) {
                    return Err(VerifyError::HeadersNotSigned(vec![date_header.into()]));
                }
                akid = Cow::Borrowed(a);
                scope_str = Cow::Borrowed(s);
                scope_parts = sc;
                signed_headers = Cow::Borrowed(raw.signed_headers);
                signature = Cow::Borrowed(raw.signature);
                token = known.token.one("x-amz-security-token")?.map(Cow::Borrowed);
                expires = None;
                region_set = if algorithm == Algorithm::V4a {
                    // The region set is what a SigV4a signature is valid
                    // for: it must be there, and signed, in any mode.
                    let rs = known
                        .region_set
                        .one("x-amz-region-set")?
                        .ok_or(VerifyError::MissingSecurityHeader("x-amz-region-set"))?;
                    if !split_semicolons(raw.signed_headers).any(|h| h == "x-amz-region-set") {
                        return Err(VerifyError::HeadersNotSigned(vec![
                            "x-amz-region-set".into()
                        ]));
                    }
                    Some(Cow::Borrowed(rs))
                } else {
                    None
                };
            }
            (None, Some(q)) => {
                location = AuthLocation::Query;
                let err = VerifyError::AuthorizationQueryParametersError;
                let (Some(alg), Some(cred), Some(date), Some(sh), Some(sig), Some(exp)) = (
                    q.algorithm,
                    q.credential,
                    q.date,
                    q.signed_headers,
                    q.signature,
                    q.expires,
                ) else {
                    return Err(err("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.".into()));
                };
                algorithm = match Algorithm::from_name(&alg) {
                    Some(Algorithm::V4) => Algorithm::V4,
                    Some(Algorithm::V4a) if cfg!(feature = "sigv4a") => Algorithm::V4a,
                    _ => {
                        return Err(err(format!(
                            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"{}, got {alg:?}",
                            if cfg!(feature = "sigv4a") {
                                " and \"AWS4-ECDSA-P256-SHA256\""
                            } else {
                                ""
                            }
                        )))
                    }
                };
                region_set = if algorithm == Algorithm::V4a {
                    let Some(rs) = q.region_set else {
                        return Err(err(
                            "SigV4a query-string authentication requires the X-Amz-Region-Set parameter".into(),
                        ));
                    };
                    Some(rs)
                } else {
                    None
                };
                let (a, s, sc) = Self::credential(algorithm, &cred, location)?;
                akid = Cow::Owned(a.to_owned());
                scope_str = Cow::Owned(s.to_owned());
                scope_parts = sc;
                check_signed_headers(&sh).map_err(|r| err(format!("X-Amz-SignedHeaders: {r}")))?;
                check_signature(algorithm, &sig).map_err(|r| err(format!("X-Amz-Signature: {r}")))?;
                time = parse_time(&date, false).ok_or_else(|| {
                    err(format!("X-Amz-Date {date:?} must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""))
                })?;
                let secs: u64 = if !exp.is_empty() && exp.len() <= 7 && exp.bytes().all(|b| b.is_ascii_digit()) {
                    exp.parse().unwrap_or(0)
                } else {
                    return Err(err(format!("X-Amz-Expires {exp:?} must be a number of seconds")));
                };
                if secs == 0 {
                    return Err(err("X-Amz-Expires must be non-negative and at least 1 second".into()));
                }
                if secs > self.policy.max_presign_expiry.as_secs() {
                    return Err(err(format!(
                        "X-Amz-Expires must be less than a week (in seconds) that is 604800 (and at most {} here)",
                        self.policy.max_presign_expiry.as_secs()
                    )));
                }
                signed_headers = sh;
                signature = sig;
                token = q.security_token;
                expires = Some((secs, q.content_sha256));
            }
        }
        let scope = self.check_scope_parts(scope_parts, &time, region_set.as_deref(), location)?;
        if let Some((secs, _)) = &expires {
            let now = self.clock.now();
            let n = unix(now);
            let skew = i64::try_from(self.policy.max_skew.as_secs()).unwrap_or(i64::MAX);
            if time.unix() > n.saturating_add(skew) {
                return Err(VerifyError::RequestNotYetValid {
                    signed_at: time.as_str().to_owned(),
                    server_time: fmt_time(now),
                });
            }
            if n > time
                .unix()
                .saturating_add(i64::try_from(*secs).unwrap_or(i64::MAX))
            {
                return Err(VerifyError::RequestExpired {
                    signed_at: time.as_str().to_owned(),
                    expires_secs: *secs,
                    server_time: fmt_time(now),
                });
            }
        } else {
            self.check_skew(&time)?;
        }

        let settings = self.policy.settings_for(scope.service());
        let token_unsigned = settings.session_token == SessionTokenPlacement::AppendAfterSigning;

        // The host the client signed.
        let host: Option<Cow<'r, [u8]>> = {
            let fwd = self
                .policy
                .forwarded_host_header
                .as_deref()
                .and_then(|f| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(f)))
                .map(|(_, v)| {
                    let first = v.split(|&b| b == b',').next().unwrap_or(v);
                    Cow::Owned(first.trim_ascii().to_vec())
                });
            match fwd {
                Some(h) => Some(h),
                None => {
                    if known.host.count > 1 {
                        return Err(VerifyError::InvalidRequest(
                            "the Host header appears more than once".into(),
                        ));
                    }
                    match known.host.first {
                        Some(h) => Some(Cow::Borrowed(h)),
                        None => req.authority_host().map(|a| match a {
                            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
                        }),
                    }
                }
            }
        };

        // Headers that must be signed.
        // The signed header names, split once (on the stack up to INLINE_HEADERS).
        let mut names_inline: [&str; INLINE_HEADERS] = [""; INLINE_HEADERS];
        let mut names_spilled: Vec<&str> = Vec::new();
        let mut n_names = 0;
        for name in split_semicolons(&signed_headers) {
            if n_names < INLINE_HEADERS {
                names_inline[n_names] = name;
            } else {
                if names_spilled.is_empty() {
                    names_spilled.extend_from_slice(&names_inline);
                }
                names_spilled.push(name);
            }
            n_names += 1;
        }
        let signed: &[&str] = if names_spilled.is_empty() {
            &names_inline[..n_names]
        } else {
            &names_spilled
        };
        let is_signed = |n: &str| signed.iter().any(|s| s.eq_ignore_ascii_case(n));
        if !is_signed("host") {
            return Err(VerifyError::HeadersNotSigned(vec!["host".into()]));
        }
        let must_sign = |n: &str| {
            ((self.policy.strict && strict_needs_signing(n))
                || self
                    .policy
                    .required_signed_headers
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(n)))
                && !(token_unsigned && n.eq_ignore_ascii_case("x-amz-security-token"))
        };
        if headers.iter().any(|(n, _)| must_sign(n) && !is_signed(n)) {
            let mut unsigned: Vec<String> = Vec::new();
            for (n, _) in headers {
                let lower = n.to_ascii_lowercase();
                if must_sign(n) && !is_signed(n) && !unsigned.contains(&lower) {
                    unsigned.push(lower);
                }
            }
            return Err(VerifyError::HeadersNotSigned(unsigned));
        }

        // The payload line.
        let is_s3 = scope.service().is_s3();
        let content_sha = known.content_sha.one("x-amz-content-sha256")?;
        let declared: Option<Cow<'r, str>> = match (&expires, content_sha) {
            (Some((_, Some(q))), _) => Some(q.clone()),
            (Some(_), _) if is_s3 => Some(Cow::Borrowed(UNSIGNED_PAYLOAD)),
            (Some(_), _) => None,
            (None, Some(h)) => Some(Cow::Borrowed(h)),
            (None, None) => None,
        };
        let (payload, payload_line): (PayloadMode, Cow<'r, str>) = match declared {
            Some(d) => {
                let mode = match &*d {
                    UNSIGNED_PAYLOAD => PayloadMode::Unsigned,
                    h if algorithm == Algorithm::V4a && h.starts_with("STREAMING-") => {
                        return Err(VerifyError::InvalidRequest(format!(
                            "aws-chunked bodies ({h}) are not supported with SigV4a here; send the body with its SHA-256 or UNSIGNED-PAYLOAD"
                        )))
                    }
                    STREAMING_SIGNED_PAYLOAD => PayloadMode::Chunked(ChunkMode::Signed),
                    STREAMING_SIGNED_PAYLOAD_TRAILER => PayloadMode::Chunked(ChunkMode::SignedTrailer),
                    STREAMING_UNSIGNED_PAYLOAD_TRAILER => PayloadMode::Chunked(ChunkMode::UnsignedTrailer),
                    h if check_signature_hex(h).is_ok() => PayloadMode::Sha256(h.to_owned()),
                    _ => {
                        return Err(VerifyError::InvalidArgument(
                            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER or 64 lower-case hex digits".into(),
                        ))
                    }
                };
                (mode, d)
            }
            None => match body {
                Some(b) => {
                    let h = String::from_utf8_lossy(&sha256_hex(b)).into_owned();
                    (PayloadMode::Sha256(h.clone()), Cow::Owned(h))
                }
                None if is_s3 && expires.is_none() => {
                    return Err(VerifyError::MissingSecurityHeader("x-amz-content-sha256"))
                }
                None => {
                    return Err(VerifyError::InvalidRequest(
                        "the request carries no x-amz-content-sha256, so its body is needed to verify it".into(),
                    ))
                }
            },
        };
        let unsigned_ok = if expires.is_some() {
            self.policy.allow_unsigned_payload_query
        } else {
            self.policy.allow_unsigned_payload_header
        };
        if matches!(
            payload,
            PayloadMode::Unsigned | PayloadMode::Chunked(ChunkMode::UnsignedTrailer)
        ) && !unsigned_ok
        {
            return Err(VerifyError::AccessDenied(
                "unsigned payloads are not accepted here: sign the body (x-amz-content-sha256: <hex sha256>)".into(),
            ));
        }

        // The canonical headers, in the signed order.
        // The canonical headers: on the stack up to INLINE_HEADERS of them.
        let mut canon_inline: [CanonicalHeader<'_>; INLINE_HEADERS] =
            std::array::from_fn(|_| CanonicalHeader {
                name: Cow::Borrowed(""),
                value: &[],
                canonical: false,
            });
        let mut canon_headers = CanonBuf {
            inline: &mut canon_inline,
            len: 0,
            spilled: Vec::new(),
        };
        for &name in signed {
            if name == "host" {
                let h = host
                    .as_deref()
                    .ok_or(VerifyError::MissingSecurityHeader("host"))?;
                canon_headers.push(CanonicalHeader {
                    name: Cow::Borrowed(name),
                    value: h,
                    canonical: false,
                });
                continue;
            }
            let before = canon_headers.len();
            for (n, v) in headers {
                if n.eq_ignore_ascii_case(name) {
                    canon_headers.push(CanonicalHeader {
                        name: Cow::Borrowed(name),
                        value: v,
                        canonical: false,
                    });
                }
            }
            if canon_headers.len() == before {
                return Err(VerifyError::AccessDenied(format!(
                    "the header `{name}` is listed in SignedHeaders but absent from the request"
                )));
            }
        }
        let filtered_query: String;
        let query_str = if location == AuthLocation::Query && token_unsigned {
            filtered_query = req
                .query()
                .split('&')
                .filter(|p| {
                    let k = p.split_once('=').map_or(*p, |(k, _)| k);
                    sigv4_sign::encode::percent_decode(k).as_ref() != b"X-Amz-Security-Token"
                })
                .collect::<Vec<_>>()
                .join("&");
            filtered_query.as_str()
        } else {
            req.query()
        };
        let cr = CanonicalRequest {
            method: req.method(),
            path: req.path(),
            query: query_str,
            extra_query: &[],
            skip_query_key: (location == AuthLocation::Query).then_some("X-Amz-Signature"),
            headers: canon_headers.as_slice(),
            payload_hash: &payload_line,
            uri_encoding: settings.uri_encoding,
            normalize_path: settings.normalize_path,
        };
        let mut canonical = take_scratch();
        cr.write(&mut canonical);
        let canonical_hash = hash_canonical_request(&canonical);
        let canonical = if self.policy.expose_signature_debug {
            Some(canonical)
        } else {
            return_scratch(canonical);
            None
        };

        let announced_trailers = known
            .trailer
            .one("x-amz-trailer")?
            .map(|t| {
                t.split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let decoded_length = match known.decoded_length.one("x-amz-decoded-content-length")? {
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                VerifyError::InvalidArgument("x-amz-decoded-content-length is not a number".into())
            })?),
            None => None,
        };
        Ok(Parsed {
            location,
            algorithm,
            access_key_id: akid,
            scope,
            scope_str,
            time,
            signature,
            canonical_hash,
            canonical,
            payload,
            token,
            region_set,
            announced_trailers,
            decoded_length,
        })
    }

    /// Checks the credentials found for the request: unknown key, expiry,
    /// session token.
    pub(crate) fn check_credentials(
        &self,
        creds: Option<&Credentials>,
        access_key_id: &str,
        token: Option<&str>,
    ) -> Result<Credentials, VerifyError> {
        let Some(creds) = creds else {
            return Err(if self.policy.distinguish_unknown_key {
                VerifyError::InvalidAccessKeyId(access_key_id.to_owned())
            } else {
                VerifyError::SignatureDoesNotMatch(None)
            });
        };
        if creds.is_expired_at(self.clock.now()) {
            return Err(VerifyError::ExpiredToken);
        }
        if let Some(expected) = creds.session_token() {
            let ok = token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(expected.as_bytes())));
            if !ok {
                return Err(VerifyError::InvalidToken);
            }
        }
        Ok(creds.clone())
    }

    /// Whether `signature` signs `sts` with the key of `creds`, and the
    /// SigV4 key when that is what signed.
    fn check_signature(
        &self,
        p: &Parsed<'_>,
        creds: &Credentials,
        sts: &[u8],
    ) -> (bool, Option<Arc<SigningKey>>) {
        match p.algorithm {
            Algorithm::V4 => {
                let key = self.signing_key(creds, &p.scope);
                let computed = key.sign_hex(sts);
                let ok = hex64_eq(&computed, p.signature.as_bytes());
                (ok, Some(key))
            }
            #[cfg(feature = "sigv4a")]
            Algorithm::V4a => {
                // A key that cannot be derived signs nothing.
                let ok = self
                    .v4a_keys
                    .get(creds)
                    .is_ok_and(|pk| sigv4_sign::sigv4a::verify(&pk, sts, &p.signature));
                (ok, None)
            }
            #[cfg(not(feature = "sigv4a"))]
            Algorithm::V4a => (false, None),
        }
    }

    fn finish(
        &self,
        p: Parsed<'_>,
        creds: Option<&Credentials>,
        body: Option<&[u8]>,
    ) -> Result<Verified, VerifyError> {
        let creds = self.check_credentials(creds, &p.access_key_id, p.token.as_deref())?;
        let mut sts = take_scratch();
        write_string_to_sign(
            &mut sts,
            p.algorithm.name(),
            &p.time,
            p.scope_str.as_bytes(),
            &p.canonical_hash,
        );
        let (ok, key) = self.check_signature(&p, &creds, &sts);
        if !ok {
            let debug = self.policy.expose_signature_debug.then(|| {
                Box::new(SignatureDebug {
                    access_key_id: p.access_key_id.to_string(),
                    string_to_sign: String::from_utf8_lossy(&sts).into_owned(),
                    signature_provided: p.signature.to_string(),
                    canonical_request: redact_token(&String::from_utf8_lossy(
                        p.canonical.as_deref().unwrap_or_default(),
                    )),
                })
            });
            return_scratch(sts);
            return Err(VerifyError::SignatureDoesNotMatch(debug));
        }
        return_scratch(sts);
        if let Some(c) = p.canonical {
            return_scratch(c);
        }
        let chunked = matches!(p.payload, PayloadMode::Chunked(_));
        let mut verified = Verified {
            identity: Identity {
                access_key_id: p.access_key_id.into_owned(),
                scope: p.scope,
                location: p.location,
                time: p.time,
                region_set: p.region_set.map(Cow::into_owned),
            },
            payload: p.payload,
            decoded_body: None,
            trailers: Vec::new(),
            seed_signature: if chunked {
                p.signature.into_owned()
            } else {
                String::new()
            },
            key,
            announced_trailers: p.announced_trailers,
            decoded_length: p.decoded_length,
            max_chunk: self.policy.max_chunk_size,
        };
        if let Some(body) = body {
            if let Some(mut dec) = verified.chunked_decoder() {
                let mut out = Vec::with_capacity(body.len());
                dec.push(body, &mut out)?;
                dec.finish()?;
                verified.trailers = dec.trailers().to_vec();
                verified.decoded_body = Some(out);
            } else {
                verified.check_body(body)?;
            }
        }
        Ok(verified)
    }
}

/// `YYYYMMDDTHHMMSSZ` (and, for the `Date` header, the HTTP date form).
fn parse_time(s: &str, http_date: bool) -> Option<AmzDate> {
    if s.len() == 16 {
        return AmzDate::parse(s).ok();
    }
    if http_date {
        let t =
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc2822).ok()?;
        return AmzDate::from_unix(t.unix_timestamp()).ok();
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        let t = parse_time("Sun, 30 Aug 2015 12:36:00 GMT", true).unwrap();
        assert_eq!(t.as_str(), "20150830T123600Z");
        assert!(parse_time("2015-08-30T12:36:00Z", false).is_none());
    }

    #[test]
    fn redaction_hides_tokens() {
        let c = "GET\n/\nX-Amz-Security-Token=abc&a=b\nx-amz-security-token:abc\n\nhost\nUNSIGNED-PAYLOAD";
        let r = redact_token(c);
        assert!(!r.contains("abc"));
        assert!(r.contains("a=b"));
    }

    #[test]
    fn more_headers_than_the_stack_holds() {
        use sigv4_sign::{PayloadHash, Region, Service, Signer, SigningParams};
        let creds = Credentials::new("AK", "secret", None);
        let (r, s) = (
            Region::new("us-east-1").unwrap(),
            Service::new("s3").unwrap(),
        );
        let time = AmzDate::from_unix(1_704_067_200).unwrap();
        let params = SigningParams::new(&creds, &r, &s, time);
        let names: Vec<String> = (0..40).map(|i| format!("x-amz-meta-h{i:02}")).collect();
        let mut headers: Vec<(&str, &str)> = vec![("host", "b.example.com")];
        headers.extend(names.iter().map(|n| (n.as_str(), "v")));
        // A repeated header, far from its first occurrence.
        headers.push(("x-amz-meta-h03", "w"));
        let req = SignableRequest::new("GET", "/k", &headers).unwrap();
        let out = Signer::new()
            .sign(&req, PayloadHash::Body(b""), &params)
            .unwrap();
        let mut all = headers.clone();
        all.extend(out.params().iter().map(|(n, v)| (*n, v.as_str())));
        assert!(all.len() > 2 * INLINE_HEADERS - 8);
        let v = Verifier::new(crate::StaticSecretStore::new())
            .with_clock(crate::FixedClock(time.to_system_time()));
        let req = SignableRequest::new("GET", "/k", &all).unwrap();
        v.verify_with(&req, Some(b""), |_| Some(creds.clone()))
            .unwrap();
        // The last header changed: caught.
        let mut bad = all.clone();
        let i = bad.iter().position(|h| h.0 == "x-amz-meta-h39").unwrap();
        bad[i].1 = "changed";
        let req = SignableRequest::new("GET", "/k", &bad).unwrap();
        let e = v
            .verify_with(&req, Some(b""), |_| Some(creds.clone()))
            .unwrap_err();
        assert_eq!(e.code(), "SignatureDoesNotMatch");
    }

    #[test]
    fn strict_names() {
        for (n, must) in [
            ("X-Amz-Meta-A", true),
            ("x-amz-", true),
            ("x-amz", false),
            ("Content-Type", true),
            ("content-md5", true),
            ("content-length", false),
            ("x-amzn-trace-id", false),
        ] {
            assert_eq!(strict_needs_signing(n), must, "{n}");
        }
    }
}
