//! aws-chunked streaming signing against the examples of the S3 documentation:
//! "Signature calculations for the Authorization header: transferring payload
//! in multiple chunks" (sigv4-streaming) and "... including trailing headers"
//! (sigv4-streaming-trailers). Every expected value below is copied from those
//! pages; the whole framed body is rebuilt from them and compared byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::io::Read;
use std::sync::Arc;

use sigv4_sign::chunked::{
    self, chunk_signature, chunk_string_to_sign, trailer_signature, trailer_string_to_sign,
    ChecksumAlgorithm, ChunkSigner, ChunkedReader, StreamingMode,
};
use sigv4_sign::{
    AmzDate, Credentials, Region, Service, SignableRequest, Signer, SigningKey, SigningParams,
    EMPTY_SHA256,
};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TIME: &str = "20130524T000000Z";
const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";

// sigv4-streaming: seed and the three chunk signatures.
const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const CHUNK1: &str = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
const CHUNK2: &str = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
const FINAL: &str = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

// sigv4-streaming-trailers: seed, chunks, trailer (CRC32C `sOO8/Q==`).
const T_SEED: &str = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e";
const T_CHUNK1: &str = "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2";
const T_CHUNK2: &str = "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7";
const T_FINAL: &str = "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992";
const T_TRAILER: &str = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435";
const T_CRC32C: &str = "sOO8/Q==";

fn time() -> AmzDate {
    AmzDate::parse(TIME).unwrap()
}

fn key() -> SigningKey {
    SigningKey::derive(SECRET, "20130524", "us-east-1", "s3")
}

/// The documented body: 65 KiB of 'a' in a 64 KiB and a 1 KiB chunk.
fn object() -> Vec<u8> {
    vec![b'a'; 65 * 1024]
}

/// The framed body, written out from the documentation's values.
fn documented_body(sigs: [&str; 3], tail: &str) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(format!("10000;chunk-signature={}\r\n", sigs[0]).as_bytes());
    b.extend_from_slice(&[b'a'; 65536]);
    b.extend_from_slice(format!("\r\n400;chunk-signature={}\r\n", sigs[1]).as_bytes());
    b.extend_from_slice(&[b'a'; 1024]);
    b.extend_from_slice(format!("\r\n0;chunk-signature={}\r\n", sigs[2]).as_bytes());
    b.extend_from_slice(tail.as_bytes());
    b.extend_from_slice(b"\r\n");
    b
}

struct Fixture {
    signer: Signer,
    creds: Credentials,
    region: Region,
    service: Service,
}

impl Fixture {
    fn new() -> Self {
        Self {
            signer: Signer::new(),
            creds: Credentials::new(AKID, SECRET, None),
            region: Region::new("us-east-1").unwrap(),
            service: Service::new("s3").unwrap(),
        }
    }

    fn params(&self) -> SigningParams<'_> {
        SigningParams::new(&self.creds, &self.region, &self.service, time())
    }
}

#[test]
fn documented_chunked_upload_frames_byte_for_byte() {
    let f = Fixture::new();
    let params = f.params();
    let mode = StreamingMode::Signed;
    // The documented request; the length headers come from our helper and
    // must equal the documented ones (Content-Length 66824, decoded 66560).
    let announced = chunked::aws_chunked_headers(66560, 65536, mode, None);
    let get = |n: &str| {
        announced
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.as_str())
            .unwrap()
    };
    assert_eq!(get("content-length"), "66824");
    assert_eq!(get("x-amz-decoded-content-length"), "66560");
    assert_eq!(get("content-encoding"), "aws-chunked");
    // The signer adds x-amz-content-sha256 itself (sending it twice breaks servers).
    assert!(announced.iter().all(|(k, _)| *k != "x-amz-content-sha256"));
    let headers = [
        ("Host", "s3.amazonaws.com"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("Content-Encoding", get("content-encoding")),
        (
            "x-amz-decoded-content-length",
            get("x-amz-decoded-content-length"),
        ),
        ("Content-Length", get("content-length")),
    ];
    let req = SignableRequest::new("PUT", "/examplebucket/chunkObject.txt", &headers).unwrap();
    let seed = f.signer.sign(&req, mode.payload_hash(), &params).unwrap();
    assert_eq!(seed.signature(), SEED);

    let mut cs = ChunkSigner::for_request(&f.signer, &params, mode, &seed).unwrap();
    let body = object();
    let mut wire = Vec::new();
    for chunk in body.chunks(65536) {
        cs.write_chunk(chunk, &mut wire).unwrap();
    }
    cs.finish(&mut wire).unwrap();
    assert_eq!(cs.previous_signature(), Some(FINAL));

    let want = documented_body([CHUNK1, CHUNK2, FINAL], "");
    assert_eq!(
        wire.len(),
        66824,
        "Content-Length of the documented request"
    );
    assert!(wire == want, "framed body differs from the documented one");

    // The reader adaptor yields the same bytes, however it is read.
    let cs = ChunkSigner::new(mode, Arc::new(key()), time(), SCOPE, SEED).unwrap();
    let mut r = ChunkedReader::new(&body[..], cs, 65536).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 777];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got == want, "ChunkedReader output differs");
}

#[test]
fn documented_chunk_signatures_from_the_public_functions() {
    let k = key();
    let t = time();
    let c1 = chunk_signature(&k, &t, SCOPE, SEED, &[b'a'; 65536]);
    assert_eq!(c1, CHUNK1);
    let c2 = chunk_signature(&k, &t, SCOPE, &c1, &[b'a'; 1024]);
    assert_eq!(c2, CHUNK2);
    assert_eq!(chunk_signature(&k, &t, SCOPE, &c2, b""), FINAL);

    // The string to sign, as the documentation lays it out.
    let sts = chunk_string_to_sign(&t, SCOPE, SEED, EMPTY_SHA256);
    let want = format!(
        "AWS4-HMAC-SHA256-PAYLOAD\n{TIME}\n{SCOPE}\n{SEED}\n{EMPTY_SHA256}\n{EMPTY_SHA256}"
    );
    assert_eq!(String::from_utf8(sts).unwrap(), want);
}

#[test]
fn documented_trailer_upload_frames_byte_for_byte() {
    let f = Fixture::new();
    let params = f.params();
    let mode = StreamingMode::SignedTrailer;
    // The documented request signs these headers (no Content-Length).
    let headers = [
        ("Host", "s3.amazonaws.com"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("x-amz-trailer", "x-amz-checksum-crc32c"),
    ];
    let req = SignableRequest::new("PUT", "/examplebucket/chunkObject.txt", &headers).unwrap();
    let seed = f.signer.sign(&req, mode.payload_hash(), &params).unwrap();
    assert_eq!(seed.signature(), T_SEED);

    let mut cs = ChunkSigner::for_request(&f.signer, &params, mode, &seed)
        .unwrap()
        .with_checksum(ChecksumAlgorithm::Crc32c)
        .unwrap();
    let mut wire = Vec::new();
    for chunk in object().chunks(65536) {
        cs.write_chunk(chunk, &mut wire).unwrap();
    }
    cs.finish(&mut wire).unwrap();
    let tail =
        format!("x-amz-checksum-crc32c:{T_CRC32C}\r\nx-amz-trailer-signature:{T_TRAILER}\r\n");
    let want = documented_body([T_CHUNK1, T_CHUNK2, T_FINAL], &tail);
    assert!(
        wire == want,
        "framed body differs:\n{}",
        String::from_utf8_lossy(&wire[wire.len() - 300..])
    );
    assert_eq!(
        wire.len() as u64,
        chunked::encoded_length(66560, 65536, mode, Some(ChecksumAlgorithm::Crc32c))
    );

    // The public trailer functions give the documented trailer signature.
    let k = key();
    let t = time();
    let sig = trailer_signature(
        &k,
        &t,
        SCOPE,
        T_FINAL,
        &[("x-amz-checksum-crc32c", T_CRC32C)],
    )
    .unwrap();
    assert_eq!(sig, T_TRAILER);
    let hash = hex::encode(sha2_256(
        format!("x-amz-checksum-crc32c:{T_CRC32C}\n").as_bytes(),
    ));
    let sts = trailer_string_to_sign(&t, SCOPE, T_FINAL, &hash);
    assert_eq!(
        hex::encode(k.sign(&sts)),
        T_TRAILER,
        "trailer string to sign hashes `name:value\\n`"
    );
}

fn sha2_256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

#[test]
fn lengths_match_the_bytes_for_every_mode_and_size() {
    let k = Arc::new(key());
    let sizes = [0usize, 1, 8191, 8192, 8193, 65536, 65537, 3 * 8192 + 5];
    for mode in [
        StreamingMode::Signed,
        StreamingMode::SignedTrailer,
        StreamingMode::UnsignedTrailer,
    ] {
        for checksum in [
            None,
            Some(ChecksumAlgorithm::Crc32),
            Some(ChecksumAlgorithm::Crc32c),
            Some(ChecksumAlgorithm::Sha256),
        ] {
            if checksum.is_some() && !mode.has_trailer() {
                continue;
            }
            for &size in &sizes {
                let mut cs = ChunkSigner::new(mode, Arc::clone(&k), time(), SCOPE, SEED).unwrap();
                if let Some(c) = checksum {
                    cs = cs.with_checksum(c).unwrap();
                }
                let body = vec![7u8; size];
                let mut r = ChunkedReader::new(&body[..], cs, 8192).unwrap();
                let mut wire = Vec::new();
                r.read_to_end(&mut wire).unwrap();
                assert_eq!(
                    wire.len() as u64,
                    chunked::encoded_length(size as u64, 8192, mode, checksum),
                    "{mode:?} {checksum:?} {size}"
                );
                // Unsigned framing carries no signatures.
                if !mode.is_signed() {
                    assert!(!wire.windows(16).any(|w| w == b"chunk-signature="));
                }
            }
        }
    }
}

#[cfg(feature = "body")]
mod body {
    use std::collections::VecDeque;
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    use bytes::Bytes;
    use http_body::{Body, Frame, SizeHint};
    use sigv4_sign::chunked::body::AwsChunkedBody;

    use super::*;

    /// A body yielding the given frames, one per poll, with an exact size.
    struct Frames(VecDeque<Bytes>, u64);

    impl Body for Frames {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
        fn size_hint(&self) -> SizeHint {
            SizeHint::with_exact(self.1)
        }
    }

    #[test]
    fn body_adaptor_reproduces_the_documented_body() {
        // Frames of awkward sizes that straddle the chunk boundary.
        let mut frames = VecDeque::new();
        let mut left = 65 * 1024;
        for size in [1usize, 40_000, 30_000, 100, 70_000].into_iter().cycle() {
            if left == 0 {
                break;
            }
            let n = size.min(left);
            frames.push_back(Bytes::from(vec![b'a'; n]));
            left -= n;
        }
        let cs =
            ChunkSigner::new(StreamingMode::Signed, Arc::new(key()), time(), SCOPE, SEED).unwrap();
        let mut body = AwsChunkedBody::new(Frames(frames, 66560), cs, 65536).unwrap();
        assert_eq!(body.size_hint().exact(), Some(66824));
        let mut cx = Context::from_waker(Waker::noop());
        let mut wire = Vec::new();
        let mut largest = 0;
        while let Poll::Ready(Some(frame)) = Pin::new(&mut body).poll_frame(&mut cx) {
            let data = frame.unwrap().into_data().unwrap();
            largest = largest.max(data.len());
            wire.extend_from_slice(&data);
        }
        assert!(body.is_end_stream());
        assert!(largest <= 65536, "a frame larger than one chunk: {largest}");
        assert!(wire == documented_body([CHUNK1, CHUNK2, FINAL], ""));
    }
}
