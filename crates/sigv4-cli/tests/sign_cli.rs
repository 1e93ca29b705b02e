//! `sigv4 sign --raw` against every case of the AWS v4 signing suite: the
//! printed signed request (header and presigned) and the `--json` fields must
//! equal the suite's files byte for byte. Runs the built binary.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/aws-signing-test-suite/v4")
}

fn sigv4(args: &[&str], stdin: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigv4"));
    // No real environment: no keys, no home, and IMDS off so that nothing
    // ever leaves loopback.
    cmd.args(args)
        .env_clear()
        .env("HOME", "/nonexistent-sigv4-test-home")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    if let Some(p) = stdin {
        cmd.stdin(Stdio::from(fs::File::open(p).unwrap()));
    }
    cmd.output().unwrap()
}

fn case_args(dir: &Path, query: bool) -> Vec<String> {
    let ctx: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("context.json")).unwrap()).unwrap();
    let c = &ctx["credentials"];
    let mut args: Vec<String> = vec![
        "sign".into(),
        "--raw".into(),
        dir.join("request.txt").to_string_lossy().into_owned(),
        "--region".into(),
        ctx["region"].as_str().unwrap().into(),
        "--service".into(),
        ctx["service"].as_str().unwrap().into(),
        "--time".into(),
        ctx["timestamp"].as_str().unwrap().into(),
        "--access-key".into(),
        c["access_key_id"].as_str().unwrap().into(),
        "--secret-key".into(),
        c["secret_access_key"].as_str().unwrap().into(),
    ];
    if let Some(t) = c["token"].as_str() {
        args.extend(["--session-token".into(), t.into()]);
    }
    if ctx["omit_session_token"].as_bool() == Some(true) {
        args.push("--session-token-after".into());
    }
    if ctx["normalize"].as_bool() == Some(false) {
        args.push("--no-normalize".into());
    }
    if ctx["sign_body"].as_bool() == Some(true) {
        args.push("--sign-body".into());
    }
    if query {
        args.extend([
            "--presign".into(),
            "--expires".into(),
            ctx["expiration_in_seconds"].as_u64().unwrap().to_string(),
        ]);
    }
    args
}

#[test]
fn signs_every_suite_case_like_the_suite() {
    let mut dirs: Vec<PathBuf> = fs::read_dir(suite())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("context.json").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 38);
    let mut failures = Vec::new();
    for dir in &dirs {
        for query in [false, true] {
            let prefix = if query { "query" } else { "header" };
            let args = case_args(dir, query);
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = sigv4(&argv, None);
            let want = fs::read(dir.join(format!("{prefix}-signed-request.txt"))).unwrap();
            if !out.status.success() || out.stdout != want {
                failures.push(format!(
                    "{} {prefix}: {}",
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr)
                ));
                continue;
            }
            let mut json_args = argv.clone();
            json_args.push("--json");
            let out = sigv4(&json_args, None);
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            for (key, file) in [
                ("canonical_request", "canonical-request.txt"),
                ("string_to_sign", "string-to-sign.txt"),
                ("signature", "signature.txt"),
                ("signed_request", "signed-request.txt"),
            ] {
                let want = fs::read_to_string(dir.join(format!("{prefix}-{file}"))).unwrap();
                if v[key].as_str() != Some(want.as_str()) {
                    failures.push(format!("{} {prefix} --json {key}", dir.display()));
                }
            }
            let loc = if query { "url" } else { "authorization" };
            if !v[loc].is_string() {
                failures.push(format!("{} {prefix} --json has no {loc}", dir.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn reads_stdin_and_explains() {
    let dir = suite().join("get-header-value-trim");
    let out = sigv4(
        &[
            "sign",
            "--raw",
            "-",
            "--region",
            "us-east-1",
            "--service",
            "service",
            "--time",
            "20150830T123600Z",
            "--access-key",
            "AKIDEXAMPLE",
            "--secret-key",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "--explain",
        ],
        Some(&dir.join("request.txt")),
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let sig = fs::read_to_string(dir.join("header-signature.txt")).unwrap();
    assert!(text.contains(&sig), "{text}");
    assert!(text.contains("my-header2:\"a b c\"$"), "{text}");
    assert!(text.contains("20150830/us-east-1/service/aws4_request"));
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let cases: &[&[&str]] = &[
        &["sign", "--region", "us-east-1"],
        &[
            "sign",
            "GET",
            "https://h/",
            "--region",
            "us-east-1",
            "--service",
            "s3",
            "--time",
            "yesterday",
            "--access-key",
            "a",
            "--secret-key",
            "b",
        ],
        &[
            "sign",
            "GET",
            "not-a-url",
            "--region",
            "us-east-1",
            "--service",
            "s3",
            "--access-key",
            "a",
            "--secret-key",
            "b",
        ],
        &[
            "sign",
            "GET",
            "https://h/",
            "--region",
            "us east",
            "--service",
            "s3",
            "--access-key",
            "a",
            "--secret-key",
            "b",
        ],
        &[
            "sign",
            "GET",
            "https://h/",
            "--region",
            "us-east-1",
            "--service",
            "s3",
            "--presign",
            "--expires",
            "604801",
            "--access-key",
            "a",
            "--secret-key",
            "b",
        ],
        &[
            "sign",
            "--raw",
            "/definitely/not/here",
            "--region",
            "us-east-1",
            "--service",
            "s3",
            "--access-key",
            "a",
            "--secret-key",
            "b",
        ],
        &[
            "sign",
            "GET",
            "https://h/",
            "--region",
            "us-east-1",
            "--service",
            "s3",
        ],
        &[
            "sign",
            "GET",
            "https://h/",
            "-H",
            "novalue",
            "--region",
            "us-east-1",
            "--service",
            "s3",
            "--access-key",
            "a",
            "--secret-key",
            "b",
        ],
    ];
    for args in cases {
        let out = sigv4(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("sigv4"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.lines().count() <= 2, "{args:?}: {err}");
        if args.len() == 7 {
            // The no-credentials case names what was tried.
            assert!(
                err.contains("Environment") && err.contains("AWS_ACCESS_KEY_ID"),
                "{err}"
            );
        }
    }
}

#[test]
fn url_form_adds_host_and_presigns_s3_unsigned() {
    let out = sigv4(
        &[
            "sign",
            "GET",
            "https://examplebucket.s3.amazonaws.com/test.txt",
            "--region",
            "us-east-1",
            "--service",
            "s3",
            "--time",
            "20130524T000000Z",
            "--access-key",
            "AKIAIOSFODNN7EXAMPLE",
            "--secret-key",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "--presign",
            "--expires",
            "86400",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The presigned GET example of the S3 documentation ("Authenticating Requests: Using Query Parameters").
    assert_eq!(
        v["signature"],
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    );
    assert!(v["url"]
        .as_str()
        .unwrap()
        .starts_with("https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm="));
}

#[test]
fn sigv4a_through_the_cli_matches_the_v4a_suite() {
    let dir = suite().join("../v4a/get-vanilla");
    let req = dir.join("request.txt");
    let out = sigv4(
        &[
            "sign",
            "--raw",
            req.to_str().unwrap(),
            "--region",
            "us-east-1",
            "--service",
            "service",
            "--time",
            "2015-08-30T12:36:00Z",
            "--access-key",
            "AKIDEXAMPLE",
            "--secret-key",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "--sigv4a",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want_cr = fs::read_to_string(dir.join("header-canonical-request.txt")).unwrap();
    let want_sts = fs::read_to_string(dir.join("header-string-to-sign.txt")).unwrap();
    assert_eq!(v["canonical_request"].as_str(), Some(want_cr.as_str()));
    assert_eq!(v["string_to_sign"].as_str(), Some(want_sts.as_str()));
    assert!(v["authorization"]
        .as_str()
        .unwrap()
        .starts_with("AWS4-ECDSA-P256-SHA256 "));
}

#[test]
fn presign_post_prints_url_and_fields() {
    let out = sigv4(
        &[
            "presign",
            "--post",
            "http://127.0.0.1:9000/bkt",
            "--bucket",
            "bkt",
            "--key",
            "up/${filename}",
            "--region",
            "us-east-1",
            "--access-key",
            "AKID",
            "--secret-key",
            "SECRET",
            "--time",
            "20240101T000000Z",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["url"], "http://127.0.0.1:9000/bkt");
    let f = &v["fields"];
    assert_eq!(f["key"], "up/${filename}");
    assert_eq!(f["x-amz-algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(
        f["x-amz-credential"],
        "AKID/20240101/us-east-1/s3/aws4_request"
    );
    assert_eq!(f["x-amz-signature"].as_str().unwrap().len(), 64);
    let out = sigv4(&["presign", "--post", "http://x/", "--region", "r"], None);
    assert_eq!(out.status.code(), Some(2));
}
