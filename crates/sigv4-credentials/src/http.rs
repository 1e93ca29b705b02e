//! The HTTP edge shared by the network providers (IMDS, container endpoint,
//! STS): explicit connect and read timeouts, bounded retries with
//! exponential back-off, bounded response sizes, and [`HttpError`]s that
//! name the provider and the endpoint.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::error::CredentialsError;

/// Timeouts, retries and size limits of one network provider.
///
/// ```
/// use std::time::Duration;
/// use sigv4_credentials::HttpSettings;
/// let s = HttpSettings::imds().with_read_timeout(Duration::from_millis(200));
/// assert_eq!(s.read_timeout(), Duration::from_millis(200));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpSettings {
    connect_timeout: Duration,
    read_timeout: Duration,
    max_attempts: u32,
    initial_backoff: Duration,
    max_response_size: usize,
}

impl HttpSettings {
    /// IMDS: 1 s connect and read timeouts, 3 attempts, 64 KiB responses.
    pub const fn imds() -> Self {
        Self {
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(1),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_response_size: 64 << 10,
        }
    }

    /// Container endpoint: 1 s connect, 2 s read timeouts, 3 attempts, 64 KiB.
    pub const fn container() -> Self {
        Self {
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(2),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_response_size: 64 << 10,
        }
    }

    /// STS: 5 s connect, 10 s read timeouts, 3 attempts, 1 MiB responses.
    pub const fn sts() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_response_size: 1 << 20,
        }
    }

    /// The same settings with another connect timeout.
    #[must_use]
    pub const fn with_connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// The same settings with another read timeout (the longest wait for
    /// the response headers, and for the whole body after them).
    #[must_use]
    pub const fn with_read_timeout(mut self, d: Duration) -> Self {
        self.read_timeout = d;
        self
    }

    /// The same settings with at most `n` attempts (at least 1).
    #[must_use]
    pub const fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = if n == 0 { 1 } else { n };
        self
    }

    /// The same settings with another first back-off (doubled per retry).
    #[must_use]
    pub const fn with_initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The same settings with another response size limit, in bytes.
    #[must_use]
    pub const fn with_max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// The connect timeout.
    pub const fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// The read timeout.
    pub const fn read_timeout(&self) -> Duration {
        self.read_timeout
    }

    /// The most attempts per call.
    pub const fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The largest response body accepted, in bytes.
    pub const fn max_response_size(&self) -> usize {
        self.max_response_size
    }
}

/// What went wrong talking to a credentials endpoint.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpErrorKind {
    /// The endpoint URL is unusable.
    #[error("invalid endpoint: {0}")]
    InvalidEndpoint(String),
    /// No connection could be made.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// No answer (or not the whole answer) within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The endpoint answered with an unexpected status.
    #[error("HTTP {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the body, sanitized (control characters escaped).
        body: String,
    },
    /// The response body is larger than the limit.
    #[error("response larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body was cut short or could not be read.
    #[error("response body cut short or unreadable: {0}")]
    Body(String),
    /// The body is not what the endpoint should send.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// Another transport error.
    #[error("request failed: {0}")]
    Request(String),
}

/// A credentials endpoint failed: which provider, which endpoint, what, and
/// after how many attempts. Never contains a credential.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{provider}: {endpoint}: {kind}{}", attempts_note(*.attempts))]
#[non_exhaustive]
pub struct HttpError {
    /// The provider (`Ec2InstanceMetadata`, `EcsContainer`, `Sts`).
    pub provider: String,
    /// The method and URL (`GET http://169.254.169.254/latest/...`).
    pub endpoint: String,
    /// What went wrong.
    pub kind: HttpErrorKind,
    /// How many attempts were made.
    pub attempts: u32,
}

fn attempts_note(n: u32) -> String {
    if n > 1 {
        format!(" (after {n} attempts)")
    } else {
        String::new()
    }
}

impl HttpError {
    /// Whether the endpoint could not be reached or did not answer in time
    /// (as when IMDS is probed off EC2).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self.kind,
            HttpErrorKind::Connect(_) | HttpErrorKind::Timeout(_)
        )
    }
}

impl From<HttpError> for CredentialsError {
    fn from(e: HttpError) -> Self {
        CredentialsError::Http(Box::new(e))
    }
}

/// A response: status and (bounded) body.
#[derive(Clone, Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) attempts: u32,
}

impl Response {
    /// The body as text, lossily decoded and trimmed.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).trim().to_owned()
    }
}

/// The start of a body, safe to show: at most 200 characters, control
/// characters escaped.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    for (i, c) in text.trim().chars().enumerate() {
        if i == 200 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if out.is_empty() {
        out.push_str("(empty body)");
    }
    out
}

/// A reqwest client with the provider's settings.
#[derive(Clone)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
    settings: HttpSettings,
    provider: Cow<'static, str>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("provider", &self.provider)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client for `provider`; `proxy`: whether proxy variables apply (never
    /// for link-local metadata endpoints).
    pub(crate) fn new(
        provider: impl Into<Cow<'static, str>>,
        settings: HttpSettings,
        proxy: bool,
    ) -> Result<Self, CredentialsError> {
        let provider = provider.into();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(2);
        if !proxy {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| HttpError {
            provider: provider.to_string(),
            endpoint: "(client set-up)".into(),
            kind: HttpErrorKind::Request(chain(&e)),
            attempts: 0,
        })?;
        Ok(Self {
            client,
            settings,
            provider,
        })
    }

    pub(crate) fn error(&self, method: &str, url: &reqwest::Url, kind: HttpErrorKind) -> HttpError {
        HttpError {
            provider: self.provider.to_string(),
            endpoint: format!("{method} {}", display_url(url)),
            kind,
            attempts: 1,
        }
    }

    /// The error for an unexpected status of `resp`; `detail` replaces the
    /// body excerpt when given.
    pub(crate) fn status_error(
        &self,
        method: &str,
        url: &reqwest::Url,
        resp: &Response,
        detail: Option<String>,
    ) -> HttpError {
        HttpError {
            attempts: resp.attempts,
            ..self.error(
                method,
                url,
                HttpErrorKind::Status {
                    status: resp.status,
                    body: detail.unwrap_or_else(|| excerpt(&resp.body)),
                },
            )
        }
    }

    /// Send with retries: transport errors other than timeouts and
    /// connection failures, and 5xx / 429 answers, are retried with
    /// exponential back-off up to the attempt limit. A timeout is never
    /// retried (an endpoint that does not answer in time is treated as
    /// absent, so callers fail fast). Any other status is returned as is.
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        url: &reqwest::Url,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response, HttpError> {
        let mut backoff = self.settings.initial_backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= self.settings.max_attempts;
            let result = self.attempt(method.clone(), url, headers, body).await;
            let retry = match &result {
                Ok(r) => r.status >= 500 || r.status == 429,
                Err(HttpErrorKind::Timeout(_) | HttpErrorKind::TooLarge { .. }) => false,
                Err(HttpErrorKind::InvalidEndpoint(_)) => false,
                Err(_) => true,
            };
            if !retry || last {
                return result
                    .map(|r| Response {
                        attempts: attempt,
                        ..r
                    })
                    .map_err(|kind| HttpError {
                        attempts: attempt,
                        ..self.error(method.as_str(), url, kind)
                    });
            }
            tracing::debug!(
                provider = %self.provider,
                url = %display_url(url),
                attempt,
                "retrying credentials request after {backoff:?}"
            );
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }

    async fn attempt(
        &self,
        method: reqwest::Method,
        url: &reqwest::Url,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response, HttpErrorKind> {
        // The whole attempt is bounded too: a server dripping one byte per
        // read-timeout must not hold us indefinitely.
        let total = self
            .settings
            .connect_timeout
            .saturating_add(self.settings.read_timeout.saturating_mul(2));
        match tokio::time::timeout(total, self.attempt_inner(method, url, headers, body)).await {
            Ok(r) => r,
            Err(_) => Err(HttpErrorKind::Timeout(total)),
        }
    }

    async fn attempt_inner(
        &self,
        method: reqwest::Method,
        url: &reqwest::Url,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Response, HttpErrorKind> {
        let mut req = self.client.request(method, url.clone());
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(body) = body {
            req = req.body(body.to_vec());
        }
        let mut resp = req.send().await.map_err(|e| self.classify(&e))?;
        let status = resp.status().as_u16();
        let limit = self.settings.max_response_size;
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(HttpErrorKind::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| match self.classify(&e) {
            HttpErrorKind::Timeout(t) => HttpErrorKind::Timeout(t),
            _ => HttpErrorKind::Body(chain(&e)),
        })? {
            if body.len() + chunk.len() > limit {
                return Err(HttpErrorKind::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            body,
            attempts: 1,
        })
    }

    fn classify(&self, e: &reqwest::Error) -> HttpErrorKind {
        if e.is_timeout() {
            let s = &self.settings;
            HttpErrorKind::Timeout(if e.is_connect() {
                s.connect_timeout
            } else {
                s.read_timeout
            })
        } else if e.is_connect() {
            HttpErrorKind::Connect(chain(e))
        } else if e.is_builder() {
            HttpErrorKind::InvalidEndpoint(chain(e))
        } else if e.is_body()
            || e.is_decode()
            || chain(e).contains("closed before message completed")
        {
            HttpErrorKind::Body(chain(e))
        } else {
            HttpErrorKind::Request(chain(e))
        }
    }
}

/// An error and its sources, `: `-joined, without the URL reqwest adds.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

/// A URL for messages: no user info, no query (could carry a secret).
pub(crate) fn display_url(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_query(None);
    u.to_string()
}

/// Parse an endpoint URL given by a variable or profile key.
pub(crate) fn parse_endpoint(
    provider: &str,
    what: &str,
    value: &str,
) -> Result<reqwest::Url, HttpError> {
    let bad = |reason: String| HttpError {
        provider: provider.to_owned(),
        endpoint: what.to_owned(),
        kind: HttpErrorKind::InvalidEndpoint(reason),
        attempts: 0,
    };
    let url = reqwest::Url::parse(value.trim())
        .map_err(|e| bad(format!("{value:?} is not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad(format!(
            "{value:?} is not an http:// or https:// URL with a host"
        )));
    }
    Ok(url)
}

/// The host of `url` as an IP address, when it is one.
pub(crate) fn host_ip(url: &reqwest::Url) -> Option<std::net::IpAddr> {
    url.host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}
