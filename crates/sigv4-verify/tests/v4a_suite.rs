//! SigV4a verification (feature `sigv4a`): every signed request of the AWS
//! SigV4a test suite (aws-c-auth) verifies with the suite's credentials and
//! time, and every single-byte change to a signed part is rejected with the
//! right code (the same walk as the SigV4 suite, `support/suite.rs`). Then
//! requests signed by our SigV4a signer: round trips, the region-set rule,
//! and the lessons the SigV4 verifier keeps (duplicate or two-place
//! credentials, unsigned headers, skew, expiry, host signed), through
//! `verify_with`, the async store path and the tower layer.

#![cfg(feature = "sigv4a")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

use sigv4_sign::raw::RawRequest;
use sigv4_sign::sigv4a::{RegionSet, SigV4aSigner};
use sigv4_sign::{
    AmzDate, Credentials, PayloadHash, Region, Service, SignableRequest, SigningParams,
};
use sigv4_verify::{AuthLocation, FixedClock, Policy, StaticSecretStore, Verifier, VerifyError};

#[path = "support/suite.rs"]
mod suite;

use suite::{case_dirs, load_case, suite_dir, verify_full, walk};

#[path = "support/signed.rs"]
mod signed;
use signed::{check, code, creds, verifier_at, Signed, AKID, SECRET, T0};

/// The suite folders with a request only (no signed request to verify).
const REQUEST_ONLY: [&str; 2] = [
    "get-vanilla-query-order-key",
    "get-vanilla-query-order-value",
];

#[test]
fn v4a_suite_signed_requests_verify_and_mutations_fail() {
    let dirs = case_dirs("v4a");
    let signed: Vec<_> = dirs
        .iter()
        .filter(|d| d.join("header-signed-request.txt").is_file())
        .cloned()
        .collect();
    let request_only: Vec<String> = dirs
        .iter()
        .filter(|d| !d.join("header-signed-request.txt").is_file())
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(request_only, REQUEST_ONLY);
    assert_eq!(signed.len(), 38, "the 38 cases with signed requests");
    let t = walk(&signed);
    eprintln!(
        "{} SigV4a signed requests accepted, {} mutations rejected",
        t.accepted, t.mutations
    );
    assert_eq!(t.accepted, 2 * signed.len());
    assert!(t.mutations > 20_000, "{} mutations", t.mutations);
}

#[test]
fn suite_identity_and_region_set_rule() {
    let dir = suite_dir("v4a").join("get-vanilla");
    let case = load_case(&dir);
    let raw =
        RawRequest::parse(&std::fs::read(dir.join("header-signed-request.txt")).unwrap()).unwrap();
    let v = verify_full(&case, &raw).unwrap();
    assert_eq!(v.identity.access_key_id, "AKIDEXAMPLE");
    assert_eq!(v.identity.region_set.as_deref(), Some("us-east-1"));
    assert_eq!(v.identity.scope_string(), "20150830/service/aws4_request");
    assert_eq!(v.identity.scope.region().as_str(), "*");
    assert_eq!(v.identity.location, AuthLocation::Header);
    assert_eq!(v.identity.time.as_str(), "20150830T123600Z");
    // One public key derived and cached for the access key.
    assert_eq!(case.verifier.cached_keys(), 1);

    // The suite signs for `us-east-1`: a server serving only another region
    // refuses it, naming its region, before looking at the signature.
    let qraw =
        RawRequest::parse(&std::fs::read(dir.join("query-signed-request.txt")).unwrap()).unwrap();
    let mut other = load_case(&dir);
    other.verifier = Verifier::new(StaticSecretStore::new())
        .with_policy(Policy::default().with_allowed_regions(["eu-west-1", "ap-south-1"]))
        .with_clock(FixedClock(UNIX_EPOCH + Duration::from_secs(1_440_938_160)));
    let e = verify_full(&other, &raw).unwrap_err();
    assert_eq!(e.code(), "AuthorizationHeaderMalformed");
    assert!(
        e.to_xml(None).contains("<Region>eu-west-1</Region>"),
        "{}",
        e.to_xml(None)
    );
    let e = verify_full(&other, &qraw).unwrap_err();
    assert_eq!(e.code(), "AuthorizationQueryParametersError");
    // Serving us-east-1 among others is enough.
    other.verifier = Verifier::new(StaticSecretStore::new())
        .with_policy(Policy::default().with_allowed_regions(["eu-west-1", "us-east-1"]))
        .with_clock(FixedClock(UNIX_EPOCH + Duration::from_secs(1_440_938_160)));
    verify_full(&other, &raw).unwrap();
    verify_full(&other, &qraw).unwrap();
}

#[test]
fn suite_time_skew() {
    let dir = suite_dir("v4a").join("get-vanilla");
    let raw =
        RawRequest::parse(&std::fs::read(dir.join("header-signed-request.txt")).unwrap()).unwrap();
    let base = 1_440_938_160i64;
    for (offset, ok) in [(-901i64, false), (-900, true), (900, true), (901, false)] {
        let mut case = load_case(&dir);
        case.verifier = Verifier::new(StaticSecretStore::new())
            .with_policy(case.verifier.policy().clone())
            .with_clock(FixedClock(
                UNIX_EPOCH + Duration::from_secs((base + offset) as u64),
            ));
        let r = verify_full(&case, &raw);
        assert_eq!(r.is_ok(), ok, "offset {offset}: {r:?}");
        if !ok {
            assert_eq!(r.unwrap_err().code(), "RequestTimeTooSkewed");
        }
    }
}

// ---- Requests signed by our SigV4a signer ----

const HOST: (&str, &str) = ("host", "mrap.accesspoint.s3-global.amazonaws.com");

#[allow(clippy::too_many_arguments)]
fn sign_v4a(
    creds: &Credentials,
    regions: &str,
    at: u64,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    query: bool,
) -> Signed {
    let region = Region::new("us-east-1").unwrap();
    let s3 = Service::new("s3").unwrap();
    let params = SigningParams::new(creds, &region, &s3, AmzDate::from_unix(at as i64).unwrap());
    let req = SignableRequest::new(method, uri, headers).unwrap();
    let set = RegionSet::parse(regions).unwrap();
    let signer = SigV4aSigner::new();
    let mut out_headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).into(), (*v).into()))
        .collect();
    let mut target = uri.to_owned();
    if query {
        let out = signer
            .presign(
                &req,
                PayloadHash::Unsigned,
                &params,
                &set,
                Duration::from_secs(3600),
            )
            .unwrap();
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str(&out.query_string());
    } else {
        let out = signer
            .sign(&req, PayloadHash::Body(body), &params, &set)
            .unwrap();
        out_headers.extend(out.params().iter().map(|(n, v)| ((*n).into(), v.clone())));
    }
    Signed {
        method: method.into(),
        target,
        headers: out_headers,
        body: body.to_vec(),
    }
}

#[test]
fn sign_then_verify_round_trips() {
    let v = verifier_at(T0, Policy::default());
    for query in [false, true] {
        let s = sign_v4a(
            &creds(),
            "us-east-1,eu-*",
            T0,
            "PUT",
            "/photos/2024/a%20b.jpg?versionId=3",
            &[HOST, ("x-amz-meta-album", "summer")],
            b"hello",
            query,
        );
        let ok = check(&v, &s).unwrap();
        assert_eq!(ok.identity.region_set.as_deref(), Some("us-east-1,eu-*"));
        assert_eq!(ok.identity.scope_string(), "20240101/s3/aws4_request");
        assert_eq!(
            ok.identity.location,
            if query {
                AuthLocation::Query
            } else {
                AuthLocation::Header
            }
        );
    }
    // The async path, with the key from the store.
    let s = sign_v4a(&creds(), "*", T0, "GET", "/k", &[HOST], b"", false);
    let pairs = s.header_pairs();
    let req = SignableRequest::new(&s.method, &s.target, &pairs).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let r = rt.block_on(v.verify(&req, Some(b""))).unwrap();
    assert_eq!(r.identity.access_key_id, AKID);
    // A wrong secret or an unknown key fails like SigV4.
    let bad = sign_v4a(
        &Credentials::new(AKID, "not-the-secret", None),
        "*",
        T0,
        "GET",
        "/k",
        &[HOST],
        b"",
        false,
    );
    assert_eq!(code(check(&v, &bad)), "SignatureDoesNotMatch");
    let unknown = sign_v4a(
        &Credentials::new("AKIDOTHER", SECRET, None),
        "*",
        T0,
        "GET",
        "/k",
        &[HOST],
        b"",
        false,
    );
    assert_eq!(code(check(&v, &unknown)), "InvalidAccessKeyId");
}

#[test]
fn region_set_rule_with_wildcards() {
    let at = |regions: &[&str]| {
        verifier_at(
            T0,
            Policy::default().with_allowed_regions(regions.iter().copied()),
        )
    };
    for (set, served, ok) in [
        ("us-east-1", &["us-east-1"][..], true),
        ("us-east-1", &["us-west-2"][..], false),
        ("*", &["ap-south-1"][..], true),
        ("us-*", &["us-west-2"][..], true),
        ("us-*", &["eu-west-1"][..], false),
        ("eu-west-1,us-*", &["us-east-2"][..], true),
        ("eu-west-1,ap-*", &["sa-east-1", "ap-south-1"][..], true),
        ("eu-west-1,ap-*", &["sa-east-1", "us-east-1"][..], false),
    ] {
        for query in [false, true] {
            let s = sign_v4a(&creds(), set, T0, "GET", "/k", &[HOST], b"", query);
            let r = check(&at(served), &s);
            let want = match (ok, query) {
                (true, _) => "OK",
                (false, false) => "AuthorizationHeaderMalformed",
                (false, true) => "AuthorizationQueryParametersError",
            };
            assert_eq!(code(r), want, "{set} on {served:?}, query {query}");
        }
    }
    // Any region set goes when the policy names no region.
    let s = sign_v4a(&creds(), "xx-*", T0, "GET", "/k", &[HOST], b"", false);
    assert_eq!(code(check(&verifier_at(T0, Policy::default()), &s)), "OK");
}

#[test]
fn region_set_must_be_present_signed_and_well_formed() {
    let v = verifier_at(T0, Policy::default());
    let s = sign_v4a(&creds(), "us-east-1", T0, "GET", "/k", &[HOST], b"", false);
    // Absent.
    let r = check(&v, &s.clone().without_header("x-amz-region-set"));
    assert_eq!(code(r), "MissingSecurityHeader");
    // Sent twice.
    let r = check(&v, &s.clone().with_header("X-Amz-Region-Set", "us-east-1"));
    assert_eq!(code(r), "InvalidRequest");
    // Not signed, even with strict mode off.
    let auth = s.header("authorization").replace(";x-amz-region-set", "");
    let unsigned = s.clone().replace_header("authorization", &auth);
    let lax = verifier_at(T0, Policy::default().with_strict(false));
    match check(&lax, &unsigned) {
        Err(VerifyError::HeadersNotSigned(h)) => assert_eq!(h, ["x-amz-region-set"]),
        other => panic!("{other:?}"),
    }
    // Changed after signing: caught by the signature.
    let r = check(&v, &s.clone().replace_header("x-amz-region-set", "*"));
    assert_eq!(code(r), "SignatureDoesNotMatch");
    // Not a region list.
    let r = check(
        &v,
        &s.clone().replace_header("x-amz-region-set", "us-east-1,,"),
    );
    assert_eq!(code(r), "InvalidArgument");
    // Presigned without X-Amz-Region-Set.
    let q = sign_v4a(&creds(), "us-east-1", T0, "GET", "/k", &[HOST], b"", true);
    let mut stripped = q.clone();
    stripped.target = q
        .target
        .split('&')
        .filter(|p| !p.starts_with("X-Amz-Region-Set="))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(
        code(check(&v, &stripped)),
        "AuthorizationQueryParametersError"
    );
}

#[test]
fn lessons_hold_for_v4a() {
    let v = verifier_at(T0, Policy::default());
    let s = sign_v4a(&creds(), "us-east-1", T0, "GET", "/k", &[HOST], b"", false);
    let q = sign_v4a(&creds(), "us-east-1", T0, "GET", "/k", &[HOST], b"", true);
    assert_eq!(code(check(&v, &s)), "OK");
    assert_eq!(code(check(&v, &q)), "OK");

    // Two Authorization headers.
    let auth = s.header("authorization").to_owned();
    let r = check(&v, &s.clone().with_header("Authorization", &auth));
    assert_eq!(code(r), "InvalidRequest");
    // Credentials in two places: header and query.
    let mut both = s.clone();
    both.target.clone_from(&q.target);
    assert_eq!(code(check(&v, &both)), "InvalidRequest");

    // Every x-amz-* header signed in strict mode.
    let extra = s.clone().with_header("x-amz-meta-x", "1");
    match check(&v, &extra) {
        Err(VerifyError::HeadersNotSigned(h)) => assert_eq!(h, ["x-amz-meta-x"]),
        other => panic!("{other:?}"),
    }
    // Host must be signed.
    let no_host = s.clone().replace_header(
        "authorization",
        &auth.replace("SignedHeaders=host;", "SignedHeaders="),
    );
    match check(&v, &no_host) {
        Err(VerifyError::HeadersNotSigned(h)) => assert_eq!(h, ["host"]),
        other => panic!("{other:?}"),
    }
    // Skew (header) and expiry (query).
    assert_eq!(
        code(check(&verifier_at(T0 + 901, Policy::default()), &s)),
        "RequestTimeTooSkewed"
    );
    assert_eq!(
        code(check(&verifier_at(T0 + 3601, Policy::default()), &q)),
        "AccessDenied"
    );
    assert_eq!(
        code(check(&verifier_at(T0 + 3600, Policy::default()), &q)),
        "OK"
    );
    // The scope date must be the request's date.
    let wrong_date = s
        .clone()
        .replace_header("authorization", &auth.replace("/20240101/", "/20240102/"));
    assert_eq!(code(check(&v, &wrong_date)), "AuthorizationHeaderMalformed");
    // A SigV4 scope (with a region) under the SigV4a algorithm is malformed.
    let v4_scope = s.clone().replace_header(
        "authorization",
        &auth.replace("/20240101/s3/", "/20240101/us-east-1/s3/"),
    );
    assert_eq!(code(check(&v, &v4_scope)), "AuthorizationHeaderMalformed");
    // Services outside the policy.
    let only_sts = verifier_at(T0, Policy::default().with_allowed_services(["sts"]));
    assert_eq!(code(check(&only_sts, &s)), "AuthorizationHeaderMalformed");
    // A signature that is not hex, or upper-case hex.
    let sig = auth.rsplit("Signature=").next().unwrap();
    let upper = s.clone().replace_header(
        "authorization",
        &auth.replace(sig, &sig.to_ascii_uppercase()),
    );
    assert_eq!(code(check(&v, &upper)), "AuthorizationHeaderMalformed");
    // A body changed after signing.
    let mut body = sign_v4a(&creds(), "*", T0, "PUT", "/k", &[HOST], b"data", false);
    body.body = b"datb".to_vec();
    assert_eq!(code(check(&v, &body)), "XAmzContentSHA256Mismatch");
    // aws-chunked with SigV4a is refused, not half-checked.
    let chunked = s.clone().replace_header(
        "x-amz-content-sha256",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    );
    assert_eq!(code(check(&v, &chunked)), "InvalidRequest");
}

#[test]
fn session_tokens_are_checked() {
    let with_token = Credentials::new(AKID, SECRET, Some("the-token".into()));
    let v = Verifier::new(StaticSecretStore::new().with_credentials(with_token.clone()))
        .with_clock(FixedClock(UNIX_EPOCH + Duration::from_secs(T0)));
    let s = sign_v4a(&with_token, "*", T0, "GET", "/k", &[HOST], b"", false);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let run = |s: &Signed| {
        let pairs = s.header_pairs();
        let req = SignableRequest::new(&s.method, &s.target, &pairs).unwrap();
        rt.block_on(v.verify(&req, Some(b""))).map(|_| ())
    };
    run(&s).unwrap();
    // The store holds a token, the request another (signed, so re-sign).
    let other = Credentials::new(AKID, SECRET, Some("another-token".into()));
    let s2 = sign_v4a(&other, "*", T0, "GET", "/k", &[HOST], b"", false);
    assert_eq!(run(&s2).unwrap_err().code(), "InvalidToken");
}

#[cfg(feature = "tower")]
mod through_tower {
    use std::convert::Infallible;
    use std::sync::Arc;

    use bytes::Bytes;
    use http::{Request, Response, StatusCode};
    use http_body_util::{BodyExt, Full};
    use sigv4_verify::tower::{VerifiedBody, VerifyLayer};
    use sigv4_verify::Identity;
    use tower::{Layer, ServiceExt};

    use super::*;

    async fn echo(req: Request<VerifiedBody>) -> Result<Response<Full<Bytes>>, Infallible> {
        let id = req.extensions().get::<Identity>().cloned().unwrap();
        let body = req.into_body().collect().await.unwrap().to_bytes();
        Ok(Response::new(Full::from(format!(
            "{} {} {}",
            id.access_key_id,
            id.region_set.unwrap_or_default(),
            String::from_utf8_lossy(&body)
        ))))
    }

    fn to_http(s: &Signed) -> Request<Full<Bytes>> {
        let mut b = Request::builder().method(s.method.as_str()).uri(&s.target);
        for (n, v) in &s.headers {
            b = b.header(n, v);
        }
        b.body(Full::from(s.body.clone())).unwrap()
    }

    async fn call(s: &Signed) -> (StatusCode, String) {
        let v = Arc::new(verifier_at(T0, Policy::default()));
        let svc = VerifyLayer::new(v).layer(tower::service_fn(echo));
        let res = svc.oneshot(to_http(s)).await.unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn header_and_presigned_requests_pass_the_layer() {
        let s = sign_v4a(
            &creds(),
            "us-*",
            T0,
            "PUT",
            "/k",
            &[HOST],
            b"payload",
            false,
        );
        assert_eq!(
            call(&s).await,
            (StatusCode::OK, format!("{AKID} us-* payload"))
        );
        let q = sign_v4a(&creds(), "*", T0, "GET", "/k", &[HOST], b"", true);
        assert_eq!(call(&q).await, (StatusCode::OK, format!("{AKID} * ")));
        // Tampered: the S3 XML error, 403.
        let mut bad = s.clone();
        bad.target = "/other".into();
        let (status, body) = call(&bad).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            body.contains("<Code>SignatureDoesNotMatch</Code>"),
            "{body}"
        );
    }
}
