//! [`CredentialsCache`]: lock-free reads, refresh ahead of expiry, single
//! flight, and still-valid credentials served through provider failures.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use sigv4_sign::Credentials;

use crate::clock::{SystemTimeSource, TimeSource};
use crate::error::CredentialsError;
use crate::provider::{BoxFuture, CredentialsResult, ProvideCredentials};

/// A source of jitter: a number in `[0, 1)` each call.
pub type JitterSource = Arc<dyn Fn() -> f64 + Send + Sync>;

/// A cache in front of any provider.
///
/// - **Fast path**: while the cached credentials are fresh, a call is an
///   atomic load ([`arc_swap`]), a clock read and a reference-count
///   increment: no lock, no await.
/// - **Refresh ahead**: credentials expiring at `E` are refreshed from
///   `E - buffer - jitter`, where jitter is uniform in `[0, max jitter)`,
///   so a fleet does not refresh in lockstep. If that moment is already
///   past when they are loaded (short-lived credentials), they are
///   refreshed half way to their expiry instead.
/// - **No expiry**: credentials without one are refreshed after the
///   default lifetime; they remain valid (servable) until then and after.
/// - **Single flight**: one refresh at a time, however many callers.
///   Callers holding nothing valid wait for it and share its outcome;
///   callers arriving while it runs and valid credentials exist get those
///   at once.
/// - **Failures**: if a refresh fails while the cached credentials are still
///   valid, they keep being served and the refresh is retried after the
///   failure back-off; the error is returned only when nothing valid is
///   left.
///
/// ```
/// use std::sync::Arc;
/// use sigv4_credentials::{CredentialsCache, ProvideCredentials, StaticProvider};
/// use sigv4_sign::Credentials;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let cache = CredentialsCache::new(StaticProvider::new(Credentials::new("AKID", "SECRET", None)));
/// let provider: Arc<dyn ProvideCredentials> = Arc::new(cache);
/// assert_eq!(provider.provide_credentials().await.unwrap().access_key_id(), "AKID");
/// # });
/// ```
pub struct CredentialsCache {
    inner: Arc<dyn ProvideCredentials>,
    current: ArcSwapOption<Entry>,
    /// Held by the one refresh in flight; holds the last refresh's error.
    refresh: tokio::sync::Mutex<Option<CredentialsError>>,
    /// Bumped when a refresh completes (success or failure).
    generation: AtomicU64,
    time: Arc<dyn TimeSource>,
    settings: Settings,
    jitter: JitterSource,
}

#[derive(Clone, Copy, Debug)]
struct Settings {
    buffer: Duration,
    max_jitter: Duration,
    default_lifetime: Duration,
    failure_backoff: Duration,
    load_timeout: Duration,
}

/// How many copies of the cached credentials the fast path spreads threads
/// over (see [`Entry::copies`]).
const COPIES: usize = 8;

/// This thread's copy index: threads are numbered round-robin on first use.
fn copy_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % COPIES;
    }
    INDEX.with(|i| *i)
}

/// The same credentials in a separate allocation (its own reference count).
fn separate_copy(c: &Credentials) -> Credentials {
    let copy = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        c.session_token().map(str::to_owned),
    )
    .with_provider_name(c.provider_name().to_owned());
    match c.expiry() {
        Some(t) => copy.with_expiry(t),
        None => copy,
    }
}

struct Entry {
    credentials: Credentials,
    /// Copies of `credentials` in separate allocations. Cloning credentials
    /// bumps a reference count; threads on the fast path each clone their
    /// own copy so they do not contend on one cache line.
    copies: Vec<Credentials>,
    /// Served without refreshing until then.
    refresh_at: SystemTime,
    /// Servable until then (`None`: no expiry).
    valid_until: Option<SystemTime>,
}

impl Entry {
    fn new(
        credentials: Credentials,
        refresh_at: SystemTime,
        valid_until: Option<SystemTime>,
    ) -> Self {
        let copies = (0..COPIES).map(|_| separate_copy(&credentials)).collect();
        Self {
            credentials,
            copies,
            refresh_at,
            valid_until,
        }
    }

    fn copy_for_this_thread(&self) -> &Credentials {
        self.copies.get(copy_index()).unwrap_or(&self.credentials)
    }
}

impl fmt::Debug for CredentialsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsCache")
            .field("inner", &self.inner)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Builds a [`CredentialsCache`]; see [`CredentialsCache::builder`].
pub struct CacheBuilder {
    inner: Arc<dyn ProvideCredentials>,
    time: Arc<dyn TimeSource>,
    settings: Settings,
    jitter: JitterSource,
}

impl fmt::Debug for CacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheBuilder")
            .field("inner", &self.inner)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl CacheBuilder {
    /// The clock (default: the system clock).
    #[must_use]
    pub fn time_source(mut self, time: Arc<dyn TimeSource>) -> Self {
        self.time = time;
        self
    }

    /// How long before expiry to refresh (default 5 minutes).
    #[must_use]
    pub fn refresh_buffer(mut self, buffer: Duration) -> Self {
        self.settings.buffer = buffer;
        self
    }

    /// The largest random extra advance of a refresh (default 1 minute).
    #[must_use]
    pub fn max_jitter(mut self, jitter: Duration) -> Self {
        self.settings.max_jitter = jitter;
        self
    }

    /// Where jitter comes from: a function returning a number in `[0, 1)`
    /// (default: a fast thread-local generator). Values outside are clamped.
    #[must_use]
    pub fn jitter_source(mut self, source: JitterSource) -> Self {
        self.jitter = source;
        self
    }

    /// How long credentials without an expiry are served before they are
    /// loaded again (default 15 minutes).
    #[must_use]
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.default_lifetime = lifetime;
        self
    }

    /// After a failed refresh, how long to keep serving still-valid
    /// credentials before trying again (default 10 seconds).
    #[must_use]
    pub fn failure_backoff(mut self, backoff: Duration) -> Self {
        self.settings.failure_backoff = backoff;
        self
    }

    /// The longest a refresh may take before it counts as failed (default
    /// 2 minutes).
    #[must_use]
    pub fn load_timeout(mut self, timeout: Duration) -> Self {
        self.settings.load_timeout = timeout;
        self
    }

    /// The cache.
    pub fn build(self) -> CredentialsCache {
        CredentialsCache {
            inner: self.inner,
            current: ArcSwapOption::empty(),
            refresh: tokio::sync::Mutex::new(None),
            generation: AtomicU64::new(0),
            time: self.time,
            settings: self.settings,
            jitter: self.jitter,
        }
    }
}

impl CredentialsCache {
    /// A cache in front of `provider`, with the default settings.
    pub fn new(provider: impl ProvideCredentials + 'static) -> Self {
        Self::builder(provider).build()
    }

    /// A builder for a cache in front of `provider`.
    pub fn builder(provider: impl ProvideCredentials + 'static) -> CacheBuilder {
        CacheBuilder {
            inner: Arc::new(provider),
            time: Arc::new(SystemTimeSource),
            settings: Settings {
                buffer: Duration::from_secs(300),
                max_jitter: Duration::from_secs(60),
                default_lifetime: Duration::from_secs(900),
                failure_backoff: Duration::from_secs(10),
                load_timeout: Duration::from_secs(120),
            },
            jitter: Arc::new(fastrand::f64),
        }
    }

    /// Credentials: cached ones while fresh, else a refresh.
    pub async fn get(&self) -> CredentialsResult {
        if let Some(c) = self.fresh(self.time.now()) {
            return Ok(c);
        }
        self.refresh().await
    }

    /// The cached credentials if present and fresh (no refresh due), without
    /// awaiting anything: the fast path of [`get`](Self::get).
    pub fn cached(&self) -> Option<Credentials> {
        self.fresh(self.time.now())
    }

    /// The cached credentials if they are fresh at `now` (no refresh due).
    fn fresh(&self, now: SystemTime) -> Option<Credentials> {
        let guard = self.current.load();
        let entry = guard.as_ref()?;
        (now < entry.refresh_at).then(|| entry.copy_for_this_thread().clone())
    }

    /// The cached credentials if they are still valid at `now`.
    fn valid(&self, now: SystemTime) -> Option<Credentials> {
        let guard = self.current.load();
        let entry = guard.as_ref()?;
        entry
            .valid_until
            .is_none_or(|t| now < t)
            .then(|| entry.credentials.clone())
    }

    async fn refresh(&self) -> CredentialsResult {
        let seen = self.generation.load(Ordering::Acquire);
        let mut last_error = match self.refresh.try_lock() {
            Ok(guard) => guard,
            Err(_) => {
                // A refresh is in flight: serve what is still valid, or wait.
                if let Some(c) = self.valid(self.time.now()) {
                    return Ok(c);
                }
                self.refresh.lock().await
            }
        };
        let now = self.time.now();
        if self.generation.load(Ordering::Acquire) != seen {
            // A refresh completed while we waited: share its outcome.
            if let Some(c) = self.valid(now) {
                return Ok(c);
            }
            if let Some(e) = last_error.as_ref() {
                return Err(e.clone());
            }
        }
        if let Some(c) = self.fresh(now) {
            return Ok(c);
        }
        let outcome = match tokio::time::timeout(
            self.settings.load_timeout,
            self.inner.provide_credentials(),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(CredentialsError::Timeout {
                provider: "the cached credentials provider".to_owned(),
                timeout: self.settings.load_timeout,
            }),
        };
        let now = self.time.now();
        let outcome = outcome.and_then(|c| match c.expiry() {
            Some(t) if t <= now => Err(CredentialsError::Expired {
                provider: c.provider_name().to_owned(),
                expiry: crate::rfc3339(t),
            }),
            _ => Ok(c),
        });
        let result = match outcome {
            Ok(c) => {
                self.current
                    .store(Some(Arc::new(self.entry_for(c.clone(), now))));
                *last_error = None;
                Ok(c)
            }
            Err(e) => {
                *last_error = Some(e.clone());
                match self.current.load_full() {
                    Some(entry) if entry.valid_until.is_none_or(|t| now < t) => {
                        let retry = now + self.settings.failure_backoff;
                        let refresh_at = entry.valid_until.map_or(retry, |t| t.min(retry));
                        self.current.store(Some(Arc::new(Entry {
                            credentials: entry.credentials.clone(),
                            copies: entry.copies.clone(),
                            refresh_at,
                            valid_until: entry.valid_until,
                        })));
                        Ok(entry.credentials.clone())
                    }
                    _ => Err(e),
                }
            }
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        result
    }

    fn entry_for(&self, credentials: Credentials, now: SystemTime) -> Entry {
        let Some(expiry) = credentials.expiry() else {
            return Entry::new(credentials, now + self.settings.default_lifetime, None);
        };
        let jitter = self
            .settings
            .max_jitter
            .mul_f64((self.jitter)().clamp(0.0, 1.0));
        let advance = self.settings.buffer + jitter;
        let mut refresh_at = expiry.checked_sub(advance).unwrap_or(now);
        if refresh_at <= now {
            let left = expiry.duration_since(now).unwrap_or_default();
            refresh_at = now + left / 2;
        }
        Entry::new(credentials, refresh_at, Some(expiry))
    }
}

impl ProvideCredentials for CredentialsCache {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(self.get())
    }
}
