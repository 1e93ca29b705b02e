//! URI encoding and path normalization, as SigV4 specifies them.
//!
//! SigV4 encodes every byte except the RFC 3986 unreserved set
//! (`A-Z a-z 0-9 - . _ ~`) as `%XX` with upper-case hex.

use std::borrow::Cow;

use crate::canonical::Sink;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Whether `b` is in the RFC 3986 unreserved set.
#[inline]
pub const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Bytes written as they are: bit 0 without `keep_slash`, bit 1 with it.
const VERBATIM: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        // i < 256: the cast cannot truncate.
        let b = i as u8;
        if is_unreserved(b) {
            t[i] = 0b11;
        } else if b == b'/' {
            t[i] = 0b10;
        }
        i += 1;
    }
    t
};

#[inline]
fn verbatim_mask(keep_slash: bool) -> u8 {
    if keep_slash {
        0b10
    } else {
        0b01
    }
}

/// The length of the leading run of `input` that is written as it is
/// (eight bytes per step: one branch per step, not per byte).
#[inline]
fn verbatim_run(input: &[u8], mask: u8) -> usize {
    let t = |b: u8| VERBATIM[usize::from(b)];
    let mut i = 0;
    for c in input.chunks_exact(8) {
        if t(c[0]) & t(c[1]) & t(c[2]) & t(c[3]) & t(c[4]) & t(c[5]) & t(c[6]) & t(c[7]) & mask == 0
        {
            break;
        }
        i += 8;
    }
    i + input[i..]
        .iter()
        .position(|&b| t(b) & mask == 0)
        .unwrap_or(input.len() - i)
}

#[inline]
fn push_escaped<S: Sink + ?Sized>(out: &mut S, b: u8) {
    out.put(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Appends `input` with every byte outside the unreserved set (and `/`
/// when `keep_slash`) percent-encoded. A `%` in the input is encoded too.
pub fn uri_encode_into(out: &mut Vec<u8>, input: &[u8], keep_slash: bool) {
    out.reserve(input.len());
    uri_encode_to(out, input, keep_slash);
}

/// [`uri_encode_into`] to any [`Sink`].
pub(crate) fn uri_encode_to<S: Sink + ?Sized>(out: &mut S, input: &[u8], keep_slash: bool) {
    let mask = verbatim_mask(keep_slash);
    let mut rest = input;
    // Copy runs of bytes that need no escape in one go.
    loop {
        let n = verbatim_run(rest, mask);
        out.put(&rest[..n]);
        match rest.get(n) {
            Some(&b) => push_escaped(out, b),
            None => break,
        }
        rest = &rest[n + 1..];
    }
}

/// Appends `input` URI-encoded (every byte outside the unreserved set, `/`
/// included) to a `String`, without re-checking what is written.
pub(crate) fn uri_encode_str_into(out: &mut String, input: &str) {
    const HEX_CHARS: &[u8; 16] = b"0123456789ABCDEF";
    let mask = verbatim_mask(false);
    let bytes = input.as_bytes();
    let mut i = 0;
    loop {
        let n = verbatim_run(&bytes[i..], mask);
        // A run of ASCII bytes starts and ends on character boundaries.
        out.push_str(input.get(i..i + n).unwrap_or_default());
        i += n;
        let Some(&b) = bytes.get(i) else {
            break;
        };
        out.push('%');
        out.push(char::from(HEX_CHARS[usize::from(b >> 4)]));
        out.push(char::from(HEX_CHARS[usize::from(b & 15)]));
        i += 1;
    }
}

/// `input` URI-encoded (every byte outside the unreserved set, `/` included).
pub fn uri_encode(input: &str) -> String {
    let mut out = Vec::with_capacity(input.len() + 8);
    uri_encode_into(&mut out, input.as_bytes(), false);
    // Only ASCII is written.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the canonical form of an already-encoded component: each valid
/// `%XX` is decoded, then every byte is encoded as SigV4 wants it. So
/// `%7e` becomes `~`, `%2f` becomes `%2F`, a raw space `%20`, and a stray `%`
/// (not followed by two hex digits) `%25`. With `keep_slash`, a raw `/` stays.
pub fn canonicalize_encoded_into(out: &mut Vec<u8>, input: &[u8], keep_slash: bool) {
    out.reserve(input.len());
    canonicalize_encoded_to(out, input, keep_slash);
}

/// [`canonicalize_encoded_into`] to any [`Sink`].
pub(crate) fn canonicalize_encoded_to<S: Sink + ?Sized>(
    out: &mut S,
    input: &[u8],
    keep_slash: bool,
) {
    let mask = verbatim_mask(keep_slash);
    let mut i = 0;
    while i < input.len() {
        // Copy a run of bytes that stay as they are in one go.
        let run = verbatim_run(&input[i..], mask);
        out.put(&input[i..i + run]);
        i += run;
        let Some(&b) = input.get(i) else {
            break;
        };
        if b == b'%' && i + 2 < input.len() {
            if let (Some(h), Some(l)) = (hex_val(input[i + 1]), hex_val(input[i + 2])) {
                let d = (h << 4) | l;
                if is_unreserved(d) {
                    out.put_byte(d);
                } else {
                    push_escaped(out, d);
                }
                i += 3;
                continue;
            }
        }
        // Not a valid escape, so not written as it is: encode it.
        push_escaped(out, b);
        i += 1;
    }
}

/// Whether [`canonicalize_encoded_into`] would give `input` back unchanged.
pub fn is_canonical_encoded(input: &[u8], keep_slash: bool) -> bool {
    let mask = verbatim_mask(keep_slash);
    let mut i = 0;
    loop {
        i += verbatim_run(&input[i..], mask);
        let Some(&b) = input.get(i) else {
            return true;
        };
        // Only an upper-case escape of a byte that must stay escaped is canonical.
        if b != b'%' {
            return false;
        }
        let upper_hex = |b: Option<&u8>| match b {
            Some(&b @ (b'0'..=b'9' | b'A'..=b'F')) => hex_val(b),
            _ => None,
        };
        match (upper_hex(input.get(i + 1)), upper_hex(input.get(i + 2))) {
            (Some(h), Some(l)) if !is_unreserved((h << 4) | l) => i += 3,
            _ => return false,
        }
    }
}

/// The canonical form of an encoded query key or value, borrowed when it
/// already is canonical.
pub fn canonical_query_component(input: &str) -> Cow<'_, [u8]> {
    if is_canonical_encoded(input.as_bytes(), false) {
        Cow::Borrowed(input.as_bytes())
    } else {
        let mut out = Vec::with_capacity(input.len() + 8);
        canonicalize_encoded_into(&mut out, input.as_bytes(), false);
        Cow::Owned(out)
    }
}

/// Percent-decodes `input` (invalid escapes are kept as they are).
pub fn percent_decode(input: &str) -> Cow<'_, [u8]> {
    percent_encoding::percent_decode_str(input).into()
}

/// Removes `.` and `..` segments (RFC 3986 section 5.2.4) and collapses
/// runs of `/`, as SigV4 path normalization wants. The result always starts
/// with `/`; a trailing `/` (or a final `.` or `..` segment) keeps one.
pub fn normalize_path(path: &str) -> Cow<'_, str> {
    if !needs_normalization(path) {
        return Cow::Borrowed(if path.is_empty() { "/" } else { path });
    }
    let mut stack: Vec<&str> = Vec::new();
    let mut trailing_slash = false;
    let segments = path.strip_prefix('/').unwrap_or(path).split('/');
    for seg in segments {
        trailing_slash = false;
        match seg {
            "" | "." => trailing_slash = true,
            ".." => {
                stack.pop();
                trailing_slash = true;
            }
            s => stack.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for s in &stack {
        out.push('/');
        out.push_str(s);
    }
    if trailing_slash || out.is_empty() {
        out.push('/');
    }
    Cow::Owned(out)
}

fn needs_normalization(path: &str) -> bool {
    if path.is_empty() || !path.starts_with('/') {
        return !path.is_empty();
    }
    let b = path.as_bytes();
    for (i, w) in b.windows(2).enumerate() {
        if w == b"//" {
            return true;
        }
        if w == b"/." {
            let rest = &b[i + 2..];
            if rest.is_empty() || rest[0] == b'/' || rest.starts_with(b"./") || rest == b"." {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn canon(s: &str, keep_slash: bool) -> String {
        let mut v = Vec::new();
        canonicalize_encoded_into(&mut v, s.as_bytes(), keep_slash);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn encodes_like_rfc3986() {
        assert_eq!(uri_encode("a b/c~d%e+"), "a%20b%2Fc~d%25e%2B");
        assert_eq!(uri_encode("ሴ"), "%E1%88%B4");
        for s in [
            "",
            "a b/c~d%e+",
            "ሴx",
            "xሴ",
            "AKIDEXAMPLE",
            "a\u{10ffff}=/",
            "~-._",
        ] {
            let mut o = String::from("p");
            uri_encode_str_into(&mut o, s);
            assert_eq!(o, format!("p{}", uri_encode(s)), "{s}");
        }
        let mut v = Vec::new();
        uri_encode_into(&mut v, b"/a b/", true);
        assert_eq!(v, b"/a%20b/");
    }

    #[test]
    fn canonicalizes_encoded_input() {
        assert_eq!(canon("%7e%2f%41", false), "~%2FA");
        assert_eq!(canon("a b", false), "a%20b");
        assert_eq!(canon("100%", false), "100%25");
        assert_eq!(canon("%zz", false), "%25zz");
        assert_eq!(canon("%4", false), "%254");
        assert_eq!(canon("/a%2Fb/c", true), "/a%2Fb/c");
        assert_eq!(canon("+", false), "%2B");
        for s in ["abc", "%2F", "a%20b", "~", "%E1%88%B4"] {
            assert!(is_canonical_encoded(s.as_bytes(), false), "{s}");
            assert_eq!(canon(s, false), s);
        }
        for s in ["%7E", "%2f", "a b", "100%", "%4", "+", "/"] {
            assert!(!is_canonical_encoded(s.as_bytes(), false), "{s}");
        }
    }

    #[test]
    fn normalizes_paths() {
        let cases = [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("//example//", "/example/"),
            ("/./", "/"),
            ("/./example", "/example"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/a/./b/../c", "/a/c"),
            ("/..", "/"),
            ("/../a", "/a"),
            ("/.a/..b/", "/.a/..b/"),
            ("/a.", "/a."),
            ("/a/...", "/a/..."),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_path(input), want, "{input}");
        }
    }
}
