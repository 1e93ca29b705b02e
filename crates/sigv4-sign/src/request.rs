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

/// The headers of a [`SignableRequest`], as (name, value) pairs.
pub(crate) enum HeaderIter<'a> {
    Str(std::slice::Iter<'a, (&'a str, &'a str)>),
    Bytes(std::slice::Iter<'a, (&'a str, &'a [u8])>),
    #[cfg(feature = "http")]
    Map(http::header::Iter<'a, http::HeaderValue>),
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = (&'a str, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Str(h) => h.next().map(|(n, v)| (*n, v.as_bytes())),
            Self::Bytes(h) => h.next().map(|(n, v)| (*n, *v)),
            #[cfg(feature = "http")]
            Self::Map(h) => h.next().map(|(n, v)| (n.as_str(), v.as_bytes())),
        }
    }
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
    /// Whether the authority may hold user info (`user@host`): `false`
    /// only when its bytes were scanned and hold no `@`.
    maybe_userinfo: bool,
    /// Whether the authority may hold a space: `false` only when its bytes
    /// were scanned and hold none (and so, with no control byte in the
    /// target, nothing to trim or fold as a header value).
    maybe_space: bool,
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
            maybe_userinfo: true,
            maybe_space: true,
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
            maybe_userinfo: true,
            maybe_space: true,
        }
    }

    fn with_headers(
        method: &'a str,
        uri: &'a str,
        headers: Headers<'a>,
    ) -> Result<Self, SigningError> {
        // One pass finds the first control byte or `#`; a control byte in
        // the fragment is refused too.
        let bytes = uri.as_bytes();
        let (found, mut has_query) = scan_target(bytes);
        let end = match found {
            Some(i) if bytes[i] == b'#' => {
                if let Some(p) = find_control(&bytes[i..]) {
                    return Err(control_error(bytes, i + p));
                }
                // The `?` seen may stand in the fragment.
                has_query = bytes[..i].contains(&b'?');
                i
            }
            Some(i) => return Err(control_error(bytes, i)),
            None => bytes.len(),
        };
        let uri = uri.get(..end).unwrap_or_default();
        let bytes = uri.as_bytes();
        // `scheme://authority` when the target starts with a scheme (letters,
        // digits, `+`, `-`, `.`) followed by `://`.
        let scheme_len = if bytes.starts_with(b"https://") {
            5
        } else if bytes.starts_with(b"http://") {
            4
        } else {
            bytes
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
                .unwrap_or(bytes.len())
        };
        let mut maybe_userinfo = false;
        let mut maybe_space = false;
        let (scheme, authority, rest) = match bytes.get(scheme_len..scheme_len + 3) {
            Some(b"://") if scheme_len > 0 => {
                let after = uri.get(scheme_len + 3..).unwrap_or_default();
                let scan = find_authority_end(after.as_bytes());
                maybe_userinfo = scan.maybe_at;
                maybe_space = scan.maybe_space;
                let len = scan.end.unwrap_or(after.len());
                if len == 0 {
                    return Err(SigningError::InvalidUri(
                        "absolute URI without a host".into(),
                    ));
                }
                // Every split is at an ASCII byte: a character boundary.
                (
                    uri.get(..scheme_len),
                    after.get(..len),
                    after.get(len..).unwrap_or_default(),
                )
            }
            _ => (None, None, uri),
        };
        let (path, query) = match has_query.then(|| rest.split_once('?')).flatten() {
            Some((path, query)) => (path, query),
            None => (rest, ""),
        };
        Ok(Self {
            method,
            scheme,
            authority,
            path,
            query,
            headers,
            maybe_userinfo,
            maybe_space,
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
        for (name, value) in self.headers() {
            f(name, value);
        }
    }

    /// The headers, in order, as (name, value) pairs.
    pub(crate) fn headers(&self) -> HeaderIter<'a> {
        match self.headers {
            Headers::Str(h) => HeaderIter::Str(h.iter()),
            Headers::Bytes(h) => HeaderIter::Bytes(h.iter()),
            #[cfg(feature = "http")]
            Headers::Map(h) => HeaderIter::Map(h.iter()),
        }
    }

    /// Whether [`SignableRequest::authority_host`] is a canonical header
    /// value as it is: a target with no control byte whose authority was
    /// scanned and holds no space has nothing to trim or fold.
    pub(crate) fn authority_host_is_plain(&self) -> bool {
        !self.maybe_space
    }

    /// The host to sign when no `Host` header is given: the URI's authority
    /// without user info, and without the port when it is the scheme's default.
    pub fn authority_host(&self) -> Option<Cow<'a, str>> {
        let authority = self.authority?;
        // User info is rare: an authority scanned without an `@` has none;
        // otherwise look for any `@` first, eight bytes per step (an
        // authority holds no `/` or `?`, so the scan covers all of it).
        let at = if self.maybe_userinfo && find_authority_end(authority.as_bytes()).maybe_at {
            authority.bytes().rposition(|b| b == b'@')
        } else {
            None
        };
        let authority = match at {
            // `@` is ASCII: the split is at a character boundary.
            Some(at) => authority.get(at + 1..).unwrap_or_default(),
            None => authority,
        };
        // The scheme's default port: the port first, as a fixed-size array
        // (most authorities have none), then the scheme.
        let b = authority.as_bytes();
        let scheme_is = |name: &str| self.scheme.is_some_and(|s| s.eq_ignore_ascii_case(name));
        let port_len = if b.last_chunk() == Some(b":443") && scheme_is("https") {
            4
        } else if b.last_chunk() == Some(b":80") && scheme_is("http") {
            3
        } else {
            0
        };
        // The port is ASCII: the cut is at a character boundary.
        Some(Cow::Borrowed(
            authority
                .get(..authority.len() - port_len)
                .unwrap_or(authority),
        ))
    }
}

/// Whether `b` may appear in an HTTP token (method, header name).
#[inline]
pub(crate) fn is_tchar(b: u8) -> bool {
    TCHAR_TABLE[usize::from(b)]
}

/// [`is_tchar`] as a table.
pub(crate) const TCHAR_TABLE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        // i < 256: the cast cannot truncate.
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        i += 1;
    }
    t
};

/// Whether some byte of the word is below 0x20 or is 0x7f (DEL).
#[inline]
fn word_has_control(x: u64) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Exact "some byte < 0x20" and "some byte == 0x7f" tests (Hacker's
    // Delight `hasless` and `haszero`).
    let below = x.wrapping_sub(LOW * 0x20) & !x & HIGH;
    let del = x ^ (LOW * 0x7f);
    let del = del.wrapping_sub(LOW) & !del & HIGH;
    below | del != 0
}

/// Whether `c` ends a request target (`#`) or makes it invalid (a control byte).
#[inline]
fn is_control_or_hash(c: u8) -> bool {
    c < 0x20 || c == 0x7f || c == b'#'
}

/// One pass over a request target: the position of the first control byte
/// or `#`, and whether it holds a `?` anywhere. Such bytes are rare, so both
/// tests run over the whole slice without a branch per byte (the compiler
/// vectorizes them); only a hit is then located.
fn scan_target(b: &[u8]) -> (Option<usize>, bool) {
    let fold = |b: &[u8], acc: (bool, bool)| {
        b.iter().fold(acc, |(h, q), &c| {
            (h | is_control_or_hash(c), q | (c == b'?'))
        })
    };
    // 32 bytes per step; the last 1 to 31 bytes as the last 32 again
    // (overlapping: the flags only accumulate), not one by one.
    let (hit, query) = match b.len().checked_sub(32) {
        Some(last) => {
            let mut chunks = b.chunks_exact(32);
            let mut acc = (false, false);
            for c in &mut chunks {
                acc = fold(c, acc);
            }
            if chunks.remainder().is_empty() {
                acc
            } else {
                fold(&b[last..], acc)
            }
        }
        None => fold(b, (false, false)),
    };
    let found = if hit {
        b.iter().position(|&c| is_control_or_hash(c))
    } else {
        None
    };
    (found, query)
}

/// What one pass over an authority finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct AuthorityScan {
    /// Where it ends: the first `/` or `?`.
    end: Option<usize>,
    /// Whether an `@` may stand before the end (`false` only if none does).
    maybe_at: bool,
    /// Whether a space may stand before the end (`false` only if none does).
    maybe_space: bool,
}

/// [`AuthorityScan`] of `b`, eight bytes per step.
fn find_authority_end(b: &[u8]) -> AuthorityScan {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The zero bytes of `y`, flagged by their high bit: the lowest flag is
    // exact, a flag above a zero byte may be false (so a flagged word holds
    // a zero byte for sure).
    let zeros = |y: u64| y.wrapping_sub(LOW) & !y & HIGH;
    let mut at = 0;
    let mut space = 0;
    // The ends found in word `v` (flags), noting any `@` or space in it: one
    // after the end only makes the answer a cautious `true`.
    let mut step = |v: u64| {
        at |= zeros(v ^ (LOW * u64::from(b'@')));
        space |= zeros(v ^ (LOW * u64::from(b' ')));
        zeros(v ^ (LOW * u64::from(b'/'))) | zeros(v ^ (LOW * u64::from(b'?')))
    };
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_le_bytes(w)
    };
    let mut end = None;
    let mut chunks = b.chunks_exact(8);
    let mut i = 0;
    for c in &mut chunks {
        let stop = step(word(c));
        if stop != 0 {
            end = Some(i + (stop.trailing_zeros() / 8) as usize);
            break;
        }
        i += 8;
    }
    let rest = chunks.remainder();
    if end.is_none() && !rest.is_empty() {
        // The last 1 to 7 bytes, as the low bytes of a word (the high ones
        // zero, which match nothing).
        let v = match b.len().checked_sub(8) {
            Some(last) => word(&b[last..]) >> (8 * (8 - rest.len())),
            None => rest
                .iter()
                .rev()
                .fold(0u64, |w, &c| (w << 8) | u64::from(c)),
        };
        let stop = step(v);
        if stop != 0 {
            end = Some(i + (stop.trailing_zeros() / 8) as usize);
        }
    }
    AuthorityScan {
        end,
        maybe_at: at != 0,
        maybe_space: space != 0,
    }
}

fn control_error(uri: &[u8], pos: usize) -> SigningError {
    SigningError::InvalidUri(format!(
        "control character 0x{:02x} at byte {pos}",
        uri.get(pos).copied().unwrap_or_default()
    ))
}

/// The position of the first control byte (< 0x20 or 0x7f), eight bytes per step.
fn find_control(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    for c in b.chunks_exact(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        if word_has_control(u64::from_le_bytes(w)) {
            break;
        }
        i += 8;
    }
    b[i..]
        .iter()
        .position(|&c| c < 0x20 || c == 0x7f)
        .map(|p| p + i)
}

/// Checks a header value: no NUL, no control characters but tab, and CR/LF
/// only as an obs-fold line break (followed by a space or tab).
pub(crate) fn check_header_value(name: &str, value: &[u8]) -> Result<(), SigningError> {
    let bad = |reason| SigningError::InvalidHeaderValue {
        name: name.to_owned(),
        reason,
    };
    // Nearly every value holds neither a control byte nor a line break:
    // test that first, without a branch per byte.
    if !value
        .iter()
        .fold(false, |acc, &c| acc | (c < 0x20) | (c == 0x7f))
    {
        return Ok(());
    }
    let Some(first) = find_control(value) else {
        return Ok(());
    };
    let mut i = first;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_are_found_at_every_position() {
        for len in 0..70 {
            let clean = vec![b'a'; len];
            assert_eq!(find_control(&clean), None);
            for pos in 0..len {
                for bad in [0u8, 0x09, 0x0a, 0x1f, 0x7f] {
                    let mut v = clean.clone();
                    v[pos] = bad;
                    assert_eq!(find_control(&v), Some(pos), "{len} {pos} {bad:#x}");
                }
                // Bytes that are not control bytes, UTF-8 included.
                for ok in [0x20u8, 0x7e, 0x80, 0xff] {
                    let mut v = clean.clone();
                    v[pos] = ok;
                    assert_eq!(find_control(&v), None, "{len} {pos} {ok:#x}");
                }
            }
        }
    }

    #[test]
    fn byte_finders_match_a_plain_search() {
        for len in 0..70 {
            let clean = vec![b'a'; len];
            assert_eq!(scan_target(&clean).0, None);
            assert_eq!(find_authority_end(&clean).end, None);
            for pos in 0..len {
                for (b, hit) in [
                    (b'#', true),
                    (0x01, true),
                    (0x7f, true),
                    (b'"', false),
                    (b'$', false),
                ] {
                    let mut v = clean.clone();
                    v[pos] = b;
                    assert_eq!(scan_target(&v).0, hit.then_some(pos), "{len} {pos} {b:#x}");
                }
                for (b, hit) in [
                    (b'/', true),
                    (b'?', true),
                    (b'.', false),
                    (b'>', false),
                    (0xaf, false),
                ] {
                    let mut v = clean.clone();
                    v[pos] = b;
                    assert_eq!(
                        find_authority_end(&v).end,
                        hit.then_some(pos),
                        "{len} {pos} {b:#x}"
                    );
                }
            }
        }
    }

    /// The authority's end is the first `/` or `?`; an `@` before it is
    /// always reported (one after it may be, which only costs a search).
    #[test]
    fn the_authority_end_and_its_at_sign_are_found() {
        for len in 0..40 {
            for end in (0..len).map(Some).chain([None]) {
                for at in (0..len).map(Some).chain([None]) {
                    if at.is_some() && at == end {
                        continue;
                    }
                    let mut v = vec![b'h'; len];
                    if let Some(e) = end {
                        v[e] = if e % 2 == 0 { b'/' } else { b'?' };
                    }
                    if let Some(a) = at {
                        v[a] = b'@';
                    }
                    let AuthorityScan {
                        end: found,
                        maybe_at: has_at,
                        ..
                    } = find_authority_end(&v);
                    assert_eq!(found, end, "{len} {end:?} {at:?}");
                    let before = at.is_some_and(|a| end.is_none_or(|e| a < e));
                    assert!(has_at || !before, "{len} {end:?} {at:?}");
                    if at.is_none() {
                        assert!(!has_at, "{len} {end:?}");
                    }
                }
            }
        }
        // A space before the end is always reported, and none is made up.
        for len in 0..40 {
            for end in (0..len).map(Some).chain([None]) {
                let mut v = vec![b'h'; len];
                if let Some(e) = end {
                    v[e] = b'/';
                }
                assert!(!find_authority_end(&v).maybe_space, "{len} {end:?}");
                for sp in (0..len).filter(|&p| Some(p) != end) {
                    let mut v = v.clone();
                    v[sp] = b' ';
                    let scan = find_authority_end(&v);
                    assert_eq!(scan.end, end, "{len} {end:?} {sp}");
                    let before = end.is_none_or(|e| sp < e);
                    assert!(scan.maybe_space || !before, "{len} {end:?} {sp}");
                }
            }
        }
        // And the host taken from an authority with or without user info.
        for (uri, host) in [
            ("https://user@example.com/x", "example.com"),
            ("https://a@b@example.com:443/x", "example.com"),
            ("https://example.com/x@y", "example.com"),
            ("http://example.com:80?q@", "example.com"),
            ("HTTPS://example.com:443/", "example.com"),
            ("http://example.com:443/", "example.com:443"),
            ("https://example.com:80/", "example.com:80"),
            ("https://example.com:4443/", "example.com:4443"),
            ("https://example.com:8443", "example.com:8443"),
        ] {
            let r = SignableRequest::new("GET", uri, &[]).unwrap();
            assert_eq!(r.authority_host().as_deref(), Some(host), "{uri}");
        }
    }

    #[test]
    fn splits_targets() {
        fn parts(u: &str) -> (Option<&str>, Option<&str>, &str, &str) {
            let r = SignableRequest::new("GET", u, &[]).unwrap();
            (r.scheme(), r.authority, r.path(), r.query())
        }
        assert_eq!(parts("/a/b?x=1#f"), (None, None, "/a/b", "x=1"));
        assert_eq!(
            parts("https://u@h:443/p?q?r"),
            (Some("https"), Some("u@h:443"), "/p", "q?r")
        );
        assert_eq!(parts("http://h?q"), (Some("http"), Some("h"), "", "q"));
        assert_eq!(parts("http://h#x/y"), (Some("http"), Some("h"), "", ""));
        assert_eq!(parts("a:b://c"), (None, None, "a:b://c", ""));
        assert_eq!(parts("http://h/p#x?y"), (Some("http"), Some("h"), "/p", ""));
        assert_eq!(
            parts("HTTPS://h/p?q#f?g"),
            (Some("HTTPS"), Some("h"), "/p", "q")
        );
        assert_eq!(parts("s3+x://h/p"), (Some("s3+x"), Some("h"), "/p", ""));
        assert_eq!(parts("https://h"), (Some("https"), Some("h"), "", ""));
        assert_eq!(parts("://h/p"), (None, None, "://h/p", ""));
        assert_eq!(parts("h\u{e9}://x"), (None, None, "h\u{e9}://x", ""));
        assert!(SignableRequest::new("GET", "https:///p", &[]).is_err());
        assert!(SignableRequest::new("GET", "/p#\x01", &[]).is_err());
        assert!(SignableRequest::new("GET", "/p\x7f#", &[]).is_err());
        let r = SignableRequest::new("GET", "https://user@host:443/x", &[]).unwrap();
        assert_eq!(r.authority_host().as_deref(), Some("host"));
    }

    #[test]
    fn tchar_table_is_the_rfc_9110_set() {
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_tchar(b), want, "{b:#x}");
        }
    }
}
