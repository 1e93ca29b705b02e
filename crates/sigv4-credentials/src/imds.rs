//! EC2 instance metadata (IMDS): [`ImdsClient`] (IMDSv2 session tokens with
//! IMDSv1 fallback) and [`ImdsProvider`] (the instance profile's role
//! credentials, with static stability).
//!
//! | Setting | Variable | Profile key |
//! |---|---|---|
//! | disable IMDS | `AWS_EC2_METADATA_DISABLED=true` | — |
//! | endpoint | `AWS_EC2_METADATA_SERVICE_ENDPOINT` | `ec2_metadata_service_endpoint` |
//! | endpoint mode (`IPv4`, `IPv6`) | `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` | `ec2_metadata_service_endpoint_mode` |
//! | refuse IMDSv1 | `AWS_EC2_METADATA_V1_DISABLED=true` | `ec2_metadata_v1_disabled = true` |
//!
//! Off EC2 the endpoint does not answer: the 1 s connect / read timeouts
//! are not retried, and the provider reports [`CredentialsError::NotLoaded`]
//! so a chain ends quickly with its diagnostic.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sigv4_sign::Credentials;

use crate::config::ProviderConfig;
use crate::error::CredentialsError;
use crate::http::{excerpt, HttpClient, HttpError, HttpErrorKind, HttpSettings, Response};
use crate::profile::SharedConfig;
use crate::provider::{BoxFuture, CredentialsResult, ProvideCredentials};

const NAME: &str = "Ec2InstanceMetadata";
const IPV4_ENDPOINT: &str = "http://169.254.169.254";
const IPV6_ENDPOINT: &str = "http://[fd00:ec2::254]";
const TOKEN_PATH: &str = "/latest/api/token";
const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
const CREDS_PATH: &str = "/latest/meta-data/iam/security-credentials/";

#[derive(Clone, Debug)]
struct CachedToken {
    value: String,
    refresh_at: Instant,
}

/// A client of the instance metadata service.
///
/// Each call uses an IMDSv2 session token (`PUT /latest/api/token`), cached
/// and fetched again before its TTL ends, or after a `401`. When the token
/// request is answered `403`, `404` or `405` (IMDSv2 not available), calls
/// fall back to IMDSv1 unless v1 is disabled.
#[derive(Debug)]
pub struct ImdsClient {
    endpoint: reqwest::Url,
    http: HttpClient,
    v1_disabled: bool,
    token_ttl: Duration,
    token: tokio::sync::Mutex<Option<CachedToken>>,
}

impl ImdsClient {
    /// A client of `endpoint` (such as `http://169.254.169.254`).
    pub fn new(endpoint: &str, settings: HttpSettings) -> Result<Self, CredentialsError> {
        let endpoint = crate::http::parse_endpoint(NAME, "IMDS endpoint", endpoint)?;
        Ok(Self {
            endpoint,
            http: HttpClient::new(NAME, settings, false)?,
            v1_disabled: false,
            token_ttl: Duration::from_secs(21_600),
            token: tokio::sync::Mutex::new(None),
        })
    }

    /// The same client refusing IMDSv1 (no fallback when tokens fail).
    #[must_use]
    pub fn with_v1_disabled(mut self, disabled: bool) -> Self {
        self.v1_disabled = disabled;
        self
    }

    /// The same client asking for tokens valid `ttl` (1 s ..= 6 h; default 6 h).
    #[must_use]
    pub fn with_token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl.clamp(Duration::from_secs(1), Duration::from_secs(21_600));
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, CredentialsError> {
        self.endpoint.join(path).map_err(|e| {
            HttpError {
                provider: NAME.into(),
                endpoint: format!("{}{path}", self.endpoint),
                kind: HttpErrorKind::InvalidEndpoint(e.to_string()),
                attempts: 0,
            }
            .into()
        })
    }

    /// A session token, `None` for IMDSv1.
    async fn token(&self) -> Result<Option<String>, CredentialsError> {
        let mut cached = self.token.lock().await;
        if let Some(t) = cached.as_ref().filter(|t| Instant::now() < t.refresh_at) {
            return Ok(Some(t.value.clone()));
        }
        let url = self.url(TOKEN_PATH)?;
        let ttl = self.token_ttl.as_secs().to_string();
        let fetched = Instant::now();
        let resp = self
            .http
            .send(reqwest::Method::PUT, &url, &[(TTL_HEADER, &ttl)], None)
            .await?;
        match resp.status {
            200 => {
                let value = resp.text();
                if value.is_empty()
                    || value.len() > 4096
                    || !value.bytes().all(|b| b.is_ascii_graphic())
                {
                    return Err(self
                        .http
                        .error("PUT", &url, HttpErrorKind::InvalidResponse("the session token is empty or not printable ASCII".into()))
                        .into());
                }
                // Fetch a new one before the TTL ends: at 90% of it, at
                // most 5 minutes early.
                let early = (self.token_ttl / 10).min(Duration::from_secs(300));
                *cached = Some(CachedToken {
                    value: value.clone(),
                    refresh_at: fetched + self.token_ttl - early,
                });
                Ok(Some(value))
            }
            403..=405 if self.v1_disabled => Err(CredentialsError::Provider {
                provider: NAME.into(),
                message: format!(
                    "the IMDSv2 token request to {url} was answered HTTP {} and IMDSv1 is disabled (AWS_EC2_METADATA_V1_DISABLED / ec2_metadata_v1_disabled); enable IMDSv2 on the instance or allow v1",
                    resp.status
                ),
            }),
            403..=405 => {
                tracing::debug!(status = resp.status, "IMDSv2 token refused; falling back to IMDSv1");
                Ok(None)
            }
            _ => Err(self.http.status_error("PUT", &url, &resp, None).into()),
        }
    }

    async fn get_response(&self, path: &str) -> Result<(reqwest::Url, Response), CredentialsError> {
        let url = self.url(path)?;
        let mut token = self.token().await?;
        let mut retried = false;
        loop {
            let headers: Vec<(&str, &str)> =
                token.iter().map(|t| (TOKEN_HEADER, t.as_str())).collect();
            let resp = self
                .http
                .send(reqwest::Method::GET, &url, &headers, None)
                .await?;
            if resp.status == 401 && token.is_some() && !retried {
                // The token expired or was revoked: get a new one, once.
                retried = true;
                *self.token.lock().await = None;
                token = self.token().await?;
                continue;
            }
            return Ok((url, resp));
        }
    }

    /// `GET path` (such as `/latest/meta-data/instance-id`): the body of a
    /// `200` answer, else an error naming the URL and status.
    pub async fn get(&self, path: &str) -> Result<String, CredentialsError> {
        let (url, resp) = self.get_response(path).await?;
        if resp.status == 200 {
            String::from_utf8(resp.body).map_err(|_| {
                self.http
                    .error(
                        "GET",
                        &url,
                        HttpErrorKind::InvalidResponse("the body is not UTF-8".into()),
                    )
                    .into()
            })
        } else {
            Err(self.http.status_error("GET", &url, &resp, None).into())
        }
    }
}

/// How [`ImdsProvider`] keeps serving credentials when IMDS fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaticStability {
    /// Each extension: this long from now ...
    pub extension: Duration,
    /// ... plus a random part up to this.
    pub jitter: Duration,
    /// Never serve credentials more than this long past their real expiry.
    pub max_past_expiry: Duration,
}

impl Default for StaticStability {
    /// Extensions of 5 to 10 minutes, for at most 1 hour past expiry.
    fn default() -> Self {
        Self {
            extension: Duration::from_secs(300),
            jitter: Duration::from_secs(300),
            max_past_expiry: Duration::from_secs(3600),
        }
    }
}

/// Credentials of the EC2 instance profile, from IMDS.
///
/// Answers are named `Ec2InstanceMetadata`. IMDS disabled, unreachable, or
/// no role attached: [`CredentialsError::NotLoaded`]. A bad answer: an
/// error naming the URL.
///
/// **Static stability** (as the AWS SDKs): once credentials were obtained,
/// if IMDS later fails, or answers credentials that already expired, the
/// last credentials keep being served with their expiry extended by a few
/// minutes, with a `tracing` warning, for at most
/// [`StaticStability::max_past_expiry`] past their real expiry.
#[derive(Debug)]
pub struct ImdsProvider {
    config: ProviderConfig,
    settings: HttpSettings,
    token_ttl: Option<Duration>,
    stability: StaticStability,
    client: tokio::sync::OnceCell<Arc<ImdsClient>>,
    last: Mutex<Option<Credentials>>,
}

impl ImdsProvider {
    /// A provider configured by `config` (variables and profile).
    pub fn new(config: ProviderConfig) -> Self {
        Self {
            config,
            settings: HttpSettings::imds(),
            token_ttl: None,
            stability: StaticStability::default(),
            client: tokio::sync::OnceCell::new(),
            last: Mutex::new(None),
        }
    }

    /// The same provider with other timeouts, retries and limits.
    #[must_use]
    pub fn with_http_settings(mut self, settings: HttpSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The same provider asking for session tokens valid `ttl`.
    #[must_use]
    pub fn with_token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = Some(ttl);
        self
    }

    /// The same provider with other static stability bounds.
    #[must_use]
    pub fn with_static_stability(mut self, s: StaticStability) -> Self {
        self.stability = s;
        self
    }

    async fn client(&self) -> Result<Arc<ImdsClient>, CredentialsError> {
        self.client
            .get_or_try_init(|| async {
                let env = self.config.env();
                let shared = SharedConfig::load(&self.config).await?;
                let profile = shared.selected_profile().ok().flatten();
                let setting = |var: &str, key: &str| {
                    env.get_non_empty(var)
                        .map(|v| (v, var.to_owned()))
                        .or_else(|| {
                            profile
                                .and_then(|p| p.property(key))
                                .filter(|p| !p.value().is_empty())
                                .map(|p| {
                                    (
                                        p.value().to_owned(),
                                        format!(
                                            "`{key}` of profile `{}` ({})",
                                            profile.map_or("", |p| p.name()),
                                            p.location()
                                        ),
                                    )
                                })
                        })
                };
                let endpoint = match setting(
                    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                    "ec2_metadata_service_endpoint",
                ) {
                    Some((url, _)) => url,
                    None => match setting(
                        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                        "ec2_metadata_service_endpoint_mode",
                    ) {
                        None => IPV4_ENDPOINT.to_owned(),
                        Some((m, _)) if m.eq_ignore_ascii_case("ipv4") => IPV4_ENDPOINT.to_owned(),
                        Some((m, _)) if m.eq_ignore_ascii_case("ipv6") => IPV6_ENDPOINT.to_owned(),
                        Some((m, source)) => {
                            return Err(CredentialsError::Provider {
                                provider: NAME.into(),
                                message: format!("{source} is {m:?}; use IPv4 or IPv6"),
                            })
                        }
                    },
                };
                let v1_disabled =
                    setting("AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled")
                        .is_some_and(|(v, _)| v.eq_ignore_ascii_case("true"));
                let mut client =
                    ImdsClient::new(&endpoint, self.settings)?.with_v1_disabled(v1_disabled);
                if let Some(ttl) = self.token_ttl {
                    client = client.with_token_ttl(ttl);
                }
                Ok(Arc::new(client))
            })
            .await
            .cloned()
    }

    async fn fetch(&self, client: &ImdsClient) -> CredentialsResult {
        let (url, resp) = client.get_response(CREDS_PATH).await?;
        match resp.status {
            200 => {}
            404 => {
                return Err(CredentialsError::not_loaded(
                    NAME,
                    format!("no IAM role is attached to this instance ({url} answered 404)"),
                ))
            }
            _ => return Err(client.http.status_error("GET", &url, &resp, None).into()),
        }
        let text = resp.text();
        let role = text.lines().next().unwrap_or("").trim();
        if role.is_empty() {
            return Err(CredentialsError::not_loaded(
                NAME,
                format!("no IAM role is attached to this instance ({url} is empty)"),
            ));
        }
        if !role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c))
            || role.starts_with('.')
        {
            return Err(client
                .http
                .error(
                    "GET",
                    &url,
                    HttpErrorKind::InvalidResponse(format!(
                        "{} is not a role name",
                        excerpt(role.as_bytes())
                    )),
                )
                .into());
        }
        let path = format!("{CREDS_PATH}{role}");
        let body = client.get(&path).await?;
        let url = client.url(&path)?;
        parse_credentials(&body, NAME).map_err(|why| {
            client
                .http
                .error("GET", &url, HttpErrorKind::InvalidResponse(why))
                .into()
        })
    }

    fn extend(&self, last: &Credentials, why: &str) -> Option<Credentials> {
        let now = self.config.time_source().now();
        let real = last.expiry()?;
        if now > real + self.stability.max_past_expiry {
            return None;
        }
        let jitter = self.stability.jitter.mul_f64(fastrand::f64());
        let until = now + self.stability.extension + jitter;
        tracing::warn!(
            provider = NAME,
            expired = %crate::rfc3339(real),
            extended_to = %crate::rfc3339(until),
            "{why}; serving the last instance credentials past their expiry (static stability); they may be rejected"
        );
        Some(last.clone().with_expiry(until))
    }

    async fn load(&self) -> CredentialsResult {
        if self
            .config
            .env()
            .get_non_empty("AWS_EC2_METADATA_DISABLED")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            return Err(CredentialsError::not_loaded(
                NAME,
                "AWS_EC2_METADATA_DISABLED is true",
            ));
        }
        let client = self.client().await?;
        let last = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match self.fetch(&client).await {
            Ok(creds) => {
                let now = self.config.time_source().now();
                if creds.expiry().is_some_and(|e| e <= now) {
                    // IMDS answered stale credentials (it does during an
                    // outage): extend them, boundedly.
                    let expiry = creds.expiry().map(crate::rfc3339).unwrap_or_default();
                    return self
                        .extend(&creds, "IMDS returned credentials that already expired")
                        .ok_or(CredentialsError::Expired {
                            provider: NAME.into(),
                            expiry,
                        });
                }
                *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(creds.clone());
                Ok(creds)
            }
            Err(e) => {
                if let Some(c) = last
                    .as_ref()
                    .and_then(|l| self.extend(l, &format!("IMDS failed: {e}")))
                {
                    return Ok(c);
                }
                match e {
                    CredentialsError::Http(h) if h.is_unreachable() => Err(
                        CredentialsError::not_loaded(NAME, format!("{h} (not running on EC2?)")),
                    ),
                    e => Err(e),
                }
            }
        }
    }
}

impl ProvideCredentials for ImdsProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(self.load())
    }
}

/// Parse the JSON credentials document IMDS and the container endpoint
/// serve (`AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`, and for
/// IMDS `Code`). The message never contains a value.
pub(crate) fn parse_credentials(body: &str, name: &'static str) -> Result<Credentials, String> {
    let v: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| format!("the body is not JSON ({e}): {}", excerpt(body.as_bytes())))?;
    let obj = v.as_object().ok_or("the body is not a JSON object")?;
    let field = |k: &str| {
        obj.get(k)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let Some(code) = field("Code").filter(|c| *c != "Success") {
        let msg = field("Message").unwrap_or("");
        return Err(format!(
            "the answer's Code is {code:?}, not \"Success\": {msg}"
        ));
    }
    let akid = field("AccessKeyId").ok_or("the answer has no AccessKeyId")?;
    let secret = field("SecretAccessKey").ok_or("the answer has no SecretAccessKey")?;
    let token = field("Token").map(str::to_owned);
    let mut creds = Credentials::new(akid, secret, token).with_provider_name(name);
    if let Some(exp) = field("Expiration") {
        let t = crate::sts::parse_time(exp)
            .ok_or_else(|| format!("Expiration {exp:?} is not an RFC 3339 time"))?;
        creds = creds.with_expiry(t);
    }
    Ok(creds)
}
