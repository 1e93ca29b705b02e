//! The canonical request and the string to sign: one code path, shared by
//! the signer and the verifier, so what is signed and what is verified can
//! never drift apart.

use std::borrow::Cow;
use std::ops::Range;

use sha2::{Digest, Sha256};

use crate::encode::{
    canonical_query_component, canonicalize_encoded_to, normalize_path, uri_encode_to,
};
use crate::key::hex64;
use crate::settings::UriEncoding;
use crate::AmzDate;

/// One canonical query pair: key and value, both canonically encoded.
type QueryPair<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// The SigV4 HMAC algorithm name.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// One header as it enters the canonical request: its lower-case name and
/// its raw value (trimmed and folded when written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanonicalHeader<'a> {
    /// The lower-case header name.
    pub name: Cow<'a, str>,
    /// The raw value; whitespace runs (including obs-fold line breaks) fold to one space.
    pub value: &'a [u8],
    /// Set when `value` is known to be canonical already (no byte at or
    /// below a space, so nothing to trim or fold): it is then written as it
    /// is, unscanned. Leave it `false` for values taken from a request.
    pub canonical: bool,
}

/// The signed-headers list of sorted `headers`: each name once, in order.
pub(crate) fn signed_header_names<'h>(
    headers: &'h [CanonicalHeader<'_>],
) -> impl Iterator<Item = &'h str> {
    let mut prev: Option<&'h str> = None;
    headers.iter().map(|h| &*h.name).filter(move |&name| {
        let first = prev != Some(name);
        prev = Some(name);
        first
    })
}

impl<'a> CanonicalHeader<'a> {
    /// A header line, lower-casing the name only when it needs it.
    pub fn new(name: &'a str, value: &'a [u8]) -> Self {
        let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(name.to_ascii_lowercase())
        } else {
            Cow::Borrowed(name)
        };
        Self {
            name,
            value,
            canonical: false,
        }
    }
}

/// The parts of a canonical request.
///
/// `headers` must be sorted by name with a stable sort, so that duplicate
/// headers stay in the order they were sent; [`CanonicalRequest::sort_headers`]
/// does that.
#[derive(Clone, Debug)]
pub struct CanonicalRequest<'a> {
    /// The HTTP method, as sent.
    pub method: &'a str,
    /// The path of the request target, as sent (may be percent-encoded).
    pub path: &'a str,
    /// The query string, as sent, without the `?` (may be empty).
    pub query: &'a str,
    /// Query pairs to add, both already canonically encoded (presigning).
    pub extra_query: &'a [(&'a str, &'a str)],
    /// A query key (canonical form) to leave out, e.g. `X-Amz-Signature` when verifying.
    pub skip_query_key: Option<&'a str>,
    /// The signed headers, lower-case, stably sorted by name.
    pub headers: &'a [CanonicalHeader<'a>],
    /// The payload hash line (`UNSIGNED-PAYLOAD`, a hex digest, a streaming marker).
    pub payload_hash: &'a str,
    /// How the path is encoded.
    pub uri_encoding: UriEncoding,
    /// Whether `.`/`..` segments and `//` are normalized away.
    pub normalize_path: bool,
}

impl CanonicalRequest<'_> {
    /// Stable-sorts header lines by name, as the canonical request needs.
    pub fn sort_headers(headers: &mut [CanonicalHeader<'_>]) {
        headers.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// Writes the canonical request to `out` and returns where, inside
    /// `out`, the signed-headers list (`host;x-amz-date`) stands.
    pub fn write(&self, out: &mut Vec<u8>) -> Range<usize> {
        self.write_to(out)
    }

    /// [`CanonicalRequest::write`] to any [`Sink`]. Returns where the
    /// signed-headers list stands in what was written.
    ///
    /// The writing goes through a local copy of the sink that no call
    /// sees: a helper that is not inlined gets a sink of its own (moved in
    /// and back out). So the compiler knows the bytes written cannot touch
    /// the sink's position and keeps it in a register, instead of storing
    /// it and reloading the buffer after every byte.
    pub(crate) fn write_to<S: Sink + Default>(&self, sink: &mut S) -> Range<usize> {
        let mut out = std::mem::take(sink);
        // Runs `f` on the sink moved out of `out`, then moves it back.
        let apart = |out: &mut S, f: &dyn Fn(&mut S)| {
            let mut own = std::mem::take(out);
            f(&mut own);
            *out = own;
        };
        out.put(self.method.as_bytes());
        out.put_byte(b'\n');
        apart(&mut out, &|o| self.write_path(o));
        out.put_byte(b'\n');
        apart(&mut out, &|o| self.write_query(o));
        out.put_byte(b'\n');
        let mut i = 0;
        while i < self.headers.len() {
            let name = &self.headers[i].name;
            out.put(name.as_bytes());
            out.put_byte(b':');
            if self.headers[i].canonical {
                out.put(self.headers[i].value);
            } else {
                let value = self.headers[i].value;
                apart(&mut out, &|o| write_header_value_to(o, value));
            }
            i += 1;
            while i < self.headers.len() && self.headers[i].name == *name {
                out.put_byte(b',');
                let value = self.headers[i].value;
                apart(&mut out, &|o| write_header_value_to(o, value));
                i += 1;
            }
            out.put_byte(b'\n');
        }
        out.put_byte(b'\n');
        let start = out.written();
        for (i, name) in signed_header_names(self.headers).enumerate() {
            if i > 0 {
                out.put_byte(b';');
            }
            out.put(name.as_bytes());
        }
        let end = out.written();
        out.put_byte(b'\n');
        out.put(self.payload_hash.as_bytes());
        *sink = out;
        start..end
    }

    /// Writes `host;x-amz-date;...`: the unique header names, in order.
    pub fn write_signed_headers(&self, out: &mut Vec<u8>) {
        self.write_signed_headers_to(out);
    }

    fn write_signed_headers_to<S: Sink + ?Sized>(&self, out: &mut S) {
        for (i, name) in signed_header_names(self.headers).enumerate() {
            if i > 0 {
                out.put_byte(b';');
            }
            out.put(name.as_bytes());
        }
    }

    fn write_path<S: Sink + ?Sized>(&self, out: &mut S) {
        let path = if self.normalize_path {
            normalize_path(self.path)
        } else if self.path.is_empty() {
            Cow::Borrowed("/")
        } else {
            Cow::Borrowed(self.path)
        };
        // The canonical URI is an absolute path: a target written without
        // the leading `/` (`PUT test$file.text` in the S3 documentation)
        // signs as `/test%24file.text`.
        if !path.starts_with('/') {
            out.put_byte(b'/');
        }
        match self.uri_encoding {
            UriEncoding::Double => uri_encode_to(out, path.as_bytes(), true),
            // Copies runs that are already canonical as they are.
            UriEncoding::Single => canonicalize_encoded_to(out, path.as_bytes(), true),
        }
    }

    fn write_query<S: Sink + ?Sized>(&self, out: &mut S) {
        if self.query.is_empty() {
            // Presigning a URL without a query: the pairs to add usually
            // come sorted, so they are written as they are.
            if self
                .extra_query
                .windows(2)
                .all(|w| key_less(w[0].0.as_bytes(), w[1].0.as_bytes()))
            {
                for (i, (k, v)) in self.extra_query.iter().enumerate() {
                    if i > 0 {
                        out.put_byte(b'&');
                    }
                    out.put(k.as_bytes());
                    out.put_byte(b'=');
                    out.put(v.as_bytes());
                }
                return;
            }
        }
        let mut pairs: Vec<QueryPair<'_>> = Vec::with_capacity(self.extra_query.len() + 4);
        for piece in self.query.split('&') {
            if piece.is_empty() {
                continue;
            }
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            let k = canonical_query_component(k);
            if self.skip_query_key.is_some_and(|s| s.as_bytes() == &*k) {
                continue;
            }
            pairs.push((k, canonical_query_component(v)));
        }
        for (k, v) in self.extra_query {
            pairs.push((Cow::Borrowed(k.as_bytes()), Cow::Borrowed(v.as_bytes())));
        }
        pairs.sort_unstable();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.put_byte(b'&');
            }
            out.put(k);
            out.put_byte(b'=');
            out.put(v);
        }
    }
}

/// The first 8 bytes of a name as a big-endian number (zero-padded), so
/// that the numbers order like the names: most comparisons of header names
/// or `X-Amz-*` keys end there, without a `memcmp` call.
#[inline]
pub(crate) fn sort_prefix(b: &[u8]) -> u64 {
    if let Some(w) = b.first_chunk::<8>() {
        return u64::from_be_bytes(*w);
    }
    let n = b.len();
    if let (Some(lo), Some(hi)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        // 4 to 7 bytes: two overlapping 4-byte loads, the last one shifted
        // into place (the bytes they share are the same in both).
        let lo = u64::from(u32::from_be_bytes(*lo)) << 32;
        return lo | (u64::from(u32::from_be_bytes(*hi)) << (8 * (8 - n)));
    }
    // Shorter than 4 bytes: shifted in byte by byte.
    let mut w = 0u64;
    for (i, &c) in b.iter().enumerate() {
        w |= u64::from(c) << (56 - 8 * i);
    }
    w
}

/// `a < b`, by [`sort_prefix`] first.
#[inline]
fn key_less(a: &[u8], b: &[u8]) -> bool {
    match sort_prefix(a).cmp(&sort_prefix(b)) {
        std::cmp::Ordering::Equal => a < b,
        o => o.is_lt(),
    }
}

/// Writes a header value trimmed, with every run of whitespace (space, tab,
/// CR, LF) folded to one space.
pub fn write_header_value(out: &mut Vec<u8>, value: &[u8]) {
    write_header_value_to(out, value);
}

fn write_header_value_to<S: Sink + ?Sized>(out: &mut S, value: &[u8]) {
    // Fast path, taken by nearly every value (tokens, dates, hashes): no
    // byte at or below a space, so nothing to trim or fold.
    if !has_byte_at_or_below_space(value) {
        out.put(value);
        return;
    }
    let is_ws = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = value.iter().position(|&b| !is_ws(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|&b| !is_ws(b))
        .map_or(start, |i| i + 1);
    let value = &value[start..end];
    // Trimmed, a value may hold no more whitespace.
    if !has_byte_at_or_below_space(value) {
        out.put(value);
        return;
    }
    for (i, word) in value
        .split(|&b| is_ws(b))
        .filter(|w| !w.is_empty())
        .enumerate()
    {
        if i > 0 {
            out.put_byte(b' ');
        }
        out.put(word);
    }
}

/// Whether some byte of `b` is at most 0x20 (see [`has_low_byte`]).
#[inline]
pub(crate) fn has_byte_at_or_below_space(b: &[u8]) -> bool {
    has_low_byte::<false>(b)
}

/// Whether a header value is *plain*: no byte at or below 0x20 and no DEL
/// (0x7f). A plain value is valid as it is (no control byte, no line break)
/// and canonical as it is (nothing to trim or fold), so one pass over it
/// replaces both the validity check and the whitespace scan.
#[inline]
pub(crate) fn is_plain_value(b: &[u8]) -> bool {
    !has_low_byte::<true>(b)
}

/// Whether some byte of `b` is at most 0x20 or, with `DEL`, equals 0x7f,
/// without a scalar loop beyond 3 bytes: 32-byte lanes (compiled to vector
/// minimums) with an overlapping last lane, or one or two 8-byte words for
/// short values (SWAR: a byte below 0x21 borrows in `x - 0x21..21` and sets
/// its high bit where `x`'s is clear; borrows only reach higher bytes from a
/// byte that is below 0x21 itself, so the answer is exact). DEL is mapped
/// to 0 first, so the same minimum finds it.
#[inline]
fn has_low_byte<const DEL: bool>(b: &[u8]) -> bool {
    const LOW: u64 = u64::from_ne_bytes([0x21; 8]);
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const DELS: u64 = u64::from_ne_bytes([0x7f; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let below = |w: [u8; 8]| {
        let x = u64::from_ne_bytes(w);
        let mut hit = x.wrapping_sub(LOW) & !x;
        if DEL {
            // A zero byte of `x ^ 0x7f..7f` is a DEL (exact, as above).
            let d = x ^ DELS;
            hit |= d.wrapping_sub(ONES) & !d;
        }
        hit & HIGH != 0
    };
    let n = b.len();
    if n >= 16 {
        // 32-byte lanes, the last one overlapping; a value of 16 to 31
        // bytes is one lane made of its first and last 16 bytes.
        let mut lane = [0u8; 32];
        let mut m = [u8::MAX; 32];
        let mut min_in = |lane: &[u8; 32]| {
            for (m, &x) in m.iter_mut().zip(lane) {
                let x = if DEL && x == 0x7f { 0 } else { x };
                *m = (*m).min(x);
            }
        };
        if n >= 32 {
            let mut lanes = b.chunks_exact(32);
            for l in &mut lanes {
                lane.copy_from_slice(l);
                min_in(&lane);
            }
            lane.copy_from_slice(&b[n - 32..]);
        } else {
            lane[..16].copy_from_slice(&b[..16]);
            lane[16..].copy_from_slice(&b[n - 16..]);
        }
        min_in(&lane);
        m.iter().fold(u8::MAX, |a, &x| a.min(x)) <= b' '
    } else if n >= 8 {
        let (mut lo, mut hi) = ([0xff; 8], [0xff; 8]);
        lo.copy_from_slice(&b[..8]);
        hi.copy_from_slice(&b[n - 8..]);
        below(lo) || below(hi)
    } else if n >= 4 {
        // Two overlapping 4-byte loads make one word.
        let (mut lo, mut hi) = ([0; 4], [0; 4]);
        lo.copy_from_slice(&b[..4]);
        hi.copy_from_slice(&b[n - 4..]);
        let x = u64::from(u32::from_ne_bytes(lo)) | (u64::from(u32::from_ne_bytes(hi)) << 32);
        below(x.to_ne_bytes())
    } else {
        b.iter()
            .fold(false, |hit, &c| hit | (c <= b' ') | (DEL & (c == 0x7f)))
    }
}

/// Writes the string to sign for a canonical request whose SHA-256 hex is
/// `canonical_hash`:
/// `ALGORITHM \n amz-date \n scope \n canonical_hash`.
pub fn write_string_to_sign(
    out: &mut Vec<u8>,
    algorithm: &str,
    time: &AmzDate,
    scope: &[u8],
    canonical_hash: &[u8; 64],
) {
    string_to_sign_head(out, algorithm, time);
    out.put(scope);
    string_to_sign_tail(out, canonical_hash);
}

/// The head of a string to sign: `ALGORITHM \n amz-date \n` (the scope follows).
pub(crate) fn string_to_sign_head<S: Sink + ?Sized>(out: &mut S, algorithm: &str, time: &AmzDate) {
    out.put(algorithm.as_bytes());
    out.put_byte(b'\n');
    out.put(time.as_bytes());
    out.put_byte(b'\n');
}

/// The tail of a string to sign, after the scope: `\n canonical_hash`.
pub(crate) fn string_to_sign_tail<S: Sink + ?Sized>(out: &mut S, canonical_hash: &[u8; 64]) {
    out.put_byte(b'\n');
    out.put(canonical_hash);
}

/// Where a canonical request or string to sign is written.
pub(crate) trait Sink {
    /// Appends bytes.
    fn put(&mut self, b: &[u8]);
    /// Appends one byte.
    fn put_byte(&mut self, b: u8);
    /// How many bytes were written so far.
    fn written(&self) -> usize;
}

impl Sink for Vec<u8> {
    #[inline]
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }

    #[inline]
    fn put_byte(&mut self, b: u8) {
        self.push(b);
    }

    #[inline]
    fn written(&self) -> usize {
        self.len()
    }
}

/// Copies `src` into `dst` (of the same length). Pieces of up to 32 bytes,
/// which is nearly every piece of a canonical request, are copied with two
/// fixed-size (possibly overlapping) moves inlined at the call site, so each
/// site predicts its own sizes instead of sharing `memcpy`'s size dispatch.
#[inline(always)]
pub(crate) fn copy_piece(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n > 32 || dst.len() != n {
        dst.copy_from_slice(src);
    } else if n >= 16 {
        dst[..16].copy_from_slice(&src[..16]);
        dst[n - 16..].copy_from_slice(&src[n - 16..]);
    } else if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        dst[n - 8..].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..].copy_from_slice(&src[n - 4..]);
    } else if n > 0 {
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

/// A [`Sink`] over a slice that is already allocated and zeroed: no
/// capacity checks beyond one bounds check per piece. Writing past the end
/// writes nothing but keeps counting, so the caller sees from
/// [`Sink::written`] that the slice was too short and how much is needed.
#[derive(Default)]
pub(crate) struct SliceSink<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> SliceSink<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Whether everything written fitted.
    #[cfg(test)]
    pub(crate) fn fitted(&self) -> bool {
        self.pos <= self.buf.len()
    }
}

impl Sink for SliceSink<'_> {
    #[inline]
    fn put(&mut self, b: &[u8]) {
        let end = self.pos + b.len();
        if let Some(dst) = self.buf.get_mut(self.pos..end) {
            copy_piece(dst, b);
        }
        self.pos = end;
    }

    #[inline]
    fn put_byte(&mut self, b: u8) {
        if let Some(d) = self.buf.get_mut(self.pos) {
            *d = b;
        }
        self.pos += 1;
    }

    #[inline]
    fn written(&self) -> usize {
        self.pos
    }
}

/// SHA-256 of a canonical request, as 64 lowercase hex digits.
pub fn hash_canonical_request(canonical: &[u8]) -> [u8; 64] {
    hex64(&Sha256::digest(canonical).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_bytes_are_found_at_every_position() {
        for len in 0..72 {
            let clean = vec![b'!'; len];
            assert!(!has_byte_at_or_below_space(&clean));
            assert!(is_plain_value(&clean));
            for pos in 0..len {
                for (b, low) in [
                    (0u8, true),
                    (b'\t', true),
                    (b' ', true),
                    (b'!', false),
                    (0x7e, false),
                    (0x7f, false),
                    (0x80, false),
                    (0xff, false),
                ] {
                    let mut v = clean.clone();
                    v[pos] = b;
                    assert_eq!(has_byte_at_or_below_space(&v), low, "{len} {pos} {b:#x}");
                    let plain = !low && b != 0x7f;
                    assert_eq!(is_plain_value(&v), plain, "{len} {pos} {b:#x}");
                }
            }
        }
    }

    #[test]
    fn prefix_order_is_byte_order() {
        let keys: [&[u8]; 12] = [
            b"",
            b"a",
            b"ab",
            b"ab\0",
            b"abc",
            b"X-Amz-Date",
            b"X-Amz-Dat",
            b"X-Amz-Date2",
            b"X-Amz-Security-Token",
            b"X-Amz-SignedHeaders",
            b"\xff",
            b"host",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(key_less(a, b), a < b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn the_prefix_is_the_first_eight_bytes_zero_padded() {
        let bytes: Vec<u8> = (0xf1..=0xfc).collect();
        for n in 0..=bytes.len() {
            let want = bytes[..n.min(8)]
                .iter()
                .enumerate()
                .fold(0u64, |w, (i, &b)| w | u64::from(b) << (56 - 8 * i));
            assert_eq!(sort_prefix(&bytes[..n]), want, "{n}");
        }
    }

    #[test]
    fn pieces_of_every_length_copy_exactly() {
        let src: Vec<u8> = (1..=80).collect();
        for len in 0..=80 {
            let mut dst = vec![0u8; len];
            copy_piece(&mut dst, &src[..len]);
            assert_eq!(dst, src[..len], "{len}");
        }
        // A slice sink that runs out of room keeps counting.
        let mut buf = [0u8; 4];
        let mut sink = SliceSink::new(&mut buf);
        sink.put(b"abc");
        assert!(sink.fitted());
        sink.put(b"defg");
        sink.put_byte(b'h');
        assert!(!sink.fitted());
        assert_eq!(sink.written(), 8);
        assert_eq!(&buf, b"abc\0");
    }

    #[test]
    fn header_values_fold_whitespace() {
        let mut v = Vec::new();
        write_header_value(&mut v, b"  a \t b\n   c  ");
        assert_eq!(v, b"a b c");
        v.clear();
        write_header_value(&mut v, b"   ");
        assert_eq!(v, b"");
        // Long values take the chunked fast path; control bytes that are not
        // whitespace are kept as they are.
        let long = [b'x'; 70];
        v.clear();
        write_header_value(&mut v, &[b" \t", &long[..], b"\x01 \n"].concat());
        assert_eq!(v, [&long[..], b"\x01"].concat());
        v.clear();
        write_header_value(&mut v, &[&long[..], b"  \t ", &long[..40]].concat());
        assert_eq!(v, [&long[..], b" ", &long[..40]].concat());
    }
}
