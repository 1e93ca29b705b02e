//! Acceptance 1: every signed request of the AWS SigV4 test suite verifies,
//! and every single-byte change to a signed part is rejected with the right
//! code. One test walks the folder: a new case is a new folder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, UNIX_EPOCH};

use sigv4_sign::raw::RawRequest;
use sigv4_verify::{FixedClock, Policy, Verifier};

#[path = "support/suite.rs"]
mod suite;

use suite::{case_dirs, load_case, suite_dir, verify, walk, Case};

#[test]
fn v4_suite_signed_requests_verify_and_mutations_fail() {
    let dirs = case_dirs("v4");
    assert!(dirs.len() >= 38, "found {} cases", dirs.len());
    let t = walk(&dirs);
    eprintln!(
        "{} signed requests accepted, {} mutations rejected",
        t.accepted, t.mutations
    );
    assert_eq!(t.accepted, 2 * dirs.len());
}

#[test]
fn suite_time_skew_and_scope_checks() {
    let dir = suite_dir("v4").join("get-vanilla");
    let case = load_case(&dir);
    let raw =
        RawRequest::parse(&std::fs::read(dir.join("header-signed-request.txt")).unwrap()).unwrap();
    let base = 1_440_938_160u64;
    for (offset, ok) in [(-901i64, false), (-900, true), (900, true), (901, false)] {
        let v = Verifier::new(sigv4_verify::StaticSecretStore::new())
            .with_policy(case.verifier.policy().clone())
            .with_clock(FixedClock(
                UNIX_EPOCH + Duration::from_secs((base as i64 + offset) as u64),
            ));
        let c2 = Case {
            name: case.name.clone(),
            verifier: v,
            creds: case.creds.clone(),
            normalize: true,
        };
        let r = verify(&c2, &raw);
        assert_eq!(r.is_ok(), ok, "offset {offset}: {r:?}");
        if !ok {
            assert_eq!(r.unwrap_err().code(), "RequestTimeTooSkewed");
        }
    }
    // Region and service outside the policy.
    let v = Verifier::new(sigv4_verify::StaticSecretStore::new())
        .with_policy(Policy::default().with_allowed_regions(["eu-west-1"]))
        .with_clock(FixedClock(UNIX_EPOCH + Duration::from_secs(base)));
    let c2 = Case {
        name: case.name.clone(),
        verifier: v,
        creds: case.creds.clone(),
        normalize: true,
    };
    let e = verify(&c2, &raw).unwrap_err();
    assert_eq!(e.code(), "AuthorizationHeaderMalformed");
    assert!(e.to_xml(None).contains("<Region>eu-west-1</Region>"));
}
