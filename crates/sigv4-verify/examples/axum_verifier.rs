//! An axum app behind the SigV4 verifying layer.
//!
//! ```text
//! cargo run -p sigv4-verify --features tower --example axum_verifier
//! AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret \
//!   curl --aws-sigv4 aws:amz:us-east-1:s3 --user AKIDEXAMPLE:secret http://127.0.0.1:PORT/bucket/key
//! ```
use std::sync::Arc;

use axum::{extract::Extension, routing::any, Router};
use sigv4_verify::tower::VerifyLayer;
use sigv4_verify::{Identity, StaticSecretStore, Verifier};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = StaticSecretStore::new().with_key("AKIDEXAMPLE", "secret");
    let verifier = Arc::new(Verifier::new(store));
    let app = Router::new()
        .route(
            "/{*path}",
            any(|Extension(id): Extension<Identity>| async move {
                format!("hello {} ({})\n", id.access_key_id, id.scope)
            }),
        )
        .layer(VerifyLayer::new(verifier));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
