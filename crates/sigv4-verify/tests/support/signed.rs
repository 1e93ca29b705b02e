//! Shared by `lessons.rs` and `v4a_suite.rs`: a request signed in the test,
//! the verifier that checks it at a fixed time, and the outcome as a code.
#![allow(dead_code)] // each test file uses its own subset

use std::time::{Duration, UNIX_EPOCH};

use sigv4_sign::{Credentials, SignableRequest};
use sigv4_verify::{FixedClock, Policy, StaticSecretStore, Verified, Verifier, VerifyError};

pub const AKID: &str = "AKIDEXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2024-01-01T00:00:00Z.
pub const T0: u64 = 1_704_067_200;

/// A signed request: method, target, header pairs, body.
#[derive(Clone, Debug)]
pub struct Signed {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Signed {
    pub fn header(&self, n: &str) -> &str {
        &self
            .headers
            .iter()
            .find(|h| h.0.eq_ignore_ascii_case(n))
            .unwrap()
            .1
    }

    pub fn replace_header(mut self, n: &str, v: &str) -> Self {
        for h in &mut self.headers {
            if h.0.eq_ignore_ascii_case(n) {
                h.1 = v.into();
            }
        }
        self
    }

    pub fn with_header(mut self, n: &str, v: &str) -> Self {
        self.headers.push((n.into(), v.into()));
        self
    }

    pub fn without_header(mut self, n: &str) -> Self {
        self.headers.retain(|h| !h.0.eq_ignore_ascii_case(n));
        self
    }

    /// The headers as `(name, value)` pairs, for `SignableRequest::new`.
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }
}

/// AKID/SECRET, without a session token.
pub fn creds() -> Credentials {
    Credentials::new(AKID, SECRET, None)
}

/// A verifier holding AKID/SECRET, with `policy`, whose clock reads `at`
/// (seconds since the epoch).
pub fn verifier_at(at: u64, policy: Policy) -> Verifier {
    Verifier::new(StaticSecretStore::new().with_key(AKID, SECRET))
        .with_policy(policy)
        .with_clock(FixedClock(UNIX_EPOCH + Duration::from_secs(at)))
}

/// Verifies `s` with its body, knowing only AKID.
pub fn check(v: &Verifier, s: &Signed) -> Result<Verified, VerifyError> {
    let pairs = s.header_pairs();
    let req = SignableRequest::new(&s.method, &s.target, &pairs).unwrap();
    v.verify_with(&req, Some(&s.body), |akid| (akid == AKID).then(creds))
}

/// `OK`, or the S3 error code.
pub fn code(r: Result<Verified, VerifyError>) -> &'static str {
    match r {
        Ok(_) => "OK",
        Err(e) => e.code(),
    }
}
