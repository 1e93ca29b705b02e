//! [`Settings`] (how a service wants requests signed) and [`PayloadHash`].

use std::borrow::Cow;

/// How the path enters the canonical request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriEncoding {
    /// Encode the path as sent once more (`%` becomes `%25`): every service but S3.
    Double,
    /// Use the path as sent, only brought to canonical percent-encoding: S3.
    Single,
}

/// Where the session token of temporary credentials goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionTokenPlacement {
    /// `X-Amz-Security-Token` is part of what is signed (the default).
    Signed,
    /// `X-Amz-Security-Token` is added after signing, unsigned (some services
    /// such as IoT want this).
    AppendAfterSigning,
}

/// The payload hash line of the canonical request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadHash<'a> {
    /// Hash these bytes (the whole body; `&[]` for none).
    Body(&'a [u8]),
    /// A SHA-256 already computed: 64 lowercase hex digits.
    Precomputed(&'a str),
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature.
    Unsigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: aws-chunked, each chunk signed.
    StreamingSigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and a signed trailer.
    StreamingSignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: unsigned chunks with a trailer.
    StreamingUnsignedTrailer,
}

/// `UNSIGNED-PAYLOAD`.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`.
pub const STREAMING_SIGNED_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`.
pub const STREAMING_SIGNED_PAYLOAD_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`.
pub const STREAMING_UNSIGNED_PAYLOAD_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Headers never signed by default: `authorization` itself, and headers that
/// proxies, HTTP stacks and tracing add or rewrite on the way (the same set
/// botocore leaves out).
pub const DEFAULT_EXCLUDED_HEADERS: &[Cow<'static, str>] = &[
    Cow::Borrowed("authorization"),
    Cow::Borrowed("user-agent"),
    Cow::Borrowed("expect"),
    Cow::Borrowed("x-amzn-trace-id"),
    Cow::Borrowed("connection"),
    Cow::Borrowed("keep-alive"),
    Cow::Borrowed("proxy-authenticate"),
    Cow::Borrowed("proxy-authorization"),
    Cow::Borrowed("te"),
    Cow::Borrowed("trailer"),
    Cow::Borrowed("transfer-encoding"),
    Cow::Borrowed("upgrade"),
    Cow::Borrowed("baggage"),
    Cow::Borrowed("traceparent"),
    Cow::Borrowed("tracestate"),
];

/// How a service wants its requests signed. Start from [`Settings::default`]
/// (generic AWS services) or [`Settings::s3`], then adjust.
///
/// ```
/// use sigv4_sign::{Settings, UriEncoding};
/// let s3 = Settings::s3();
/// assert_eq!(s3.uri_encoding, UriEncoding::Single);
/// assert!(s3.content_sha256_header);
/// let custom = Settings::default().with_excluded_header("x-my-hop-header");
/// assert!(custom.is_excluded("X-My-Hop-Header"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// Path encoding: double for generic services, single for S3.
    pub uri_encoding: UriEncoding,
    /// Remove `.`/`..` segments and collapse `//` (on for generic, off for S3).
    pub normalize_path: bool,
    /// Whether the session token is signed or appended after signing.
    pub session_token: SessionTokenPlacement,
    /// Add and sign `x-amz-content-sha256` when signing headers (S3 needs it).
    pub content_sha256_header: bool,
    /// Lower-case names of headers never signed.
    pub excluded_headers: Cow<'static, [Cow<'static, str>]>,
}

/// The settings for generic AWS services.
pub static DEFAULT_SETTINGS: Settings = Settings {
    uri_encoding: UriEncoding::Double,
    normalize_path: true,
    session_token: SessionTokenPlacement::Signed,
    content_sha256_header: false,
    excluded_headers: Cow::Borrowed(DEFAULT_EXCLUDED_HEADERS),
};

/// The settings for S3.
pub static S3_SETTINGS: Settings = Settings {
    uri_encoding: UriEncoding::Single,
    normalize_path: false,
    session_token: SessionTokenPlacement::Signed,
    content_sha256_header: true,
    excluded_headers: Cow::Borrowed(DEFAULT_EXCLUDED_HEADERS),
};

impl Default for Settings {
    fn default() -> Self {
        DEFAULT_SETTINGS.clone()
    }
}

impl Settings {
    /// S3's rules: single encoding, no normalization, `x-amz-content-sha256` sent.
    pub fn s3() -> Self {
        S3_SETTINGS.clone()
    }

    /// The preset for a service name: S3 rules for S3, generic otherwise.
    pub fn for_service(service: &crate::Service) -> &'static Settings {
        if service.is_s3() {
            &S3_SETTINGS
        } else {
            &DEFAULT_SETTINGS
        }
    }

    /// With this path encoding.
    #[must_use]
    pub fn with_uri_encoding(mut self, e: UriEncoding) -> Self {
        self.uri_encoding = e;
        self
    }

    /// With path normalization on or off.
    #[must_use]
    pub fn with_normalize_path(mut self, on: bool) -> Self {
        self.normalize_path = on;
        self
    }

    /// With this session token placement.
    #[must_use]
    pub fn with_session_token(mut self, p: SessionTokenPlacement) -> Self {
        self.session_token = p;
        self
    }

    /// With `x-amz-content-sha256` added and signed, or not.
    #[must_use]
    pub fn with_content_sha256_header(mut self, on: bool) -> Self {
        self.content_sha256_header = on;
        self
    }

    /// Never sign this header as well (the name is compared case-insensitively).
    #[must_use]
    pub fn with_excluded_header(mut self, name: impl Into<String>) -> Self {
        self.excluded_headers
            .to_mut()
            .push(Cow::Owned(name.into().to_ascii_lowercase()));
        self
    }

    /// Replace the whole list of headers never signed. `authorization` is
    /// always left out, whatever the list says.
    #[must_use]
    pub fn with_excluded_headers(mut self, names: impl IntoIterator<Item = String>) -> Self {
        self.excluded_headers = Cow::Owned(
            names
                .into_iter()
                .map(|n| Cow::Owned(n.to_ascii_lowercase()))
                .collect(),
        );
        self
    }

    /// Whether the header `name` is left out of signing.
    pub fn is_excluded(&self, name: &str) -> bool {
        name.eq_ignore_ascii_case("authorization")
            || self
                .excluded_headers
                .iter()
                .any(|e| e.eq_ignore_ascii_case(name))
    }
}
