//! POST policy forms: signature, expiration and every condition.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

use sigv4_sign::post_policy::{presign_post, PostPolicy};
use sigv4_sign::{AmzDate, Credentials, Region, Service, SignableRequest, SigningParams};
use sigv4_verify::{FixedClock, StaticSecretStore, Verifier, VerifyError};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const T0: i64 = 1_704_067_200;
const CT: &str = "multipart/form-data; boundary=----b0undary";

fn form(secret: &str, extra_fields: &[(&str, &str)]) -> Vec<(String, String)> {
    let creds = Credentials::new(AKID, secret, None);
    let region = Region::new("us-east-1").unwrap();
    let s3 = Service::new("s3").unwrap();
    let time = AmzDate::from_unix(T0).unwrap();
    let params = SigningParams::new(&creds, &region, &s3, time);
    let policy = PostPolicy::expires_in(&time, Duration::from_secs(600))
        .unwrap()
        .content_length_range(1, 10)
        .unwrap();
    let p = presign_post(
        &params,
        "https://bucket.s3.amazonaws.com/",
        "bucket",
        "user/${filename}",
        extra_fields,
        &policy,
    )
    .unwrap();
    p.fields
}

fn body(fields: &[(String, String)], file: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for (n, v) in fields {
        b.extend_from_slice(
            format!(
                "------b0undary\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n"
            )
            .as_bytes(),
        );
    }
    b.extend_from_slice(b"------b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n");
    b.extend_from_slice(file);
    b.extend_from_slice(b"\r\n------b0undary--\r\n");
    b
}

fn verify(
    at: i64,
    fields: &[(String, String)],
    file: &[u8],
    extra_headers: &[(&str, &str)],
    target: &str,
) -> Result<sigv4_verify::post::PostVerified, VerifyError> {
    let v = Verifier::new(StaticSecretStore::new())
        .with_clock(FixedClock(UNIX_EPOCH + Duration::from_secs(at as u64)));
    let mut headers = vec![("host", "bucket.s3.amazonaws.com"), ("content-type", CT)];
    headers.extend_from_slice(extra_headers);
    let req = SignableRequest::new("POST", target, &headers).unwrap();
    let b = body(fields, file);
    v.verify_post_with(&req, &b, Some("bucket"), |k| {
        (k == AKID).then(|| Credentials::new(AKID, SECRET, None))
    })
}

fn code<T>(r: Result<T, VerifyError>) -> &'static str {
    r.map_or_else(|e| e.code(), |_| "OK")
}

#[test]
fn valid_form_verifies_and_substitutes_filename() {
    let f = form(SECRET, &[("Content-Type", "text/plain")]);
    let ok = verify(T0 + 10, &f, b"hello", &[], "/").unwrap();
    assert_eq!(ok.key, "user/a.txt");
    assert_eq!(ok.identity.access_key_id, AKID);
}

#[test]
fn wrong_secret_fails_with_any_payload_field() {
    for payload in [
        "UNSIGNED-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    ] {
        let f = form("wrong", &[("x-amz-content-sha256", payload)]);
        assert_eq!(
            code(verify(T0 + 10, &f, b"hello", &[], "/")),
            "SignatureDoesNotMatch",
            "{payload}"
        );
        let f = form(SECRET, &[("x-amz-content-sha256", payload)]);
        assert_eq!(
            code(verify(T0 + 10, &f, b"hello", &[], "/")),
            "OK",
            "{payload}"
        );
    }
}

#[test]
fn expiration_and_conditions() {
    let f = form(SECRET, &[]);
    let e = verify(T0 + 601, &f, b"hello", &[], "/").unwrap_err();
    assert_eq!(e.code(), "AccessDenied");
    assert!(e.to_string().contains("expired"));
    // content-length-range 1..=10.
    assert_eq!(code(verify(T0, &f, b"", &[], "/")), "AccessDenied");
    assert_eq!(
        code(verify(T0, &f, b"01234567890", &[], "/")),
        "AccessDenied"
    );
    // starts-with on key.
    let mut g = f.clone();
    for (n, v) in &mut g {
        if n == "key" {
            *v = "admin/${filename}".into();
        }
    }
    assert_eq!(code(verify(T0, &g, b"hello", &[], "/")), "AccessDenied");
    // A field no condition covers.
    let mut g = f.clone();
    g.insert(0, ("acl".into(), "public-read".into()));
    let e = verify(T0, &g, b"hello", &[], "/").unwrap_err();
    assert!(e.to_string().contains("Extra input fields: acl"), "{e}");
    // x-ignore-* fields are fine.
    let mut g = f.clone();
    g.insert(0, ("x-ignore-me".into(), "1".into()));
    assert_eq!(code(verify(T0, &g, b"hello", &[], "/")), "OK");
    // Wrong bucket.
    let v = Verifier::new(StaticSecretStore::new())
        .with_clock(FixedClock(UNIX_EPOCH + Duration::from_secs(T0 as u64)));
    let headers = [("host", "x"), ("content-type", CT)];
    let req = SignableRequest::new("POST", "/", &headers).unwrap();
    let b = body(&f, b"hello");
    let r = v.verify_post_with(&req, &b, Some("other"), |_| {
        Some(Credentials::new(AKID, SECRET, None))
    });
    assert_eq!(code(r), "AccessDenied");
}

#[test]
fn form_plus_other_credentials_is_rejected() {
    let f = form(SECRET, &[]);
    assert_eq!(
        code(verify(
            T0,
            &f,
            b"hello",
            &[("authorization", "AWS4-HMAC-SHA256 Credential=x")],
            "/"
        )),
        "InvalidRequest"
    );
    assert_eq!(
        code(verify(T0, &f, b"hello", &[], "/?X-Amz-Signature=00")),
        "InvalidRequest"
    );
}
