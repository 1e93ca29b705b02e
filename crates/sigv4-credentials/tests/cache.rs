//! `CredentialsCache`: single flight, refresh timing, failure handling, all
//! on a manual clock (no sleeps).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use sigv4_credentials::{
    BoxFuture, CredentialsCache, CredentialsError, CredentialsResult, ManualTimeSource,
    ProvideCredentials, TimeSource,
};
use sigv4_sign::Credentials;

const T0: Duration = Duration::from_secs(1_700_000_000);

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + T0 + Duration::from_secs(secs)
}

/// A provider answering from a script, counting calls. Each answer is
/// `Ok((akid, expiry seconds after T0))` or `Err(message)`. When `gate` is
/// set, each call waits for it to open (so many callers pile up while a
/// refresh is in flight).
/// One scripted answer: `(akid, expiry seconds after T0)` or an error message.
type Answer = Result<(&'static str, Option<u64>), &'static str>;

#[derive(Debug)]
struct Scripted {
    answers: Mutex<VecDeque<Answer>>,
    calls: AtomicUsize,
    gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl Scripted {
    fn new(answers: Vec<Answer>) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.into()),
            calls: AtomicUsize::new(0),
            gate: None,
        })
    }
    fn gated(answers: Vec<Answer>, gate: Arc<tokio::sync::Semaphore>) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.into()),
            calls: AtomicUsize::new(0),
            gate: Some(gate),
        })
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl ProvideCredentials for Scripted {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                gate.acquire().await.unwrap().forget();
            }
            let answer = self
                .answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("script exhausted");
            match answer {
                Ok((akid, expiry)) => {
                    let c = Credentials::new(akid, "SECRET", None).with_provider_name("Scripted");
                    Ok(match expiry {
                        Some(s) => c.with_expiry(t(s)),
                        None => c,
                    })
                }
                Err(m) => Err(CredentialsError::not_loaded("Scripted", m)),
            }
        })
    }
}

fn cache(
    inner: Arc<Scripted>,
    clock: &Arc<ManualTimeSource>,
    buffer: u64,
    jitter: u64,
    jitter_value: f64,
) -> Arc<CredentialsCache> {
    Arc::new(
        CredentialsCache::builder(inner)
            .time_source(clock.clone() as Arc<dyn TimeSource>)
            .refresh_buffer(Duration::from_secs(buffer))
            .max_jitter(Duration::from_secs(jitter))
            .jitter_source(Arc::new(move || jitter_value))
            .default_lifetime(Duration::from_secs(900))
            .failure_backoff(Duration::from_secs(10))
            .build(),
    )
}

async fn akid(c: &CredentialsCache) -> Result<String, String> {
    c.get()
        .await
        .map(|c| c.access_key_id().to_owned())
        .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_waiters_at_expiry_cause_one_call() {
    let clock = Arc::new(ManualTimeSource::new(t(0)));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let inner = Scripted::gated(
        vec![Ok(("FIRST", Some(3600))), Ok(("SECOND", Some(7200)))],
        gate.clone(),
    );
    let cache = cache(inner.clone(), &clock, 300, 0, 0.0);
    gate.add_permits(1);
    assert_eq!(akid(&cache).await.unwrap(), "FIRST");
    assert_eq!(inner.calls(), 1);

    // The moment of expiry: nothing valid is left, every caller must wait.
    clock.set(t(3600));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { akid(&cache).await })
        })
        .collect();
    // Let the refresh start and every task queue behind it, then let it finish.
    while inner.calls() < 2 {
        tokio::task::yield_now().await;
    }
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    gate.add_permits(1);
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "SECOND");
    }
    assert_eq!(inner.calls(), 2, "exactly one refresh for 1000 callers");
}

#[tokio::test]
async fn refresh_happens_at_expiry_minus_buffer_and_jitter() {
    // Expiry at 3600, buffer 300, jitter up to 100 s, jitter value 0.5:
    // refresh from 3600 - 300 - 50 = 3250.
    let clock = Arc::new(ManualTimeSource::new(t(0)));
    let inner = Scripted::new(vec![Ok(("A", Some(3600))), Ok(("B", Some(7200)))]);
    let cache = cache(inner.clone(), &clock, 300, 100, 0.5);
    assert_eq!(akid(&cache).await.unwrap(), "A");
    clock.set(t(3249));
    assert_eq!(akid(&cache).await.unwrap(), "A");
    // The fast path hands out the same credentials, whole.
    let c = cache.cached().unwrap();
    assert_eq!(
        (c.access_key_id(), c.secret_access_key(), c.session_token()),
        ("A", "SECRET", None)
    );
    assert_eq!((c.expiry(), c.provider_name()), (Some(t(3600)), "Scripted"));
    assert_eq!(inner.calls(), 1);
    clock.set(t(3250));
    assert!(cache.cached().is_none(), "due for refresh");
    assert_eq!(akid(&cache).await.unwrap(), "B");
    assert_eq!(inner.calls(), 2);
}

#[tokio::test]
async fn jitter_moves_the_refresh_earlier_within_its_bound() {
    for (jitter_value, refresh_at) in [(0.0, 3300), (0.999, 3201), (5.0, 3200), (-1.0, 3300)] {
        let clock = Arc::new(ManualTimeSource::new(t(0)));
        let inner = Scripted::new(vec![Ok(("A", Some(3600))), Ok(("B", Some(7200)))]);
        let cache = cache(inner.clone(), &clock, 300, 100, jitter_value);
        akid(&cache).await.unwrap();
        // 0.999 * 100 s = 99.9 s: refresh at 3200.1, so 3200 is fresh, 3201 is not.
        clock.set(t(refresh_at - 1));
        assert!(
            cache.cached().is_some(),
            "jitter {jitter_value}: fresh at {}",
            refresh_at - 1
        );
        clock.set(t(refresh_at));
        assert!(
            cache.cached().is_none(),
            "jitter {jitter_value}: due at {refresh_at}"
        );
    }
}

#[tokio::test]
async fn failed_refresh_keeps_serving_valid_credentials() {
    let clock = Arc::new(ManualTimeSource::new(t(0)));
    let inner = Scripted::new(vec![
        Ok(("A", Some(3600))),
        Err("sts down"),
        Err("sts still down"),
        Ok(("B", Some(7200))),
    ]);
    let cache = cache(inner.clone(), &clock, 300, 0, 0.0);
    assert_eq!(akid(&cache).await.unwrap(), "A");
    // In the refresh window; the refresh fails; A is still valid.
    clock.set(t(3400));
    assert_eq!(akid(&cache).await.unwrap(), "A");
    assert_eq!(inner.calls(), 2);
    // Within the failure back-off (10 s): served without another call.
    clock.set(t(3409));
    assert_eq!(akid(&cache).await.unwrap(), "A");
    assert_eq!(inner.calls(), 2);
    // After the back-off: tried again, fails again, A still served.
    clock.set(t(3410));
    assert_eq!(akid(&cache).await.unwrap(), "A");
    assert_eq!(inner.calls(), 3);
    // Next try succeeds.
    clock.set(t(3420));
    assert_eq!(akid(&cache).await.unwrap(), "B");
    assert_eq!(inner.calls(), 4);
}

#[tokio::test]
async fn failed_refresh_with_nothing_valid_is_an_error() {
    let clock = Arc::new(ManualTimeSource::new(t(0)));
    let inner = Scripted::new(vec![
        Ok(("A", Some(3600))),
        Err("sts down"),
        Ok(("B", Some(9000))),
    ]);
    let cache = cache(inner.clone(), &clock, 300, 0, 0.0);
    assert_eq!(akid(&cache).await.unwrap(), "A");
    clock.set(t(3600)); // expired exactly now
    assert_eq!(akid(&cache).await.unwrap_err(), "Scripted: sts down");
    // The next call tries again.
    assert_eq!(akid(&cache).await.unwrap(), "B");
    assert_eq!(inner.calls(), 3);
}

#[tokio::test]
async fn back_off_never_serves_past_expiry() {
    let clock = Arc::new(ManualTimeSource::new(t(0)));
    let inner = Scripted::new(vec![Ok(("A", Some(3600))), Err("down"), Err("down again")]);
    let cache = cache(inner.clone(), &clock, 300, 0, 0.0);
    akid(&cache).await.unwrap();
    clock.set(t(3595)); // refresh fails, A valid 5 more seconds (< 10 s back-off)
    assert_eq!(akid(&cache).await.unwrap(), "A");
    clock.set(t(3600));
    assert_eq!(akid(&cache).await.unwrap_err(), "Scripted: down again");
}

#[tokio::test]
async fn credentials_without_expiry_are_kept_for_the_default_lifetime() {
    let clock = Arc::new(ManualTimeSource::new(t(0)));
    let inner = Scripted::new(vec![Ok(("A", None)), Err("gone"), Ok(("B", None))]);
    let cache = cache(inner.clone(), &clock, 300, 0, 0.0);
    assert_eq!(akid(&cache).await.unwrap(), "A");
    clock.set(t(899));
    assert_eq!(akid(&cache).await.unwrap(), "A");
    assert_eq!(inner.calls(), 1);
    // At 900 s they are loaded again; the failure keeps A (it never expires).
    clock.set(t(900));
    assert_eq!(akid(&cache).await.unwrap(), "A");
    assert_eq!(inner.calls(), 2);
    clock.set(t(910));
    assert_eq!(akid(&cache).await.unwrap(), "B");
    assert_eq!(inner.calls(), 3);
}

#[tokio::test]
async fn short_lived_credentials_refresh_half_way() {
    // Expiry 120 s away, buffer 300 s: refresh at 60 s, not on every call.
    let clock = Arc::new(ManualTimeSource::new(t(0)));
    let inner = Scripted::new(vec![Ok(("A", Some(120))), Ok(("B", Some(3600)))]);
    let cache = cache(inner.clone(), &clock, 300, 0, 0.0);
    assert_eq!(akid(&cache).await.unwrap(), "A");
    clock.set(t(59));
    assert_eq!(akid(&cache).await.unwrap(), "A");
    assert_eq!(inner.calls(), 1);
    clock.set(t(60));
    assert_eq!(akid(&cache).await.unwrap(), "B");
}

#[tokio::test]
async fn already_expired_answers_are_rejected() {
    let clock = Arc::new(ManualTimeSource::new(t(100)));
    let inner = Scripted::new(vec![Ok(("OLD", Some(50)))]);
    let cache = cache(inner, &clock, 300, 0, 0.0);
    let e = akid(&cache).await.unwrap_err();
    assert!(
        e.contains("Scripted returned credentials that expired at"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_during_a_refresh_with_valid_credentials_do_not_wait() {
    let clock = Arc::new(ManualTimeSource::new(t(0)));
    let gate = Arc::new(tokio::sync::Semaphore::new(1));
    let inner = Scripted::gated(
        vec![Ok(("A", Some(3600))), Ok(("B", Some(7200)))],
        gate.clone(),
    );
    let cache = cache(inner.clone(), &clock, 300, 0, 0.0);
    assert_eq!(akid(&cache).await.unwrap(), "A");
    clock.set(t(3400)); // in the refresh window, A valid until 3600
    let leader = {
        let cache = cache.clone();
        tokio::spawn(async move { akid(&cache).await })
    };
    while inner.calls() < 2 {
        tokio::task::yield_now().await;
    }
    // The refresh is blocked on the gate; others get A right away.
    for _ in 0..10 {
        assert_eq!(akid(&cache).await.unwrap(), "A");
    }
    gate.add_permits(1);
    assert_eq!(leader.await.unwrap().unwrap(), "B");
    assert_eq!(akid(&cache).await.unwrap(), "B");
    assert_eq!(inner.calls(), 2);
}

#[test]
fn cache_is_usable_as_dyn_provider() {
    fn takes(_: Arc<dyn ProvideCredentials>) {}
    let clock = Arc::new(ManualTimeSource::new(t(0)));
    takes(cache(Scripted::new(vec![]), &clock, 1, 1, 0.0));
}
