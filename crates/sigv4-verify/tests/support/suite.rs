//! Shared by the SigV4 and SigV4a suite tests (`v4_suite.rs`,
//! `v4a_suite.rs`): load a case of the AWS signing test suite, verify its
//! signed requests, and change each signed part one byte at a time,
//! expecting the right rejection.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use sigv4_sign::raw::RawRequest;
use sigv4_sign::{AmzDate, Credentials, SessionTokenPlacement, Settings, SignableRequest};
use sigv4_verify::{FixedClock, Policy, Verified, Verifier, VerifyError};

/// One case folder: its verifier (policy and clock from `context.json`)
/// and credentials.
pub struct Case {
    pub name: String,
    pub verifier: Verifier,
    pub creds: Credentials,
    pub normalize: bool,
}

/// `tests/vectors/aws-signing-test-suite/<which>` (`v4` or `v4a`).
pub fn suite_dir(which: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/aws-signing-test-suite")
        .join(which)
}

/// The case folders of a suite, sorted.
pub fn case_dirs(which: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(suite_dir(which))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("context.json").exists())
        .collect();
    dirs.sort();
    dirs
}

pub fn load_case(dir: &Path) -> Case {
    let ctx: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("context.json")).unwrap()).unwrap();
    let c = &ctx["credentials"];
    let creds = Credentials::new(
        c["access_key_id"].as_str().unwrap(),
        c["secret_access_key"].as_str().unwrap(),
        // With the token on record, the verifier also checks the token the
        // request carries (signed or, with omit_session_token, appended).
        c["token"].as_str().map(str::to_owned),
    );
    let time = AmzDate::parse(ctx["timestamp"].as_str().unwrap()).unwrap();
    let mut settings = Settings::default().with_normalize_path(ctx["normalize"].as_bool().unwrap());
    if ctx["omit_session_token"].as_bool() == Some(true) {
        settings = settings.with_session_token(SessionTokenPlacement::AppendAfterSigning);
    }
    let policy = Policy::default()
        .with_allowed_regions([ctx["region"].as_str().unwrap()])
        .with_allowed_services([ctx["service"].as_str().unwrap()])
        .with_service_settings(ctx["service"].as_str().unwrap(), settings);
    let verifier = Verifier::new(sigv4_verify::StaticSecretStore::new())
        .with_policy(policy)
        .with_clock(FixedClock(
            UNIX_EPOCH + Duration::from_secs(time.unix() as u64),
        ));
    Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        verifier,
        creds,
        normalize: ctx["normalize"].as_bool().unwrap(),
    }
}

pub fn verify_full(case: &Case, raw: &RawRequest) -> Result<Verified, VerifyError> {
    let pairs = raw.header_pairs();
    let req = SignableRequest::new(&raw.method, &raw.target, &pairs).unwrap();
    case.verifier.verify_with(&req, Some(&raw.body), |akid| {
        (akid == case.creds.access_key_id()).then(|| case.creds.clone())
    })
}

pub fn verify(case: &Case, raw: &RawRequest) -> Result<(), VerifyError> {
    verify_full(case, raw).map(|_| ())
}

fn mutate_byte(b: u8) -> u8 {
    // 'q' and 'r' are no hex digit and need no escaping: a mutation can
    // never produce an equivalent encoding of the same text.
    if b == b'q' {
        b'r'
    } else {
        b'q'
    }
}

fn mutate_str(s: &str, i: usize) -> Option<String> {
    let mut v = s.as_bytes().to_vec();
    if !v[i].is_ascii() {
        return None;
    }
    v[i] = mutate_byte(v[i]);
    String::from_utf8(v).ok()
}

/// How many signed requests verified and how many mutations were rejected.
#[derive(Default)]
pub struct Tally {
    pub accepted: usize,
    pub mutations: usize,
}

fn expect_code(case: &Case, what: &str, raw: &RawRequest, code: Option<&str>, t: &mut Tally) {
    t.mutations += 1;
    match verify(case, raw) {
        Ok(()) => panic!("{} {what}: mutated request was accepted", case.name),
        Err(e) => {
            if let Some(c) = code {
                assert_eq!(e.code(), c, "{} {what}: {e}", case.name);
            }
        }
    }
}

/// Headers whose change is caught before the signature is checked (time,
/// payload hash, token, region set): any rejection will do.
const AUTH_HEADERS: [&str; 4] = [
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "x-amz-region-set",
];

/// The byte range of the hex signature that follows `marker` in `s`.
fn signature_range(s: &str, marker: &str) -> std::ops::Range<usize> {
    let start = s.find(marker).unwrap() + marker.len();
    let len = s[start..].bytes().take_while(u8::is_ascii_hexdigit).count();
    assert!(len >= 64, "no signature after {marker}");
    start..start + len
}

/// Changes every byte of the method, path, query, each signed header
/// value, the body (and one byte more) and each hex digit of the signature
/// (header or query), and expects each change to be rejected: with
/// `SignatureDoesNotMatch` where only the signature can catch it, with the
/// body-hash error where the hash is sent, with any code where a parser or
/// policy check catches it first.
pub fn run_mutations(case: &Case, raw: &RawRequest, query_auth: bool, t: &mut Tally) {
    let signed_body_header = raw.header("x-amz-content-sha256").is_some();
    // Method.
    for i in 0..raw.method.len() {
        let mut m = raw.clone();
        m.method = mutate_str(&raw.method, i).unwrap();
        expect_code(case, "method", &m, Some("SignatureDoesNotMatch"), t);
    }
    // Path and query.
    let (path, query) = raw.target.split_once('?').unwrap_or((&raw.target, ""));
    for i in 0..path.len() {
        let Some(p) = mutate_str(path, i) else {
            continue;
        };
        if case.normalize
            && sigv4_sign::encode::normalize_path(&p) == sigv4_sign::encode::normalize_path(path)
        {
            // `/example/..` and `/qxample/..` name the same resource once
            // normalized: not a change to what is signed.
            continue;
        }
        let mut m = raw.clone();
        m.target = if query.is_empty() && !raw.target.contains('?') {
            p
        } else {
            format!("{p}?{query}")
        };
        expect_code(case, "path", &m, Some("SignatureDoesNotMatch"), t);
    }
    let mut offset = 0;
    for piece in query.split('&') {
        let is_auth = piece.starts_with("X-Amz-");
        let is_sig = piece.starts_with("X-Amz-Signature=");
        for i in 0..piece.len() {
            let qi = offset + i;
            let Some(q) = mutate_str(query, qi) else {
                continue;
            };
            let mut m = raw.clone();
            m.target = format!("{path}?{q}");
            let code = if !is_auth || (is_sig && i >= "X-Amz-Signature=".len()) {
                // The non-auth query, and the signature's value (mutated to 'q',
                // no hex digit: a malformed signature).
                if is_sig {
                    Some("AuthorizationQueryParametersError")
                } else {
                    Some("SignatureDoesNotMatch")
                }
            } else {
                None
            };
            expect_code(case, "query", &m, code, t);
        }
        offset += piece.len() + 1;
    }
    // Signed header values.
    let signed: Vec<String> = if query_auth {
        let sh = query
            .split('&')
            .find_map(|p| p.strip_prefix("X-Amz-SignedHeaders="))
            .unwrap()
            .replace("%3B", ";");
        sh.split(';').map(str::to_owned).collect()
    } else {
        let auth = raw.header("authorization").unwrap();
        let sh = auth
            .split("SignedHeaders=")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap();
        sh.split(';').map(str::to_owned).collect()
    };
    for (hi, h) in raw.headers.iter().enumerate() {
        let lname = h.name.to_ascii_lowercase();
        if !signed.contains(&lname) {
            continue;
        }
        let code = if AUTH_HEADERS.contains(&lname.as_str()) {
            None
        } else {
            Some("SignatureDoesNotMatch")
        };
        for i in 0..h.value.len() {
            let Some(v) = mutate_str(&h.value, i) else {
                continue;
            };
            let mut m = raw.clone();
            m.headers[hi].value = v;
            expect_code(case, &format!("header {lname}"), &m, code, t);
        }
    }
    // Body: every byte, and one byte more.
    let body_code = if signed_body_header {
        "XAmzContentSHA256Mismatch"
    } else {
        "SignatureDoesNotMatch"
    };
    for i in 0..raw.body.len() {
        let mut m = raw.clone();
        m.body[i] = mutate_byte(m.body[i]);
        expect_code(case, "body", &m, Some(body_code), t);
    }
    let mut m = raw.clone();
    m.body.push(b'x');
    expect_code(case, "body+1", &m, Some(body_code), t);
    // Signature: each hex digit changed to another hex digit.
    let flip = |b: u8| if b == b'0' { b'1' } else { b'0' };
    if !query_auth {
        let hi = raw
            .headers
            .iter()
            .position(|h| h.name.eq_ignore_ascii_case("authorization"))
            .unwrap();
        let v = &raw.headers[hi].value;
        let sig = signature_range(v, "Signature=");
        for i in sig.clone() {
            let mut b = v.as_bytes().to_vec();
            b[i] = flip(b[i]);
            let mut m = raw.clone();
            m.headers[hi].value = String::from_utf8(b).unwrap();
            expect_code(case, "signature", &m, Some("SignatureDoesNotMatch"), t);
        }
        // Any other change to the Authorization header is rejected too.
        for i in 0..sig.start {
            let Some(v2) = mutate_str(v, i) else { continue };
            let mut m = raw.clone();
            m.headers[hi].value = v2;
            expect_code(case, "authorization", &m, None, t);
        }
    } else {
        for i in signature_range(&raw.target, "X-Amz-Signature=") {
            let mut b = raw.target.as_bytes().to_vec();
            b[i] = flip(b[i]);
            let mut m = raw.clone();
            m.target = String::from_utf8(b).unwrap();
            expect_code(case, "signature", &m, Some("SignatureDoesNotMatch"), t);
        }
    }
}

/// Verifies the header- and query-signed request of each case folder
/// (those that have them) and runs every mutation on each; returns the
/// tally. Cases run on a few threads: SigV4a verifications are costly.
pub fn walk(dirs: &[PathBuf]) -> Tally {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                s.spawn(move || {
                    let mut t = Tally::default();
                    for dir in dirs.iter().skip(k).step_by(threads) {
                        let case = load_case(dir);
                        for (file, query_auth) in [
                            ("header-signed-request.txt", false),
                            ("query-signed-request.txt", true),
                        ] {
                            let Ok(bytes) = std::fs::read(dir.join(file)) else {
                                continue;
                            };
                            let raw = RawRequest::parse(&bytes).unwrap();
                            if let Err(e) = verify(&case, &raw) {
                                panic!("{} {file}: {e}", case.name);
                            }
                            t.accepted += 1;
                            run_mutations(&case, &raw, query_auth, &mut t);
                        }
                    }
                    t
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut total = Tally::default();
    for t in tallies {
        total.accepted += t.accepted;
        total.mutations += t.mutations;
    }
    total
}
