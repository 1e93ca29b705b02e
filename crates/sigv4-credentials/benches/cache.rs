//! The cache's fast path: credentials present and fresh.
//!
//! `cargo bench -p sigv4-credentials --bench cache`
//!
//! The `2_threads` benchmarks run the same call on two threads at once and
//! report the slower thread's time per call.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::future::Future;
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, criterion_main, Criterion};
use sigv4_credentials::{CredentialsCache, ProvideCredentials, StaticProvider};
use sigv4_sign::Credentials;

/// Poll a future that must be ready at once (the fast path never awaits).
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the fast path awaited"),
    }
}

fn warm_cache() -> Arc<CredentialsCache> {
    let creds = Credentials::new("AKIDEXAMPLE", "SECRET", Some("TOKEN".into()))
        .with_expiry(SystemTime::now() + Duration::from_secs(3600));
    let cache = Arc::new(CredentialsCache::new(StaticProvider::new(creds)));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(cache.get()).unwrap();
    assert!(cache.cached().is_some());
    cache
}

/// Time `iters` calls of `call` on each of `threads` threads started together;
/// the slowest thread's total.
fn on_threads(threads: usize, iters: u64, call: impl Fn() + Send + Sync + 'static) -> Duration {
    let call = Arc::new(call);
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (call, barrier) = (call.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                for _ in 0..iters {
                    call();
                }
                start.elapsed()
            })
        })
        .collect();
    handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .max()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let cache = warm_cache();
    let mut g = c.benchmark_group("cache_fast_path");

    let c1 = cache.clone();
    g.bench_function("get_1_thread", move |b| {
        b.iter(|| black_box(ready(c1.get()).unwrap()))
    });

    let c2 = cache.clone();
    g.bench_function("get_2_threads", move |b| {
        b.iter_custom(|iters| {
            let c = c2.clone();
            on_threads(2, iters, move || {
                black_box(ready(c.get()).unwrap());
            })
        });
    });

    let dynamic: Arc<dyn ProvideCredentials> = cache.clone();
    g.bench_function("dyn_provide_credentials_2_threads", move |b| {
        b.iter_custom(|iters| {
            let p = dynamic.clone();
            on_threads(2, iters, move || {
                black_box(ready(p.provide_credentials()).unwrap());
            })
        });
    });
    g.finish();

    // Components, for reading the numbers above.
    let mut g = c.benchmark_group("components");
    g.bench_function("system_time_now_2_threads", |b| {
        b.iter_custom(|iters| {
            on_threads(2, iters, || {
                black_box(SystemTime::now());
            })
        });
    });
    g.bench_function("system_time_now_1_thread", |b| {
        b.iter(|| black_box(SystemTime::now()))
    });
    let c3 = cache.clone();
    g.bench_function("cached_2_threads", move |b| {
        b.iter_custom(|iters| {
            let c = c3.clone();
            on_threads(2, iters, move || {
                black_box(c.cached());
            })
        });
    });
    let shared = Credentials::new("AKIDEXAMPLE", "SECRET", None);
    g.bench_function("shared_credentials_clone_2_threads", move |b| {
        b.iter_custom(|iters| {
            let c = shared.clone();
            on_threads(2, iters, move || {
                black_box(c.clone());
            })
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
