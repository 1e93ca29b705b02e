//! [`ContainerProvider`]: the ECS task role and EKS Pod Identity endpoint.
//!
//! | Variable | Use |
//! |---|---|
//! | `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` | path on `http://169.254.170.2` (ECS) |
//! | `AWS_CONTAINER_CREDENTIALS_FULL_URI` | full URL: `https://` anywhere, `http://` only to a loopback address or the ECS / EKS hosts `169.254.170.2`, `169.254.170.23`, `[fd00:ec2::23]` |
//! | `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` | file holding the `Authorization` value, read on every call (EKS rotates it) |
//! | `AWS_CONTAINER_AUTHORIZATION_TOKEN` | the `Authorization` value |

use std::net::IpAddr;

use crate::config::ProviderConfig;
use crate::error::CredentialsError;
use crate::http::{excerpt, HttpClient, HttpErrorKind, HttpSettings};
use crate::provider::{BoxFuture, CredentialsResult, ProvideCredentials};

const NAME: &str = "EcsContainer";
const RELATIVE: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
const FULL: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
const TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
const TOKEN_FILE: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
const MAX_TOKEN_FILE: usize = 16 << 10;

/// Credentials from the container credentials endpoint (ECS, EKS Pod
/// Identity). Neither URI variable set: [`CredentialsError::NotLoaded`].
/// Answers are named `EcsContainer`.
#[derive(Debug)]
pub struct ContainerProvider {
    config: ProviderConfig,
    settings: HttpSettings,
    client: tokio::sync::OnceCell<HttpClient>,
}

impl ContainerProvider {
    /// A provider reading `config`'s environment.
    pub fn new(config: ProviderConfig) -> Self {
        Self {
            config,
            settings: HttpSettings::container(),
            client: tokio::sync::OnceCell::new(),
        }
    }

    /// The same provider with other timeouts, retries and limits.
    #[must_use]
    pub fn with_http_settings(mut self, settings: HttpSettings) -> Self {
        self.settings = settings;
        self
    }

    fn endpoint(&self) -> Result<reqwest::Url, CredentialsError> {
        let env = self.config.env();
        let invalid = |variable: &'static str, reason: String| {
            CredentialsError::InvalidEnvironment { variable, reason }
        };
        if let Some(rel) = env.get_non_empty(RELATIVE) {
            let path = if rel.starts_with('/') {
                rel
            } else {
                format!("/{rel}")
            };
            return reqwest::Url::parse(&format!("http://169.254.170.2{path}"))
                .map_err(|e| invalid(RELATIVE, format!("{path:?} is not a URL path ({e})")));
        }
        let Some(full) = env.get_non_empty(FULL) else {
            return Err(CredentialsError::not_loaded(
                NAME,
                format!("{RELATIVE} and {FULL} are not set"),
            ));
        };
        let url = crate::http::parse_endpoint(NAME, FULL, &full)
            .map_err(|e| invalid(FULL, e.kind.to_string()))?;
        if url.scheme() == "https" {
            return Ok(url);
        }
        let allowed = match crate::http::host_ip(&url) {
            Some(ip) => {
                ip.is_loopback()
                    || ALLOWED_HOSTS
                        .iter()
                        .any(|h| h.parse::<IpAddr>().is_ok_and(|a| a == ip))
            }
            None => url.host_str() == Some("localhost"),
        };
        if allowed {
            Ok(url)
        } else {
            Err(invalid(
                FULL,
                format!(
                    "http://{} is not allowed: plain http only to a loopback address or {}; use https",
                    url.host_str().unwrap_or(""),
                    ALLOWED_HOSTS.join(", ")
                ),
            ))
        }
    }

    async fn authorization(&self) -> Result<Option<String>, CredentialsError> {
        let env = self.config.env();
        let (value, source) = if let Some(path) = env.get_non_empty(TOKEN_FILE) {
            let bytes = self
                .config
                .fs()
                .read(std::path::Path::new(&path), MAX_TOKEN_FILE)
                .await
                .map_err(|e| CredentialsError::Provider {
                    provider: NAME.into(),
                    message: format!("cannot read {TOKEN_FILE} {path}: {e}"),
                })?;
            if bytes.len() > MAX_TOKEN_FILE {
                return Err(CredentialsError::Provider {
                    provider: NAME.into(),
                    message: format!("{TOKEN_FILE} {path} is larger than {MAX_TOKEN_FILE} bytes"),
                });
            }
            (
                String::from_utf8_lossy(&bytes).trim().to_owned(),
                TOKEN_FILE,
            )
        } else if let Some(t) = env.get_non_empty(TOKEN) {
            (t, TOKEN)
        } else {
            return Ok(None);
        };
        if value.is_empty() || value.bytes().any(|b| b.is_ascii_control()) {
            return Err(CredentialsError::Provider {
                provider: NAME.into(),
                message: format!("the authorization token from {source} is empty or contains control characters (CR, LF)"),
            });
        }
        Ok(Some(value))
    }

    async fn load(&self) -> CredentialsResult {
        let url = self.endpoint()?;
        let auth = self.authorization().await?;
        let client = self
            .client
            .get_or_try_init(|| async { HttpClient::new(NAME, self.settings, false) })
            .await?;
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        let resp = client
            .send(reqwest::Method::GET, &url, &headers, None)
            .await?;
        if resp.status != 200 {
            // The endpoints answer {"code": ..., "message": ...} on errors.
            let detail = serde_json::from_slice::<serde_json::Value>(&resp.body)
                .ok()
                .and_then(|v| {
                    let code = v
                        .get("code")
                        .or_else(|| v.get("Code"))?
                        .as_str()?
                        .to_owned();
                    let msg = v
                        .get("message")
                        .or_else(|| v.get("Message"))
                        .and_then(|m| m.as_str())
                        .unwrap_or("");
                    Some(format!("{code}: {msg}"))
                })
                .unwrap_or_else(|| excerpt(&resp.body));
            return Err(client.status_error("GET", &url, &resp, Some(detail)).into());
        }
        let body = String::from_utf8_lossy(&resp.body);
        let creds = crate::imds::parse_credentials(&body, NAME).map_err(|why| {
            CredentialsError::from(client.error("GET", &url, HttpErrorKind::InvalidResponse(why)))
        })?;
        if let Some(exp) = creds
            .expiry()
            .filter(|e| *e <= self.config.time_source().now())
        {
            return Err(CredentialsError::Expired {
                provider: format!("{NAME} ({})", crate::http::display_url(&url)),
                expiry: crate::rfc3339(exp),
            });
        }
        Ok(creds)
    }
}

const ALLOWED_HOSTS: [&str; 3] = ["169.254.170.2", "169.254.170.23", "fd00:ec2::23"];

impl ProvideCredentials for ContainerProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(self.load())
    }
}
