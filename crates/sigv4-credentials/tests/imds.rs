//! IMDS provider against an in-process IMDS on 127.0.0.1, with faults.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

mod net;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use net::{creds_json, ok, serve, Reply, Req};
use sigv4_credentials::{
    CredentialsError, DefaultChain, HttpSettings, ImdsProvider, MapEnv, MemFs, ProvideCredentials,
    ProviderConfig,
};

const TOKEN: &str = "/latest/api/token";
const LIST: &str = "/latest/meta-data/iam/security-credentials/";
const ROLE: &str = "/latest/meta-data/iam/security-credentials/my-role";

fn settings() -> HttpSettings {
    HttpSettings::imds()
        .with_read_timeout(Duration::from_millis(300))
        .with_initial_backoff(Duration::from_millis(10))
}

fn config(endpoint: &str, extra: &[(&str, &str)]) -> ProviderConfig {
    let mut env = MapEnv::from([
        ("HOME", "/h"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint),
    ]);
    for (k, v) in extra {
        env = env.with(*k, *v);
    }
    ProviderConfig::new(env, MemFs::new())
}

fn provider(endpoint: &str, extra: &[(&str, &str)]) -> ImdsProvider {
    ImdsProvider::new(config(endpoint, extra)).with_http_settings(settings())
}

/// A well-behaved IMDSv2: tokens required.
fn imds_v2(r: &Req) -> Reply {
    match (r.method.as_str(), r.path.as_str()) {
        ("PUT", TOKEN) if r.header("x-aws-ec2-metadata-token-ttl-seconds").is_some() => {
            ok("TOKEN-1")
        }
        ("GET", _) if r.header("x-aws-ec2-metadata-token") != Some("TOKEN-1") => {
            Reply::Status(401, String::new())
        }
        ("GET", LIST) => ok("my-role\n"),
        ("GET", ROLE) => ok(creds_json("ASIAIMDS", 3600)),
        _ => Reply::Status(404, "not found".into()),
    }
}

#[tokio::test]
async fn v2_token_then_role_then_credentials() {
    let s = serve(imds_v2).await;
    let p = provider(&s.url(), &[]);
    let c = p.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIAIMDS");
    assert_eq!(c.secret_access_key(), "SECRET-ASIAIMDS");
    assert_eq!(c.session_token(), Some("TOKEN-ASIAIMDS"));
    assert_eq!(c.provider_name(), "Ec2InstanceMetadata");
    assert!(c.expiry().unwrap() > SystemTime::now() + Duration::from_secs(3000));
    let put = &s.requests()[0];
    assert_eq!(
        put.header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("21600")
    );
    // The token is cached: a second load does not fetch another.
    p.provide_credentials().await.unwrap();
    assert_eq!(s.count("PUT", TOKEN), 1);
    assert_eq!(s.count("GET", ROLE), 2);
}

#[tokio::test]
async fn token_is_refreshed_before_its_ttl() {
    let s = serve(imds_v2).await;
    let p = provider(&s.url(), &[]).with_token_ttl(Duration::from_secs(1));
    p.provide_credentials().await.unwrap();
    assert_eq!(
        s.requests()[0].header("x-aws-ec2-metadata-token-ttl-seconds"),
        Some("1")
    );
    tokio::time::sleep(Duration::from_millis(950)).await;
    p.provide_credentials().await.unwrap();
    assert_eq!(s.count("PUT", TOKEN), 2);
}

#[tokio::test]
async fn falls_back_to_v1_when_the_token_call_is_refused() {
    for status in [403, 404, 405] {
        let s = serve(move |r: &Req| match (r.method.as_str(), r.path.as_str()) {
            ("PUT", TOKEN) => Reply::Status(status, String::new()),
            ("GET", _) if r.header("x-aws-ec2-metadata-token").is_some() => {
                Reply::Status(400, String::new())
            }
            ("GET", LIST) => ok("my-role"),
            ("GET", ROLE) => ok(creds_json("ASIAV1", 3600)),
            _ => Reply::Status(404, String::new()),
        })
        .await;
        let c = provider(&s.url(), &[]).provide_credentials().await.unwrap();
        assert_eq!(c.access_key_id(), "ASIAV1", "{status}");
    }
}

#[tokio::test]
async fn v1_fallback_can_be_disabled_by_env_or_profile() {
    let s = serve(|r: &Req| match r.method.as_str() {
        "PUT" => Reply::Status(403, String::new()),
        _ => ok(creds_json("ASIAV1", 3600)),
    })
    .await;
    let e = provider(&s.url(), &[("AWS_EC2_METADATA_V1_DISABLED", "true")])
        .provide_credentials()
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("IMDSv1 is disabled") && msg.contains("HTTP 403"),
        "{msg}"
    );
    assert!(!e.is_not_loaded());

    let cfg = ProviderConfig::new(
        MapEnv::from([
            ("HOME", "/h"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", s.url().as_str()),
        ]),
        MemFs::new().with(
            "/h/.aws/config",
            "[default]\nec2_metadata_v1_disabled = true\n",
        ),
    );
    let e = ImdsProvider::new(cfg)
        .with_http_settings(settings())
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("IMDSv1 is disabled"), "{e}");
    assert_eq!(s.count("GET", LIST), 0);
}

#[tokio::test]
async fn endpoint_from_profile_and_bad_mode() {
    let s = serve(imds_v2).await;
    let cfg = ProviderConfig::new(
        MapEnv::from([("HOME", "/h")]),
        MemFs::new().with(
            "/h/.aws/config",
            format!("[default]\nec2_metadata_service_endpoint = {}\n", s.url()),
        ),
    );
    let c = ImdsProvider::new(cfg)
        .with_http_settings(settings())
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(c.access_key_id(), "ASIAIMDS");

    let cfg = ProviderConfig::new(
        MapEnv::from([
            ("HOME", "/h"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5"),
        ]),
        MemFs::new(),
    );
    let e = ImdsProvider::new(cfg)
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is \"IPv5\"; use IPv4 or IPv6"),
        "{e}"
    );
}

#[tokio::test]
async fn disabled_and_no_role_are_not_loaded() {
    let s = serve(imds_v2).await;
    let e = provider(&s.url(), &[("AWS_EC2_METADATA_DISABLED", "TRUE")])
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(
        e.is_not_loaded() && e.to_string().contains("AWS_EC2_METADATA_DISABLED"),
        "{e}"
    );
    assert!(s.requests().is_empty());

    let s = serve(|r: &Req| match r.method.as_str() {
        "PUT" => ok("T"),
        _ => Reply::Status(404, String::new()),
    })
    .await;
    let e = provider(&s.url(), &[])
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(
        e.is_not_loaded() && e.to_string().contains("no IAM role is attached"),
        "{e}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_boundedly() {
    // Always 500: three attempts, then an error naming the URL and status.
    let s = serve(|_: &Req| Reply::Status(500, "boom".into())).await;
    let e = provider(&s.url(), &[])
        .provide_credentials()
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, CredentialsError::Http(_)), "{e:?}");
    assert!(
        msg.contains("HTTP 500: boom") && msg.contains("after 3 attempts") && msg.contains(TOKEN),
        "{msg}"
    );
    assert_eq!(s.count("PUT", TOKEN), 3);

    // 500 twice, then fine.
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let s = serve(move |r: &Req| {
        if r.path == ROLE && n2.fetch_add(1, Ordering::SeqCst) < 2 {
            return Reply::Status(503, String::new());
        }
        imds_v2(r)
    })
    .await;
    let c = provider(&s.url(), &[]).provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIAIMDS");
    assert_eq!(s.count("GET", ROLE), 3);
}

#[tokio::test]
async fn unauthorized_token_is_replaced_once() {
    // The first token is rejected (expired server-side); a new one works.
    let puts = Arc::new(AtomicUsize::new(0));
    let p2 = puts.clone();
    let s = serve(move |r: &Req| match (r.method.as_str(), r.path.as_str()) {
        ("PUT", TOKEN) => ok(format!("TOKEN-{}", p2.fetch_add(1, Ordering::SeqCst))),
        ("GET", _) if r.header("x-aws-ec2-metadata-token") != Some("TOKEN-1") => {
            Reply::Status(401, String::new())
        }
        ("GET", LIST) => ok("my-role"),
        ("GET", ROLE) => ok(creds_json("ASIA401", 3600)),
        _ => Reply::Status(404, String::new()),
    })
    .await;
    let c = provider(&s.url(), &[]).provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIA401");
    assert_eq!(s.count("PUT", TOKEN), 2);
}

#[tokio::test]
async fn slow_answers_time_out_quickly() {
    let s = serve(|r: &Req| {
        if r.path == ROLE {
            Reply::Slow(
                Duration::from_secs(5),
                Box::new(ok(creds_json("LATE", 3600))),
            )
        } else {
            imds_v2(r)
        }
    })
    .await;
    let t = Instant::now();
    let e = provider(&s.url(), &[])
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert!(e.to_string().contains("no answer within 300ms"), "{e}");
    assert_eq!(s.count("GET", ROLE), 1, "timeouts are not retried");
}

#[tokio::test]
async fn bad_bodies_are_clear_errors() {
    let cases: Vec<(&str, fn() -> Reply, &str)> = vec![
        (
            "truncated",
            || Reply::Truncated {
                sent: "{\"Code\":\"Succ".into(),
                declared: 500,
            },
            "cut short",
        ),
        (
            "oversized",
            || ok("x".repeat(100 << 10)),
            "larger than 65536 bytes",
        ),
        ("not json", || ok("<html>hello</html>"), "not JSON"),
        ("not an object", || ok("[1,2]"), "not a JSON object"),
        (
            "no secret",
            || ok(r#"{"Code":"Success","AccessKeyId":"A"}"#),
            "no SecretAccessKey",
        ),
        (
            "bad code",
            || ok(r#"{"Code":"AssumeRoleUnauthorizedAccess","Message":"nope"}"#),
            "AssumeRoleUnauthorizedAccess",
        ),
        (
            "bad expiry",
            || {
                ok(
                    r#"{"Code":"Success","AccessKeyId":"A","SecretAccessKey":"S","Expiration":"tomorrow"}"#,
                )
            },
            "not an RFC 3339 time",
        ),
    ];
    for (name, reply, want) in cases {
        let s = serve(move |r: &Req| if r.path == ROLE { reply() } else { imds_v2(r) }).await;
        let e = provider(&s.url(), &[])
            .provide_credentials()
            .await
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(want) && msg.contains("Ec2InstanceMetadata"),
            "{name}: {msg}"
        );
        assert!(!msg.contains("SECRET"), "{name}: {msg}");
    }
}

#[tokio::test]
async fn expired_credentials_from_imds_are_extended_boundedly() {
    // Recently expired (IMDS during an outage): served, with a new expiry.
    let s = serve(|r: &Req| {
        if r.path == ROLE {
            ok(creds_json("STALE", -60))
        } else {
            imds_v2(r)
        }
    })
    .await;
    let c = provider(&s.url(), &[]).provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "STALE");
    let exp = c.expiry().unwrap();
    assert!(
        exp > SystemTime::now() + Duration::from_secs(240)
            && exp < SystemTime::now() + Duration::from_secs(601)
    );

    // Expired two days ago: an error.
    let s = serve(|r: &Req| {
        if r.path == ROLE {
            ok(creds_json("ANCIENT", -172_800))
        } else {
            imds_v2(r)
        }
    })
    .await;
    let e = provider(&s.url(), &[])
        .provide_credentials()
        .await
        .unwrap_err();
    assert!(matches!(e, CredentialsError::Expired { .. }), "{e:?}");
}

#[tokio::test]
async fn static_stability_serves_last_credentials_when_imds_fails() {
    let broken = Arc::new(AtomicUsize::new(0));
    let b2 = broken.clone();
    let s = serve(move |r: &Req| {
        if b2.load(Ordering::SeqCst) == 1 && r.path == ROLE {
            Reply::Status(500, String::new())
        } else {
            imds_v2(r)
        }
    })
    .await;
    let p = provider(&s.url(), &[]);
    let first = p.provide_credentials().await.unwrap();
    broken.store(1, Ordering::SeqCst);
    let again = p.provide_credentials().await.unwrap();
    assert_eq!(again.access_key_id(), first.access_key_id());
    assert_eq!(s.count("GET", ROLE), 4);
}

#[tokio::test]
async fn default_chain_off_ec2_fails_fast() {
    // Acceptance: IMDS not answering (a port that accepts and never
    // answers, and a closed port): the chain's diagnostic in under 3 s.
    let hole = net::black_hole().await;
    let closed = net::closed_port();
    for endpoint in [format!("http://{hole}"), format!("http://{closed}")] {
        let cfg = ProviderConfig::new(
            MapEnv::from([
                ("HOME", "/h"),
                ("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint.as_str()),
            ]),
            MemFs::new(),
        );
        let t = Instant::now();
        let e = DefaultChain::new(&cfg)
            .provide_credentials()
            .await
            .unwrap_err();
        let elapsed = t.elapsed();
        assert!(elapsed < Duration::from_secs(3), "{endpoint}: {elapsed:?}");
        let CredentialsError::NoCredentials { attempts } = &e else {
            panic!("{e:?}")
        };
        let names: Vec<_> = attempts.iter().map(|a| a.provider.as_ref()).collect();
        assert_eq!(
            names,
            [
                "Environment",
                "Profile",
                "WebIdentityToken",
                "EcsContainer",
                "Ec2InstanceMetadata"
            ]
        );
        let msg = e.to_string();
        assert!(
            msg.contains("5. Ec2InstanceMetadata: skipped:") && msg.contains("not running on EC2?"),
            "{msg}"
        );
    }
}
