//! The load-test target of `tests/interop/run-load-interop.sh` (wrk).
//!
//! ```text
//! load_server [--port N] [--threads N] [--no-auth]
//! ```
//!
//! Serves `GET /bucket/key` (200, `ok\n`) on 127.0.0.1 behind the SigV4
//! [`VerifyLayer`] (key `AKIDLOAD`, fixed secret), or without it with
//! `--no-auth`. Prints `listening on 127.0.0.1:PORT`, then runs on exactly
//! `--threads` tokio workers (default 1), so requests/s per core is honest.
//! `GET /stats` (outside the layer) answers `served=N verified=N rejected=N`:
//! handler calls, calls that carried a verified `Identity`, non-2xx answers.
use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use axum::{extract::Request, response::Response, routing::get, Router};
use sigv4_verify::tower::VerifyLayer;
use sigv4_verify::{Identity, StaticSecretStore, Verifier};
use tower::util::MapResponseLayer;

#[derive(Default)]
struct Counts {
    served: AtomicU64,
    verified: AtomicU64,
    rejected: AtomicU64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (mut port, mut threads, mut auth) = (0u16, 1usize, true);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().ok_or("--port N")?.parse()?,
            "--threads" => threads = args.next().ok_or("--threads N")?.parse()?,
            "--no-auth" => auth = false,
            _ => {
                return Err(format!(
                    "unknown argument {a:?}; usage: [--port N] [--threads N] [--no-auth]"
                )
                .into())
            }
        }
    }
    let counts = Arc::new(Counts::default());
    let (c1, c2, c3) = (counts.clone(), counts.clone(), counts);
    // The route under test: counts itself, and whether the layer vouched for the caller.
    let mut app = Router::new().route(
        "/bucket/key",
        get(move |req: Request| async move {
            c1.served.fetch_add(1, Relaxed);
            if req.extensions().get::<Identity>().is_some() {
                c1.verified.fetch_add(1, Relaxed);
            }
            "ok\n"
        }),
    );
    if auth {
        let store = StaticSecretStore::new().with_key("AKIDLOAD", "load/secret+key");
        app = app.layer(VerifyLayer::new(Arc::new(Verifier::new(store))));
    }
    // Outermost: count every non-2xx answer (the layer's 403s included); /stats stays outside.
    let app = app
        .layer(MapResponseLayer::new(move |res: Response| {
            if !res.status().is_success() {
                c2.rejected.fetch_add(1, Relaxed);
            }
            res
        }))
        .route(
            "/stats",
            get(move || async move {
                let n = |a: &AtomicU64| a.load(Relaxed);
                format!(
                    "served={} verified={} rejected={}\n",
                    n(&c3.served),
                    n(&c3.verified),
                    n(&c3.rejected)
                )
            }),
        );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening on {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        // Spawned, so that accepting also runs on the workers and not on this thread.
        tokio::spawn(async move { axum::serve(listener, app).await }).await??;
        Ok(())
    })
}
