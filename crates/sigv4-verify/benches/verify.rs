//! Verifications per second of a header-signed S3 GET (ns/op), with the
//! signing key cached (the steady state of a server) and the whole
//! pipeline: parse, policy checks, canonical request, HMAC, compare.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sigv4_sign::{
    AmzDate, Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningParams,
};
use sigv4_verify::{FixedClock, StaticSecretStore, Verifier};

const T0: u64 = 1_704_067_200;

fn bench(c: &mut Criterion) {
    let creds = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
    );
    let region = Region::new("us-east-1").unwrap();
    let s3 = Service::new("s3").unwrap();
    let params = SigningParams::new(&creds, &region, &s3, AmzDate::from_unix(T0 as i64).unwrap());
    let headers = [
        ("host", "examplebucket.s3.amazonaws.com"),
        ("range", "bytes=0-9"),
        ("user-agent", "bench"),
    ];
    let req = SignableRequest::new("GET", "/photos/2024/test.txt?versionId=3", &headers).unwrap();
    let out = Signer::new()
        .sign(&req, PayloadHash::Body(b""), &params)
        .unwrap();
    let mut signed: Vec<(&str, &str)> = headers.to_vec();
    signed.extend(out.params().iter().map(|(n, v)| (*n, v.as_str())));
    let verifier = Verifier::new(StaticSecretStore::new())
        .with_clock(FixedClock(UNIX_EPOCH + Duration::from_secs(T0)));
    let lookup = |_: &str| Some(creds.clone());

    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(1));
    g.bench_function("header_signed_s3_get", |b| {
        b.iter(|| {
            let req =
                SignableRequest::new("GET", "/photos/2024/test.txt?versionId=3", &signed).unwrap();
            let v = verifier
                .verify_with(black_box(&req), Some(b""), lookup)
                .unwrap();
            black_box(v);
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
