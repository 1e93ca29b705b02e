//! `sigv4 verify`: verify a raw HTTP request (as `sigv4 sign --raw` prints it),
//! signed with SigV4 (`AWS4-HMAC-SHA256`) or SigV4a (`AWS4-ECDSA-P256-SHA256`).
//!
//! Exit codes: 0 the request verifies, 1 it does not, 2 an input file is
//! unusable (missing, unreadable, not a raw request, bad keys file, bad `--time`).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;
use sigv4_sign::raw::RawRequest;
use sigv4_sign::{AmzDate, SignableRequest};
use sigv4_verify::{AuthLocation, FixedClock, SystemClock, Verifier};

/// Verify a signed HTTP request read from a file or stdin.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The raw HTTP request (`-` for stdin), in the form `sigv4 sign --raw` prints.
    #[arg(long, value_name = "FILE|-")]
    pub raw: String,
    /// JSON object mapping access key id to secret access key
    /// (or to `{"secret_access_key": ..., "session_token": ...}`).
    #[arg(long, value_name = "KEYS.json")]
    pub keys: PathBuf,
    /// Verify as if the server clock read this time (`20150830T123600Z` or
    /// `2015-08-30T12:36:00Z`); default: now.
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    /// Print the result as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// On SignatureDoesNotMatch, also print the server's canonical request and
    /// string to sign (JSON keys `canonical_request`, `string_to_sign`), to set
    /// beside `sigv4 sign --explain` on the client's side.
    #[arg(long)]
    pub explain: bool,
}

/// Runs `sigv4 verify`, printing to stdout/stderr; returns the exit code.
pub fn run(args: &VerifyArgs) -> i32 {
    run_with(
        args,
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
}

fn usage_error(err: &mut dyn Write, msg: &str) -> i32 {
    let _ = writeln!(err, "sigv4 verify: {msg}");
    2
}

/// [`run`] with explicit streams (tests use this).
pub fn run_with(
    args: &VerifyArgs,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let bytes = if args.raw == "-" {
        let mut b = Vec::new();
        if let Err(e) = stdin.read_to_end(&mut b) {
            return usage_error(err, &format!("cannot read the request from stdin: {e}"));
        }
        b
    } else {
        match std::fs::read(&args.raw) {
            Ok(b) => b,
            Err(e) => return usage_error(err, &format!("cannot read {}: {e}", args.raw)),
        }
    };
    let raw = match RawRequest::parse(&bytes) {
        Ok(r) => r,
        Err(e) => return usage_error(err, &format!("{} is not a raw HTTP request: {e}", args.raw)),
    };
    let keys = match crate::keys::load_keys(&args.keys) {
        Ok(k) => k,
        Err(e) => return usage_error(err, &e),
    };
    let mut verifier = Verifier::new(sigv4_verify::StaticSecretStore::new());
    if args.explain {
        let policy = verifier.policy().clone().with_signature_debug(true);
        verifier = verifier.with_policy(policy);
    }
    if let Some(t) = &args.time {
        let Ok(t) = AmzDate::parse(t) else {
            return usage_error(
                err,
                &format!("--time {t:?} is neither YYYYMMDDTHHMMSSZ nor YYYY-MM-DDTHH:MM:SSZ"),
            );
        };
        verifier = verifier.with_clock(FixedClock(
            UNIX_EPOCH + Duration::from_secs(t.unix().unsigned_abs()),
        ));
    } else {
        verifier = verifier.with_clock(SystemClock);
    }
    let pairs = raw.header_pairs();
    let result = SignableRequest::new(&raw.method, &raw.target, &pairs)
        .map_err(|e| sigv4_verify::VerifyError::InvalidRequest(e.to_string()))
        .and_then(|req| {
            verifier.verify_with(&req, Some(&raw.body), |akid| {
                keys.iter().find(|c| c.access_key_id() == akid).cloned()
            })
        });
    match result {
        Ok(v) => {
            let id = &v.identity;
            let location = match id.location {
                AuthLocation::Header => "header",
                AuthLocation::Query => "query",
                _ => "post",
            };
            // SigV4a signs for a region set; its scope has no region.
            let (algorithm, region) = match &id.region_set {
                Some(_) => ("AWS4-ECDSA-P256-SHA256", None),
                None => ("AWS4-HMAC-SHA256", Some(id.scope.region().as_str())),
            };
            if args.json {
                let j = json!({
                    "ok": true,
                    "access_key_id": id.access_key_id,
                    "algorithm": algorithm,
                    "scope": id.scope_string(),
                    "region": region,
                    "region_set": id.region_set,
                    "service": id.scope.service().as_str(),
                    "location": location,
                });
                let _ = writeln!(out, "{j}");
            } else {
                let set = id
                    .region_set
                    .as_ref()
                    .map(|s| format!(", region set {s}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "OK: signed by {} (scope {}{set}, {location} auth)",
                    id.access_key_id,
                    id.scope_string()
                );
            }
            0
        }
        Err(e) => {
            let debug = match &e {
                sigv4_verify::VerifyError::SignatureDoesNotMatch(Some(d)) if args.explain => {
                    Some(d)
                }
                _ => None,
            };
            if args.json {
                let mut j = json!({"ok": false, "code": e.code(), "message": e.to_string()});
                if let Some(d) = debug {
                    j["canonical_request"] = json!(d.canonical_request);
                    j["string_to_sign"] = json!(d.string_to_sign);
                    j["signature_provided"] = json!(d.signature_provided);
                }
                let _ = writeln!(out, "{j}");
            } else {
                let _ = writeln!(err, "sigv4 verify: {}: {e}", e.code());
                if let Some(d) = debug {
                    let _ = write!(
                        err,
                        "== Server canonical request\n{}\n== Server string to sign\n{}\n",
                        crate::explain::visible(d.canonical_request.as_bytes()),
                        crate::explain::visible(d.string_to_sign.as_bytes()),
                    );
                }
            }
            1
        }
    }
}
