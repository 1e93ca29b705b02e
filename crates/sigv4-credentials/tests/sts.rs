//! STS client and web identity provider against an in-process STS on
//! 127.0.0.1, with faults.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

mod net;

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use net::{in_secs, ok, serve, Reply, Req};
use sigv4_credentials::sts::{AssumeRoleRequest, StsEndpoint};
use sigv4_credentials::web_identity::WebIdentitySettings;
use sigv4_credentials::{
    BoxFuture, Credentials, CredentialsError, Fs, HttpSettings, MapEnv, MemFs, ProvideCredentials,
    ProviderConfig, StsClient, StsErrorCode, SystemTimeSource, WebIdentityProvider,
};

const ROLE: &str = "arn:aws:iam::123456789012:role/dev";

fn success(op: &str, akid: &str) -> String {
    format!(
        "<{op}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{op}Result><Credentials>\
         <AccessKeyId>{akid}</AccessKeyId><SecretAccessKey>SECRET-{akid}</SecretAccessKey>\
         <SessionToken>TOKEN-{akid}</SessionToken><Expiration>{}</Expiration></Credentials>\
         <AssumedRoleUser><Arn>{ROLE}/s</Arn></AssumedRoleUser></{op}Result>\
         <ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></{op}Response>",
        in_secs(3600)
    )
}

fn error_xml(code: &str, message: &str) -> String {
    format!("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>req-err</RequestId></ErrorResponse>")
}

fn client(url: &str) -> StsClient {
    let ep = StsEndpoint::resolve(
        &MapEnv::from([("AWS_REGION", "eu-west-1"), ("AWS_ENDPOINT_URL_STS", url)]),
        None,
    );
    assert_eq!(ep.source, "AWS_ENDPOINT_URL_STS");
    StsClient::new(
        &ep,
        Arc::new(SystemTimeSource),
        HttpSettings::sts()
            .with_read_timeout(Duration::from_millis(300))
            .with_initial_backoff(Duration::from_millis(10)),
    )
    .unwrap()
}

fn source() -> Credentials {
    Credentials::new("AKIDSOURCE", "source-secret", Some("source-token".into()))
}

#[tokio::test]
async fn assume_role_is_signed_form_encoded_and_parsed() {
    let s = serve(|_: &Req| ok(success("AssumeRole", "ASIAROLE"))).await;
    let req = AssumeRoleRequest::new(ROLE, "my-session")
        .with_external_id(Some("ext id/1".into()))
        .with_duration(Some(Duration::from_secs(900)));
    let c = client(&s.url()).assume_role(&source(), &req).await.unwrap();
    assert_eq!(c.access_key_id(), "ASIAROLE");
    assert_eq!(c.secret_access_key(), "SECRET-ASIAROLE");
    assert_eq!(c.session_token(), Some("TOKEN-ASIAROLE"));
    assert_eq!(c.provider_name(), format!("AssumeRole({ROLE})"));
    assert!(c.expiry().is_some());

    let r = &s.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.body,
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdev\
         &RoleSessionName=my-session&ExternalId=ext%20id%2F1&DurationSeconds=900"
    );
    let auth = r.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDSOURCE/"),
        "{auth}"
    );
    assert!(auth.contains("/eu-west-1/sts/aws4_request"), "{auth}");
    assert!(
        auth.contains("SignedHeaders=content-type;host;x-amz-date"),
        "{auth}"
    );
    assert_eq!(r.header("x-amz-security-token"), Some("source-token"));
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("application/x-www-form-urlencoded"));
}

#[tokio::test]
async fn sts_errors_are_typed_with_code_and_message() {
    for (status, code, want) in [
        (403, "AccessDenied", StsErrorCode::AccessDenied),
        (400, "ExpiredToken", StsErrorCode::ExpiredToken),
        (403, "RegionDisabledException", StsErrorCode::RegionDisabled),
        (
            400,
            "SomethingNew",
            StsErrorCode::Other("SomethingNew".into()),
        ),
    ] {
        let s = serve(move |_: &Req| {
            Reply::Status(status, error_xml(code, "not allowed &amp; logged"))
        })
        .await;
        let e = client(&s.url())
            .assume_role(&source(), &AssumeRoleRequest::new(ROLE, "s"))
            .await
            .unwrap_err();
        let CredentialsError::Sts(sts) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(sts.code, want);
        assert_eq!(sts.status, status);
        assert_eq!(sts.message, "not allowed & logged");
        assert_eq!(sts.request_id.as_deref(), Some("req-err"));
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("STS AssumeRole of {ROLE} at http://127.0.0.1:")),
            "{msg}"
        );
        assert!(
            msg.contains(&format!("HTTP {status} {code}: not allowed & logged")),
            "{msg}"
        );
        assert!(
            !msg.contains("source-secret") && !msg.contains("source-token"),
            "{msg}"
        );
        assert_eq!(s.requests().len(), 1, "4xx is not retried");
    }
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let s = serve(|_: &Req| Reply::Status(500, error_xml("InternalFailure", "oops"))).await;
    let e = client(&s.url())
        .assume_role(&source(), &AssumeRoleRequest::new(ROLE, "s"))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("HTTP 500 InternalFailure: oops"),
        "{e}"
    );
    assert_eq!(s.requests().len(), 3);

    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let s = serve(move |_: &Req| {
        if n2.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::Status(503, "<html>busy</html>".into())
        } else {
            ok(success("AssumeRole", "AFTER503"))
        }
    })
    .await;
    let c = client(&s.url())
        .assume_role(&source(), &AssumeRoleRequest::new(ROLE, "s"))
        .await
        .unwrap();
    assert_eq!(c.access_key_id(), "AFTER503");
}

#[tokio::test]
async fn bad_answers_are_clear_errors() {
    let cases: Vec<(&str, fn() -> Reply, &str)> = vec![
        (
            "non-xml error",
            || Reply::Status(502, "<html>bad gateway".into()),
            "HTTP 502: <html>bad gateway",
        ),
        (
            "not xml",
            || ok("{\"json\": true}"),
            "not a complete XML document",
        ),
        (
            "unclosed",
            || ok("<AssumeRoleResponse><AssumeRoleResult>"),
            "not a complete XML document",
        ),
        (
            "no credentials",
            || ok("<AssumeRoleResponse><AssumeRoleResult/></AssumeRoleResponse>"),
            "no Credentials/AccessKeyId",
        ),
        (
            "bad expiry",
            || ok(success("AssumeRole", "A").replace("<Expiration>", "<Expiration>soon ")),
            "is not an ISO 8601 time",
        ),
        (
            "truncated",
            || Reply::Truncated {
                sent: "<AssumeRoleResponse>".into(),
                declared: 4000,
            },
            "cut short",
        ),
        (
            "oversized",
            || ok("x".repeat(2 << 20)),
            "larger than 1048576 bytes",
        ),
        (
            "slow",
            || Reply::Slow(Duration::from_secs(5), Box::new(ok(""))),
            "no answer within 300ms",
        ),
    ];
    for (name, reply, want) in cases {
        let s = serve(move |_: &Req| reply()).await;
        let t = Instant::now();
        let e = client(&s.url())
            .assume_role(&source(), &AssumeRoleRequest::new(ROLE, "s"))
            .await
            .unwrap_err();
        assert!(
            t.elapsed() < Duration::from_secs(3),
            "{name}: {:?}",
            t.elapsed()
        );
        let msg = e.to_string();
        assert!(msg.contains(want) && msg.contains("Sts"), "{name}: {msg}");
    }
}

/// A file system whose token file changes between reads.
#[derive(Debug, Default)]
struct RotatingFs(AtomicUsize);

impl Fs for RotatingFs {
    fn read(&self, path: &Path, _limit: usize) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        let r = if path == Path::new("/var/token") {
            Ok(format!("jwt-{}\n", self.0.fetch_add(1, Ordering::SeqCst)).into_bytes())
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, "no"))
        };
        Box::pin(std::future::ready(r))
    }
}

#[tokio::test]
async fn web_identity_from_env_is_unsigned_and_rereads_the_token() {
    let s = serve(|r: &Req| {
        if r.body.contains("WebIdentityToken=jwt-0") {
            ok(success("AssumeRoleWithWebIdentity", "ASIAWEB0"))
        } else {
            ok(success("AssumeRoleWithWebIdentity", "ASIAWEB1"))
        }
    })
    .await;
    let env = MapEnv::from([
        ("HOME", "/h"),
        ("AWS_ROLE_ARN", ROLE),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/token"),
        ("AWS_ROLE_SESSION_NAME", "ci"),
        ("AWS_REGION", "us-west-2"),
        ("AWS_ENDPOINT_URL", s.url().as_str()),
    ]);
    let p = WebIdentityProvider::new(ProviderConfig::new(env, RotatingFs::default()));
    let c = p.provide_credentials().await.unwrap();
    assert_eq!(c.access_key_id(), "ASIAWEB0");
    assert_eq!(c.provider_name(), format!("WebIdentityToken({ROLE})"));
    let c = p.provide_credentials().await.unwrap();
    assert_eq!(
        c.access_key_id(),
        "ASIAWEB1",
        "the token file is read again"
    );
    let r = &s.requests()[0];
    assert!(r.header("authorization").is_none());
    assert!(r
        .body
        .starts_with("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn="));
    assert!(
        r.body.contains("RoleSessionName=ci&WebIdentityToken=jwt-0"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn web_identity_errors() {
    // Not configured: skipped. Token file without role: an error.
    let p = WebIdentityProvider::new(ProviderConfig::new(MapEnv::new(), MemFs::new()));
    assert!(p.provide_credentials().await.unwrap_err().is_not_loaded());
    let p = WebIdentityProvider::new(ProviderConfig::new(
        MapEnv::from([("AWS_WEB_IDENTITY_TOKEN_FILE", "/t")]),
        MemFs::new(),
    ));
    let e = p.provide_credentials().await.unwrap_err();
    assert!(e.to_string().contains("AWS_ROLE_ARN"), "{e}");

    // Missing token file: names the file.
    let settings = WebIdentitySettings {
        role_arn: ROLE.into(),
        token_file: "/nope".into(),
        session_name: None,
    };
    let p = WebIdentityProvider::with_settings(
        ProviderConfig::new(MapEnv::new(), MemFs::new()),
        settings,
        None,
    );
    let e = p.provide_credentials().await.unwrap_err();
    assert!(
        e.to_string()
            .contains("web identity token file /nope: cannot read it"),
        "{e}"
    );

    // STS rejects the token: InvalidIdentityToken, typed.
    let s = serve(|_: &Req| {
        Reply::Status(
            400,
            error_xml("InvalidIdentityToken", "Couldn't retrieve verification key"),
        )
    })
    .await;
    let env = MapEnv::from([
        ("AWS_ROLE_ARN", ROLE),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
        ("AWS_ENDPOINT_URL_STS", s.url().as_str()),
    ]);
    let p = WebIdentityProvider::new(ProviderConfig::new(env, MemFs::new().with("/t", "jwt")));
    let e = p.provide_credentials().await.unwrap_err();
    let CredentialsError::Sts(sts) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(sts.code, StsErrorCode::InvalidIdentityToken);
    assert_eq!(sts.operation, "AssumeRoleWithWebIdentity");
    assert!(!e.to_string().contains("jwt"), "{e}");
}

#[tokio::test]
async fn get_caller_identity() {
    let s = serve(|_: &Req| ok("<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::1:user/u</Arn><UserId>AID</UserId><Account>1</Account></GetCallerIdentityResult></GetCallerIdentityResponse>")).await;
    let id = client(&s.url())
        .get_caller_identity(&source())
        .await
        .unwrap();
    assert_eq!(
        (id.account.as_str(), id.arn.as_str(), id.user_id.as_str()),
        ("1", "arn:aws:iam::1:user/u", "AID")
    );
}
