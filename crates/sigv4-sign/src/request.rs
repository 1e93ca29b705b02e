//! [`SignableRequest`]: a borrowed view of the request to sign.

use std::borrow::Cow;

use crate::SigningError;

#[derive(Clone, Copy, Debug)]
enum Headers<'a> {
    Str(&'a [(&'a str, &'a str)]),
    Bytes(&'a [(&'a str, &'a [u8])]),
    #[cfg(feature = "http")]
    Map(&'a http::HeaderMap),
}

/// A borrowed view of an HTTP request: method, request target and headers.
/// Any HTTP library can be signed through it without converting the request.
///
/// The target is either origin-form (`/path?query`, with a `Host` header) or
/// absolute (`https://host:port/path?query`, where a missing `Host` header is
/// taken from the authority). A fragment (`#...`) is ignored.
///
/// ```
/// use sigv4_sign::SignableRequest;
/// let headers = [("Host", "example.amazonaws.com"), ("Content-Type", "text/plain")];
/// let req = SignableRequest::new("GET", "/a/b?x=1", &headers).unwrap();
/// assert_eq!(req.path(), "/a/b");
/// assert_eq!(req.query(), "x=1");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SignableRequest<'a> {
    method: &'a str,
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: &'a str,
    headers: Headers<'a>,
}

impl<'a> SignableRequest<'a> {
    /// A request with string header values.
    pub fn new(
        method: &'a str,
        uri: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> Result<Self, SigningError> {
        Self::with_headers(method, uri, Headers::Str(headers))
    }

    /// A request whose header values are raw bytes (HTTP allows obs-text).
    pub fn with_byte_headers(
        method: &'a str,
        uri: &'a str,
        headers: &'a [(&'a str, &'a [u8])],
    ) -> Result<Self, SigningError> {
        Self::with_headers(method, uri, Headers::Bytes(headers))
    }

    /// A view of an `http::Request` (its URI may be absolute or origin-form).
    #[cfg(feature = "http")]
    pub fn from_http<B>(req: &'a http::Request<B>) -> Self {
        let uri = req.uri();
        Self {
            method: req.method().as_str(),
            scheme: uri.scheme_str(),
            authority: uri.authority().map(http::uri::Authority::as_str),
            path: uri.path(),
            query: uri.query().unwrap_or(""),
            headers: Headers::Map(req.headers()),
        }
    }

    /// A view of an `http::request::Parts` (the head of a request).
    #[cfg(feature = "http")]
    pub fn from_http_parts(parts: &'a http::request::Parts) -> Self {
        Self {
            method: parts.method.as_str(),
            scheme: parts.uri.scheme_str(),
            authority: parts.uri.authority().map(http::uri::Authority::as_str),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: Headers::Map(&parts.headers),
        }
    }

    fn with_headers(
        method: &'a str,
        uri: &'a str,
        headers: Headers<'a>,
    ) -> Result<Self, SigningError> {
        if let Some(pos) = uri.bytes().position(|b| b < 0x20 || b == 0x7f) {
            return Err(SigningError::InvalidUri(format!(
                "control character 0x{:02x} at byte {pos}",
                uri.as_bytes()[pos]
            )));
        }
        let uri = uri.split_once('#').map_or(uri, |(u, _)| u);
        let (scheme, authority, rest) = match uri.split_once("://") {
            Some((scheme, rest))
                if !scheme.is_empty()
                    && scheme
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
            {
                let end = rest.find(['/', '?']).unwrap_or(rest.len());
                let authority = &rest[..end];
                if authority.is_empty() {
                    return Err(SigningError::InvalidUri(
                        "absolute URI without a host".into(),
                    ));
                }
                (Some(scheme), Some(authority), &rest[end..])
            }
            _ => (None, None, uri),
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        Ok(Self {
            method,
            scheme,
            authority,
            path,
            query,
            headers,
        })
    }

    /// The method.
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The path as given (empty for a bare authority).
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The query string as given, without `?`.
    pub fn query(&self) -> &'a str {
        self.query
    }

    /// The scheme of an absolute URI.
    pub fn scheme(&self) -> Option<&'a str> {
        self.scheme
    }

    /// Calls `f` with each header, in order.
    pub fn for_each_header(&self, mut f: impl FnMut(&'a str, &'a [u8])) {
        match self.headers {
            Headers::Str(h) => h.iter().for_each(|(n, v)| f(n, v.as_bytes())),
            Headers::Bytes(h) => h.iter().for_each(|(n, v)| f(n, v)),
            #[cfg(feature = "http")]
            Headers::Map(h) => h.iter().for_each(|(n, v)| f(n.as_str(), v.as_bytes())),
        }
    }

    /// The host to sign when no `Host` header is given: the URI's authority
    /// without user info, and without the port when it is the scheme's default.
    pub fn authority_host(&self) -> Option<Cow<'a, str>> {
        let authority = self.authority?;
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let default_port = match self.scheme.map(str::to_ascii_lowercase).as_deref() {
            Some("http") => Some(":80"),
            Some("https") => Some(":443"),
            _ => None,
        };
        Some(Cow::Borrowed(
            default_port
                .and_then(|p| authority.strip_suffix(p))
                .unwrap_or(authority),
        ))
    }
}

/// Whether `b` may appear in an HTTP token (method, header name).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Checks a header value: no NUL, no control characters but tab, and CR/LF
/// only as an obs-fold line break (followed by a space or tab).
pub(crate) fn check_header_value(name: &str, value: &[u8]) -> Result<(), SigningError> {
    let bad = |reason| SigningError::InvalidHeaderValue {
        name: name.to_owned(),
        reason,
    };
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            0 => return Err(bad("it holds a NUL byte")),
            b'\r' | b'\n' => {
                let mut j = i;
                if value[j] == b'\r' {
                    j += 1;
                    if value.get(j) != Some(&b'\n') {
                        return Err(bad("it holds a bare carriage return"));
                    }
                }
                if !matches!(value.get(j + 1), Some(b' ' | b'\t')) {
                    return Err(bad(
                        "it holds a line break that is not a folded continuation",
                    ));
                }
                i = j + 1;
                continue;
            }
            b'\t' => {}
            b if b < 0x20 || b == 0x7f => return Err(bad("it holds a control character")),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}
