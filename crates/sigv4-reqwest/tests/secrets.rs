//! Secrets stay out of `Debug` output and logs. Its own test binary: a
//! `tracing` subscriber set for one test must not race other tests'
//! callsite registration.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

mod common;

use std::sync::{Arc, Mutex};

use common::{CountingProvider, AKID, SECRET, TOKEN};
use sigv4_credentials::CredentialsCache;
use sigv4_reqwest::SigV4Middleware;
use sigv4_sign::{Region, Service};

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output_or_logs() {
    let provider = Arc::new(CountingProvider::default());
    let mw = SigV4Middleware::builder()
        .credentials(CredentialsCache::new(provider))
        .region(Region::new("us-east-1").unwrap())
        .service(Service::new("s3").unwrap())
        .build();
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut req = reqwest::Client::new()
        .put("http://127.0.0.1:9/bucket/k?X-Amz-Security-Token=abc")
        .body("payload")
        .build()
        .unwrap();
    mw.sign(&mut req).await.unwrap();
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("canonical request"), "{logs}");
    assert!(logs.contains("PUT\n/bucket/k"), "{logs}");
    assert!(logs.contains(AKID), "the key id is not secret: {logs}");
    assert!(
        logs.contains("x-amz-security-token:** redacted **"),
        "{logs}"
    );

    let signature = req.headers()["authorization"]
        .to_str()
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .to_owned();
    let debugs = [
        format!("{mw:?}"),
        format!("{req:?}"),
        format!("{:?}", req.headers()),
        logs,
    ];
    for d in &debugs {
        for secret in [SECRET, TOKEN, signature.as_str()] {
            assert!(!d.contains(secret), "{secret} leaked in {d}");
        }
    }
    // The headers are there, marked sensitive.
    assert!(req.headers()["x-amz-security-token"].is_sensitive());
    assert!(req.headers()["authorization"].is_sensitive());
}
