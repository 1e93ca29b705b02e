//! Properties of the signer, over random requests:
//!
//! - nothing panics: not signing, not presigning, not any public parser fed
//!   arbitrary strings or bytes;
//! - signing is deterministic (a fresh signer and one with a warm key cache
//!   give the same output);
//! - sign -> recompute round-trips through the public API: the signature is
//!   rebuilt from what a server receives (the `Authorization` header or the
//!   presigned query), with `canonical::CanonicalRequest`,
//!   `write_string_to_sign` and `SigningKey::derive`;
//! - for generic inputs (no percent-encoding in the input), the canonical
//!   request equals the one of a small reference written straight from the
//!   AWS specification in this file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;
use sigv4_sign::canonical::{
    hash_canonical_request, write_string_to_sign, CanonicalHeader, CanonicalRequest, ALGORITHM,
};
use sigv4_sign::encode::percent_decode;
use sigv4_sign::raw::RawRequest;
use sigv4_sign::{
    sha256_hex, AmzDate, CredentialScope, Credentials, PayloadHash, Region, Service,
    SessionTokenPlacement, Settings, SignableRequest, Signer, SigningKey, SigningOutput,
    SigningParams, UriEncoding, DEFAULT_EXCLUDED_HEADERS,
};

const HOST: &str = "examplebucket.s3.amazonaws.com";

// ---------------------------------------------------------------------------
// Strategies

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "GET", "PUT", "POST", "HEAD", "DELETE", "OPTIONS", "PATCH"
        ])
        .prop_map(str::to_owned),
        "[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,9}",
    ]
}

/// A path segment; with `encoded`, already-encoded and `%`-bearing forms too.
fn segment(encoded: bool) -> BoxedStrategy<String> {
    let plain = prop::sample::select(vec![
        "", ".", "..", "...", "a", "B", "test.txt", "a b", "é", "ሴ", "😀", "~user", "$", "+",
        "a=b", "a;b", ":", "@", "!", "*", "(x)", "[1]", ",", "'", "a&b",
    ])
    .prop_map(str::to_owned);
    let random = "[a-zA-Z0-9 ._~$+=:@!*,;'()&é-]{0,6}";
    if encoded {
        prop_oneof![
            4 => plain,
            2 => random,
            2 => prop::sample::select(vec![
                "%20", "%2F", "%2f", "%7E", "%7e", "%25", "%", "%zz", "%4", "a%20b", "%E1%88%B4",
                "100%", "%2B",
            ])
            .prop_map(str::to_owned),
        ]
        .boxed()
    } else {
        prop_oneof![3 => plain, 2 => random].boxed()
    }
}

fn path(encoded: bool) -> impl Strategy<Value = String> {
    (prop::collection::vec(segment(encoded), 0..6), any::<bool>()).prop_map(|(segs, trailing)| {
        let mut p = String::from("/");
        p.push_str(&segs.join("/"));
        if trailing && !p.ends_with('/') {
            p.push('/');
        }
        p
    })
}

/// A query key or value (never `&`, `#`, or an `X-Amz-Signature` key).
fn query_component(encoded: bool) -> BoxedStrategy<String> {
    let plain = prop::sample::select(vec![
        "",
        "a",
        "A",
        "b",
        "prefix",
        "max-keys",
        "x y",
        "é",
        "~",
        "a+b",
        "/",
        "?",
        "$",
        "=",
        "list-type",
    ])
    .prop_map(str::to_owned);
    let random = "[a-zA-Z0-9 ._~$+:@!*,;/?'()é-]{0,6}";
    if encoded {
        prop_oneof![
            3 => plain,
            2 => random,
            2 => prop::sample::select(vec![
                "%20", "%2F", "%7e", "%7E", "%", "%zz", "a%3Db", "%E1%88%B4", "%2B", "%252F",
            ])
            .prop_map(str::to_owned),
        ]
        .boxed()
    } else {
        prop_oneof![3 => plain, 2 => random].boxed()
    }
}

/// A query string: pairs (duplicates likely, empty keys and values), some
/// written without `=`, with stray `&`s.
fn query(encoded: bool) -> impl Strategy<Value = String> {
    prop::collection::vec(
        (query_component(encoded), query_component(encoded), 0..4u8),
        0..6,
    )
    .prop_map(|pairs| {
        let mut q = String::new();
        for (i, (k, v, shape)) in pairs.iter().enumerate() {
            if i > 0 {
                q.push('&');
            }
            match shape {
                0 => q.push_str(k), // no `=`
                3 => {
                    // a stray `&` as well
                    q.push('&');
                    q.push_str(k);
                    q.push('=');
                    q.push_str(v);
                }
                _ => {
                    q.push_str(k);
                    q.push('=');
                    q.push_str(v);
                }
            }
        }
        q
    })
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "X-Amz-Meta-Foo", "x-amz-meta-foo", "X-AMZ-META-FOO", "Content-Type", "content-type",
            "Range", "x-custom", "X-Custom", "Date", "x-amz-storage-class",
            // Excluded by the default settings.
            "User-Agent", "authorization", "X-Amzn-Trace-Id", "Expect",
            // Replaced by the signer when signing headers.
            "X-Amz-Date", "x-amz-content-sha256", "X-Amz-Security-Token",
        ])
        .prop_map(str::to_owned),
        // Random tokens; never `host`, which the generator places itself.
        1 => "[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,8}"
            .prop_filter("host is placed by the input", |n: &String| !n.eq_ignore_ascii_case("host")),
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "", " ", "a", "  a   b  ", "\ta\t\tb\t", "text/plain", "bytes=0-9", "a,b", "\"q  u\"",
            "é ሴ", "v1\r\n  v2", "x\n\ty", "a  ,  b",
        ])
        .prop_map(str::to_owned),
        2 => "[ \t]{0,2}[a-zA-Z0-9 \t,;=/é\"-]{0,10}[ \t]{0,2}",
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    // Past 16 headers the signer spills its inline list to the heap.
    prop_oneof![
        4 => prop::collection::vec((header_name(), header_value()), 0..6),
        1 => prop::collection::vec((header_name(), header_value()), 14..24),
    ]
}

#[derive(Clone, Debug)]
struct Input {
    method: String,
    /// Origin-form with a `Host` header, or absolute without one.
    absolute: bool,
    host_name: &'static str,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    unsigned: bool,
    s3: bool,
    service: &'static str,
    region: &'static str,
    token: Option<String>,
    append_token: bool,
    unix: i64,
    expires: u64,
    secret: String,
}

impl Input {
    fn uri(&self) -> String {
        let mut u = String::new();
        if self.absolute {
            u.push_str("https://");
            u.push_str(HOST);
        }
        u.push_str(&self.path);
        if !self.query.is_empty() {
            u.push('?');
            u.push_str(&self.query);
        }
        u
    }

    /// The headers given to the signer.
    fn request_headers(&self) -> Vec<(&str, &str)> {
        let mut h: Vec<(&str, &str)> = Vec::new();
        if !self.absolute {
            h.push((self.host_name, HOST));
        }
        h.extend(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        h
    }

    fn settings(&self) -> Settings {
        let base = if self.s3 {
            Settings::s3()
        } else {
            Settings::default()
        };
        if self.append_token {
            base.with_session_token(SessionTokenPlacement::AppendAfterSigning)
        } else {
            base
        }
    }

    fn credentials(&self) -> Credentials {
        Credentials::new("AKIDEXAMPLE", self.secret.clone(), self.token.clone())
    }

    fn payload(&self) -> PayloadHash<'_> {
        if self.unsigned {
            PayloadHash::Unsigned
        } else {
            PayloadHash::Body(&self.body)
        }
    }

    fn payload_hash(&self) -> String {
        if self.unsigned {
            "UNSIGNED-PAYLOAD".to_owned()
        } else {
            String::from_utf8(sha256_hex(&self.body).to_vec()).unwrap()
        }
    }
}

fn input(encoded: bool) -> impl Strategy<Value = Input> {
    let request = (
        method(),
        any::<bool>(),
        prop::sample::select(vec!["Host", "host", "HOST"]),
        path(encoded),
        query(encoded),
        headers(),
        prop::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
    );
    let context = (
        any::<bool>(),
        prop::sample::select(vec!["s3", "service", "execute-api", "iam"]),
        prop::sample::select(vec!["us-east-1", "eu-west-3", "ap-southeast-2"]),
        // Tokens as STS issues them, and (rarely seen, but the canonical
        // header still trims and folds them) with spaces and tabs.
        prop::option::of(prop_oneof![
            3 => "[A-Za-z0-9+/=]{1,40}",
            1 => "[ \t]{0,2}[A-Za-z0-9+/= \t]{1,40}[ \t]{0,2}",
        ]),
        any::<bool>(),
        0i64..253_402_300_799,
        1u64..=604_800,
        "[ -~é]{0,40}",
    );
    (request, context).prop_map(
        |(
            (method, absolute, host_name, path, query, headers, body, unsigned),
            (s3_rules, service, region, token, append_token, unix, expires, secret),
        )| Input {
            method,
            absolute,
            host_name,
            path,
            query,
            headers,
            body,
            unsigned,
            // S3 rules for the S3 service, and sometimes for another one.
            s3: s3_rules || service == "s3",
            service,
            region,
            token,
            append_token,
            unix,
            expires,
            secret,
        },
    )
}

// ---------------------------------------------------------------------------
// Signing

struct Ctx {
    creds: Credentials,
    region: Region,
    service: Service,
    time: AmzDate,
    settings: Settings,
}

impl Ctx {
    fn new(input: &Input) -> Self {
        Self {
            creds: input.credentials(),
            region: Region::new(input.region).unwrap(),
            service: Service::new(input.service).unwrap(),
            time: AmzDate::from_unix(input.unix).unwrap(),
            settings: input.settings(),
        }
    }

    fn params(&self) -> SigningParams<'_> {
        SigningParams::new(&self.creds, &self.region, &self.service, self.time)
            .with_settings(&self.settings)
            .with_debug(true)
    }
}

fn sign_with(signer: &Signer, input: &Input, presign: bool) -> SigningOutput {
    let ctx = Ctx::new(input);
    let uri = input.uri();
    let headers = input.request_headers();
    let req = SignableRequest::new(&input.method, &uri, &headers).unwrap();
    if presign {
        signer
            .presign(
                &req,
                input.payload(),
                &ctx.params(),
                Duration::from_secs(input.expires),
            )
            .unwrap()
    } else {
        signer.sign(&req, input.payload(), &ctx.params()).unwrap()
    }
}

fn canonical_of(out: &SigningOutput) -> String {
    String::from_utf8_lossy(&out.debug().unwrap().canonical_request).into_owned()
}

// ---------------------------------------------------------------------------
// Recomputing a signature the way a server would, through the public API

/// What a recomputation found.
#[derive(Debug)]
struct Recomputed {
    canonical_request: String,
    signature: String,
}

fn parse_authorization(auth: &str) -> (String, CredentialScope, String, String) {
    let rest = auth
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no algorithm in {auth:?}"));
    let mut fields = BTreeMap::new();
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').unwrap();
        fields.insert(k.to_owned(), v.to_owned());
    }
    let (akid, scope) = fields["Credential"].split_once('/').unwrap();
    let scope = CredentialScope::parse(scope).unwrap();
    (
        akid.to_owned(),
        scope,
        fields["SignedHeaders"].clone(),
        fields["Signature"].clone(),
    )
}

#[allow(clippy::too_many_arguments)]
fn recompute(
    method: &str,
    path: &str,
    query: &str,
    skip_query_key: Option<&str>,
    sent_headers: &[(&str, &str)],
    host_from_uri: Option<&str>,
    signed_headers: &str,
    payload_hash: &str,
    settings: &Settings,
    secret: &str,
    time: &AmzDate,
    scope: &CredentialScope,
) -> Recomputed {
    let signed: Vec<&str> = signed_headers.split(';').collect();
    let mut headers: Vec<CanonicalHeader<'_>> = sent_headers
        .iter()
        .map(|(n, v)| CanonicalHeader::new(n, v.as_bytes()))
        .filter(|h| signed.contains(&&*h.name))
        .collect();
    if let Some(host) = host_from_uri {
        if !headers.iter().any(|h| h.name == "host") {
            headers.push(CanonicalHeader::new("host", host.as_bytes()));
        }
    }
    CanonicalRequest::sort_headers(&mut headers);
    let cr = CanonicalRequest {
        method,
        path,
        query,
        extra_query: &[],
        skip_query_key,
        headers: &headers,
        payload_hash,
        uri_encoding: settings.uri_encoding,
        normalize_path: settings.normalize_path,
    };
    let mut canonical = Vec::new();
    let range = cr.write(&mut canonical);
    assert_eq!(&canonical[range], signed_headers.as_bytes());
    let hash = hash_canonical_request(&canonical);
    let mut sts = Vec::new();
    write_string_to_sign(
        &mut sts,
        ALGORITHM,
        time,
        scope.to_string().as_bytes(),
        &hash,
    );
    let key = SigningKey::derive(
        secret,
        scope.date(),
        scope.region().as_str(),
        scope.service().as_str(),
    );
    Recomputed {
        canonical_request: String::from_utf8_lossy(&canonical).into_owned(),
        signature: String::from_utf8(key.sign_hex(&sts).to_vec()).unwrap(),
    }
}

/// Recomputes a header signature from the request as sent: the original
/// headers with the signer's output set on top (as `apply_to` does).
fn recompute_headers(input: &Input, out: &SigningOutput) -> Recomputed {
    let (akid, scope, signed_headers, signature) =
        parse_authorization(out.param("Authorization").unwrap());
    assert_eq!(akid, "AKIDEXAMPLE");
    assert_eq!(signature, out.signature());
    let uri = input.uri();
    let original = input.request_headers();
    let mut sent: Vec<(&str, &str)> = original
        .iter()
        .filter(|(n, _)| out.param(n).is_none())
        .copied()
        .collect();
    sent.extend(
        out.params()
            .iter()
            .filter(|(n, _)| *n != "Authorization")
            .map(|(n, v)| (*n, v.as_str())),
    );
    let req = SignableRequest::new(&input.method, &uri, &sent).unwrap();
    let time = AmzDate::parse(out.param("X-Amz-Date").unwrap()).unwrap();
    assert_eq!(scope.date(), time.date());
    let payload_hash = out
        .param("x-amz-content-sha256")
        .map_or_else(|| input.payload_hash(), str::to_owned);
    let host = req.authority_host();
    recompute(
        &input.method,
        req.path(),
        req.query(),
        None,
        &sent,
        host.as_deref(),
        &signed_headers,
        &payload_hash,
        &input.settings(),
        &input.secret,
        &time,
        &scope,
    )
}

/// Recomputes a presigned signature from the URL as sent: the original query
/// with the output appended.
fn recompute_presigned(input: &Input, out: &SigningOutput) -> Recomputed {
    let uri = input.uri();
    let headers = input.request_headers();
    let req = SignableRequest::new(&input.method, &uri, &headers).unwrap();
    let mut query = req.query().to_owned();
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str(&out.query_string());

    let get = |name: &str| -> String {
        let v = out.param(name).unwrap_or_else(|| panic!("no {name}"));
        String::from_utf8(percent_decode(v).into_owned()).unwrap()
    };
    let credential = get("X-Amz-Credential");
    let (akid, scope) = credential.split_once('/').unwrap();
    assert_eq!(akid, "AKIDEXAMPLE");
    let scope = CredentialScope::parse(scope).unwrap();
    let time = AmzDate::parse(&get("X-Amz-Date")).unwrap();
    assert_eq!(scope.date(), time.date());
    assert_eq!(get("X-Amz-Expires"), input.expires.to_string());
    assert_eq!(get("X-Amz-Signature"), out.signature());
    let signed_headers = get("X-Amz-SignedHeaders");
    assert_eq!(signed_headers, out.signed_headers());

    // A token appended after signing is not part of what was signed.
    let query = if input.append_token && input.token.is_some() {
        let token_pair = format!(
            "X-Amz-Security-Token={}",
            out.param("X-Amz-Security-Token").unwrap()
        );
        query
            .split('&')
            .filter(|p| *p != token_pair)
            .collect::<Vec<_>>()
            .join("&")
    } else {
        query
    };
    let host = req.authority_host();
    recompute(
        &input.method,
        req.path(),
        &query,
        Some("X-Amz-Signature"),
        &headers,
        host.as_deref(),
        &signed_headers,
        &input.payload_hash(),
        &input.settings(),
        &input.secret,
        &time,
        &scope,
    )
}

// ---------------------------------------------------------------------------
// A reference canonical request, written straight from the AWS specification
// ("Create a canonical request", SigV4 developer guide). It knows nothing of
// the crate's encoder, normalizer or header writer. Inputs are "generic": no
// percent-encoding in the path or query, so both are encoded as raw text.

fn ref_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// RFC 3986 remove_dot_segments, with empty segments (`//`) dropped as well.
fn ref_normalize(path: &str) -> String {
    let mut stack: Vec<&str> = Vec::new();
    let segs: Vec<&str> = path.split('/').skip(1).collect();
    for seg in &segs {
        match *seg {
            "" | "." => {}
            ".." => {
                stack.pop();
            }
            s => stack.push(s),
        }
    }
    let mut out = format!("/{}", stack.join("/"));
    let ends_in_dir = matches!(segs.last(), Some(&("" | "." | "..")));
    if ends_in_dir && !out.ends_with('/') {
        out.push('/');
    }
    out
}

fn ref_canonical_uri(path: &str, s3: bool) -> String {
    if s3 {
        // S3: no normalization; the path is encoded once.
        ref_encode(path, true)
    } else {
        // Other services: normalize, then encode (the path as sent is raw
        // text here; "double" encoding only shows on `%`).
        ref_encode(&ref_normalize(path), true)
    }
}

fn ref_canonical_query(pairs: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (ref_encode(k, false), ref_encode(v, false)))
        .collect();
    // Sort by name, then by value, as bytes.
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn ref_query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// The canonical request the specification gives for `input`.
fn reference_canonical_request(input: &Input, presign: bool) -> String {
    // The default settings' list of headers never signed (configuration,
    // not logic: the reference compares names itself).
    let excluded: Vec<&str> = DEFAULT_EXCLUDED_HEADERS.iter().map(|c| &**c).collect();
    let time = AmzDate::from_unix(input.unix).unwrap();
    let scope = format!(
        "{}/{}/{}/aws4_request",
        time.date(),
        input.region,
        input.service
    );
    let token_signed = input.token.is_some() && !input.append_token;
    let payload_hash = input.payload_hash();

    // Header name -> values in the order sent.
    let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |name: &str, value: &str| {
        let value = value.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
        headers
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(value);
    };
    let replaced = |name: &str| {
        !presign
            && (name == "x-amz-date"
                || (input.token.is_some() && name == "x-amz-security-token")
                || (input.s3 && name == "x-amz-content-sha256"))
    };
    if input.absolute {
        add("host", HOST);
    }
    for (name, value) in input.request_headers() {
        let lower = name.to_ascii_lowercase();
        if !excluded.contains(&lower.as_str()) && !replaced(&lower) {
            add(name, value);
        }
    }
    if !presign {
        add("x-amz-date", time.as_str());
        if let (Some(t), true) = (&input.token, token_signed) {
            add("x-amz-security-token", t);
        }
        if input.s3 {
            add("x-amz-content-sha256", &payload_hash);
        }
    }
    let signed_headers = headers.keys().cloned().collect::<Vec<_>>().join(";");
    let canonical_headers: String = headers
        .iter()
        .map(|(n, vs)| format!("{n}:{}\n", vs.join(",")))
        .collect();

    let mut pairs = ref_query_pairs(&input.query);
    if presign {
        pairs.push(("X-Amz-Algorithm".into(), ALGORITHM.into()));
        pairs.push(("X-Amz-Credential".into(), format!("AKIDEXAMPLE/{scope}")));
        pairs.push(("X-Amz-Date".into(), time.as_str().into()));
        pairs.push(("X-Amz-Expires".into(), input.expires.to_string()));
        pairs.push(("X-Amz-SignedHeaders".into(), signed_headers.clone()));
        if let (Some(t), true) = (&input.token, token_signed) {
            pairs.push(("X-Amz-Security-Token".into(), t.clone()));
        }
    }

    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method,
        ref_canonical_uri(&input.path, input.s3),
        ref_canonical_query(&pairs),
        canonical_headers,
        signed_headers,
        payload_hash
    )
}

// ---------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// Header signing: deterministic, recomputable from what is sent, and
    /// what the reference builds for generic inputs.
    #[test]
    fn header_signing_round_trips(input in input(true)) {
        let warm = Signer::new();
        let a = sign_with(&warm, &input, false);
        let b = sign_with(&warm, &input, false);
        let fresh = sign_with(&Signer::new(), &input, false);
        prop_assert_eq!(a.params(), b.params());
        prop_assert_eq!(a.params(), fresh.params());
        prop_assert_eq!(canonical_of(&a), canonical_of(&fresh));

        let again = recompute_headers(&input, &a);
        prop_assert_eq!(&again.canonical_request, &canonical_of(&a));
        prop_assert_eq!(&again.signature, a.signature());

        // What the output promises.
        prop_assert_eq!(a.param("X-Amz-Security-Token"), input.token.as_deref());
        prop_assert_eq!(a.param("x-amz-content-sha256").is_some(), input.s3);
        prop_assert!(a.signed_headers().split(';').any(|h| h == "host"));
        prop_assert!(a.signed_headers().split(';').any(|h| h == "x-amz-date"));
    }

    /// Presigning: the same three properties, from the URL's query.
    #[test]
    fn presigning_round_trips(input in input(true)) {
        let warm = Signer::new();
        let a = sign_with(&warm, &input, true);
        let b = sign_with(&warm, &input, true);
        let fresh = sign_with(&Signer::new(), &input, true);
        prop_assert_eq!(a.params(), b.params());
        prop_assert_eq!(a.params(), fresh.params());

        let again = recompute_presigned(&input, &a);
        prop_assert_eq!(&again.canonical_request, &canonical_of(&a));
        prop_assert_eq!(&again.signature, a.signature());
        prop_assert_eq!(a.param("Authorization"), None);
    }

    /// For generic inputs the canonical request is the specification's.
    #[test]
    fn canonical_request_matches_the_reference(input in input(false), presign in any::<bool>()) {
        let out = sign_with(&Signer::new(), &input, presign);
        prop_assert_eq!(canonical_of(&out), reference_canonical_request(&input, presign));
    }

    /// Arbitrary request parts never panic the signer; when signing
    /// succeeds the signature is 64 lowercase hex digits.
    #[test]
    fn arbitrary_requests_never_panic(
        method in "(?s).{0,8}",
        uri in "(?s).{0,40}",
        headers in prop::collection::vec(("(?s).{0,8}", "(?s).{0,12}"), 0..4),
        byte_headers in prop::collection::vec(("[!-~]{0,8}", prop::collection::vec(any::<u8>(), 0..12)), 0..3),
        akid in "(?s).{0,12}",
        token in prop::option::of("(?s).{0,12}"),
        precomputed in "(?s).{0,66}",
        s3 in any::<bool>(),
        expires in any::<u64>(),
    ) {
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let byte_pairs: Vec<(&str, &[u8])> =
            byte_headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
        let creds = Credentials::new(akid, "secret", token);
        let region = Region::new("us-east-1").unwrap();
        let service = Service::new(if s3 { "s3" } else { "service" }).unwrap();
        let time = AmzDate::from_unix(1_369_353_600).unwrap();
        let params = SigningParams::new(&creds, &region, &service, time);
        let signer = Signer::new();
        let requests = [
            SignableRequest::new(&method, &uri, &pairs),
            SignableRequest::with_byte_headers(&method, &uri, &byte_pairs),
        ];
        for req in requests.iter().flatten() {
            for payload in [PayloadHash::Body(uri.as_bytes()), PayloadHash::Precomputed(&precomputed)] {
                let results = [
                    signer.sign(req, payload, &params),
                    signer.presign(req, payload, &params, Duration::from_secs(expires)),
                    signer.presign(req, payload, &params, Duration::from_secs(expires % 700_000)),
                ];
                for out in results.iter().flatten() {
                    prop_assert_eq!(out.signature().len(), 64);
                    prop_assert!(out.signature().bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn amz_date_parse_never_panics(s in "(?s).{0,24}", digits in "[0-9]{8}T[0-9]{6}Z") {
        let _ = AmzDate::parse(&s);
        // Well-formed but possibly impossible dates: accepted only when they
        // print back as themselves.
        if let Ok(d) = AmzDate::parse(&digits) {
            prop_assert_eq!(d.as_str(), digits.as_str());
        }
    }

    #[test]
    fn amz_date_round_trips(unix in 0i64..253_402_300_799) {
        let d = AmzDate::from_unix(unix).unwrap();
        prop_assert_eq!(d.unix(), unix);
        prop_assert_eq!(AmzDate::parse(d.as_str()).unwrap(), d);
        let rfc3339 = format!(
            "{}-{}-{}T{}:{}:{}Z",
            &d.as_str()[0..4], &d.as_str()[4..6], &d.as_str()[6..8],
            &d.as_str()[9..11], &d.as_str()[11..13], &d.as_str()[13..15]
        );
        prop_assert_eq!(AmzDate::parse(&rfc3339).unwrap(), d);
    }

    #[test]
    fn credential_scope_parse_never_panics(
        s in "(?s).{0,60}",
        date in "[0-9]{8}",
        region in "[a-z0-9-]{1,16}",
        service in "[a-z0-9-]{1,16}",
    ) {
        let _ = CredentialScope::parse(&s);
        let text = format!("{date}/{region}/{service}/aws4_request");
        let scope = CredentialScope::parse(&text).unwrap();
        prop_assert_eq!(scope.to_string(), text);
        prop_assert_eq!(scope.date(), date.as_str());
    }

    #[test]
    fn raw_request_parse_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), text in "(?s).{0,120}") {
        let _ = RawRequest::parse(&bytes);
        if let Ok(raw) = RawRequest::parse(text.as_bytes()) {
            // A parsed request can be handed to the signer (which may refuse it).
            let headers = raw.header_pairs();
            if let Ok(req) = SignableRequest::new(&raw.method, &raw.target, &headers) {
                let creds = Credentials::new("AKIDEXAMPLE", "secret", None);
                let region = Region::new("us-east-1").unwrap();
                let service = Service::new("service").unwrap();
                let params = SigningParams::new(&creds, &region, &service, AmzDate::from_unix(0).unwrap());
                let _ = Signer::new().sign(&req, PayloadHash::Body(&raw.body), &params);
            }
        }
    }

    #[test]
    fn signable_request_new_never_panics(method in "(?s).{0,6}", uri in "(?s).{0,40}") {
        if let Ok(req) = SignableRequest::new(&method, &uri, &[]) {
            // The path and query are slices of the URI without the fragment.
            prop_assert!(!req.path().contains('?'));
            prop_assert!(!req.path().contains('#') && !req.query().contains('#'));
            let _ = req.authority_host();
        }
    }
}

#[test]
fn reference_agrees_on_a_documented_example() {
    // Keeps the reference honest: it must reproduce the S3 documentation's
    // GET object canonical request (see s3_docs.rs).
    let input = Input {
        method: "GET".into(),
        absolute: false,
        host_name: "Host",
        path: "/test.txt".into(),
        query: String::new(),
        headers: vec![("Range".into(), "bytes=0-9".into())],
        body: Vec::new(),
        unsigned: false,
        s3: true,
        service: "s3",
        region: "us-east-1",
        token: None,
        append_token: false,
        unix: 1_369_353_600, // 2013-05-24T00:00:00Z
        expires: 86_400,
        secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
    };
    assert_eq!(
        reference_canonical_request(&input, false),
        "GET\n/test.txt\n\n\
         host:examplebucket.s3.amazonaws.com\n\
         range:bytes=0-9\n\
         x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         x-amz-date:20130524T000000Z\n\n\
         host;range;x-amz-content-sha256;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let out = sign_with(&Signer::new(), &input, false);
    assert_eq!(
        out.signature(),
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
    assert_eq!(recompute_headers(&input, &out).signature, out.signature());
}

#[test]
fn uri_encoding_setting_is_exercised() {
    // The generators cover both encodings; make sure the settings say so.
    let s3 = Input {
        s3: true,
        ..sample_input()
    };
    let generic = Input {
        s3: false,
        ..sample_input()
    };
    assert_eq!(s3.settings().uri_encoding, UriEncoding::Single);
    assert_eq!(generic.settings().uri_encoding, UriEncoding::Double);
    // A `%` in the path: S3 keeps the escape, others encode it again.
    let a = canonical_of(&sign_with(&Signer::new(), &s3, false));
    let b = canonical_of(&sign_with(&Signer::new(), &generic, false));
    assert!(a.starts_with("GET\n/a%20b\n"), "{a}");
    assert!(b.starts_with("GET\n/a%2520b\n"), "{b}");
}

fn sample_input() -> Input {
    Input {
        method: "GET".into(),
        absolute: true,
        host_name: "Host",
        path: "/a%20b".into(),
        query: String::new(),
        headers: Vec::new(),
        body: Vec::new(),
        unsigned: true,
        s3: false,
        service: "service",
        region: "us-east-1",
        token: None,
        append_token: false,
        unix: 0,
        expires: 60,
        secret: "secret".into(),
    }
}
