//! aws-chunked streaming and SigV4a signing.
//!
//! - `chunked/256MiB`: 256 MiB streamed through [`ChunkSigner`] in 64 KiB
//!   chunks (each chunk hashed, its string to sign HMAC'd, its header
//!   written) beside plain SHA-256 over the same bytes, in the same run:
//!   the signer's throughput should be at least 90% of raw SHA-256. The
//!   body is one 64 KiB buffer fed 4096 times, as a stream would be: memory
//!   does not grow with the body (see `examples/chunked_put stream`).
//! - `sigv4a/sign`: SigV4a header signing of one request with a cached key,
//!   ours beside aws-sigv4's `sigv4a` feature (which derives the scalar per
//!   request; its derivation costs one HMAC).
//!
//! `cargo bench --bench chunked`
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    sign as aws_sign, SignableBody, SignableRequest as AwsRequest, SigningSettings,
};
use aws_sigv4::sign::v4a;
use aws_smithy_runtime_api::client::identity::Identity;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sha2::{Digest, Sha256};
use sigv4_sign::chunked::{ChunkSigner, StreamingMode, DEFAULT_CHUNK_SIZE};
use sigv4_sign::sigv4a::{RegionSet, SigV4aSigner};
use sigv4_sign::{
    AmzDate, Credentials, PayloadHash, Region, Service, SignableRequest, SigningKey, SigningParams,
    EMPTY_SHA256,
};

const BODY: u64 = 256 * 1024 * 1024;
const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn chunked(c: &mut Criterion) {
    let chunk = vec![0x5au8; DEFAULT_CHUNK_SIZE];
    let chunks = BODY / DEFAULT_CHUNK_SIZE as u64;
    let key = Arc::new(SigningKey::derive(SECRET, "20130524", "us-east-1", "s3"));
    let time = AmzDate::parse("20130524T000000Z").unwrap();

    let mut g = c.benchmark_group("chunked/256MiB");
    g.throughput(Throughput::Bytes(BODY));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(8));
    g.warm_up_time(Duration::from_secs(1));
    g.bench_function("sha256_raw", |b| {
        b.iter(|| {
            for _ in 0..chunks {
                black_box(Sha256::digest(black_box(&chunk[..])));
            }
        });
    });
    g.bench_function("chunk_signer", |b| {
        let mut out = Vec::with_capacity(256);
        b.iter(|| {
            let mut s = ChunkSigner::new(
                StreamingMode::Signed,
                Arc::clone(&key),
                time,
                "20130524/us-east-1/s3/aws4_request",
                EMPTY_SHA256,
            )
            .unwrap();
            for _ in 0..chunks {
                out.clear();
                // The header; the data goes out as it is, unchanged.
                s.write_chunk_header(black_box(&chunk[..]), &mut out)
                    .unwrap();
                black_box(&out);
            }
            out.clear();
            s.finish(&mut out).unwrap();
            black_box(&out);
        });
    });
    g.finish();
}

const URI: &str = "https://abc.lambda-url.us-east-1.on.aws/path?x=1";
const HEADERS: [(&str, &str); 2] = [
    ("host", "abc.lambda-url.us-east-1.on.aws"),
    ("content-type", "application/json"),
];
const PAYLOAD: &[u8] = b"{\"hello\":\"world\"}";

fn sigv4a(c: &mut Criterion) {
    let creds = Credentials::new(AKID, SECRET, None);
    let region = Region::new("us-east-1").unwrap();
    let service = Service::new("lambda").unwrap();
    let time = AmzDate::from_unix(0).unwrap();
    let params = SigningParams::new(&creds, &region, &service, time);
    let set = RegionSet::parse("*").unwrap();
    let signer = SigV4aSigner::new();
    // Warm the key cache: the benchmark measures signing with a cached key.
    let _ = signer.key(&creds).unwrap();

    let identity: Identity = AwsCredentials::new(AKID, SECRET, None, None, "bench").into();
    let aws_params: aws_sigv4::http_request::SigningParams<'_> = v4a::SigningParams::builder()
        .identity(&identity)
        .region_set("*")
        .name("lambda")
        .time(UNIX_EPOCH)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();

    let mut g = c.benchmark_group("sigv4a/sign");
    g.bench_function("ours_cached_key", |b| {
        b.iter(|| {
            let req = SignableRequest::new("POST", black_box(URI), &HEADERS).unwrap();
            signer
                .sign(&req, PayloadHash::Body(black_box(PAYLOAD)), &params, &set)
                .unwrap()
        });
    });
    g.bench_function("aws_sigv4", |b| {
        b.iter(|| {
            let req = AwsRequest::new(
                "POST",
                black_box(URI),
                HEADERS.iter().copied(),
                SignableBody::Bytes(black_box(PAYLOAD)),
            )
            .unwrap();
            aws_sign(req, &aws_params).unwrap()
        });
    });
    g.bench_function("ours_key_derivation", |b| {
        b.iter(|| sigv4_sign::sigv4a::derive_signing_key(black_box(AKID), black_box(SECRET)));
    });
    g.finish();
}

criterion_group!(benches, chunked, sigv4a);
criterion_main!(benches);
