//! aws-chunked streaming uploads: the chunk-signature chain and the framing.
//!
//! An S3 `PUT` whose size is known up front but whose body should not be
//! hashed (or held) in one piece is sent with `Content-Encoding: aws-chunked`
//! and one of three payload markers:
//!
//! | [`StreamingMode`] | `x-amz-content-sha256` | chunk framing |
//! |---|---|---|
//! | [`Signed`](StreamingMode::Signed) | `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` | `hex-size;chunk-signature=SIG\r\nDATA\r\n` |
//! | [`SignedTrailer`](StreamingMode::SignedTrailer) | `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` | same, then signed trailing headers |
//! | [`UnsignedTrailer`](StreamingMode::UnsignedTrailer) | `STREAMING-UNSIGNED-PAYLOAD-TRAILER` | `hex-size\r\nDATA\r\n`, then trailing headers |
//!
//! The request itself is signed as usual (its signature is the *seed*); each
//! chunk's signature then chains from the previous one:
//!
//! ```text
//! AWS4-HMAC-SHA256-PAYLOAD \n amz-date \n scope \n previous-signature \n sha256("") \n sha256(chunk)
//! ```
//!
//! A zero-length chunk ends the body. With a trailer, the trailing headers
//! (`name:value\n` each) are hashed and signed with
//! `AWS4-HMAC-SHA256-TRAILER \n amz-date \n scope \n previous-signature \n sha256(trailers)`.
//!
//! [`ChunkSigner`] is the sans-IO state machine; [`ChunkedReader`] wraps any
//! [`std::io::Read`], and with the `body` feature `body::AwsChunkedBody`
//! wraps any `http_body::Body`. Both hold at most one chunk in memory.
//!
//! ```
//! use sigv4_sign::chunked::{self, ChunkSigner, StreamingMode, DEFAULT_CHUNK_SIZE};
//! use sigv4_sign::{AmzDate, Credentials, Region, Service, SignableRequest, Signer, SigningParams};
//!
//! let body = vec![b'a'; 100_000];
//! let signer = Signer::new();
//! let creds = Credentials::new("AKIDEXAMPLE", "secret", None);
//! let (region, s3) = (Region::new("us-east-1")?, Service::new("s3")?);
//! let params = SigningParams::new(&creds, &region, &s3, AmzDate::parse("20240101T000000Z")?);
//!
//! // 1. The headers that announce the chunked body, then sign the request.
//! let mode = StreamingMode::Signed;
//! let extra = chunked::aws_chunked_headers(body.len() as u64, DEFAULT_CHUNK_SIZE, mode, None);
//! let mut headers: Vec<(&str, &str)> = vec![("host", "bucket.s3.amazonaws.com")];
//! headers.extend(extra.iter().map(|(n, v)| (*n, v.as_str())));
//! let req = SignableRequest::new("PUT", "/key", &headers)?;
//! let seed = signer.sign(&req, mode.payload_hash(), &params)?;
//!
//! // 2. Frame the body, chunk by chunk, chaining from the seed signature.
//! let mut chunks = ChunkSigner::for_request(&signer, &params, mode, &seed)?;
//! let mut wire = Vec::new();
//! for chunk in body.chunks(DEFAULT_CHUNK_SIZE) {
//!     chunks.write_chunk(chunk, &mut wire)?;
//! }
//! chunks.finish(&mut wire)?;
//! assert_eq!(wire.len() as u64, chunked::encoded_length(100_000, DEFAULT_CHUNK_SIZE, mode, None));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{self, Read};
use std::sync::Arc;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::key::hex64;
use crate::settings::{
    PayloadHash, EMPTY_SHA256, STREAMING_SIGNED_PAYLOAD, STREAMING_SIGNED_PAYLOAD_TRAILER,
    STREAMING_UNSIGNED_PAYLOAD_TRAILER,
};
use crate::{AmzDate, SigningKey, SigningOutput, SigningParams};

#[cfg(feature = "body")]
pub mod body;

/// The algorithm line of a chunk's string to sign.
pub const PAYLOAD_ALGORITHM: &str = "AWS4-HMAC-SHA256-PAYLOAD";
/// The algorithm line of the trailing headers' string to sign.
pub const TRAILER_ALGORITHM: &str = "AWS4-HMAC-SHA256-TRAILER";
/// The trailing header that carries the trailer signature.
pub const TRAILER_SIGNATURE_HEADER: &str = "x-amz-trailer-signature";
/// The chunk size the AWS SDKs use: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;
/// S3's smallest chunk size for every chunk but the last: 8 KiB.
pub const MIN_CHUNK_SIZE: usize = 8 * 1024;

const CHUNK_SIGNATURE_EXT: &[u8] = b";chunk-signature=";
const CRLF: &[u8] = b"\r\n";

/// Why a chunked body could not be framed or signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkedError {
    /// The seed signature is not the 64 lowercase hex digits of a SigV4 signature.
    #[error("invalid seed signature: expected the 64 lowercase hex digits of the signed request's signature")]
    InvalidSeedSignature,
    /// A chunk size of zero was asked for.
    #[error("invalid chunk size 0: a chunk size is at least 1 byte (S3 wants at least 8 KiB for every chunk but the last)")]
    InvalidChunkSize,
    /// A chunk or the end was written after the body was finished.
    #[error(
        "the chunked body is already finished: nothing can follow the final zero-length chunk"
    )]
    AlreadyFinished,
    /// An empty data chunk was written: a zero-length chunk ends the body.
    #[error("empty data chunk: a zero-length chunk ends the body, call `finish` instead")]
    EmptyChunk,
    /// Trailing headers were given in a mode that carries none.
    #[error("streaming mode {0} carries no trailing headers: use STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or STREAMING-UNSIGNED-PAYLOAD-TRAILER")]
    TrailerNotAllowed(&'static str),
    /// A trailing header name is not an HTTP token.
    #[error("invalid trailing header name {0:?}: a header name is one or more token characters")]
    InvalidTrailerName(String),
    /// A trailing header value holds CR, LF or another control character.
    #[error("trailing header `{0}` has a value with CR, LF or another control character")]
    InvalidTrailerValue(String),
    /// The request was not signed in a streaming mode.
    #[error("the seed request was signed with payload hash {0:?}, not a streaming marker")]
    NotStreaming(String),
}

/// How an aws-chunked body is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamingMode {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: every chunk signed, no trailer.
    Signed,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: every chunk and the trailer signed.
    SignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: plain chunks, unsigned trailer.
    UnsignedTrailer,
}

impl StreamingMode {
    /// The `x-amz-content-sha256` marker.
    pub fn marker(self) -> &'static str {
        match self {
            Self::Signed => STREAMING_SIGNED_PAYLOAD,
            Self::SignedTrailer => STREAMING_SIGNED_PAYLOAD_TRAILER,
            Self::UnsignedTrailer => STREAMING_UNSIGNED_PAYLOAD_TRAILER,
        }
    }

    /// The mode of an `x-amz-content-sha256` marker.
    pub fn from_marker(marker: &str) -> Option<Self> {
        match marker {
            STREAMING_SIGNED_PAYLOAD => Some(Self::Signed),
            STREAMING_SIGNED_PAYLOAD_TRAILER => Some(Self::SignedTrailer),
            STREAMING_UNSIGNED_PAYLOAD_TRAILER => Some(Self::UnsignedTrailer),
            _ => None,
        }
    }

    /// The [`PayloadHash`] to sign the request (the seed) with.
    pub fn payload_hash(self) -> PayloadHash<'static> {
        match self {
            Self::Signed => PayloadHash::StreamingSigned,
            Self::SignedTrailer => PayloadHash::StreamingSignedTrailer,
            Self::UnsignedTrailer => PayloadHash::StreamingUnsignedTrailer,
        }
    }

    /// Whether each chunk carries a signature.
    pub fn is_signed(self) -> bool {
        !matches!(self, Self::UnsignedTrailer)
    }

    /// Whether trailing headers may follow the final chunk.
    pub fn has_trailer(self) -> bool {
        !matches!(self, Self::Signed)
    }
}

/// A checksum S3 accepts as a trailing header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC), `x-amz-checksum-crc32`.
    Crc32,
    /// CRC-32C (Castagnoli), `x-amz-checksum-crc32c`.
    Crc32c,
    /// SHA-256, `x-amz-checksum-sha256`.
    Sha256,
}

impl ChecksumAlgorithm {
    /// The trailing header name, such as `x-amz-checksum-crc32c`.
    pub fn header_name(self) -> &'static str {
        match self {
            Self::Crc32 => "x-amz-checksum-crc32",
            Self::Crc32c => "x-amz-checksum-crc32c",
            Self::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The algorithm of a header name (`x-amz-checksum-crc32`, any case).
    pub fn from_header_name(name: &str) -> Option<Self> {
        [Self::Crc32, Self::Crc32c, Self::Sha256]
            .into_iter()
            .find(|a| a.header_name().eq_ignore_ascii_case(name))
    }

    /// The length of the base64 value: 8 for the CRCs, 44 for SHA-256.
    pub fn encoded_len(self) -> usize {
        match self {
            Self::Crc32 | Self::Crc32c => 8,
            Self::Sha256 => 44,
        }
    }

    /// A fresh running checksum.
    pub fn hasher(self) -> Checksum {
        Checksum::new(self)
    }
}

#[derive(Clone)]
enum ChecksumState {
    Crc32(crc32fast::Hasher),
    Crc32c(u32),
    Sha256(Sha256),
}

/// A running checksum over a body, finished as the base64 header value S3 expects.
#[derive(Clone)]
pub struct Checksum {
    state: ChecksumState,
}

impl std::fmt::Debug for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checksum")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl Checksum {
    /// A checksum of nothing yet.
    pub fn new(algorithm: ChecksumAlgorithm) -> Self {
        let state = match algorithm {
            ChecksumAlgorithm::Crc32 => ChecksumState::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Crc32c => ChecksumState::Crc32c(0),
            ChecksumAlgorithm::Sha256 => ChecksumState::Sha256(Sha256::new()),
        };
        Self { state }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> ChecksumAlgorithm {
        match self.state {
            ChecksumState::Crc32(_) => ChecksumAlgorithm::Crc32,
            ChecksumState::Crc32c(_) => ChecksumAlgorithm::Crc32c,
            ChecksumState::Sha256(_) => ChecksumAlgorithm::Sha256,
        }
    }

    /// Feeds more of the body.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            ChecksumState::Crc32(h) => h.update(data),
            ChecksumState::Crc32c(c) => *c = crc32c::crc32c_append(*c, data),
            ChecksumState::Sha256(h) => h.update(data),
        }
    }

    /// The base64 of the big-endian checksum, as sent in the header.
    pub fn finalize(self) -> String {
        let b64 = base64::engine::general_purpose::STANDARD;
        match self.state {
            ChecksumState::Crc32(h) => b64.encode(h.finalize().to_be_bytes()),
            ChecksumState::Crc32c(c) => b64.encode(c.to_be_bytes()),
            ChecksumState::Sha256(h) => b64.encode(h.finalize()),
        }
    }
}

fn write_chunk_sts(
    out: &mut Vec<u8>,
    algorithm: &str,
    time: &AmzDate,
    scope: &str,
    previous_signature: &str,
) {
    out.extend_from_slice(algorithm.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(time.as_str().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(scope.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(previous_signature.as_bytes());
    out.push(b'\n');
}

/// The string to sign of one chunk:
/// `AWS4-HMAC-SHA256-PAYLOAD\n{date}\n{scope}\n{previous}\n{sha256("")}\n{chunk_sha256_hex}`.
pub fn chunk_string_to_sign(
    time: &AmzDate,
    scope: &str,
    previous_signature: &str,
    chunk_sha256_hex: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(PAYLOAD_ALGORITHM.len() + scope.len() + 220);
    write_chunk_sts(&mut out, PAYLOAD_ALGORITHM, time, scope, previous_signature);
    out.extend_from_slice(EMPTY_SHA256.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(chunk_sha256_hex.as_bytes());
    out
}

/// The string to sign of the trailing headers:
/// `AWS4-HMAC-SHA256-TRAILER\n{date}\n{scope}\n{previous}\n{trailer_sha256_hex}`,
/// where the hash is over the trailing header lines `name:value\n`
/// (see [`canonical_trailers`]).
pub fn trailer_string_to_sign(
    time: &AmzDate,
    scope: &str,
    previous_signature: &str,
    trailer_sha256_hex: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(TRAILER_ALGORITHM.len() + scope.len() + 160);
    write_chunk_sts(&mut out, TRAILER_ALGORITHM, time, scope, previous_signature);
    out.extend_from_slice(trailer_sha256_hex.as_bytes());
    out
}

/// The signature (64 lowercase hex digits) of one chunk, chained from
/// `previous_signature` (the seed signature for the first chunk). The final
/// chunk is the empty slice.
pub fn chunk_signature(
    key: &SigningKey,
    time: &AmzDate,
    scope: &str,
    previous_signature: &str,
    chunk: &[u8],
) -> String {
    let hash = hex64(&Sha256::digest(chunk).into());
    let sts = chunk_string_to_sign(time, scope, previous_signature, ascii(&hash));
    hex_string(&key.sign_hex(&sts))
}

/// The signature of trailing headers, chained from the final chunk's signature.
pub fn trailer_signature(
    key: &SigningKey,
    time: &AmzDate,
    scope: &str,
    previous_signature: &str,
    trailers: &[(&str, &str)],
) -> Result<String, ChunkedError> {
    let mut canonical = Vec::with_capacity(64);
    canonical_trailers(trailers, &mut canonical)?;
    let hash = hex64(&Sha256::digest(&canonical).into());
    let sts = trailer_string_to_sign(time, scope, previous_signature, ascii(&hash));
    Ok(hex_string(&key.sign_hex(&sts)))
}

/// Writes the trailing headers as they are hashed for the trailer
/// signature: names lower-cased and sorted, values trimmed, one
/// `name:value\n` line each.
pub fn canonical_trailers(
    trailers: &[(&str, &str)],
    out: &mut Vec<u8>,
) -> Result<(), ChunkedError> {
    for (name, value) in sorted_trailers(trailers)? {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    Ok(())
}

fn sorted_trailers<'a>(
    trailers: &[(&'a str, &'a str)],
) -> Result<Vec<(String, &'a str)>, ChunkedError> {
    let mut v = Vec::with_capacity(trailers.len());
    for (name, value) in trailers {
        if name.is_empty() || !name.bytes().all(crate::request::is_tchar) {
            return Err(ChunkedError::InvalidTrailerName((*name).to_owned()));
        }
        if value.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f) {
            return Err(ChunkedError::InvalidTrailerValue((*name).to_owned()));
        }
        v.push((name.to_ascii_lowercase(), value.trim_matches([' ', '\t'])));
    }
    v.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(v)
}

fn ascii(hex: &[u8; 64]) -> &str {
    // Only hex digits are ever written.
    std::str::from_utf8(hex).unwrap_or_default()
}

fn hex_string(hex: &[u8; 64]) -> String {
    ascii(hex).to_owned()
}

fn is_lower_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn write_hex_size(out: &mut Vec<u8>, n: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 16];
    let mut i = buf.len();
    let mut v = n;
    loop {
        i -= 1;
        // v & 0xf < 16: the index is in bounds.
        buf[i] = DIGITS[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn hex_size_len(n: u64) -> u64 {
    let bits = 64 - u64::from(n.leading_zeros());
    bits.div_ceil(4).max(1)
}

/// The length on the wire of a chunked body whose decoded length is
/// `decoded_len`, cut into `chunk_size` chunks (the last one shorter), with
/// the trailing checksum `checksum` (only in a trailer mode; ignored otherwise).
///
/// This is the `Content-Length` to send; `x-amz-decoded-content-length` is
/// `decoded_len`. A `chunk_size` of 0 is treated as 1.
pub fn encoded_length(
    decoded_len: u64,
    chunk_size: usize,
    mode: StreamingMode,
    checksum: Option<ChecksumAlgorithm>,
) -> u64 {
    let chunk_size = (chunk_size as u64).max(1);
    let sig_len: u64 = if mode.is_signed() {
        (CHUNK_SIGNATURE_EXT.len() + 64) as u64
    } else {
        0
    };
    let chunk_len = |size: u64| hex_size_len(size) + sig_len + 2 + size + 2;
    let full = decoded_len / chunk_size;
    let rest = decoded_len % chunk_size;
    let mut total = full * chunk_len(chunk_size);
    if rest > 0 {
        total += chunk_len(rest);
    }
    // The final chunk: `0[;chunk-signature=...]\r\n`.
    total += 1 + sig_len + 2;
    if mode.has_trailer() {
        if let Some(c) = checksum {
            total += (c.header_name().len() + 1 + c.encoded_len() + 2) as u64;
        }
        if mode.is_signed() {
            total += (TRAILER_SIGNATURE_HEADER.len() + 1 + 64 + 2) as u64;
        }
    }
    // The blank line that ends the body.
    total + 2
}

/// The headers that announce a chunked body of `decoded_len` bytes: add them
/// to the request before signing it (they are signed).
///
/// Gives `Content-Encoding: aws-chunked`, `Content-Length` (see
/// [`encoded_length`]), `x-amz-decoded-content-length` and, with a checksum
/// in a trailer mode, `x-amz-trailer`. `x-amz-content-sha256` is not among
/// them: the [`Signer`](crate::Signer) adds it (S3 settings) with the
/// mode's marker when the request is signed with
/// [`StreamingMode::payload_hash`]; sending it twice makes servers reject
/// the request.
pub fn aws_chunked_headers(
    decoded_len: u64,
    chunk_size: usize,
    mode: StreamingMode,
    checksum: Option<ChecksumAlgorithm>,
) -> Vec<(&'static str, String)> {
    let mut h = Vec::with_capacity(4);
    h.push(("content-encoding", "aws-chunked".to_owned()));
    h.push((
        "content-length",
        encoded_length(decoded_len, chunk_size, mode, checksum).to_string(),
    ));
    h.push(("x-amz-decoded-content-length", decoded_len.to_string()));
    if let (true, Some(c)) = (mode.has_trailer(), checksum) {
        h.push(("x-amz-trailer", c.header_name().to_owned()));
    }
    h
}

struct Chain {
    key: Arc<SigningKey>,
    time: AmzDate,
    scope: String,
    previous: [u8; 64],
    sts: Vec<u8>,
}

impl Chain {
    fn next(&mut self, algorithm: &str, hash: &[u8; 64], empty_line: bool) -> [u8; 64] {
        self.sts.clear();
        write_chunk_sts(
            &mut self.sts,
            algorithm,
            &self.time,
            &self.scope,
            ascii(&self.previous),
        );
        if empty_line {
            self.sts.extend_from_slice(EMPTY_SHA256.as_bytes());
            self.sts.push(b'\n');
        }
        self.sts.extend_from_slice(hash);
        self.previous = self.key.sign_hex(&self.sts);
        self.previous
    }
}

/// The sans-IO aws-chunked encoder: signs each chunk in turn, chaining from
/// the seed signature, and writes the framing.
///
/// Feed it the body in chunks ([`write_chunk`](Self::write_chunk), or
/// [`write_chunk_header`](Self::write_chunk_header) to send the data
/// without copying it), then call [`finish`](Self::finish). Every chunk but
/// the last should be the same size, at least [`MIN_CHUNK_SIZE`].
pub struct ChunkSigner {
    mode: StreamingMode,
    chain: Option<Chain>,
    checksum: Option<Checksum>,
    finished: bool,
}

impl std::fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("mode", &self.mode)
            .field("previous_signature", &self.previous_signature())
            .field("checksum", &self.checksum)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl ChunkSigner {
    /// A signer for a body in `mode`, chaining from `seed_signature` (the
    /// signature of the request, signed with [`StreamingMode::payload_hash`])
    /// with the request's signing key, time and credential scope
    /// (`date/region/service/aws4_request`).
    ///
    /// In [`StreamingMode::UnsignedTrailer`] the key and seed are not used.
    pub fn new(
        mode: StreamingMode,
        key: Arc<SigningKey>,
        time: AmzDate,
        scope: impl Into<String>,
        seed_signature: &str,
    ) -> Result<Self, ChunkedError> {
        if !mode.is_signed() {
            return Ok(Self::unsigned());
        }
        if !is_lower_hex64(seed_signature) {
            return Err(ChunkedError::InvalidSeedSignature);
        }
        let mut previous = [0u8; 64];
        previous.copy_from_slice(seed_signature.as_bytes());
        Ok(Self {
            mode,
            chain: Some(Chain {
                key,
                time,
                scope: scope.into(),
                previous,
                sts: Vec::with_capacity(256),
            }),
            checksum: None,
            finished: false,
        })
    }

    /// A signer for a request just signed by `signer` with `params` (its
    /// key comes from the signer's cache).
    pub fn for_request(
        signer: &crate::Signer,
        params: &SigningParams<'_>,
        mode: StreamingMode,
        seed: &SigningOutput,
    ) -> Result<Self, ChunkedError> {
        let time = *params.time();
        let (region, service) = (params.region, params.service);
        let key = signer.signing_key(params.credentials, time.date(), region, service);
        let scope = format!("{}/{region}/{service}/aws4_request", time.date());
        Self::new(mode, key, time, scope, seed.signature())
    }

    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER` framing: `hex-size\r\nDATA\r\n`.
    pub fn unsigned() -> Self {
        Self {
            mode: StreamingMode::UnsignedTrailer,
            chain: None,
            checksum: None,
            finished: false,
        }
    }

    /// Computes `algorithm` over the body and sends it as a trailing header
    /// (the mode must carry a trailer).
    pub fn with_checksum(mut self, algorithm: ChecksumAlgorithm) -> Result<Self, ChunkedError> {
        if !self.mode.has_trailer() {
            return Err(ChunkedError::TrailerNotAllowed(self.mode.marker()));
        }
        self.checksum = Some(Checksum::new(algorithm));
        Ok(self)
    }

    /// The streaming mode.
    pub fn mode(&self) -> StreamingMode {
        self.mode
    }

    /// The last signature of the chain (the seed before any chunk); `None` unsigned.
    pub fn previous_signature(&self) -> Option<&str> {
        self.chain.as_ref().map(|c| ascii(&c.previous))
    }

    /// Whether [`finish`](Self::finish) was called.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Signs `data` as the next chunk and writes only its header line
    /// (`hex-size;chunk-signature=SIG\r\n`) to `out`; send `data` and then
    /// `\r\n` after it.
    pub fn write_chunk_header(
        &mut self,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), ChunkedError> {
        if self.finished {
            return Err(ChunkedError::AlreadyFinished);
        }
        if data.is_empty() {
            return Err(ChunkedError::EmptyChunk);
        }
        if let Some(c) = &mut self.checksum {
            c.update(data);
        }
        write_hex_size(out, data.len() as u64);
        if let Some(chain) = &mut self.chain {
            let hash = hex64(&Sha256::digest(data).into());
            let sig = chain.next(PAYLOAD_ALGORITHM, &hash, true);
            out.extend_from_slice(CHUNK_SIGNATURE_EXT);
            out.extend_from_slice(&sig);
        }
        out.extend_from_slice(CRLF);
        Ok(())
    }

    /// Signs `data` as the next chunk and writes the whole chunk to `out`.
    pub fn write_chunk(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<(), ChunkedError> {
        self.write_chunk_header(data, out)?;
        out.extend_from_slice(data);
        out.extend_from_slice(CRLF);
        Ok(())
    }

    /// Writes the final zero-length chunk, the trailing checksum (when one
    /// was asked for), the trailer signature (signed trailer mode) and the
    /// closing blank line.
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), ChunkedError> {
        self.finish_with_trailers(&[], out)
    }

    /// As [`finish`](Self::finish), with further trailing headers besides
    /// the checksum (announce their names in `x-amz-trailer`).
    pub fn finish_with_trailers(
        &mut self,
        trailers: &[(&str, &str)],
        out: &mut Vec<u8>,
    ) -> Result<(), ChunkedError> {
        if self.finished {
            return Err(ChunkedError::AlreadyFinished);
        }
        if !trailers.is_empty() && !self.mode.has_trailer() {
            return Err(ChunkedError::TrailerNotAllowed(self.mode.marker()));
        }
        let checksum_value = self.checksum.take().map(|c| {
            let name = c.algorithm().header_name();
            (name, c.finalize())
        });
        let mut all: Vec<(&str, &str)> = Vec::with_capacity(trailers.len() + 1);
        if let Some((name, value)) = &checksum_value {
            all.push((name, value.as_str()));
        }
        all.extend_from_slice(trailers);
        let sorted = sorted_trailers(&all)?;

        out.push(b'0');
        if let Some(chain) = &mut self.chain {
            let sig = chain.next(PAYLOAD_ALGORITHM, &sha256_empty_hex(), true);
            out.extend_from_slice(CHUNK_SIGNATURE_EXT);
            out.extend_from_slice(&sig);
        }
        out.extend_from_slice(CRLF);
        if self.mode.has_trailer() {
            let mut canonical = Vec::with_capacity(64);
            for (name, value) in &sorted {
                out.extend_from_slice(name.as_bytes());
                out.push(b':');
                out.extend_from_slice(value.as_bytes());
                out.extend_from_slice(CRLF);
                canonical.extend_from_slice(name.as_bytes());
                canonical.push(b':');
                canonical.extend_from_slice(value.as_bytes());
                canonical.push(b'\n');
            }
            if let Some(chain) = &mut self.chain {
                let hash = hex64(&Sha256::digest(&canonical).into());
                let sig = chain.next(TRAILER_ALGORITHM, &hash, false);
                out.extend_from_slice(TRAILER_SIGNATURE_HEADER.as_bytes());
                out.push(b':');
                out.extend_from_slice(&sig);
                out.extend_from_slice(CRLF);
            }
        }
        out.extend_from_slice(CRLF);
        self.finished = true;
        Ok(())
    }
}

fn sha256_empty_hex() -> [u8; 64] {
    let mut h = [0u8; 64];
    h.copy_from_slice(EMPTY_SHA256.as_bytes());
    h
}

/// A [`Read`] adaptor: reads a body from `inner` and yields it aws-chunked
/// and signed, holding at most one chunk (plus its framing) in memory.
pub struct ChunkedReader<R> {
    inner: R,
    signer: ChunkSigner,
    chunk: Vec<u8>,
    chunk_size: usize,
    out: Vec<u8>,
    pos: usize,
    inner_done: bool,
}

impl<R> std::fmt::Debug for ChunkedReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkedReader")
            .field("signer", &self.signer)
            .field("chunk_size", &self.chunk_size)
            .finish_non_exhaustive()
    }
}

impl<R: Read> ChunkedReader<R> {
    /// Frames `inner` in `chunk_size` chunks with `signer`.
    pub fn new(inner: R, signer: ChunkSigner, chunk_size: usize) -> Result<Self, ChunkedError> {
        if chunk_size == 0 {
            return Err(ChunkedError::InvalidChunkSize);
        }
        Ok(Self {
            inner,
            signer,
            chunk: Vec::with_capacity(chunk_size),
            chunk_size,
            out: Vec::with_capacity(chunk_size + 128),
            pos: 0,
            inner_done: false,
        })
    }

    /// Refills `out` with the next framed chunk; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        if self.signer.is_finished() {
            return Ok(false);
        }
        self.chunk.clear();
        while !self.inner_done && self.chunk.len() < self.chunk_size {
            let start = self.chunk.len();
            self.chunk.resize(self.chunk_size, 0);
            let n = match self.inner.read(&mut self.chunk[start..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
                Err(e) => {
                    self.chunk.truncate(start);
                    return Err(e);
                }
            };
            self.chunk.truncate(start + n);
            if n == 0 && self.chunk.len() == start {
                // Interrupted reads retry; a zero read is the end.
                self.inner_done = true;
            }
        }
        self.out.clear();
        self.pos = 0;
        let res = if self.chunk.is_empty() {
            self.signer.finish(&mut self.out)
        } else {
            self.signer.write_chunk(&self.chunk, &mut self.out)
        };
        res.map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(true)
    }
}

impl<R: Read> Read for ChunkedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.out.len() && !self.refill()? {
            return Ok(0);
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hex_sizes() {
        for n in [0u64, 1, 15, 16, 255, 256, 65536, u64::MAX] {
            let mut v = Vec::new();
            write_hex_size(&mut v, n);
            assert_eq!(v, format!("{n:x}").as_bytes());
            assert_eq!(hex_size_len(n), v.len() as u64);
        }
    }

    #[test]
    fn checksums_of_known_inputs() {
        // CRC-32 and CRC-32C check values of "123456789" (the CRC catalogue):
        // 0xCBF43926 and 0xE3069283.
        let mut c = Checksum::new(ChecksumAlgorithm::Crc32);
        c.update(b"12345");
        c.update(b"6789");
        assert_eq!(c.finalize(), "y/Q5Jg==");
        let mut c = Checksum::new(ChecksumAlgorithm::Crc32c);
        c.update(b"123456789");
        assert_eq!(c.finalize(), "4waSgw==");
        let c = Checksum::new(ChecksumAlgorithm::Sha256);
        // base64 of SHA-256("").
        assert_eq!(c.finalize(), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }

    #[test]
    fn unsigned_framing() {
        let mut s = ChunkSigner::unsigned()
            .with_checksum(ChecksumAlgorithm::Crc32)
            .unwrap();
        let mut out = Vec::new();
        s.write_chunk(b"123456789", &mut out).unwrap();
        s.finish(&mut out).unwrap();
        assert_eq!(
            out,
            b"9\r\n123456789\r\n0\r\nx-amz-checksum-crc32:y/Q5Jg==\r\n\r\n"
        );
        assert_eq!(
            encoded_length(
                9,
                64,
                StreamingMode::UnsignedTrailer,
                Some(ChecksumAlgorithm::Crc32)
            ),
            out.len() as u64
        );
        assert_eq!(s.finish(&mut out), Err(ChunkedError::AlreadyFinished));
    }

    #[test]
    fn rejects_bad_input() {
        let key = Arc::new(SigningKey::from_bytes([0; 32]));
        let t = AmzDate::from_unix(0).unwrap();
        assert_eq!(
            ChunkSigner::new(StreamingMode::Signed, key.clone(), t, "s", "ABC").unwrap_err(),
            ChunkedError::InvalidSeedSignature
        );
        let mut s = ChunkSigner::new(StreamingMode::Signed, key, t, "s", EMPTY_SHA256).unwrap();
        let mut out = Vec::new();
        assert_eq!(s.write_chunk(b"", &mut out), Err(ChunkedError::EmptyChunk));
        assert!(matches!(
            s.finish_with_trailers(&[("x-a", "b")], &mut out),
            Err(ChunkedError::TrailerNotAllowed(_))
        ));
        let mut u = ChunkSigner::unsigned();
        assert!(matches!(
            u.finish_with_trailers(&[("bad name", "b")], &mut out),
            Err(ChunkedError::InvalidTrailerName(_))
        ));
        assert!(matches!(
            u.finish_with_trailers(&[("x-a", "b\r\nc")], &mut out),
            Err(ChunkedError::InvalidTrailerValue(_))
        ));
    }
}
