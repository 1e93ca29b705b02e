//! An in-process SigV4-checking HTTP server on 127.0.0.1 and test helpers.
//!
//! Each request is checked twice: by `sigv4_verify::Verifier` (strict
//! policy: skew, scope, payload hash against the received body), and by a
//! recomputation here from what was received (method, target, the headers
//! named in `SignedHeaders`, the body). Either failing answers 403 with the
//! reason.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sigv4_credentials::{BoxFuture, CredentialsResult, ProvideCredentials, TimeSource};
use sigv4_sign::{
    sha256_hex, AmzDate, CredentialScope, Credentials, PayloadHash, SignableRequest, Signer,
    SigningParams,
};

pub const AKID: &str = "AKIDTESTREQWEST";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETKEY";
pub const TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue";

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub amz_date: String,
    pub content_sha256: Option<String>,
    pub authorization: String,
    pub body_len: usize,
    pub verdict: Result<(), String>,
}

/// Shared server state.
#[derive(Default)]
pub struct ServerState {
    pub verifier: Option<sigv4_verify::Verifier>,
    pub secrets: HashMap<String, String>,
    pub seen: Mutex<Vec<Seen>>,
    /// Answer 503 to this many requests (after checking them) before answering normally.
    pub fail_first: AtomicUsize,
}

pub struct TestServer {
    pub base: String,
    pub state: Arc<ServerState>,
}

impl TestServer {
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

/// Starts the server on 127.0.0.1, port 0.
pub async fn start(fail_first: usize) -> TestServer {
    let state = Arc::new(ServerState {
        verifier: Some(sigv4_verify::Verifier::new(
            sigv4_verify::StaticSecretStore::new().with_key(AKID, SECRET),
        )),
        secrets: HashMap::from([(AKID.to_owned(), SECRET.to_owned())]),
        seen: Mutex::new(Vec::new()),
        fail_first: AtomicUsize::new(fail_first),
    });
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    TestServer {
        base: format!("http://{addr}"),
        state,
    }
}

async fn handle(State(state): State<Arc<ServerState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 << 20).await.unwrap();
    let header = |n: &str| {
        parts
            .headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    // sigv4-verify first, then the recomputation here.
    let mut verdict = Ok(());
    if let Some(v) = &state.verifier {
        let signable = sigv4_sign::SignableRequest::from_http_parts(&parts);
        verdict = v
            .verify(&signable, Some(&body))
            .await
            .map(|_| ())
            .map_err(|e| format!("sigv4-verify: {e}"));
    }
    if verdict.is_ok() {
        verdict = verify(&state, &parts, &body);
    }
    let seen = Seen {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        amz_date: header("x-amz-date").unwrap_or_default(),
        content_sha256: header("x-amz-content-sha256"),
        authorization: header("authorization").unwrap_or_default(),
        body_len: body.len(),
        verdict: verdict.clone(),
    };
    state.seen.lock().unwrap().push(seen);
    if let Err(why) = verdict {
        return (
            StatusCode::FORBIDDEN,
            format!("SignatureDoesNotMatch: {why}"),
        )
            .into_response();
    }
    if state
        .fail_first
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (StatusCode::SERVICE_UNAVAILABLE, "SlowDown").into_response();
    }
    (StatusCode::OK, Body::from(format!("ok {}", body.len()))).into_response()
}

/// Recomputes the signature of a received request.
fn verify(
    state: &ServerState,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<(), String> {
    let get = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok());
    let auth = get("authorization").ok_or("no Authorization header")?;
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not AWS4-HMAC-SHA256")?;
    let mut cred = None;
    let mut signed = None;
    let mut sig = None;
    for part in rest.split(", ") {
        match part.split_once('=') {
            Some(("Credential", v)) => cred = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => sig = Some(v),
            _ => return Err(format!("bad Authorization part {part:?}")),
        }
    }
    let (cred, signed, sig) = (
        cred.ok_or("no Credential")?,
        signed.ok_or("no SignedHeaders")?,
        sig.ok_or("no Signature")?,
    );
    let (akid, scope) = cred.split_once('/').ok_or("bad Credential")?;
    let scope = CredentialScope::parse(scope).ok_or("bad credential scope")?;
    let secret = state.secrets.get(akid).ok_or("InvalidAccessKeyId")?;
    let date =
        AmzDate::parse(get("x-amz-date").ok_or("no X-Amz-Date")?).map_err(|e| e.to_string())?;
    if date.date() != scope.date() {
        return Err("scope date differs from X-Amz-Date".into());
    }
    let names: Vec<&str> = signed.split(';').collect();
    for required in ["host", "x-amz-date"] {
        if !names.contains(&required) {
            return Err(format!("{required} is not signed"));
        }
    }
    let headers: Vec<(&str, &[u8])> = parts
        .headers
        .iter()
        .filter(|(n, _)| names.contains(&n.as_str()))
        .map(|(n, v)| (n.as_str(), v.as_bytes()))
        .collect();
    let body_hash = String::from_utf8(sha256_hex(body).to_vec()).unwrap();
    let payload = match get("x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => PayloadHash::Unsigned,
        Some(h) if h == body_hash => PayloadHash::Body(body),
        Some(h) => {
            return Err(format!(
                "XAmzContentSHA256Mismatch: header {h}, body {body_hash}"
            ))
        }
        None => PayloadHash::Body(body),
    };
    let token = get("x-amz-security-token").map(str::to_owned);
    let creds = Credentials::new(akid, secret.clone(), token);
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let signable = SignableRequest::with_byte_headers(parts.method.as_str(), target, &headers)
        .map_err(|e| e.to_string())?;
    let params = SigningParams::new(&creds, scope.region(), scope.service(), date);
    let out = Signer::new()
        .sign(&signable, payload, &params)
        .map_err(|e| e.to_string())?;
    if out.signed_headers() != signed {
        return Err(format!(
            "signed headers {signed} but recomputed {}",
            out.signed_headers()
        ));
    }
    if out.signature() != sig {
        return Err("SignatureDoesNotMatch".into());
    }
    Ok(())
}

/// Temporary credentials, counting how often they are asked for.
#[derive(Debug, Default)]
pub struct CountingProvider {
    pub calls: AtomicUsize,
    pub secret: Option<&'static str>,
}

impl ProvideCredentials for CountingProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            // A slow provider, so that concurrent callers really overlap.
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(
                Credentials::new(AKID, self.secret.unwrap_or(SECRET), Some(TOKEN.to_owned()))
                    .with_expiry(SystemTime::now() + Duration::from_secs(3600))
                    .with_provider_name("Counting"),
            )
        })
    }
}

/// A clock one second later at each reading, so each signature differs.
#[derive(Debug)]
pub struct TickingClock(pub AtomicU64);

impl TimeSource for TickingClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + Duration::from_secs(self.0.fetch_add(1, Ordering::SeqCst))
    }
}
