//! `sigv4 verify`: the exact contract (flags, JSON keys, exit codes),
//! exercised in-process on the AWS test suite's signed requests.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

#[allow(dead_code)]
#[path = "../src/verify_cmd.rs"]
mod verify_cmd;

#[allow(dead_code)]
#[path = "../src/explain.rs"]
mod explain;

#[path = "../src/keys.rs"]
mod keys;

use std::path::{Path, PathBuf};

use verify_cmd::{run_with, VerifyArgs};

fn suite(case: &str, file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/aws-signing-test-suite/v4")
        .join(case)
        .join(file)
        .to_string_lossy()
        .into_owned()
}

fn suite_v4a(case: &str, file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/aws-signing-test-suite/v4a")
        .join(case)
        .join(file)
        .to_string_lossy()
        .into_owned()
}

fn tmp(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sigv4-verify-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let p = dir.join(format!("{n}-{name}"));
    std::fs::write(&p, content).unwrap();
    p
}

fn keys() -> PathBuf {
    tmp(
        "keys.json",
        br#"{"AKIDEXAMPLE":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY","OTHER":"x"}"#,
    )
}

fn run(
    raw: &str,
    keys: PathBuf,
    time: Option<&str>,
    json: bool,
    stdin: &[u8],
) -> (i32, String, String) {
    let args = VerifyArgs {
        raw: raw.to_owned(),
        keys,
        time: time.map(str::to_owned),
        json,
        explain: false,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_with(&args, &mut &stdin[..], &mut out, &mut err);
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

const T: &str = "20150830T123600Z";

#[test]
fn valid_request_exits_0_with_json() {
    let (code, out, _) = run(
        &suite("get-vanilla", "header-signed-request.txt"),
        keys(),
        Some(T),
        true,
        b"",
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["access_key_id"], "AKIDEXAMPLE");
    let (code, out, _) = run(
        &suite("get-vanilla", "query-signed-request.txt"),
        keys(),
        Some("2015-08-30T12:36:00Z"),
        false,
        b"",
    );
    assert_eq!(code, 0);
    assert!(out.contains("AKIDEXAMPLE"));
}

#[test]
fn stdin_is_read_with_dash() {
    let bytes = std::fs::read(suite("post-vanilla", "header-signed-request.txt")).unwrap();
    let (code, _, _) = run("-", keys(), Some(T), true, &bytes);
    assert_eq!(code, 0);
}

#[test]
fn invalid_request_exits_1_with_code() {
    let text = std::fs::read_to_string(suite("get-vanilla", "header-signed-request.txt")).unwrap();
    let bad = tmp("bad.txt", text.replacen("GET", "PUT", 1).as_bytes());
    let (code, out, _) = run(bad.to_str().unwrap(), keys(), Some(T), true, b"");
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["code"], "SignatureDoesNotMatch");
    assert!(v["message"].as_str().unwrap().contains("signature"));
    // Without --time the 2015 request is far too old.
    let (code, out, _) = run(
        &suite("get-vanilla", "header-signed-request.txt"),
        keys(),
        None,
        true,
        b"",
    );
    assert_eq!(code, 1);
    assert!(out.contains("RequestTimeTooSkewed"));
    // Unknown key.
    let k = tmp("other.json", br#"{"SOMEONE":"x"}"#);
    let (code, out, err) = run(
        &suite("get-vanilla", "header-signed-request.txt"),
        k,
        Some(T),
        false,
        b"",
    );
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("InvalidAccessKeyId"), "{err}");
}

#[test]
fn unusable_inputs_exit_2() {
    let (code, _, err) = run("/nonexistent/req.txt", keys(), Some(T), true, b"");
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"));
    let (code, _, _) = run(
        &suite("get-vanilla", "header-signed-request.txt"),
        PathBuf::from("/nonexistent.json"),
        Some(T),
        true,
        b"",
    );
    assert_eq!(code, 2);
    let k = tmp("array.json", b"[1,2]");
    let (code, _, err) = run(
        &suite("get-vanilla", "header-signed-request.txt"),
        k,
        Some(T),
        true,
        b"",
    );
    assert_eq!(code, 2);
    assert!(err.contains("JSON object"));
    let (code, _, _) = run(
        &suite("get-vanilla", "header-signed-request.txt"),
        keys(),
        Some("yesterday"),
        true,
        b"",
    );
    assert_eq!(code, 2);
    let garbage = tmp("garbage.txt", b"\n\n");
    let (code, _, _) = run(garbage.to_str().unwrap(), keys(), Some(T), true, b"");
    assert_eq!(code, 2);
}

#[test]
fn secrets_never_printed() {
    let text = std::fs::read_to_string(suite("get-vanilla", "header-signed-request.txt")).unwrap();
    let bad = tmp("bad2.txt", text.replacen("GET", "PUT", 1).as_bytes());
    let (_, out, err) = run(bad.to_str().unwrap(), keys(), Some(T), false, b"");
    assert!(!out.contains("wJalr") && !err.contains("wJalr"));
}

#[test]
fn explain_shows_the_servers_canonical_request_on_mismatch() {
    // get-vanilla's signed request with the last signature digit changed.
    let read = |f: &str| std::fs::read_to_string(suite("get-vanilla", f)).unwrap();
    let signed = read("header-signed-request.txt");
    let sig = read("header-signature.txt");
    let last = sig.chars().last().unwrap();
    let bad_sig = format!(
        "{}{}",
        &sig[..sig.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let dir = std::env::temp_dir().join(format!("sigv4-verify-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let raw = dir.join("bad.txt");
    std::fs::write(&raw, signed.replace(&sig, &bad_sig)).unwrap();
    let keys = dir.join("keys.json");
    std::fs::write(
        &keys,
        r#"{"AKIDEXAMPLE":"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}"#,
    )
    .unwrap();
    let args = VerifyArgs {
        raw: raw.to_string_lossy().into_owned(),
        keys,
        time: Some("20150830T123600Z".into()),
        json: true,
        explain: true,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_with(&args, &mut std::io::empty(), &mut out, &mut err);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["code"], "SignatureDoesNotMatch");
    let want_cr = read("header-canonical-request.txt");
    let want_sts = read("header-string-to-sign.txt");
    assert_eq!(v["canonical_request"].as_str(), Some(want_cr.as_str()));
    assert_eq!(v["string_to_sign"].as_str(), Some(want_sts.as_str()));
    assert_eq!(v["signature_provided"].as_str(), Some(bad_sig.as_str()));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sigv4a_requests_verify_and_tampering_exits_1() {
    // The SigV4a suite's signed requests: JSON names the algorithm, the
    // region-less scope and the region set.
    let (code, out, err) = run(
        &suite_v4a("get-vanilla", "header-signed-request.txt"),
        keys(),
        Some(T),
        true,
        b"",
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["algorithm"], "AWS4-ECDSA-P256-SHA256");
    assert_eq!(v["scope"], "20150830/service/aws4_request");
    assert_eq!(v["region_set"], "us-east-1");
    assert_eq!(v["region"], serde_json::Value::Null);
    assert_eq!(v["service"], "service");
    assert_eq!(v["location"], "header");
    let (code, out, _) = run(
        &suite_v4a("post-vanilla-query", "query-signed-request.txt"),
        keys(),
        Some(T),
        false,
        b"",
    );
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        "OK: signed by AKIDEXAMPLE (scope 20150830/service/aws4_request, region set us-east-1, query auth)"
    );
    // A SigV4 request still reports its region.
    let (_, out, _) = run(
        &suite("get-vanilla", "header-signed-request.txt"),
        keys(),
        Some(T),
        true,
        b"",
    );
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["algorithm"], "AWS4-HMAC-SHA256");
    assert_eq!(v["region"], "us-east-1");
    assert_eq!(v["region_set"], serde_json::Value::Null);
    // Tampered with: the path, the region set, the signature.
    let text =
        std::fs::read_to_string(suite_v4a("get-vanilla", "header-signed-request.txt")).unwrap();
    let sig_at = text.rfind("Signature=").unwrap() + "Signature=".len() + 20;
    let mut flipped = text.clone().into_bytes();
    flipped[sig_at] = if flipped[sig_at] == b'0' { b'1' } else { b'0' };
    for (what, bad) in [
        ("path", text.replacen("GET / ", "GET /x ", 1)),
        (
            "region set",
            text.replacen("X-Amz-Region-Set:us-east-1", "X-Amz-Region-Set:us-*", 1),
        ),
        ("signature", String::from_utf8(flipped).unwrap()),
    ] {
        let f = tmp("bad-v4a.txt", bad.as_bytes());
        let (code, out, _) = run(f.to_str().unwrap(), keys(), Some(T), true, b"");
        assert_eq!(code, 1, "{what}");
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["code"], "SignatureDoesNotMatch", "{what}");
    }
}
