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
pub const DEFAULT_EXCLUDED_HEADERS: &[Cow<'static, str>] = &DEFAULT_EXCLUDED;

/// The list behind [`DEFAULT_EXCLUDED_HEADERS`], at one address so that
/// [`Settings::is_excluded`] can tell it apart from a custom list.
static DEFAULT_EXCLUDED: [Cow<'static, str>; 15] = [
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
        if std::ptr::eq(self.excluded_headers.as_ptr(), DEFAULT_EXCLUDED.as_ptr())
            && self.excluded_headers.len() == DEFAULT_EXCLUDED.len()
        {
            return is_default_excluded(name);
        }
        name.eq_ignore_ascii_case("authorization")
            || self
                .excluded_headers
                .iter()
                .any(|e| e.eq_ignore_ascii_case(name))
    }
}

/// [`Settings::is_excluded`] for [`DEFAULT_EXCLUDED_HEADERS`]: by length
/// and first letter first, so most names are ruled out by two comparisons.
fn is_default_excluded(name: &str) -> bool {
    // Each excluded name starts with a lower-case letter: `| 0x20` maps
    // only its upper-case form to it.
    let first = name.as_bytes().first().map_or(0, |c| c | 0x20);
    let is = |e: &str| e.as_bytes().first() == Some(&first) && name.eq_ignore_ascii_case(e);
    match name.len() {
        2 => is("te"),
        6 => is("expect"),
        7 => is("trailer") || is("upgrade") || is("baggage"),
        10 => is("user-agent") || is("connection") || is("keep-alive") || is("tracestate"),
        11 => is("traceparent"),
        13 => is("authorization"),
        15 => is("x-amzn-trace-id"),
        17 => is("transfer-encoding"),
        18 => is("proxy-authenticate"),
        19 => is("proxy-authorization"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_exclusions_by_length_match_the_list() {
        let generic = |name: &str| {
            name.eq_ignore_ascii_case("authorization")
                || DEFAULT_EXCLUDED_HEADERS
                    .iter()
                    .any(|e| e.eq_ignore_ascii_case(name))
        };
        let mut names: Vec<String> = DEFAULT_EXCLUDED_HEADERS
            .iter()
            .flat_map(|e| {
                [
                    e.to_string(),
                    e.to_ascii_uppercase(),
                    format!("{e}x"),
                    e[1..].to_string(),
                    // Same length, another first byte.
                    format!("@{}", &e[1..]),
                    format!("{}{}", if e.starts_with('x') { 'y' } else { 'x' }, &e[1..]),
                ]
            })
            .collect();
        names.extend(["", "host", "x-amz-date", "range", "proxy-authorizatio"].map(String::from));
        for n in &names {
            assert_eq!(is_default_excluded(n), generic(n), "{n}");
            assert_eq!(S3_SETTINGS.is_excluded(n), generic(n), "{n}");
            assert_eq!(DEFAULT_SETTINGS.is_excluded(n), generic(n), "{n}");
        }
        assert!(std::ptr::eq(
            Settings::default().excluded_headers.as_ptr(),
            DEFAULT_EXCLUDED.as_ptr()
        ));
        // A custom list takes the general path.
        let custom = Settings::default().with_excluded_header("x-hop");
        assert!(custom.is_excluded("X-Hop"));
        assert!(custom.is_excluded("user-agent"));
        assert!(!custom.is_excluded("range"));
    }
}
