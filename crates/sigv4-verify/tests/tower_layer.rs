//! The tower layer: identity in extensions, S3 XML errors, streaming aws-chunked.
#![cfg(feature = "tower")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use sigv4_sign::chunked::{aws_chunked_headers, ChunkSigner, StreamingMode};
use sigv4_sign::{
    AmzDate, Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningParams,
};
use sigv4_verify::tower::{VerifiedBody, VerifyLayer};
use sigv4_verify::{FixedClock, Identity, StaticSecretStore, Verifier};
use tower::{Layer, ServiceExt};

const T0: u64 = 1_704_067_200;

fn verifier() -> Arc<Verifier> {
    Arc::new(
        Verifier::new(StaticSecretStore::new().with_key("AKID", "secret"))
            .with_clock(FixedClock(UNIX_EPOCH + Duration::from_secs(T0))),
    )
}

async fn echo(req: Request<VerifiedBody>) -> Result<Response<Full<Bytes>>, Infallible> {
    let id = req.extensions().get::<Identity>().cloned();
    match req.into_body().collect().await {
        Ok(b) => Ok(Response::new(Full::from(format!(
            "{}:{}",
            id.map_or("none".into(), |i| i.access_key_id),
            String::from_utf8_lossy(&b.to_bytes())
        )))),
        Err(e) => {
            let mut r = Response::new(Full::from(format!("body error: {e}")));
            *r.status_mut() = StatusCode::BAD_REQUEST;
            Ok(r)
        }
    }
}

fn signed(secret: &str, method: &str, body: &[u8]) -> Request<Full<Bytes>> {
    let creds = Credentials::new("AKID", secret, None);
    let (r, s) = (
        Region::new("us-east-1").unwrap(),
        Service::new("s3").unwrap(),
    );
    let params = SigningParams::new(&creds, &r, &s, AmzDate::from_unix(T0 as i64).unwrap());
    let headers = [("host", "bucket.example.com")];
    let req = SignableRequest::new(method, "/key", &headers).unwrap();
    let out = Signer::new()
        .sign(&req, PayloadHash::Body(body), &params)
        .unwrap();
    let mut b = Request::builder()
        .method(method)
        .uri("/key")
        .header("host", "bucket.example.com");
    for (n, v) in out.params() {
        b = b.header(*n, v);
    }
    b.body(Full::from(body.to_vec())).unwrap()
}

async fn call(req: Request<Full<Bytes>>) -> (StatusCode, String) {
    let svc = VerifyLayer::new(verifier()).layer(tower::service_fn(echo));
    let res = svc.oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn passes_identity_and_body() {
    let (s, b) = call(signed("secret", "PUT", b"payload")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, "AKID:payload");
}

#[tokio::test]
async fn answers_failures_with_s3_xml() {
    let (s, b) = call(signed("wrong", "GET", b"")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(b.contains("<Code>SignatureDoesNotMatch</Code>"), "{b}");
    let mut req = signed("secret", "PUT", b"payload");
    *req.body_mut() = Full::from("tampered");
    let (s, b) = call(req).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.contains("<Code>XAmzContentSHA256Mismatch</Code>"), "{b}");
    let (s, b) = call(
        Request::get("/key")
            .header("host", "x")
            .body(Full::from(""))
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(b.contains("<Code>AccessDenied</Code>"));
}

fn chunked(data: &[u8], tamper: bool) -> Request<Full<Bytes>> {
    let creds = Credentials::new("AKID", "secret", None);
    let (r, s) = (
        Region::new("us-east-1").unwrap(),
        Service::new("s3").unwrap(),
    );
    let params = SigningParams::new(&creds, &r, &s, AmzDate::from_unix(T0 as i64).unwrap());
    let mode = StreamingMode::Signed;
    let extra = aws_chunked_headers(data.len() as u64, 1024, mode, None);
    let mut headers: Vec<(&str, &str)> = vec![("host", "bucket.example.com")];
    headers.extend(extra.iter().map(|(n, v)| (*n, v.as_str())));
    let req = SignableRequest::new("PUT", "/key", &headers).unwrap();
    let signer = Signer::new();
    let seed = signer.sign(&req, mode.payload_hash(), &params).unwrap();
    let mut cs = ChunkSigner::for_request(&signer, &params, mode, &seed).unwrap();
    let mut wire = Vec::new();
    for c in data.chunks(1024) {
        cs.write_chunk(c, &mut wire).unwrap();
    }
    cs.finish(&mut wire).unwrap();
    if tamper {
        let i = wire.len() - 200;
        wire[i] ^= 1;
    }
    let mut b = Request::builder().method("PUT").uri("/key");
    for (n, v) in &headers {
        b = b.header(*n, *v);
    }
    for (n, v) in seed.params() {
        if !headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(n)) {
            b = b.header(*n, v);
        }
    }
    b.body(Full::from(wire)).unwrap()
}

#[tokio::test]
async fn streams_aws_chunked_and_fails_on_a_bad_chunk() {
    let data = vec![b'q'; 5000];
    let (s, b) = call(chunked(&data, false)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b, format!("AKID:{}", "q".repeat(5000)));
    let (s, b) = call(chunked(&data, true)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(b.contains("body error"), "{b}");
}
