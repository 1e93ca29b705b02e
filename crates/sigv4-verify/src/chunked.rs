//! A streaming verifier for `aws-chunked` bodies: each chunk's signature is
//! checked as the bytes arrive, and a chunk's data is released only after
//! its signature verifies. Memory is bounded by the largest chunk allowed.

use std::sync::Arc;

use sigv4_sign::chunked::{canonical_trailers, chunk_string_to_sign, trailer_string_to_sign};
use sigv4_sign::{sha256_hex, AmzDate, SigningKey};
use subtle::ConstantTimeEq;

use crate::VerifyError;

/// Which aws-chunked flavour the body uses (from `x-amz-content-sha256`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChunkMode {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: signed chunks, no trailer.
    Signed,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and a signed trailer.
    SignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: unsigned chunks, unsigned trailer.
    UnsignedTrailer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Header,
    Data {
        size: usize,
        signature: Option<[u8; 64]>,
    },
    Trailers,
    Done,
}

/// The longest chunk header or trailer line accepted.
const MAX_LINE: usize = 4096;
/// The largest trailer section accepted.
const MAX_TRAILERS: usize = 16 * 1024;
/// How much input is taken in at once.
const STEP: usize = 64 * 1024;

fn ascii(b: &[u8]) -> &str {
    // Only ever called on hex digits.
    std::str::from_utf8(b).unwrap_or("")
}

/// Verifies an aws-chunked body incrementally.
///
/// Feed bytes with [`ChunkedDecoder::push`] as they arrive; verified data is
/// appended to the output buffer you pass. Call [`ChunkedDecoder::finish`] at
/// the end of the body: a body that stops anywhere before the final chunk
/// (and its trailer) is an error, even at a chunk boundary.
///
/// Get one from [`crate::Verified::chunked_decoder`] after the request's
/// headers verified.
pub struct ChunkedDecoder {
    mode: ChunkMode,
    key: Arc<SigningKey>,
    time: AmzDate,
    scope: String,
    prev: [u8; 64],
    buf: Vec<u8>,
    /// How far `buf` is known to hold no CRLF, so a line that arrives a
    /// byte at a time is scanned once, not once per byte.
    scanned: usize,
    state: State,
    max_chunk: usize,
    announced: Vec<String>,
    trailers: Vec<(String, String)>,
    trailer_bytes: usize,
    decoded: u64,
    expected: Option<u64>,
}

impl std::fmt::Debug for ChunkedDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedDecoder")
            .field("mode", &self.mode)
            .field("state", &self.state)
            .field("decoded", &self.decoded)
            .finish_non_exhaustive()
    }
}

impl ChunkedDecoder {
    /// A decoder for a body whose headers verified with `seed_signature`.
    ///
    /// `announced_trailers` is the `X-Amz-Trailer` header split on commas;
    /// `decoded_length` is `x-amz-decoded-content-length`, when sent.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mode: ChunkMode,
        key: Arc<SigningKey>,
        time: AmzDate,
        scope: String,
        seed_signature: &str,
        max_chunk: usize,
        announced_trailers: Vec<String>,
        decoded_length: Option<u64>,
    ) -> Self {
        let mut prev = [0u8; 64];
        if seed_signature.len() == 64 {
            prev.copy_from_slice(seed_signature.as_bytes());
        }
        Self {
            mode,
            key,
            time,
            scope,
            prev,
            buf: Vec::new(),
            scanned: 0,
            state: State::Header,
            max_chunk,
            announced: announced_trailers
                .into_iter()
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect(),
            trailers: Vec::new(),
            trailer_bytes: 0,
            decoded: 0,
            expected: decoded_length,
        }
    }

    /// Takes in the next bytes of the body. Data of every chunk whose
    /// signature verified is appended to `out`; an error stops decoding
    /// for good (data of the failing chunk is never released).
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), VerifyError> {
        while !input.is_empty() {
            if self.state == State::Done {
                return Err(VerifyError::IncompleteBody(
                    "data follows the final chunk".into(),
                ));
            }
            let want = match self.state {
                State::Data { size, .. } => (size + 2).saturating_sub(self.buf.len()).max(1),
                _ => STEP,
            };
            let take = input.len().min(want.clamp(1, STEP));
            self.buf.extend_from_slice(&input[..take]);
            input = &input[take..];
            self.process(out)?;
        }
        Ok(())
    }

    /// Ends the body: an error unless the final chunk (and trailer) arrived.
    pub fn finish(&mut self) -> Result<(), VerifyError> {
        if self.state != State::Done {
            return Err(VerifyError::IncompleteBody(match self.state {
                State::Trailers => "the body ended inside the trailer section".into(),
                State::Data { .. } => "the body ended inside a chunk".into(),
                _ => "the body ended before the final zero-length chunk".into(),
            }));
        }
        if let Some(n) = self.expected {
            if n != self.decoded {
                return Err(VerifyError::IncompleteBody(format!(
                    "x-amz-decoded-content-length is {n} but the chunks hold {} bytes",
                    self.decoded
                )));
            }
        }
        for a in &self.announced {
            if !self.trailers.iter().any(|(n, _)| n == a) {
                return Err(VerifyError::IncompleteBody(format!(
                    "trailer `{a}` was announced in X-Amz-Trailer but not sent"
                )));
            }
        }
        Ok(())
    }

    /// Whether the final chunk (and trailer) has been verified.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The trailing headers received (lower-case names), after the end.
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// How many payload bytes have been released so far.
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    fn take_line(&mut self) -> Result<Option<Vec<u8>>, VerifyError> {
        let too_long = || {
            VerifyError::IncompleteBody(
                "a chunk header or trailer line is longer than 4096 bytes or lacks CRLF".into(),
            )
        };
        // A CR at the end of the scanned part may pair with the next byte.
        let start = self.scanned.saturating_sub(1).min(self.buf.len());
        let found = self.buf[start..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map(|i| i + start);
        match found {
            Some(i) if i <= MAX_LINE => {
                let line = self.buf[..i].to_vec();
                self.buf.drain(..i + 2);
                self.scanned = 0;
                Ok(Some(line))
            }
            // Too long whether its CRLF came in the same push or not yet:
            // the answer must not depend on how the body was split
            // (fuzzing found a long trailer line accepted only when whole).
            Some(_) => Err(too_long()),
            None if self.buf.len() > MAX_LINE + 1 => Err(too_long()),
            None => {
                self.scanned = self.buf.len();
                Ok(None)
            }
        }
    }

    fn process(&mut self, out: &mut Vec<u8>) -> Result<(), VerifyError> {
        loop {
            match self.state {
                State::Header => {
                    let Some(line) = self.take_line()? else {
                        return Ok(());
                    };
                    self.state = self.parse_header(&line)?;
                    if let State::Data { size: 0, signature } = self.state {
                        if self.mode != ChunkMode::Signed {
                            self.verify_chunk(b"", signature.as_ref())?;
                            self.state = State::Trailers;
                        }
                    }
                }
                State::Data { size, signature } => {
                    if self.buf.len() < size + 2 {
                        return Ok(());
                    }
                    if &self.buf[size..size + 2] != b"\r\n" {
                        return Err(VerifyError::IncompleteBody(format!(
                            "chunk data is not followed by CRLF after the announced {size} bytes"
                        )));
                    }
                    let data: Vec<u8> = self.buf.drain(..size + 2).take(size).collect();
                    self.scanned = 0;
                    self.verify_chunk(&data, signature.as_ref())?;
                    if size == 0 {
                        self.state = State::Done;
                    } else {
                        self.decoded += size as u64;
                        out.extend_from_slice(&data);
                        self.state = State::Header;
                    }
                }
                State::Trailers => {
                    let Some(line) = self.take_line()? else {
                        return Ok(());
                    };
                    self.trailer_bytes += line.len() + 2;
                    if self.trailer_bytes > MAX_TRAILERS {
                        return Err(VerifyError::IncompleteBody(
                            "the trailer section is larger than 16 KiB".into(),
                        ));
                    }
                    if line.is_empty() {
                        if self.mode == ChunkMode::SignedTrailer {
                            return Err(VerifyError::IncompleteBody(
                                "the trailer ended without x-amz-trailer-signature".into(),
                            ));
                        }
                        self.state = State::Done;
                        continue;
                    }
                    self.trailer_line(&line)?;
                }
                State::Done => {
                    if self.buf.is_empty() {
                        return Ok(());
                    }
                    return Err(VerifyError::IncompleteBody(
                        "data follows the final chunk".into(),
                    ));
                }
            }
        }
    }

    fn parse_header(&self, line: &[u8]) -> Result<State, VerifyError> {
        let bad = |m: &str| VerifyError::IncompleteBody(format!("chunk header: {m}"));
        let line = std::str::from_utf8(line).map_err(|_| bad("not ASCII"))?;
        let (size_hex, ext) = match line.split_once(';') {
            Some((s, e)) => (s, Some(e)),
            None => (line, None),
        };
        if size_hex.is_empty()
            || size_hex.len() > 16
            || !size_hex.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(bad("the size is not hex digits"));
        }
        let size = u64::from_str_radix(size_hex, 16).map_err(|_| bad("the size is not hex"))?;
        if size > self.max_chunk as u64 {
            return Err(VerifyError::InvalidChunkSize(format!(
                "a chunk of {size} bytes is larger than the allowed {}",
                self.max_chunk
            )));
        }
        let size = usize::try_from(size).map_err(|_| bad("the size is too large"))?;
        let signature = match (self.mode, ext) {
            (ChunkMode::UnsignedTrailer, None) => None,
            (ChunkMode::UnsignedTrailer, Some(_)) => {
                return Err(bad("unsigned chunks carry no extension"))
            }
            (_, None) => return Err(bad("missing `;chunk-signature=`")),
            (_, Some(e)) => {
                let sig = e
                    .strip_prefix("chunk-signature=")
                    .ok_or_else(|| bad("the extension must be `chunk-signature=...`"))?;
                if sig.len() != 64 || !sig.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    return Err(bad("the chunk signature is not 64 lower-case hex digits"));
                }
                let mut s = [0u8; 64];
                s.copy_from_slice(sig.as_bytes());
                Some(s)
            }
        };
        Ok(State::Data { size, signature })
    }

    fn verify_chunk(
        &mut self,
        data: &[u8],
        signature: Option<&[u8; 64]>,
    ) -> Result<(), VerifyError> {
        let Some(sig) = signature else {
            return Ok(());
        };
        let sts = chunk_string_to_sign(
            &self.time,
            &self.scope,
            ascii(&self.prev),
            ascii(&sha256_hex(data)),
        );
        let computed = self.key.sign_hex(&sts);
        if !bool::from(computed.ct_eq(sig)) {
            return Err(VerifyError::SignatureDoesNotMatch(None));
        }
        self.prev = *sig;
        Ok(())
    }

    fn trailer_line(&mut self, line: &[u8]) -> Result<(), VerifyError> {
        let bad = |m: String| VerifyError::IncompleteBody(format!("trailer: {m}"));
        let line = std::str::from_utf8(line).map_err(|_| bad("not UTF-8".into()))?;
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("{line:?} is not `name:value`")))?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        if name == "x-amz-trailer-signature" {
            if self.mode != ChunkMode::SignedTrailer {
                return Err(bad("a trailer signature in an unsigned trailer".into()));
            }
            let pairs: Vec<(&str, &str)> = self
                .trailers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let mut canon = Vec::with_capacity(128);
            canonical_trailers(&pairs, &mut canon)
                .map_err(|e| bad(format!("cannot canonicalize the trailers: {e}")))?;
            let sts = trailer_string_to_sign(
                &self.time,
                &self.scope,
                ascii(&self.prev),
                ascii(&sha256_hex(&canon)),
            );
            let computed = self.key.sign_hex(&sts);
            if !bool::from(computed.ct_eq(value.as_bytes())) {
                return Err(VerifyError::SignatureDoesNotMatch(None));
            }
            // The empty line that ends the trailer must follow.
            self.mode = ChunkMode::UnsignedTrailer;
            return Ok(());
        }
        if !self.announced.contains(&name) {
            return Err(VerifyError::InvalidRequest(format!(
                "trailer `{name}` was not announced in X-Amz-Trailer"
            )));
        }
        if self.trailers.iter().any(|(n, _)| *n == name) {
            return Err(bad(format!("`{name}` is sent twice")));
        }
        self.trailers.push((name, value.to_owned()));
        Ok(())
    }
}

/// Builds an aws-chunked body (test and benchmark helper): signs `chunks`
/// in order after `seed`, then the final chunk and, with `trailers`, a
/// signed trailer.
pub fn encode_signed_chunks(
    key: &SigningKey,
    time: &AmzDate,
    scope: &str,
    seed: &str,
    chunks: &[&[u8]],
    trailers: Option<&[(&str, &str)]>,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = seed.as_bytes().to_vec();
    for c in chunks.iter().copied().chain(std::iter::once(&b""[..])) {
        let sig = key.sign_hex(&chunk_string_to_sign(
            time,
            scope,
            ascii(&prev),
            ascii(&sha256_hex(c)),
        ));
        out.extend_from_slice(format!("{:x};chunk-signature=", c.len()).as_bytes());
        out.extend_from_slice(&sig);
        out.extend_from_slice(b"\r\n");
        prev = sig.to_vec();
        if !c.is_empty() || trailers.is_none() {
            out.extend_from_slice(c);
            out.extend_from_slice(b"\r\n");
        }
    }
    if let Some(t) = trailers {
        let mut canon = Vec::new();
        for (n, v) in t {
            out.extend_from_slice(format!("{n}:{v}\r\n").as_bytes());
            canon.extend_from_slice(format!("{n}:{v}\n").as_bytes());
        }
        let sig = key.sign_hex(&trailer_string_to_sign(
            time,
            scope,
            ascii(&prev),
            ascii(&sha256_hex(&canon)),
        ));
        out.extend_from_slice(b"x-amz-trailer-signature:");
        out.extend_from_slice(&sig);
        out.extend_from_slice(b"\r\n\r\n");
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // The AWS S3 documentation example "Signature Calculations for the
    // Authorization Header: Transferring Payload in Multiple Chunks":
    // 65 KiB of 'a' in chunks of 64 KiB and 1 KiB, seed signature and
    // chunk signatures from the documentation.
    const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn doc_decoder() -> ChunkedDecoder {
        let key = Arc::new(SigningKey::derive(SECRET, "20130524", "us-east-1", "s3"));
        ChunkedDecoder::new(
            ChunkMode::Signed,
            key,
            AmzDate::parse("20130524T000000Z").unwrap(),
            "20130524/us-east-1/s3/aws4_request".into(),
            SEED,
            16 << 20,
            vec![],
            Some(66560),
        )
    }

    fn doc_body() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
        b.extend(std::iter::repeat_n(b'a', 65536));
        b.extend_from_slice(b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
        b.extend(std::iter::repeat_n(b'a', 1024));
        b.extend_from_slice(b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
        b
    }

    #[test]
    fn line_limit_does_not_depend_on_the_split() {
        // A trailer line of 4096 bytes is the longest accepted, and one of
        // 4097 is rejected, whether it arrives whole or byte by byte.
        for (len, ok) in [(4096usize, true), (4097, false)] {
            let value = "A".repeat(len - "x-amz-checksum-crc32:".len());
            let body = format!("0\r\nx-amz-checksum-crc32:{value}\r\n\r\n");
            for step in [1usize, 4095, 4096, 4097, 4098, 100_000] {
                let mut d = ChunkedDecoder::new(
                    ChunkMode::UnsignedTrailer,
                    Arc::new(SigningKey::derive(SECRET, "20130524", "us-east-1", "s3")),
                    AmzDate::parse("20130524T000000Z").unwrap(),
                    "20130524/us-east-1/s3/aws4_request".into(),
                    SEED,
                    1024,
                    vec!["x-amz-checksum-crc32".into()],
                    None,
                );
                let mut out = Vec::new();
                let r = body
                    .as_bytes()
                    .chunks(step)
                    .try_for_each(|c| d.push(c, &mut out))
                    .and_then(|()| d.finish());
                assert_eq!(
                    r.is_ok(),
                    ok,
                    "line of {len} bytes in steps of {step}: {r:?}"
                );
            }
        }
    }

    #[test]
    fn documented_example_verifies_in_any_split() {
        let body = doc_body();
        for step in [1usize, 7, 4096, 100_000] {
            let mut d = doc_decoder();
            let mut out = Vec::new();
            for piece in body.chunks(step) {
                d.push(piece, &mut out).unwrap();
            }
            d.finish().unwrap();
            assert_eq!(out.len(), 66560);
            assert!(out.iter().all(|&b| b == b'a'));
        }
    }

    #[test]
    fn bad_chunk_fails_and_releases_nothing_of_it() {
        let mut body = doc_body();
        // Flip one data byte of the second chunk.
        let i = body.len() - 200;
        body[i] = b'b';
        let mut d = doc_decoder();
        let mut out = Vec::new();
        let e = d.push(&body, &mut out).unwrap_err();
        assert_eq!(e.code(), "SignatureDoesNotMatch");
        assert_eq!(
            out.len(),
            65536,
            "only the first, verified chunk is released"
        );
    }

    #[test]
    fn truncation_at_a_chunk_boundary_is_an_error() {
        let body = doc_body();
        let cut = body.len() - 86; // just before the final chunk header
        assert!(body[cut..].starts_with(b"0;chunk"));
        let mut d = doc_decoder();
        let mut out = Vec::new();
        d.push(&body[..cut], &mut out).unwrap();
        assert_eq!(d.finish().unwrap_err().code(), "IncompleteBody");
    }

    #[test]
    fn oversized_chunk_is_refused_before_buffering() {
        let key = Arc::new(SigningKey::derive(SECRET, "20130524", "us-east-1", "s3"));
        let mut d = ChunkedDecoder::new(
            ChunkMode::Signed,
            key,
            AmzDate::parse("20130524T000000Z").unwrap(),
            "20130524/us-east-1/s3/aws4_request".into(),
            SEED,
            1024,
            vec![],
            None,
        );
        let e = d
            .push(
                format!("801;chunk-signature={SEED}\r\n").as_bytes(),
                &mut Vec::new(),
            )
            .unwrap_err();
        assert_eq!(e.code(), "InvalidChunkSizeError");
    }

    #[test]
    fn trailers_must_be_announced_and_signed() {
        let key = SigningKey::derive(SECRET, "20130524", "us-east-1", "s3");
        let time = AmzDate::parse("20130524T000000Z").unwrap();
        let scope = "20130524/us-east-1/s3/aws4_request";
        let body = encode_signed_chunks(
            &key,
            &time,
            scope,
            SEED,
            &[b"hello"],
            Some(&[("x-amz-checksum-crc32", "NhCmhg==")]),
        );
        let mk = |announced: Vec<String>| {
            ChunkedDecoder::new(
                ChunkMode::SignedTrailer,
                Arc::new(key.clone()),
                time,
                scope.into(),
                SEED,
                1024,
                announced,
                Some(5),
            )
        };
        let mut d = mk(vec!["x-amz-checksum-crc32".into()]);
        let mut out = Vec::new();
        d.push(&body, &mut out).unwrap();
        d.finish().unwrap();
        assert_eq!(out, b"hello");
        assert_eq!(d.trailers()[0].1, "NhCmhg==");

        let mut d = mk(vec![]);
        assert_eq!(
            d.push(&body, &mut Vec::new()).unwrap_err().code(),
            "InvalidRequest"
        );
        // A changed trailer value breaks the trailer signature.
        let tampered = String::from_utf8(body.clone())
            .unwrap()
            .replace("NhCmhg==", "AAAAAA==");
        let mut d = mk(vec!["x-amz-checksum-crc32".into()]);
        assert_eq!(
            d.push(tampered.as_bytes(), &mut Vec::new())
                .unwrap_err()
                .code(),
            "SignatureDoesNotMatch"
        );
    }
}
