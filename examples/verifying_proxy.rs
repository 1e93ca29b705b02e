//! A verifying, re-signing proxy from the library pieces, in one screen.
//!
//! ```text
//! cargo run --example verifying_proxy
//! ```
//!
//! Upstream and proxy each sit behind `sigv4::verify::tower::VerifyLayer`
//! with their own keys; the proxy re-signs what it verified with the
//! upstream's key. This sketch buffers bodies (the layer does, for bodies
//! that are not aws-chunked); `sigv4 proxy` is the full version: streaming
//! both ways, hop-by-hop headers, timeouts, graceful shutdown.
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::{routing::any, Extension, Router};
use sigv4::sign::{
    Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningParams,
};
use sigv4::verify::{tower::VerifyLayer, Identity, StaticSecretStore, Verifier};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Signs `method url body` with `creds` for S3 in us-east-1, sends it, returns status and body.
async fn send(
    creds: &Credentials,
    method: &str,
    url: &str,
    body: Vec<u8>,
) -> Result<(u16, String), Error> {
    let mut req = http::Request::builder()
        .method(method)
        .uri(url)
        .body(body)?;
    let host = req.uri().authority().ok_or("no host")?.to_string();
    req.headers_mut().insert("host", host.parse()?);
    let (region, service) = (Region::new("us-east-1")?, Service::new("s3")?);
    let params = SigningParams::at_system_time(creds, &region, &service, SystemTime::now())?;
    let out = Signer::new().sign(
        &SignableRequest::from_http(&req),
        PayloadHash::Body(req.body()),
        &params,
    )?;
    out.apply_to(&mut req)?;
    let res = reqwest::Client::new().execute(req.try_into()?).await?;
    Ok((res.status().as_u16(), res.text().await?))
}

/// The upstream's handler: echoes the body and who signed it.
async fn echo(Extension(id): Extension<Identity>, body: String) -> String {
    format!("upstream got {body:?}, signed by {}", id.access_key_id)
}

/// The proxy's handler: the layer verified the client; re-sign and forward.
async fn forward(State((upstream, creds)): State<(String, Credentials)>, req: Request) -> String {
    let (url, method) = (
        format!("{upstream}{}", req.uri().path()),
        req.method().to_string(),
    );
    let body = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .map(Vec::from);
    match send(&creds, &method, &url, body.unwrap_or_default()).await {
        Ok((_, text)) => text,
        Err(e) => format!("upstream failed: {e}"),
    }
}

/// Serves `app` behind a verifying layer holding `keys`, on 127.0.0.1:0; returns its URL.
async fn serve(app: Router, keys: StaticSecretStore) -> Result<String, Error> {
    let app = app.layer(VerifyLayer::new(Arc::new(Verifier::new(keys))));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // 1. The upstream echo server: only the proxy's key may call it.
    let app = Router::new().route("/{*path}", any(echo));
    let upstream = serve(
        app,
        StaticSecretStore::new().with_key("AKIDPROXY", "proxy-secret"),
    )
    .await?;

    // 2. The proxy: verifies its clients' keys (the layer answers failures
    //    with the S3 XML error), re-signs with its own key for the upstream.
    let proxy_creds = Credentials::new("AKIDPROXY", "proxy-secret", None);
    let app = Router::new()
        .route("/{*path}", any(forward))
        .with_state((upstream, proxy_creds));
    let proxy = serve(
        app,
        StaticSecretStore::new().with_key("AKIDCLIENT", "client-secret"),
    )
    .await?;

    // 3. A good client request, then one signed with the wrong secret.
    for secret in ["client-secret", "wrong-secret"] {
        let client = Credentials::new("AKIDCLIENT", secret, None);
        let url = format!("{proxy}/bucket/key");
        let (status, text) = send(&client, "PUT", &url, b"hello".to_vec()).await?;
        println!("signed with {secret}: {status} {text}");
    }
    Ok(())
}
