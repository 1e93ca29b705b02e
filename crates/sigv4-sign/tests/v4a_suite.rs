//! The official SigV4a signing test suite (aws-c-auth), walked as data:
//! every case folder under `tests/vectors/aws-signing-test-suite/v4a` that
//! carries expected output is signed with headers and with query
//! parameters. Per case and per way:
//!
//! - canonical request and string to sign equal the files byte for byte;
//! - the public key derived from the secret equals `public-key.json`;
//! - our signature verifies under that public key;
//! - the suite's own signature (`*-signature.txt`) verifies under our code;
//! - the signed request equals the file once its (random) signature is ours.
//!
//! Folders holding only a request (no expected output) are listed and
//! skipped by name.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure
#![cfg(feature = "sigv4a")]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sigv4_sign::raw::RawRequest;
use sigv4_sign::sigv4a::{self, RegionSet, SigV4aSigner};
use sigv4_sign::{
    AmzDate, Credentials, PayloadHash, Region, Service, SessionTokenPlacement, Settings,
    SignableRequest, SigningParams,
};

/// The folders of the suite with a request only: nothing to compare.
const REQUEST_ONLY: &[&str] = &[
    "get-vanilla-query-order-key",
    "get-vanilla-query-order-value",
];

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/aws-signing-test-suite/v4a")
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

fn json(dir: &Path, file: &str) -> serde_json::Value {
    serde_json::from_slice(&read(dir, file)).unwrap()
}

fn check(dir: &Path, name: &str, signer: &SigV4aSigner, query: bool) -> Vec<String> {
    let ctx = json(dir, "context.json");
    let c = &ctx["credentials"];
    let creds = Credentials::new(
        c["access_key_id"].as_str().unwrap(),
        c["secret_access_key"].as_str().unwrap(),
        c["token"].as_str().map(str::to_owned),
    );
    let region_name = ctx["region"].as_str().unwrap();
    let region = Region::new(region_name.to_owned()).unwrap();
    let region_set = RegionSet::parse(region_name).unwrap();
    let service = Service::new(ctx["service"].as_str().unwrap().to_owned()).unwrap();
    let time = AmzDate::parse(ctx["timestamp"].as_str().unwrap()).unwrap();
    let mut settings = Settings::for_service(&service)
        .clone()
        .with_normalize_path(ctx["normalize"].as_bool().unwrap_or(true))
        .with_content_sha256_header(ctx["sign_body"].as_bool().unwrap_or(false));
    if ctx["omit_session_token"].as_bool().unwrap_or(false) {
        settings = settings.with_session_token(SessionTokenPlacement::AppendAfterSigning);
    }
    let raw = RawRequest::parse(&read(dir, "request.txt")).unwrap();
    let headers = raw.header_pairs();
    let req = SignableRequest::new(&raw.method, &raw.target, &headers).unwrap();
    let params = SigningParams::new(&creds, &region, &service, time)
        .with_settings(&settings)
        .with_debug(true);
    let payload = PayloadHash::Body(&raw.body);
    let out = if query {
        let expires = ctx["expiration_in_seconds"].as_u64().unwrap();
        signer
            .presign(
                &req,
                payload,
                &params,
                &region_set,
                Duration::from_secs(expires),
            )
            .unwrap()
    } else {
        signer.sign(&req, payload, &params, &region_set).unwrap()
    };
    let debug = out.debug().unwrap();
    let prefix = if query { "query" } else { "header" };
    let mut problems = Vec::new();
    let expect = |problems: &mut Vec<String>, file: &str, want: &[u8], got: &[u8]| {
        if want != got {
            problems.push(format!(
                "{name} {file}:\n--- want\n{}\n--- got\n{}",
                String::from_utf8_lossy(want),
                String::from_utf8_lossy(got)
            ));
        }
    };
    let cr_file = format!("{prefix}-canonical-request.txt");
    expect(
        &mut problems,
        &cr_file,
        &read(dir, &cr_file),
        &debug.canonical_request,
    );
    let sts_file = format!("{prefix}-string-to-sign.txt");
    let sts = read(dir, &sts_file);
    expect(
        &mut problems,
        &sts_file,
        &sts,
        debug.string_to_sign.as_bytes(),
    );

    // The public key derived from the secret.
    let pk = json(dir, "public-key.json");
    let key = signer.key(&creds).unwrap();
    let (x, y) = key.public_key_xy();
    expect(
        &mut problems,
        "public-key.json X",
        pk["X"].as_str().unwrap().as_bytes(),
        hex::encode(x).as_bytes(),
    );
    expect(
        &mut problems,
        "public-key.json Y",
        pk["Y"].as_str().unwrap().as_bytes(),
        hex::encode(y).as_bytes(),
    );
    let mut suite_pk = vec![4u8];
    suite_pk.extend(hex::decode(pk["X"].as_str().unwrap()).unwrap());
    suite_pk.extend(hex::decode(pk["Y"].as_str().unwrap()).unwrap());

    // Our signature verifies under the suite's public key ...
    if !sigv4a::verify(&suite_pk, &sts, out.signature()) {
        problems.push(format!(
            "{name} {prefix}: our signature does not verify under public-key.json"
        ));
    }
    // ... and the suite's signatures verify under our verification code.
    let sig_file = format!("{prefix}-signature.txt");
    let suite_sig = String::from_utf8(read(dir, &sig_file)).unwrap();
    if !sigv4a::verify(&suite_pk, &sts, suite_sig.trim()) {
        problems.push(format!("{name} {sig_file} does not verify"));
    }
    // A tampered string to sign does not.
    let mut tampered = sts.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    if sigv4a::verify(&suite_pk, &tampered, suite_sig.trim()) {
        problems.push(format!("{name} {sig_file} verifies a tampered string"));
    }

    // The signed request, once the suite's (random) signature is swapped for ours.
    let signed_file = format!("{prefix}-signed-request.txt");
    let want_signed = String::from_utf8(read(dir, &signed_file)).unwrap();
    let marker = if query {
        "X-Amz-Signature="
    } else {
        "Signature="
    };
    let want_signed = match want_signed.rfind(marker) {
        Some(at) => {
            let start = at + marker.len();
            let end = want_signed[start..]
                .find(|c: char| !c.is_ascii_hexdigit())
                .map_or(want_signed.len(), |e| start + e);
            // The embedded signature verifies too.
            if !sigv4a::verify(&suite_pk, &sts, &want_signed[start..end]) {
                problems.push(format!(
                    "{name} {signed_file}: embedded signature does not verify"
                ));
            }
            format!(
                "{}{}{}",
                &want_signed[..start],
                out.signature(),
                &want_signed[end..]
            )
        }
        None => want_signed,
    };
    expect(
        &mut problems,
        &signed_file,
        want_signed.as_bytes(),
        &raw.render_signed(&out),
    );
    problems
}

#[test]
fn every_v4a_case_with_expected_output_matches() {
    let mut dirs: Vec<PathBuf> = fs::read_dir(suite_dir())
        .expect("suite folder")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("context.json").is_file())
        .collect();
    dirs.sort();
    let signer = SigV4aSigner::new();
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut skipped = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !dir.join("header-canonical-request.txt").is_file() {
            assert!(
                REQUEST_ONLY.contains(&name.as_str()),
                "{name} has no expected output and is not in REQUEST_ONLY"
            );
            skipped.push(name);
            continue;
        }
        problems.extend(check(dir, &name, &signer, false));
        problems.extend(check(dir, &name, &signer, true));
        checked += 1;
    }
    assert_eq!(skipped, REQUEST_ONLY, "the request-only folders");
    assert_eq!(checked, 38, "expected the 38 cases with expected output");
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

#[test]
fn key_derivation_matches_the_suite_and_is_cached() {
    // get-vanilla/public-key.json of the suite.
    let k = sigv4a::derive_signing_key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        .unwrap();
    let (x, y) = k.public_key_xy();
    assert_eq!(
        hex::encode(x),
        "b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1"
    );
    assert_eq!(
        hex::encode(y),
        "865ed22a7eadc9c5cb9d2cbaca1b3699139fedc5043dc6661864218330c8e518"
    );
    let signer = SigV4aSigner::new();
    let c = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
    );
    let a = signer.key(&c).unwrap();
    let b = signer.key(&c).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
}
