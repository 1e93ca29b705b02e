//! The middleware against an in-process server that checks every signature.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{CountingProvider, TickingClock, AKID, SECRET};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use reqwest_retry::{policies::ExponentialBackoff, RetryTransientMiddleware};
use sigv4_credentials::{
    CredentialsCache, CredentialsError, MapEnv, MemFs, ProviderConfig, StaticProvider,
};
use sigv4_reqwest::{SigV4Error, SigV4Middleware};
use sigv4_sign::{Credentials, Region, Service};

fn s3_middleware(
    provider: impl sigv4_credentials::ProvideCredentials + 'static,
) -> SigV4Middleware {
    SigV4Middleware::builder()
        .credentials(provider)
        .region(Region::new("us-east-1").unwrap())
        .service(Service::new("s3").unwrap())
        .build()
}

fn client(mw: SigV4Middleware) -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new()).with(mw).build()
}

fn static_creds(secret: &str) -> StaticProvider {
    StaticProvider::new(Credentials::new(AKID, secret, None))
}

/// A configuration with no environment and no files: no fallback region.
fn empty_config() -> ProviderConfig {
    ProviderConfig::new(MapEnv::default(), MemFs::new())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_share_one_credentials_load_and_all_verify() {
    let server = common::start(0).await;
    let provider = Arc::new(CountingProvider::default());
    let cache = CredentialsCache::new(provider.clone());
    let client = client(s3_middleware(cache));

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let client = client.clone();
        let url = format!("{}/bucket/key-{i}?x-id=PutObject", server.base);
        tasks.spawn(async move {
            let resp = client
                .put(url)
                .header("content-type", "text/plain")
                .body(format!("body number {i}"))
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        });
    }
    let mut ok = 0;
    while let Some(r) = tasks.join_next().await {
        let (status, text) = r.unwrap();
        assert_eq!(status, 200, "{text}");
        ok += 1;
    }
    assert_eq!(ok, 200);
    assert_eq!(
        provider.calls.load(Ordering::SeqCst),
        1,
        "credentials loaded once"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 200);
    for s in &seen {
        assert_eq!(s.verdict, Ok(()), "{s:?}");
        // Buffered bodies are hashed, not sent unsigned.
        let hash = s.content_sha256.as_deref().unwrap();
        assert_eq!(hash.len(), 64, "{s:?}");
    }
}

#[tokio::test]
async fn each_retry_is_signed_afresh_when_the_signer_comes_after_the_retry_middleware() {
    let server = common::start(1).await;
    let mw = SigV4Middleware::builder()
        .credentials(static_creds(SECRET))
        .region(Region::new("us-east-1").unwrap())
        .service(Service::new("s3").unwrap())
        .time_source(Arc::new(TickingClock(AtomicU64::new(0))))
        .build();
    let policy = ExponentialBackoff::builder()
        .retry_bounds(Duration::from_millis(1), Duration::from_millis(5))
        .build_with_max_retries(3);
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(RetryTransientMiddleware::new_with_policy(policy))
        .with(mw)
        .build();
    let resp = client
        .put(format!("{}/bucket/flaky.txt", server.base))
        .body("retried body")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "one 503, one retry: {seen:?}");
    assert!(seen.iter().all(|s| s.verdict.is_ok()), "{seen:?}");
    assert_ne!(
        seen[0].amz_date, seen[1].amz_date,
        "the retry has its own date"
    );
    assert_ne!(
        seen[0].authorization, seen[1].authorization,
        "and its own signature"
    );
}

#[tokio::test]
async fn signer_before_retry_resends_the_first_signature() {
    // The ordering the docs warn about: signed once, the retry repeats it.
    let server = common::start(1).await;
    let mw = SigV4Middleware::builder()
        .credentials(static_creds(SECRET))
        .region(Region::new("us-east-1").unwrap())
        .service(Service::new("s3").unwrap())
        .time_source(Arc::new(TickingClock(AtomicU64::new(0))))
        .build();
    let policy = ExponentialBackoff::builder()
        .retry_bounds(Duration::from_millis(1), Duration::from_millis(5))
        .build_with_max_retries(3);
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(mw)
        .with(RetryTransientMiddleware::new_with_policy(policy))
        .build();
    let resp = client
        .get(format!("{}/bucket/flaky.txt", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].authorization, seen[1].authorization);
}

#[tokio::test]
async fn streaming_body_is_sent_unsigned_and_verifies() {
    let server = common::start(0).await;
    let client = client(s3_middleware(static_creds(SECRET)));
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = (0..16)
        .map(|i| Ok(bytes::Bytes::from(vec![b'a' + i as u8; 4096])))
        .collect();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(chunks));
    let resp = client
        .put(format!("{}/bucket/streamed.bin", server.base))
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "ok 65536");
    let seen = server.seen();
    assert_eq!(seen[0].content_sha256.as_deref(), Some("UNSIGNED-PAYLOAD"));
    assert_eq!(seen[0].verdict, Ok(()));
}

#[tokio::test]
async fn buffered_body_hash_is_signed_and_a_wrong_secret_is_rejected() {
    let server = common::start(0).await;
    let good = client(s3_middleware(static_creds(SECRET)));
    let resp = good
        .put(format!("{}/bucket/a%20b+c%3Dd%25e%C3%A9.txt", server.base))
        .header("content-type", "text/plain")
        .header("x-amz-meta-note", "  spaced   value ")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let seen = server.seen();
    assert_eq!(
        seen[0].content_sha256.as_deref(),
        Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    );
    assert!(seen[0].authorization.contains("x-amz-meta-note"));
    // S3 paths go out canonically encoded: what moto/botocore read as sent is what was signed.
    assert_eq!(seen[0].target, "/bucket/a%20b%2Bc%3Dd%25e%C3%A9.txt");

    let bad = client(s3_middleware(static_creds("not-the-secret")));
    let resp = bad
        .get(format!("{}/bucket?list-type=2&prefix=a%20b", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let text = resp.text().await.unwrap();
    assert!(text.contains("sigv4-verify"), "{text}");
    assert!(text.contains("signature"), "{text}");
}

#[tokio::test]
async fn generic_service_hashes_the_body_without_the_s3_header() {
    let server = common::start(0).await;
    let mw = SigV4Middleware::builder()
        .credentials(static_creds(SECRET))
        .region(Region::new("eu-west-1").unwrap())
        .service(Service::new("sts").unwrap())
        .build();
    let resp = client(mw)
        .post(format!("{}/", server.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=GetCallerIdentity&Version=2011-06-15")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let seen = server.seen();
    assert_eq!(seen[0].content_sha256, None);
    assert!(seen[0]
        .authorization
        .contains("/eu-west-1/sts/aws4_request"));
    assert_eq!(seen[0].verdict, Ok(()));
}

fn scope_of(req: &reqwest::Request) -> String {
    let auth = req.headers()["authorization"].to_str().unwrap();
    let cred = auth.split("Credential=").nth(1).unwrap();
    let scope = cred.split(',').next().unwrap();
    // AKID/date/region/service/aws4_request -> region/service
    let parts: Vec<&str> = scope.split('/').collect();
    format!("{}/{}", parts[2], parts[3])
}

#[tokio::test]
async fn region_and_service_come_from_the_host_unless_given() {
    let req = |url: &str| reqwest::Client::new().get(url).build().unwrap();
    let inferred = SigV4Middleware::builder()
        .credentials(static_creds(SECRET))
        .provider_config(empty_config())
        .build();
    for (url, scope) in [
        ("https://s3.us-west-2.amazonaws.com/b/k", "us-west-2/s3"),
        ("https://bucket.s3.amazonaws.com/k", "us-east-1/s3"),
        ("https://sts.eu-west-1.amazonaws.com/", "eu-west-1/sts"),
        ("https://iam.amazonaws.com/", "us-east-1/iam"),
    ] {
        let mut r = req(url);
        inferred.sign(&mut r).await.unwrap();
        assert_eq!(scope_of(&r), scope, "{url}");
    }

    // Explicit beats inferred.
    let explicit = SigV4Middleware::builder()
        .credentials(static_creds(SECRET))
        .region(Region::new("ap-south-1").unwrap())
        .build();
    let mut r = req("https://sts.eu-west-1.amazonaws.com/");
    explicit.sign(&mut r).await.unwrap();
    assert_eq!(scope_of(&r), "ap-south-1/sts");

    // Defaults fill in what a custom endpoint does not say.
    let defaults = SigV4Middleware::builder()
        .credentials(static_creds(SECRET))
        .provider_config(empty_config())
        .default_region(Region::new("us-east-2").unwrap())
        .default_service(Service::new("s3").unwrap())
        .build();
    let mut r = req("http://127.0.0.1:9000/bucket/k");
    defaults.sign(&mut r).await.unwrap();
    assert_eq!(scope_of(&r), "us-east-2/s3");
    let mut r = req("https://sts.eu-west-1.amazonaws.com/");
    defaults.sign(&mut r).await.unwrap();
    assert_eq!(scope_of(&r), "eu-west-1/sts");

    // The (injected) environment comes before the default region.
    let from_env = SigV4Middleware::builder()
        .credentials(static_creds(SECRET))
        .service(Service::new("s3").unwrap())
        .default_region(Region::new("us-east-2").unwrap())
        .provider_config(ProviderConfig::new(
            MapEnv::from([("AWS_REGION", "eu-north-1")]),
            MemFs::new(),
        ))
        .build();
    let mut r = req("http://127.0.0.1:9000/bucket/k");
    from_env.sign(&mut r).await.unwrap();
    assert_eq!(scope_of(&r), "eu-north-1/s3");
}

#[tokio::test]
async fn errors_are_typed_and_say_what_to_do() {
    let server = common::start(0).await;
    let unknown = SigV4Middleware::builder()
        .credentials(static_creds(SECRET))
        .provider_config(empty_config())
        .build();
    let err = client(unknown)
        .get(format!("{}/bucket/k", server.base))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_middleware());
    let typed = SigV4Error::from_middleware(&err).unwrap();
    assert!(
        matches!(typed, SigV4Error::UnknownService { .. }),
        "{typed:?}"
    );
    assert!(err.to_string().contains("--service"), "{err}");

    let no_region = SigV4Middleware::builder()
        .credentials(static_creds(SECRET))
        .service(Service::new("s3").unwrap())
        .provider_config(empty_config())
        .build();
    let err = client(no_region)
        .get(format!("{}/bucket/k", server.base))
        .send()
        .await
        .unwrap_err();
    let typed = SigV4Error::from_middleware(&err).unwrap();
    assert!(
        matches!(typed, SigV4Error::UnknownRegion { .. }),
        "{typed:?}"
    );
    assert!(typed.to_string().contains("127.0.0.1"));

    #[derive(Debug)]
    struct Failing;
    impl sigv4_credentials::ProvideCredentials for Failing {
        fn provide_credentials(
            &self,
        ) -> sigv4_credentials::BoxFuture<'_, sigv4_credentials::CredentialsResult> {
            Box::pin(async { Err(CredentialsError::not_loaded("Test", "no keys configured")) })
        }
    }
    let err = client(s3_middleware(Failing))
        .get(format!("{}/bucket/k?secret-query=1", server.base))
        .send()
        .await
        .unwrap_err();
    let typed = SigV4Error::from_middleware(&err).unwrap();
    assert!(matches!(typed, SigV4Error::Credentials { .. }));
    let msg = typed.to_string();
    assert!(
        msg.contains("no keys configured") && msg.contains("/bucket/k"),
        "{msg}"
    );
    assert!(!msg.contains("secret-query"), "{msg}");
    assert!(server.seen().is_empty(), "nothing unsigned was sent");
}
