//! Property tests of every parser on hostile input (proptest, run by the
//! normal `cargo test`): "no panic, and a typed error or a consistent
//! result", with structured generators (mutations of valid inputs) that
//! complement the coverage-guided libFuzzer targets in `fuzz/` (run by
//! `fuzz/run.sh`; their corpus is replayed by `tests/fuzz_corpus.rs`).
//! proptest keeps shrunk failures in `fuzz.proptest-regressions`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use proptest::prelude::*;
use sigv4_sign::{AmzDate, SigningKey};
use sigv4_verify::post::parse_form;
use sigv4_verify::{
    encode_signed_chunks, AuthorizationHeader, ChunkMode, ChunkedDecoder, QueryAuth,
};

const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";

fn key() -> Arc<SigningKey> {
    Arc::new(SigningKey::derive("secret", "20130524", "us-east-1", "s3"))
}

fn time() -> AmzDate {
    AmzDate::parse("20130524T000000Z").unwrap()
}

fn fuzz_auth(input: &[u8]) {
    if let Ok(s) = std::str::from_utf8(input) {
        if let Ok(a) = AuthorizationHeader::parse(s) {
            // Whatever parsed must satisfy the invariants.
            assert_eq!(a.signature.len(), 64);
            assert!(!a.access_key_id.is_empty());
            assert!(a.signed_headers.split(';').all(|h| !h.is_empty()));
        }
    }
}

fn fuzz_query(input: &[u8]) {
    if let Ok(s) = std::str::from_utf8(input) {
        let _ = QueryAuth::parse(s);
    }
}

fn fuzz_chunked(input: &[u8], split: usize, mode: ChunkMode) {
    let mut d = ChunkedDecoder::new(
        mode,
        key(),
        time(),
        SCOPE.into(),
        SEED,
        1 << 16,
        vec!["x-amz-checksum-crc32".into()],
        None,
    );
    let mut out = Vec::new();
    let mut ok = true;
    for piece in input.chunks(split.max(1)) {
        if d.push(piece, &mut out).is_err() {
            ok = false;
            break;
        }
    }
    if ok {
        let _ = d.finish();
    }
    // Released data never exceeds the input.
    assert!(out.len() <= input.len());
}

fn fuzz_post(input: &[u8]) {
    if let Ok(f) = parse_form("multipart/form-data; boundary=xx", input) {
        assert!(f.file.len() <= input.len());
    }
}

fn valid_chunked() -> Vec<u8> {
    encode_signed_chunks(
        &key(),
        &time(),
        SCOPE,
        SEED,
        &[b"hello world", &[7u8; 300]],
        None,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn auth_header_arbitrary(s in ".{0,300}") {
        fuzz_auth(s.as_bytes());
    }

    #[test]
    fn auth_header_mutated(pos in 0usize..200, byte in any::<u8>(), cut in 0usize..200) {
        let mut v = b"AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7".to_vec();
        let p = pos % v.len();
        v[p] = byte;
        v.truncate(v.len() - cut % v.len());
        fuzz_auth(&v);
    }

    #[test]
    fn query_arbitrary(s in "[A-Za-z0-9%&=\\-_.~+/]{0,300}") {
        fuzz_query(s.as_bytes());
    }

    #[test]
    fn query_structured(keys in proptest::collection::vec(prop_oneof![
        Just("X-Amz-Signature"), Just("X-Amz-Credential"), Just("x-amz-date"), Just("X-Amz-Expires"), Just("X%2DAmz-Algorithm"), Just("a")
    ], 0..8), vals in proptest::collection::vec("[%0-9A-Za-z/]{0,20}", 8)) {
        let q: Vec<String> = keys.iter().zip(&vals).map(|(k, v)| format!("{k}={v}")).collect();
        fuzz_query(q.join("&").as_bytes());
    }

    #[test]
    fn chunked_arbitrary(input in proptest::collection::vec(any::<u8>(), 0..2000), split in 1usize..64) {
        fuzz_chunked(&input, split, ChunkMode::Signed);
        fuzz_chunked(&input, split, ChunkMode::UnsignedTrailer);
        fuzz_chunked(&input, split, ChunkMode::SignedTrailer);
    }

    #[test]
    fn chunked_mutated_valid_body(pos in any::<usize>(), delta in 1u8..=255, split in 1usize..500) {
        let good = valid_chunked();
        let mut bad = good.clone();
        let p = pos % bad.len();
        // XOR with a non-zero delta: always a real change, never a rejected case.
        let byte = bad[p] ^ delta;
        bad[p] = byte;
        let mut d = ChunkedDecoder::new(ChunkMode::Signed, key(), time(), SCOPE.into(), SEED, 1 << 16, vec![], None);
        let mut out = Vec::new();
        let r = bad.chunks(split).try_for_each(|c| d.push(c, &mut out)).and_then(|()| d.finish());
        let clean = [&b"hello world"[..], &[7u8; 300]].concat();
        if r.is_ok() {
            // The one change that may pass: the case of a hex digit (`12c` and
            // `12C` name the same chunk size; the size line is not signed in
            // SigV4 streaming). The decoded body must then be exactly the signed data.
            prop_assert!(
                good[p].is_ascii_hexdigit() && good[p] != byte && good[p].eq_ignore_ascii_case(&byte),
                "byte {p} changed from {:?} to {:?} and the body was still accepted",
                char::from(good[p]),
                char::from(byte)
            );
            prop_assert_eq!(&out, &clean);
        }
        // No tampered data is ever released.
        prop_assert!(clean.starts_with(&out));
    }

    #[test]
    fn post_arbitrary(input in proptest::collection::vec(any::<u8>(), 0..1000)) {
        fuzz_post(&input);
    }

    #[test]
    fn post_structured(names in proptest::collection::vec("[a-z\"; =]{0,10}", 0..5), junk in "[\r\n-]{0,6}") {
        let mut b = String::new();
        for n in &names {
            b.push_str(&format!("--xx\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\nv{junk}\r\n"));
        }
        b.push_str("--xx\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\ndata\r\n--xx--");
        fuzz_post(b.as_bytes());
    }
}

/// Found by the proptest fuzz run (query_arbitrary): a percent-decoded key with a
/// multi-byte character straddling byte 6 made the parser slice inside it.
#[test]
fn query_key_with_utf8_at_byte_six_does_not_panic() {
    for q in [
        "0_a-a%CA%AA=x",
        "0_a-a\u{2aa}=x",
        "X-Amz\u{33e}=1&X-Amz-Date=x",
        "%C3%A9%C3%A9%C3%A9%C3%A9=1",
    ] {
        let r = QueryAuth::parse(q);
        assert!(matches!(r, Ok(None)), "{q}: {r:?}");
    }
}
