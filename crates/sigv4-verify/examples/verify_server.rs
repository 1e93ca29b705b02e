//! A verifying server for the interop tier: binds 127.0.0.1 port 0, prints
//! `PORT <n>` on stdout, answers every verified request with 200 and a JSON
//! identity, and every rejected one with the S3 XML error.
//!
//! Keys come from `VERIFY_KEYS` (a JSON object: access key id -> secret).
use std::sync::Arc;

use axum::{body::Body, extract::Extension, http::Request, routing::any, Router};
use http_body_util::BodyExt;
use sigv4_verify::tower::VerifyLayer;
use sigv4_verify::{Identity, Policy, StaticSecretStore, Verifier};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys =
        std::env::var("VERIFY_KEYS").unwrap_or_else(|_| r#"{"AKIDEXAMPLE":"secret"}"#.into());
    let keys: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&keys)?;
    let mut store = StaticSecretStore::new();
    for (k, v) in keys {
        let secret = v.as_str().ok_or("VERIFY_KEYS values must be strings")?;
        store = store.with_key(k, secret);
    }
    let policy = Policy::default().with_signature_debug(std::env::var_os("VERIFY_DEBUG").is_some());
    let verifier = Arc::new(Verifier::new(store).with_policy(policy));
    let app = Router::new()
        .fallback(any(|Extension(id): Extension<Identity>, req: Request<Body>| async move {
            let is_get = req.method() == axum::http::Method::GET;
            // Read the (verified) body so aws-chunked errors surface.
            match req.into_body().collect().await {
                // botocore reads a non-empty 200 body of PutObject as an error:
                // only GET answers with the identity.
                Ok(b) => (
                    axum::http::StatusCode::OK,
                    if is_get {
                        serde_json::json!({"ok": true, "access_key_id": id.access_key_id, "bytes": b.to_bytes().len()}).to_string()
                    } else {
                        String::new()
                    },
                ),
                Err(e) => (axum::http::StatusCode::BAD_REQUEST, format!("body error: {e}")),
            }
        }))
        .layer(VerifyLayer::new(verifier));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("PORT {}", listener.local_addr()?.port());
    use std::io::Write as _;
    std::io::stdout().flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}
