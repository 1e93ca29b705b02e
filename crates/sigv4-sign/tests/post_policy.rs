//! S3 POST policy against the worked example of the S3 documentation
//! ("Example: Browser-based upload using HTTP POST (using AWS Signature
//! Version 4)"): the published policy base64 and signature, and a policy
//! built with our builder that carries the same conditions.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine as _;
use sigv4_sign::post_policy::{post_policy_signature, presign_post, PostPolicy, PostPolicyError};
use sigv4_sign::{AmzDate, Credentials, Region, Service, SigningKey, SigningParams};

const AKID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const POLICY_B64: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
const SIGNATURE: &str = "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

#[test]
fn documented_policy_signature() {
    let key = SigningKey::derive(SECRET, "20151229", "us-east-1", "s3");
    assert_eq!(post_policy_signature(&key, POLICY_B64), SIGNATURE);
    // A changed policy signs differently.
    assert_ne!(post_policy_signature(&key, &POLICY_B64[1..]), SIGNATURE);
}

/// A condition in a normal form, so documents can be compared as sets.
fn normal(c: &serde_json::Value) -> String {
    match c {
        serde_json::Value::Object(m) => {
            let (k, v) = m.iter().next().unwrap();
            format!("eq {} {}", k.to_ascii_lowercase(), v.as_str().unwrap())
        }
        serde_json::Value::Array(a) => a
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s.to_ascii_lowercase(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        other => panic!("unexpected condition {other}"),
    }
}

fn conditions(doc: &serde_json::Value) -> BTreeSet<String> {
    doc["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(normal)
        .collect()
}

#[test]
fn builder_gives_the_documented_conditions_and_fields() {
    let documented: serde_json::Value =
        serde_json::from_slice(&b64().decode(POLICY_B64).unwrap()).unwrap();
    assert_eq!(documented["expiration"], "2015-12-30T12:00:00.000Z");

    let creds = Credentials::new(AKID, SECRET, None);
    let region = Region::new("us-east-1").unwrap();
    let s3 = Service::new("s3").unwrap();
    let now = AmzDate::parse("20151229T000000Z").unwrap();
    let params = SigningParams::new(&creds, &region, &s3, now);
    let policy = PostPolicy::expires_in(&now, Duration::from_secs(36 * 3600))
        .unwrap()
        .starts_with("Content-Type", "image/")
        .unwrap()
        .starts_with("x-amz-meta-tag", "")
        .unwrap();
    let post = presign_post(
        &params,
        "http://sigv4examplebucket.s3.amazonaws.com/",
        "sigv4examplebucket",
        "user/user1/${filename}",
        &[
            ("acl", "public-read"),
            (
                "success_action_redirect",
                "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
            ),
            ("Content-Type", "image/jpeg"),
            ("x-amz-meta-uuid", "14365123651274"),
            ("x-amz-server-side-encryption", "AES256"),
            ("x-amz-meta-tag", ""),
        ],
        &policy,
    )
    .unwrap();

    let ours: serde_json::Value =
        serde_json::from_slice(&b64().decode(post.field("policy").unwrap()).unwrap()).unwrap();
    assert_eq!(ours["expiration"], "2015-12-30T12:00:00Z");
    assert_eq!(conditions(&ours), conditions(&documented));
    assert_eq!(post.policy_json, ours.to_string());

    // The fields boto3 gives, in its order, after the caller's fields.
    let names: Vec<&str> = post.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        &names[6..],
        [
            "key",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "policy",
            "x-amz-signature"
        ]
    );
    assert_eq!(
        post.field("x-amz-credential"),
        Some("AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request")
    );
    assert_eq!(post.field("x-amz-date"), Some("20151229T000000Z"));
    assert_eq!(post.field("key"), Some("user/user1/${filename}"));
    // The signature is the documented construction over our base64.
    let key = SigningKey::derive(SECRET, "20151229", "us-east-1", "s3");
    assert_eq!(
        post.field("x-amz-signature").unwrap(),
        post_policy_signature(&key, post.field("policy").unwrap())
    );
    let json = post.to_json();
    assert_eq!(json["url"], "http://sigv4examplebucket.s3.amazonaws.com/");
    assert_eq!(json["fields"]["acl"], "public-read");
}

#[test]
fn session_token_is_a_field_and_a_condition() {
    let creds = Credentials::new(AKID, SECRET, Some("TOKEN/+=".to_owned()));
    let region = Region::new("eu-west-1").unwrap();
    let s3 = Service::new("s3").unwrap();
    let now = AmzDate::parse("20240101T000000Z").unwrap();
    let params = SigningParams::new(&creds, &region, &s3, now);
    let policy = PostPolicy::expires_in(&now, Duration::from_secs(60)).unwrap();
    let post = presign_post(&params, "http://x/", "b", "k", &[], &policy).unwrap();
    assert_eq!(post.field("x-amz-security-token"), Some("TOKEN/+="));
    let doc: serde_json::Value = serde_json::from_str(&post.policy_json).unwrap();
    assert!(conditions(&doc).contains("eq x-amz-security-token TOKEN/+="));
    assert!(conditions(&doc).contains("eq key k"));
    assert!(conditions(&doc).contains("eq bucket b"));
}

#[test]
fn rejects_what_s3_would() {
    let creds = Credentials::new(AKID, SECRET, None);
    let region = Region::new("us-east-1").unwrap();
    let s3 = Service::new("s3").unwrap();
    let now = AmzDate::parse("20240101T000000Z").unwrap();
    let params = SigningParams::new(&creds, &region, &s3, now);
    let expired = PostPolicy::new(AmzDate::parse("20231231T000000Z").unwrap());
    assert!(matches!(
        presign_post(&params, "u", "b", "k", &[], &expired),
        Err(PostPolicyError::ExpiresBeforeSigning { .. })
    ));
    let ok = PostPolicy::expires_in(&now, Duration::from_secs(60)).unwrap();
    assert_eq!(
        presign_post(&params, "u", "", "k", &[], &ok),
        Err(PostPolicyError::EmptyBucket)
    );
    assert!(matches!(
        PostPolicy::expires_in(&now, Duration::from_secs(604_801)),
        Err(PostPolicyError::InvalidLifetime { seconds: 604_801 })
    ));
}
