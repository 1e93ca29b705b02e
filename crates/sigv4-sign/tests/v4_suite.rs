//! The official AWS SigV4 signing test suite (aws-c-auth), walked as data:
//! every case folder under `tests/vectors/aws-signing-test-suite/v4` is
//! signed with headers and with query parameters, and the canonical request,
//! string to sign, signature and signed request must equal the files byte
//! for byte. A new case folder is picked up with no code change.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sigv4_sign::raw::RawRequest;
use sigv4_sign::{
    AmzDate, Credentials, PayloadHash, Region, Service, SessionTokenPlacement, Settings,
    SignableRequest, Signer, SigningParams,
};

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/aws-signing-test-suite/v4")
}

struct Case {
    name: String,
    dir: PathBuf,
    ctx: serde_json::Value,
}

fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = fs::read_dir(suite_dir())
        .expect("suite folder")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("context.json").is_file())
        .map(|dir| {
            let ctx = serde_json::from_slice(&fs::read(dir.join("context.json")).unwrap()).unwrap();
            Case {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                dir,
                ctx,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

/// Signs one case one way and returns the mismatches found.
fn check(case: &Case, signer: &Signer, query: bool) -> Vec<String> {
    let ctx = &case.ctx;
    let c = &ctx["credentials"];
    let creds = Credentials::new(
        c["access_key_id"].as_str().unwrap(),
        c["secret_access_key"].as_str().unwrap(),
        c["token"].as_str().map(str::to_owned),
    );
    let region = Region::new(ctx["region"].as_str().unwrap().to_owned()).unwrap();
    let service = Service::new(ctx["service"].as_str().unwrap().to_owned()).unwrap();
    let time = AmzDate::parse(ctx["timestamp"].as_str().unwrap()).unwrap();
    let mut settings = Settings::for_service(&service)
        .clone()
        .with_normalize_path(ctx["normalize"].as_bool().unwrap_or(true))
        .with_content_sha256_header(ctx["sign_body"].as_bool().unwrap_or(false));
    if ctx["omit_session_token"].as_bool().unwrap_or(false) {
        settings = settings.with_session_token(SessionTokenPlacement::AppendAfterSigning);
    }
    let raw = RawRequest::parse(&read(&case.dir, "request.txt")).unwrap();
    let headers = raw.header_pairs();
    let req = SignableRequest::new(&raw.method, &raw.target, &headers).unwrap();
    let params = SigningParams::new(&creds, &region, &service, time)
        .with_settings(&settings)
        .with_debug(true);
    let payload = PayloadHash::Body(&raw.body);
    let out = if query {
        let expires = ctx["expiration_in_seconds"].as_u64().unwrap();
        signer
            .presign(&req, payload, &params, Duration::from_secs(expires))
            .unwrap()
    } else {
        signer.sign(&req, payload, &params).unwrap()
    };
    let debug = out.debug().unwrap();
    let prefix = if query { "query" } else { "header" };
    let mut problems = Vec::new();
    let mut expect = |file: &str, got: &[u8]| {
        let want = read(&case.dir, &format!("{prefix}-{file}"));
        if want != got {
            problems.push(format!(
                "{} {prefix}-{file}:\n--- want\n{}\n--- got\n{}",
                case.name,
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(got)
            ));
        }
    };
    expect("canonical-request.txt", &debug.canonical_request);
    expect("string-to-sign.txt", debug.string_to_sign.as_bytes());
    expect("signature.txt", out.signature().as_bytes());
    expect("signed-request.txt", &raw.render_signed(&out));
    problems
}

#[test]
fn every_v4_case_signs_byte_for_byte() {
    let cases = cases();
    assert!(
        cases.len() >= 38,
        "expected the 38 cases of the suite, found {}",
        cases.len()
    );
    let signer = Signer::new();
    let mut problems = Vec::new();
    for case in &cases {
        problems.extend(check(case, &signer, false));
        problems.extend(check(case, &signer, true));
    }
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}
