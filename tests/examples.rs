//! Runs the root package's examples and checks what they do: `quickstart`,
//! `presign` and `verifying_proxy` are self-contained (servers on
//! 127.0.0.1:0); `s3_put_get` needs an S3 server and is run against moto and
//! s3s-fs by tests/interop/run-s3-interop.sh, here only its usage error.
//!
//! `cargo test` builds the examples next to this test's binary
//! (`target/<profile>/examples/NAME`); with `--test examples` alone cargo
//! does not, so build them first (`cargo build -p sigv4 --examples`).
//! Presigned URLs are checked against aws-sigv4, an independent signer.
//! Each child runs with an empty environment plus what it needs: no real
//! credentials, no `~/.aws`, no instance metadata.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    sign as aws_sign, PercentEncodingMode, SignableBody, SignableRequest as AwsRequest,
    SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

#[path = "support/example_bin.rs"]
mod example_bin;

/// The built example `name` (see `support/example_bin.rs`).
fn example(name: &str) -> PathBuf {
    example_bin::example_bin(name, "-p sigv4")
}

/// A command for the example with an isolated environment.
fn command(name: &str) -> Command {
    let home = std::env::temp_dir().join(format!(
        "sigv4-examples-test-no-home-{}",
        std::process::id()
    ));
    let mut cmd = Command::new(example(name));
    cmd.env_clear()
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null());
    cmd
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` to its end; kills it and fails after `secs` seconds.
fn run(mut cmd: Command, secs: u64) -> Run {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            r.read_to_string(&mut s).unwrap();
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{cmd:?} still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// The value of query parameter `name` in `url` (as sent, still encoded).
fn param<'a>(url: &'a str, name: &str) -> &'a str {
    let query = url.split_once('?').unwrap().1;
    query
        .split('&')
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// `20240102T030405Z` as a `SystemTime` (days from the civil date, UTC).
fn amz_time(s: &str) -> SystemTime {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(4..6), n(6..8));
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let secs = days * 86_400 + n(9..11) * 3600 + n(11..13) * 60 + n(13..15);
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
}

/// aws-sigv4's presigned signature, with S3's rules, for `method url` signed
/// at the URL's own `X-Amz-Date` and `X-Amz-Expires`.
fn aws_presign_signature(
    method: &str,
    url: &str,
    creds: (&str, &str, Option<&str>),
    region: &str,
) -> String {
    let identity: Identity =
        AwsCredentials::new(creds.0, creds.1, creds.2.map(str::to_owned), None, "test").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(
        param(url, "X-Amz-Expires").parse().unwrap(),
    ));
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(amz_time(param(url, "X-Amz-Date")))
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let bare = url.split_once('?').unwrap().0;
    let req = AwsRequest::new(
        method,
        bare,
        std::iter::empty(),
        SignableBody::UnsignedPayload,
    )
    .unwrap();
    aws_sign(req, &params).unwrap().into_parts().1
}

#[test]
fn quickstart_accepts_the_signed_put_and_presigned_get_and_refuses_the_moved_url() {
    let out = run(command("quickstart"), 20);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", out.stdout);
    let host = lines[0]
        .strip_prefix("verifying server listening on http://127.0.0.1:")
        .unwrap();
    assert!(host.parse::<u16>().is_ok(), "{}", lines[0]);
    assert_eq!(
        lines[1],
        "PUT  signed with headers       -> 200 OK (signature valid, access key AKIDQUICKSTART)"
    );
    assert_eq!(
        lines[3],
        "GET  presigned URL             -> 200 OK (signature valid, access key AKIDQUICKSTART)"
    );
    assert!(
        lines[4].starts_with(
            "GET  presigned URL, other key  -> 403 Forbidden (SignatureDoesNotMatch: "
        ),
        "{}",
        lines[4]
    );

    // The presigned URL it printed is the one aws-sigv4 makes.
    let url = lines[2].strip_prefix("presigned URL: ").unwrap();
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{host}/demo-bucket/hello.txt?")),
        "{url}"
    );
    assert_eq!(param(url, "X-Amz-Expires"), "300");
    let creds = (
        "AKIDQUICKSTART",
        "quickstart/secret/key/only/for/this/demo",
        None,
    );
    assert_eq!(
        param(url, "X-Amz-Signature"),
        aws_presign_signature("GET", url, creds, "us-east-1")
    );
}

#[test]
fn presign_prints_get_and_put_urls_that_aws_sigv4_signs_alike() {
    let creds = (
        "AKIDPRESIGNEXAMPLE",
        "presign/Secret+Key=example",
        Some("session/token+1="),
    );
    let mut cmd = command("presign");
    cmd.args(["my-bucket", "report 2024+q=1%é.pdf", "600"])
        .env("AWS_ACCESS_KEY_ID", creds.0)
        .env("AWS_SECRET_ACCESS_KEY", creds.1)
        .env("AWS_SESSION_TOKEN", creds.2.unwrap())
        .env("AWS_REGION", "eu-west-2");
    let out = run(cmd, 20);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    assert!(
        out.stderr
            .contains("first line: GET, second: PUT; valid 600 s"),
        "{}",
        out.stderr
    );
    for (url, method) in lines.iter().zip(["GET", "PUT"]) {
        // Virtual-hosted, the key encoded once as S3 signs it.
        let object =
            "https://my-bucket.s3.eu-west-2.amazonaws.com/report%202024%2Bq%3D1%25%C3%A9.pdf?";
        assert!(url.starts_with(object), "{url}");
        assert_eq!(param(url, "X-Amz-Expires"), "600");
        assert_eq!(param(url, "X-Amz-Security-Token"), "session%2Ftoken%2B1%3D");
        let date = &param(url, "X-Amz-Date")[..8];
        assert_eq!(
            param(url, "X-Amz-Credential"),
            format!("AKIDPRESIGNEXAMPLE%2F{date}%2Feu-west-2%2Fs3%2Faws4_request")
        );
        assert_eq!(
            param(url, "X-Amz-Signature"),
            aws_presign_signature(method, url, creds, "eu-west-2"),
            "{method} {url}"
        );
    }
    assert_ne!(
        param(lines[0], "X-Amz-Signature"),
        param(lines[1], "X-Amz-Signature")
    );
}

#[test]
fn presign_with_an_endpoint_makes_path_style_urls() {
    let mut cmd = command("presign");
    cmd.args(["my-bucket", "a b.txt"])
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/");
    let out = run(cmd, 20);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    for url in out.stdout.lines() {
        assert!(
            url.starts_with("http://127.0.0.1:9000/my-bucket/a%20b.txt?"),
            "{url}"
        );
        // No region configured: us-east-1; no seconds given: an hour.
        assert!(
            param(url, "X-Amz-Credential").ends_with("%2Fus-east-1%2Fs3%2Faws4_request"),
            "{url}"
        );
        assert_eq!(param(url, "X-Amz-Expires"), "3600");
    }
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
}

#[test]
fn presign_without_a_key_prints_its_usage_and_fails() {
    let out = run(command("presign"), 20);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("usage: presign BUCKET KEY [SECONDS]"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn verifying_proxy_forwards_the_good_client_and_refuses_the_wrong_secret() {
    let out = run(command("verifying_proxy"), 20);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let (first, rest) = out.stdout.split_once('\n').unwrap();
    // The upstream saw the body, signed by the proxy's key, not the client's.
    assert_eq!(
        first,
        r#"signed with client-secret: 200 upstream got "hello", signed by AKIDPROXY"#
    );
    // The proxy's layer refused the wrong secret with the S3 XML error.
    assert!(
        rest.starts_with("signed with wrong-secret: 403 <?xml"),
        "{rest}"
    );
    assert!(
        rest.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{rest}"
    );
    assert!(!rest.contains("upstream got"), "{rest}");
}

#[test]
fn s3_put_get_without_an_endpoint_says_what_to_set() {
    // Its real run needs an S3 server: tests/interop/run-s3-interop.sh (moto, s3s-fs).
    let out = run(command("s3_put_get"), 20);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("set AWS_ENDPOINT_URL"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
}
