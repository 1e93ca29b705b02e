//! Container (ECS / EKS Pod Identity) provider against an in-process
//! endpoint on 127.0.0.1, with faults.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

mod net;

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use net::{creds_json, ok, serve, Reply, Req};
use sigv4_credentials::{
    BoxFuture, ContainerProvider, CredentialsError, Fs, HttpSettings, MapEnv, MemFs,
    ProvideCredentials, ProviderConfig,
};

fn provider(env: &[(&str, &str)], fs: impl Fs + 'static) -> ContainerProvider {
    ContainerProvider::new(ProviderConfig::new(
        env.iter().copied().collect::<MapEnv>(),
        fs,
    ))
    .with_http_settings(
        HttpSettings::container()
            .with_read_timeout(Duration::from_millis(300))
            .with_initial_backoff(Duration::from_millis(10)),
    )
}

#[tokio::test]
async fn full_uri_with_token() {
    let s = serve(|r: &Req| {
        if r.header("authorization") == Some("Bearer abc") {
            ok(creds_json("ASIAECS", 3600))
        } else {
            Reply::Status(
                401,
                r#"{"code":"Unauthorized","message":"bad token"}"#.into(),
            )
        }
    })
    .await;
    let url = format!("{}/v2/credentials/x", s.url());
    let c = provider(
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer abc"),
        ],
        MemFs::new(),
    )
    .provide_credentials()
    .await
    .unwrap();
    assert_eq!(c.access_key_id(), "ASIAECS");
    assert_eq!(c.provider_name(), "EcsContainer");
    assert_eq!(s.requests()[0].path, "/v2/credentials/x");

    // A wrong token: the endpoint's code and message, not retried.
    let e = provider(
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong"),
        ],
        MemFs::new(),
    )
    .provide_credentials()
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("HTTP 401: Unauthorized: bad token"),
        "{e}"
    );
    assert!(!e.to_string().contains("wrong"), "{e}");
}

/// The EKS token file, rotated between reads.
#[derive(Debug, Default)]
struct Rotating(AtomicUsize);

impl Fs for Rotating {
    fn read(&self, _: &Path, _: usize) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(std::future::ready(Ok(format!("token-{n}\n").into_bytes())))
    }
}

#[tokio::test]
async fn token_file_wins_and_is_read_on_every_call() {
    let s = serve(|r: &Req| {
        ok(creds_json(
            &r.header("authorization").unwrap_or("none").replace('-', ""),
            3600,
        ))
    })
    .await;
    let url = format!("{}/creds", s.url());
    let p = provider(
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &url),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored"),
            (
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                "/var/run/secrets/token",
            ),
        ],
        Rotating::default(),
    );
    assert_eq!(
        p.provide_credentials().await.unwrap().access_key_id(),
        "token0"
    );
    assert_eq!(
        p.provide_credentials().await.unwrap().access_key_id(),
        "token1"
    );
}

#[tokio::test]
async fn settings_are_checked() {
    let e = provider(&[], MemFs::new())
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.is_not_loaded(), "{e}");
    for (uri, want) in [
        (
            "http://example.com/creds",
            "plain http only to a loopback address",
        ),
        (
            "http://169.254.169.254/creds",
            "plain http only to a loopback address",
        ),
        ("ftp://127.0.0.1/x", "not an http:// or https:// URL"),
        ("not a url", "is not a URL"),
    ] {
        let e = provider(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri)], MemFs::new())
            .provide_credentials()
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                CredentialsError::InvalidEnvironment {
                    variable: "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                    ..
                }
            ),
            "{uri}: {e:?}"
        );
        assert!(e.to_string().contains(want), "{uri}: {e}");
    }
    let s = serve(|_: &Req| ok(creds_json("X", 3600))).await;
    let e = provider(
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &s.url()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Injected: 1"),
        ],
        MemFs::new(),
    )
    .provide_credentials()
    .await
    .unwrap_err();
    assert!(e.to_string().contains("control characters"), "{e}");
    assert!(s.requests().is_empty());
    let e = provider(
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &s.url()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/missing"),
        ],
        MemFs::new(),
    )
    .provide_credentials()
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE /missing"),
        "{e}"
    );
}

#[tokio::test]
async fn faults_give_clear_errors_within_the_timeouts() {
    let n = Arc::new(AtomicUsize::new(0));
    let cases: Vec<(&str, Box<dyn Fn() -> Reply + Send + Sync>, &str)> = vec![
        (
            "500",
            Box::new(|| Reply::Status(500, "down".into())),
            "HTTP 500: down (after 3 attempts)",
        ),
        (
            "slow",
            Box::new(|| Reply::Slow(Duration::from_secs(5), Box::new(ok("")))),
            "no answer within 300ms",
        ),
        (
            "truncated",
            Box::new(|| Reply::Truncated {
                sent: "{\"AccessKeyId\":".into(),
                declared: 300,
            }),
            "cut short",
        ),
        (
            "oversized",
            Box::new(|| ok("y".repeat(1 << 20))),
            "larger than 65536 bytes",
        ),
        ("not json", Box::new(|| ok("hello")), "not JSON"),
        (
            "expired",
            Box::new(|| ok(creds_json("OLD", -10))),
            "returned credentials that expired at",
        ),
    ];
    for (name, reply, want) in cases {
        let s = serve(move |_: &Req| reply()).await;
        let t = Instant::now();
        let e = provider(
            &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &s.url())],
            MemFs::new(),
        )
        .provide_credentials()
        .await
        .unwrap_err();
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "{name}: {:?}",
            t.elapsed()
        );
        assert!(
            e.to_string().contains(want) && e.to_string().contains("EcsContainer"),
            "{name}: {e}"
        );
    }
    // 500 once, then fine.
    let n2 = n.clone();
    let s = serve(move |_: &Req| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Status(500, String::new())
        } else {
            ok(creds_json("RETRIED", 3600))
        }
    })
    .await;
    let c = provider(
        &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", &s.url())],
        MemFs::new(),
    )
    .provide_credentials()
    .await
    .unwrap();
    assert_eq!(c.access_key_id(), "RETRIED");
}
