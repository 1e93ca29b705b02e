//! "Lessons from servers that got this wrong": one test each. Requests are
//! signed by `sigv4_sign` (the same canonical code, but the signer side)
//! and then verified, mutated, replayed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

use sigv4_sign::chunked::{ChunkSigner, StreamingMode};
use sigv4_sign::{
    AmzDate, Credentials, PayloadHash, Region, Service, Settings, SignableRequest, Signer,
    SigningParams,
};
use sigv4_verify::{AuthLocation, Policy, VerifyError};

#[path = "support/signed.rs"]
mod signed;
use signed::{check, code, verifier_at, Signed, AKID, SECRET, T0};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Loc {
    Header,
    Query,
}

#[allow(clippy::too_many_arguments)]
fn sign(
    secret: &str,
    at: u64,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    payload: PayloadHash<'_>,
    loc: Loc,
    settings: Option<&Settings>,
) -> Signed {
    let creds = Credentials::new(AKID, secret, None);
    let region = Region::new("us-east-1").unwrap();
    let s3 = Service::new("s3").unwrap();
    let mut params =
        SigningParams::new(&creds, &region, &s3, AmzDate::from_unix(at as i64).unwrap());
    if let Some(s) = settings {
        params = params.with_settings(s);
    }
    let req = SignableRequest::new(method, uri, headers).unwrap();
    let signer = Signer::new();
    let mut out_headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).into(), (*v).into()))
        .collect();
    let mut target = uri.to_owned();
    match loc {
        Loc::Header => {
            let out = signer.sign(&req, payload, &params).unwrap();
            out_headers.extend(out.params().iter().map(|(n, v)| ((*n).into(), v.clone())));
        }
        Loc::Query => {
            let out = signer
                .presign(&req, payload, &params, Duration::from_secs(3600))
                .unwrap();
            target.push(if target.contains('?') { '&' } else { '?' });
            target.push_str(&out.query_string());
        }
    }
    Signed {
        method: method.into(),
        target,
        headers: out_headers,
        body: Vec::new(),
    }
}

const HOST: (&str, &str) = ("host", "bucket.s3.amazonaws.com");

/// A signed aws-chunked PUT of `data` in `mode`, with `secret`.
fn chunked_put(secret: &str, mode: StreamingMode, data: &[u8], loc: Loc) -> Signed {
    let creds = Credentials::new(AKID, secret, None);
    let region = Region::new("us-east-1").unwrap();
    let s3 = Service::new("s3").unwrap();
    let params = SigningParams::new(&creds, &region, &s3, AmzDate::from_unix(T0 as i64).unwrap());
    let headers_owned =
        sigv4_sign::chunked::aws_chunked_headers(data.len() as u64, 8192, mode, None);
    let mut headers: Vec<(&str, &str)> = vec![HOST];
    headers.extend(headers_owned.iter().map(|(n, v)| (*n, v.as_str())));
    let req = SignableRequest::new("PUT", "/key", &headers).unwrap();
    let signer = Signer::new();
    let (seed, target) = match loc {
        Loc::Header => (
            signer.sign(&req, mode.payload_hash(), &params).unwrap(),
            "/key".to_owned(),
        ),
        Loc::Query => {
            let o = signer
                .presign(
                    &req,
                    mode.payload_hash(),
                    &params,
                    Duration::from_secs(3600),
                )
                .unwrap();
            let t = format!("/key?{}", o.query_string());
            (o, t)
        }
    };
    let mut cs = ChunkSigner::for_request(&signer, &params, mode, &seed).unwrap();
    let mut body = Vec::new();
    for c in data.chunks(8192) {
        cs.write_chunk(c, &mut body).unwrap();
    }
    cs.finish(&mut body).unwrap();
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).into(), (*v).into()))
        .collect();
    if loc == Loc::Header {
        for (n, v) in seed.params() {
            // aws_chunked_headers already carries x-amz-content-sha256.
            if !all.iter().any(|(a, _)| a.eq_ignore_ascii_case(n)) {
                all.push(((*n).into(), v.clone()));
            }
        }
    }
    Signed {
        method: "PUT".into(),
        target,
        headers: all,
        body,
    }
}

#[test]
fn wrong_secret_fails_in_every_payload_mode_and_location() {
    let v = verifier_at(T0, Policy::default());
    let body = b"hello world".to_vec();
    for loc in [Loc::Header, Loc::Query] {
        for payload in [PayloadHash::Body(&body), PayloadHash::Unsigned] {
            for (secret, want_ok) in [(SECRET, true), ("wrong-secret", false)] {
                let mut s = sign(secret, T0, "PUT", "/key", &[HOST], payload, loc, None);
                s.body = body.clone();
                let r = check(&v, &s);
                if want_ok {
                    // Presigned S3 URLs sign UNSIGNED-PAYLOAD; a body hash is only
                    // covered with header auth.
                    if loc == Loc::Header || payload == PayloadHash::Unsigned {
                        assert!(r.is_ok(), "{:?}", r.err());
                    }
                } else {
                    assert_eq!(code(r), "SignatureDoesNotMatch");
                }
            }
        }
        for mode in [
            StreamingMode::Signed,
            StreamingMode::SignedTrailer,
            StreamingMode::UnsignedTrailer,
        ] {
            let good = chunked_put(SECRET, mode, &[b'z'; 20_000], loc);
            if loc == Loc::Header {
                let r = check(&v, &good).unwrap();
                assert_eq!(r.decoded_body.as_deref(), Some(&[b'z'; 20_000][..]));
            }
            let bad = chunked_put("wrong-secret", mode, &[b'z'; 20_000], loc);
            assert_eq!(code(check(&v, &bad)), "SignatureDoesNotMatch", "{loc:?}");
        }
    }
}

#[test]
fn chunked_tamper_and_truncation() {
    let v = verifier_at(T0, Policy::default());
    let mut s = chunked_put(SECRET, StreamingMode::Signed, &[b'z'; 20_000], Loc::Header);
    let i = s.body.len() / 2;
    s.body[i] ^= 1;
    assert_eq!(code(check(&v, &s)), "SignatureDoesNotMatch");
    let mut s = chunked_put(SECRET, StreamingMode::Signed, &[b'z'; 20_000], Loc::Header);
    // Cut right before the final chunk: a chunk boundary.
    let cut = s.body.len() - (2 + 16 + 64 + 2 + 2);
    s.body.truncate(cut);
    assert_eq!(code(check(&v, &s)), "IncompleteBody");
    // Chunks larger than the policy allows.
    let small = verifier_at(T0, Policy::default().with_max_chunk_size(4096));
    let s = chunked_put(SECRET, StreamingMode::Signed, &[b'z'; 20_000], Loc::Header);
    assert_eq!(code(check(&small, &s)), "InvalidChunkSizeError");
}

#[test]
fn credentials_in_two_places_are_rejected() {
    let v = verifier_at(T0, Policy::default());
    let h = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    );
    let q = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Unsigned,
        Loc::Query,
        None,
    );
    let mut both = h;
    both.target = q.target;
    assert_eq!(code(check(&v, &both)), "InvalidRequest");
}

#[test]
fn strict_mode_rejects_unsigned_amz_and_content_headers() {
    let v = verifier_at(T0, Policy::default());
    let base = || {
        sign(
            SECRET,
            T0,
            "PUT",
            "/key",
            &[HOST],
            PayloadHash::Body(b""),
            Loc::Header,
            None,
        )
    };
    assert_eq!(code(check(&v, &base())), "OK");
    for (n, val) in [
        ("x-amz-copy-source", "/other/secret.txt"),
        ("x-amz-meta-owner", "mallory"),
        ("X-Amz-Acl", "public-read"),
        ("content-type", "text/html"),
        ("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg=="),
    ] {
        let r = check(&v, &base().with_header(n, val));
        let e = r.unwrap_err();
        assert_eq!(e.code(), "AccessDenied", "{n}");
        assert!(e.to_xml(None).contains(&n.to_ascii_lowercase()), "{n}");
    }
    // Non-strict: an unsigned x-amz-meta header is tolerated.
    let lax = verifier_at(T0, Policy::default().with_strict(false));
    assert_eq!(
        code(check(&lax, &base().with_header("x-amz-meta-a", "b"))),
        "OK"
    );
    // Host must be signed, strict or not.
    let s = base();
    let auth = s
        .header("authorization")
        .replace("SignedHeaders=host;", "SignedHeaders=");
    let s = base().replace_header("authorization", &auth);
    let e = check(&lax, &s).unwrap_err();
    assert_eq!(e, VerifyError::HeadersNotSigned(vec!["host".into()]));
}

#[test]
fn scope_date_must_match_request_date() {
    // Signed at 2024-01-01T23:59:00Z, then the date header moved past midnight.
    let at = T0 + 86_340;
    let v = verifier_at(at, Policy::default());
    let s = sign(
        SECRET,
        at,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    )
    .replace_header("x-amz-date", "20240102T000100Z");
    let e = check(&v, &s).unwrap_err();
    assert_eq!(e.code(), "AuthorizationHeaderMalformed");
    assert!(e.to_string().contains("credential date"), "{e}");
    // Region and service outside the policy.
    let v = verifier_at(T0, Policy::default().with_allowed_regions(["eu-west-1"]));
    let s = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    );
    assert_eq!(code(check(&v, &s)), "AuthorizationHeaderMalformed");
    let v = verifier_at(T0, Policy::default().with_allowed_services(["sts"]));
    assert_eq!(code(check(&v, &s)), "AuthorizationHeaderMalformed");
    let q = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Unsigned,
        Loc::Query,
        None,
    );
    assert_eq!(code(check(&v, &q)), "AuthorizationQueryParametersError");
}

#[test]
fn presign_expiry_bounds_expired_and_future() {
    let q = || {
        sign(
            SECRET,
            T0,
            "GET",
            "/key",
            &[HOST],
            PayloadHash::Unsigned,
            Loc::Query,
            None,
        )
    };
    // Valid through the hour, expired after.
    assert_eq!(
        code(check(&verifier_at(T0 + 3600, Policy::default()), &q())),
        "OK"
    );
    let e = check(&verifier_at(T0 + 3601, Policy::default()), &q()).unwrap_err();
    assert_eq!(e.code(), "AccessDenied");
    assert_eq!(e.message(), "Request has expired");
    // Dated in the future (beyond the 15 min skew).
    let e = check(&verifier_at(T0 - 901, Policy::default()), &q()).unwrap_err();
    assert_eq!(e.code(), "AccessDenied");
    assert_eq!(e.message(), "Request is not valid yet");
    // X-Amz-Expires out of 1..=604800.
    let v = verifier_at(T0, Policy::default());
    for bad in ["0", "604801", "-1", "abc", ""] {
        let mut s = q();
        s.target = s
            .target
            .replace("X-Amz-Expires=3600", &format!("X-Amz-Expires={bad}"));
        assert_eq!(
            code(check(&v, &s)),
            "AuthorizationQueryParametersError",
            "{bad}"
        );
    }
    let mut s = q();
    s.target = s
        .target
        .replace("X-Amz-Expires=3600", "X-Amz-Expires=604800");
    assert_eq!(code(check(&v, &s)), "SignatureDoesNotMatch");
}

#[test]
fn duplicates_are_rejected() {
    let v = verifier_at(T0, Policy::default());
    let s = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    );
    let auth = s.header("authorization").to_owned();
    assert_eq!(
        code(check(&v, &s.with_header("Authorization", &auth))),
        "InvalidRequest"
    );
    let mut q = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Unsigned,
        Loc::Query,
        None,
    );
    q.target.push_str("&X-Amz-Date=20240101T000000Z");
    assert_eq!(code(check(&v, &q)), "AuthorizationQueryParametersError");
    let s = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    );
    assert_eq!(
        code(check(&v, &s.with_header("X-Amz-Date", "20240101T000000Z"))),
        "InvalidRequest"
    );
}

#[test]
fn payload_rules() {
    let v = verifier_at(T0, Policy::default());
    // x-amz-content-sha256 checked against the body.
    let mut s = sign(
        SECRET,
        T0,
        "PUT",
        "/key",
        &[HOST],
        PayloadHash::Body(b"hello"),
        Loc::Header,
        None,
    );
    s.body = b"hello".to_vec();
    assert_eq!(code(check(&v, &s)), "OK");
    s.body = b"hellx".to_vec();
    let e = check(&v, &s).unwrap_err();
    assert_eq!(e.code(), "XAmzContentSHA256Mismatch");
    assert_eq!(e.status(), 400);
    // No header (curl --aws-sigv4): the body is hashed by the verifier.
    let no_header = Settings::s3().with_content_sha256_header(false);
    let mut s = sign(
        SECRET,
        T0,
        "PUT",
        "/key",
        &[HOST],
        PayloadHash::Body(b"data"),
        Loc::Header,
        Some(&no_header),
    );
    assert!(s.headers.iter().all(|h| h.0 != "x-amz-content-sha256"));
    s.body = b"data".to_vec();
    assert_eq!(code(check(&v, &s)), "OK");
    s.body = b"datb".to_vec();
    assert_eq!(code(check(&v, &s)), "SignatureDoesNotMatch");
    // UNSIGNED-PAYLOAD only when allowed.
    let s = sign(
        SECRET,
        T0,
        "PUT",
        "/key",
        &[HOST],
        PayloadHash::Unsigned,
        Loc::Header,
        None,
    );
    assert_eq!(code(check(&v, &s)), "OK");
    let strict = verifier_at(T0, Policy::default().with_unsigned_payload_header(false));
    assert_eq!(code(check(&strict, &s)), "AccessDenied");
    let q = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Unsigned,
        Loc::Query,
        None,
    );
    let strict = verifier_at(T0, Policy::default().with_unsigned_payload_query(false));
    assert_eq!(code(check(&strict, &q)), "AccessDenied");
}

#[test]
fn unknown_key_can_be_hidden() {
    let s = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    );
    let pairs = s.header_pairs();
    let req = SignableRequest::new("GET", &s.target, &pairs).unwrap();
    let v = verifier_at(T0, Policy::default());
    assert_eq!(
        code(v.verify_with(&req, Some(b""), |_| None)),
        "InvalidAccessKeyId"
    );
    let v = verifier_at(T0, Policy::default().with_distinguish_unknown_key(false));
    assert_eq!(
        code(v.verify_with(&req, Some(b""), |_| None)),
        "SignatureDoesNotMatch"
    );
}

#[test]
fn session_tokens_and_expiry_from_the_store() {
    let s = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    );
    let pairs = s.header_pairs();
    let req = SignableRequest::new("GET", &s.target, &pairs).unwrap();
    let v = verifier_at(T0, Policy::default());
    let with_token = Credentials::new(AKID, SECRET, Some("tok".into()));
    assert_eq!(
        code(v.verify_with(&req, Some(b""), |_| Some(with_token.clone()))),
        "InvalidToken"
    );
    let expired =
        Credentials::new(AKID, SECRET, None).with_expiry(UNIX_EPOCH + Duration::from_secs(T0 - 1));
    assert_eq!(
        code(v.verify_with(&req, Some(b""), |_| Some(expired.clone()))),
        "ExpiredToken"
    );
}

#[test]
fn forwarded_host_and_authority() {
    // Signed for the public host; the server sees the proxy's upstream host.
    let s = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[("host", "public.example.com")],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    )
    .replace_header("host", "10.0.0.7:9000")
    .with_header("X-Forwarded-Host", "public.example.com");
    assert_eq!(
        code(check(&verifier_at(T0, Policy::default()), &s)),
        "SignatureDoesNotMatch"
    );
    let v = verifier_at(
        T0,
        Policy::default().with_forwarded_host_header("x-forwarded-host"),
    );
    assert_eq!(code(check(&v, &s)), "OK");
    // HTTP/2: no Host header, the URI authority counts as Host.
    let mut s = sign(
        SECRET,
        T0,
        "GET",
        "https://bucket.example.com/key",
        &[],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    );
    assert!(s.headers.iter().all(|h| !h.0.eq_ignore_ascii_case("host")));
    assert_eq!(code(check(&verifier_at(T0, Policy::default()), &s)), "OK");
    s.target = "https://other.example.com/key".into();
    assert_eq!(
        code(check(&verifier_at(T0, Policy::default()), &s)),
        "SignatureDoesNotMatch"
    );
}

#[test]
fn signature_debug_is_opt_in() {
    let s = sign(
        "wrong",
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    );
    let e = check(&verifier_at(T0, Policy::default()), &s).unwrap_err();
    assert!(!e.to_xml(None).contains("CanonicalRequest"));
    let e = check(
        &verifier_at(T0, Policy::default().with_signature_debug(true)),
        &s,
    )
    .unwrap_err();
    let x = e.to_xml(None);
    assert!(x.contains("<CanonicalRequest>GET&#10;/key&#10;"), "{x}");
    assert!(x.contains("<StringToSign>AWS4-HMAC-SHA256&#10;20240101T000000Z&#10;20240101/us-east-1/s3/aws4_request&#10;"));
    assert!(x.contains(&format!(
        "<SignatureProvided>{}</SignatureProvided>",
        &s.header("authorization")[s.header("authorization").len() - 64..]
    )));
}

#[test]
fn signing_key_derived_once_per_scope() {
    let v = verifier_at(T0, Policy::default());
    let s = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    );
    std::thread::scope(|sc| {
        for _ in 0..4 {
            sc.spawn(|| {
                for _ in 0..50 {
                    assert_eq!(code(check(&v, &s)), "OK");
                }
            });
        }
    });
    assert_eq!(v.cached_keys(), 1);
    let r = check(&v, &s).unwrap();
    assert_eq!(r.identity.location, AuthLocation::Header);
    assert_eq!(r.identity.access_key_id, AKID);
}

#[test]
fn async_verify_uses_the_store() {
    let s = sign(
        SECRET,
        T0,
        "GET",
        "/key",
        &[HOST],
        PayloadHash::Body(b""),
        Loc::Header,
        None,
    );
    let pairs = s.header_pairs();
    let req = SignableRequest::new("GET", &s.target, &pairs).unwrap();
    let v = verifier_at(T0, Policy::default());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let r = rt.block_on(v.verify(&req, Some(b""))).unwrap();
    assert_eq!(
        r.identity.scope.to_string(),
        "20240101/us-east-1/s3/aws4_request"
    );
}
