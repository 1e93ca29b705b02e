//! Verifications per second of a header-signed S3 GET, ours beside s3s
//! 0.14's verifier, on the same request in the same run.
//!
//! s3s keeps its SigV4 code private, so it is measured through its public
//! path: an `S3Service` with `SimpleAuth` and an S3 implementation whose
//! `get_object` returns an empty body, called in-process (no network).
//! Ours is measured in the same shape (our tower layer around a service
//! that answers an empty body) and directly (`Verifier::verify_with`,
//! `Verifier::verify`). Each shape also runs without auth (the service
//! alone, on the request without its `Authorization` header), so the cost
//! of authentication itself is the difference.
//!
//! `cargo bench -p sigv4-verify --features tower --bench verify`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sigv4_sign::{
    AmzDate, Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningParams,
};
use sigv4_verify::{StaticSecretStore, Verifier};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST: &str = "examplebucket.s3.amazonaws.com";
const TARGET: &str = "/photos/2024/test.txt?versionId=3";

/// Polls a future that never waits (everything here is in memory) to its end.
fn now_or_never<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the future waited: nothing here should"),
    }
}

/// The request's headers, signed now (s3s checks against the system clock).
fn signed_headers() -> Vec<(&'static str, String)> {
    let creds = Credentials::new(AKID, SECRET, None);
    let region = Region::new("us-east-1").unwrap();
    let s3 = Service::new("s3").unwrap();
    let now = AmzDate::from_system_time(SystemTime::now()).unwrap();
    let params = SigningParams::new(&creds, &region, &s3, now);
    let headers = [
        ("host", HOST),
        ("range", "bytes=0-9"),
        ("user-agent", "bench"),
    ];
    let req = SignableRequest::new("GET", TARGET, &headers).unwrap();
    let out = Signer::new()
        .sign(&req, PayloadHash::Body(b""), &params)
        .unwrap();
    let mut signed: Vec<(&'static str, String)> =
        headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
    signed.extend(out.params().iter().map(|(n, v)| (*n, v.clone())));
    signed
}

fn bench(c: &mut Criterion) {
    let signed = signed_headers();
    let verifier = Verifier::new(StaticSecretStore::new().with_key(AKID, SECRET));
    let creds = Credentials::new(AKID, SECRET, None);
    let lookup = |_: &str| Some(creds.clone());
    let pairs: Vec<(&str, &str)> = signed.iter().map(|(n, v)| (*n, v.as_str())).collect();
    {
        let req = SignableRequest::new("GET", TARGET, &pairs).unwrap();
        verifier.verify_with(&req, Some(b""), lookup).unwrap();
    }

    let mut g = c.benchmark_group("verify_s3_get");
    g.throughput(Throughput::Elements(1));
    g.bench_function("sigv4/verify_with", |b| {
        b.iter(|| {
            let req = SignableRequest::new("GET", TARGET, &pairs).unwrap();
            let v = verifier
                .verify_with(black_box(&req), Some(b""), lookup)
                .unwrap();
            black_box(v);
        });
    });
    g.bench_function("sigv4/verify_store", |b| {
        b.iter(|| {
            let req = SignableRequest::new("GET", TARGET, &pairs).unwrap();
            let v = now_or_never(verifier.verify(black_box(&req), Some(b""))).unwrap();
            black_box(v);
        });
    });
    #[cfg(feature = "tower")]
    services::bench(&mut g, &signed);
    g.finish();
}

#[cfg(feature = "tower")]
mod services {
    use std::convert::Infallible;
    use std::sync::Arc;

    use bytes::Bytes;
    use criterion::measurement::WallTime;
    use criterion::BenchmarkGroup;
    use http::{Request, Response, StatusCode};
    use http_body_util::Empty;
    use s3s::dto::{GetObjectInput, GetObjectOutput};
    use s3s::service::{S3Service, S3ServiceBuilder};
    use s3s::{S3Request, S3Response, S3Result, S3};
    use sigv4_verify::tower::{VerifiedBody, VerifyLayer};
    use sigv4_verify::{StaticSecretStore, Verifier};
    use tower::{Layer, Service, ServiceExt};

    use super::{black_box, now_or_never, AKID, SECRET, TARGET};

    /// An S3 whose GetObject answers an empty body.
    struct EmptyS3;

    #[async_trait::async_trait]
    impl S3 for EmptyS3 {
        async fn get_object(
            &self,
            _req: S3Request<GetObjectInput>,
        ) -> S3Result<S3Response<GetObjectOutput>> {
            Ok(S3Response::new(GetObjectOutput::default()))
        }
    }

    fn s3s_service(auth: bool) -> S3Service {
        let mut b = S3ServiceBuilder::new(EmptyS3);
        b.set_host(s3s::host::SingleDomain::new("s3.amazonaws.com").unwrap());
        if auth {
            b.set_auth(s3s::auth::SimpleAuth::from_single(AKID, SECRET));
        }
        b.build()
    }

    /// Our counterpart of `EmptyS3`: an empty body for every request.
    async fn empty(_req: Request<VerifiedBody>) -> Result<Response<String>, Infallible> {
        Ok(Response::new(String::new()))
    }

    async fn empty_plain(_req: Request<Empty<Bytes>>) -> Result<Response<String>, Infallible> {
        Ok(Response::new(String::new()))
    }

    /// The request, built anew for each call (both sides consume it).
    fn request<B>(headers: &[(&'static str, String)], body: B) -> Request<B> {
        let mut b = Request::builder().method("GET").uri(TARGET);
        for (n, v) in headers {
            b = b.header(*n, v.as_str());
        }
        b.body(body).unwrap()
    }

    pub(super) fn bench(g: &mut BenchmarkGroup<'_, WallTime>, signed: &[(&'static str, String)]) {
        let unsigned: Vec<(&'static str, String)> = signed
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
            .cloned()
            .collect();
        let verifier = Arc::new(Verifier::new(
            StaticSecretStore::new().with_key(AKID, SECRET),
        ));
        let mut ours = VerifyLayer::new(verifier).layer(tower::service_fn(empty));
        let mut ours_plain = tower::service_fn(empty_plain);
        let theirs = s3s_service(true);
        let theirs_plain = s3s_service(false);

        // Both sides accept the request, and refuse it once tampered with.
        let tampered: Vec<(&'static str, String)> = signed
            .iter()
            .map(|(n, v)| match *n {
                "range" => (*n, "bytes=0-8".to_owned()),
                _ => (*n, v.clone()),
            })
            .collect();
        for (headers, want) in [
            (signed, StatusCode::OK),
            (&tampered[..], StatusCode::FORBIDDEN),
        ] {
            let svc = now_or_never(ServiceExt::<Request<Empty<Bytes>>>::ready(&mut ours)).unwrap();
            let status = now_or_never(svc.call(request(headers, Empty::<Bytes>::new())))
                .unwrap()
                .status();
            assert_eq!(status, want, "ours");
            let status = now_or_never(theirs.call(request(headers, s3s::Body::empty())))
                .unwrap()
                .status();
            assert_eq!(status, want, "s3s");
        }
        for svc_status in [
            now_or_never(
                now_or_never(ServiceExt::<Request<Empty<Bytes>>>::ready(&mut ours_plain))
                    .unwrap()
                    .call(request(&unsigned, Empty::<Bytes>::new())),
            )
            .unwrap()
            .status(),
            now_or_never(theirs_plain.call(request(&unsigned, s3s::Body::empty())))
                .unwrap()
                .status(),
        ] {
            assert_eq!(svc_status, StatusCode::OK, "no-auth baseline");
        }

        g.bench_function("sigv4/tower_layer", |b| {
            b.iter(|| {
                let req = request(signed, Empty::<Bytes>::new());
                let svc =
                    now_or_never(ServiceExt::<Request<Empty<Bytes>>>::ready(&mut ours)).unwrap();
                black_box(now_or_never(svc.call(req)).unwrap());
            });
        });
        g.bench_function("sigv4/no_auth", |b| {
            b.iter(|| {
                let req = request(&unsigned, Empty::<Bytes>::new());
                let svc = now_or_never(ServiceExt::<Request<Empty<Bytes>>>::ready(&mut ours_plain))
                    .unwrap();
                black_box(now_or_never(svc.call(req)).unwrap());
            });
        });
        g.bench_function("s3s/service", |b| {
            b.iter(|| {
                let req = request(signed, s3s::Body::empty());
                black_box(now_or_never(theirs.call(req)).unwrap());
            });
        });
        g.bench_function("s3s/no_auth", |b| {
            b.iter(|| {
                let req = request(&unsigned, s3s::Body::empty());
                black_box(now_or_never(theirs_plain.call(req)).unwrap());
            });
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
