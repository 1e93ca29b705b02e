//! [`WebIdentityProvider`]: `AssumeRoleWithWebIdentity` with a token file
//! (EKS IRSA, GitHub Actions OIDC, ...).
//!
//! From the environment: `AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`,
//! optional `AWS_ROLE_SESSION_NAME`. From a profile: `role_arn` +
//! `web_identity_token_file` (+ `role_session_name`). The token file is read
//! again (through the injected [`Fs`](crate::Fs)) on every refresh, since
//! its issuer rotates it.

use std::path::{Path, PathBuf};

use crate::config::ProviderConfig;
use crate::error::CredentialsError;
use crate::http::HttpSettings;
use crate::profile::SharedConfig;
use crate::provider::{BoxFuture, CredentialsResult, ProvideCredentials};
use crate::sts::{default_session_name, StsClient, StsEndpoint};

const NAME: &str = "WebIdentityToken";
const MAX_TOKEN: usize = 64 << 10;

/// What to assume with which token file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebIdentitySettings {
    /// The role to assume.
    pub role_arn: String,
    /// The token file.
    pub token_file: PathBuf,
    /// The session name (default `sigv4-<unix millis>`).
    pub session_name: Option<String>,
}

#[derive(Clone, Debug)]
enum Source {
    Env,
    Explicit(WebIdentitySettings, Option<StsEndpoint>),
}

/// Credentials from `AssumeRoleWithWebIdentity`. Answers are named
/// `WebIdentityToken(arn)`.
///
/// From the environment, neither variable set (or only `AWS_ROLE_ARN`) is
/// [`CredentialsError::NotLoaded`]; `AWS_WEB_IDENTITY_TOKEN_FILE` without
/// `AWS_ROLE_ARN` is an error.
#[derive(Clone, Debug)]
pub struct WebIdentityProvider {
    config: ProviderConfig,
    source: Source,
    settings: HttpSettings,
}

impl WebIdentityProvider {
    /// From `AWS_ROLE_ARN` / `AWS_WEB_IDENTITY_TOKEN_FILE` of `config`.
    pub fn new(config: ProviderConfig) -> Self {
        Self {
            config,
            source: Source::Env,
            settings: HttpSettings::sts(),
        }
    }

    /// With explicit settings (as a profile gives), calling STS at `endpoint`
    /// (`None`: resolved from the environment and the selected profile).
    pub fn with_settings(
        config: ProviderConfig,
        settings: WebIdentitySettings,
        endpoint: Option<StsEndpoint>,
    ) -> Self {
        Self {
            config,
            source: Source::Explicit(settings, endpoint),
            settings: HttpSettings::sts(),
        }
    }

    /// The same provider with other STS timeouts, retries and limits.
    #[must_use]
    pub fn with_http_settings(mut self, settings: HttpSettings) -> Self {
        self.settings = settings;
        self
    }

    fn env_settings(&self) -> Result<WebIdentitySettings, CredentialsError> {
        let env = self.config.env();
        match (
            env.get_non_empty("AWS_ROLE_ARN"),
            env.get_non_empty("AWS_WEB_IDENTITY_TOKEN_FILE"),
        ) {
            (Some(role_arn), Some(file)) => Ok(WebIdentitySettings {
                role_arn,
                token_file: file.into(),
                session_name: env.get_non_empty("AWS_ROLE_SESSION_NAME"),
            }),
            (None, Some(_)) => Err(CredentialsError::PartialEnvironment {
                present: "AWS_WEB_IDENTITY_TOKEN_FILE",
                missing: "AWS_ROLE_ARN",
            }),
            (_, None) => Err(CredentialsError::not_loaded(
                NAME,
                "AWS_WEB_IDENTITY_TOKEN_FILE is not set",
            )),
        }
    }

    async fn load(&self) -> CredentialsResult {
        let (settings, endpoint) = match &self.source {
            Source::Env => (self.env_settings()?, None),
            Source::Explicit(s, e) => (s.clone(), e.clone()),
        };
        let token = read_token(&self.config, &settings.token_file).await?;
        let endpoint = match endpoint {
            Some(e) => e,
            None => {
                let shared = SharedConfig::load(&self.config).await.ok();
                let profile = shared
                    .as_ref()
                    .and_then(|s| s.selected_profile().ok().flatten());
                StsEndpoint::resolve(self.config.env(), profile)
            }
        };
        let client = StsClient::new(&endpoint, self.config.time_source().clone(), self.settings)?;
        let session = settings
            .session_name
            .clone()
            .unwrap_or_else(|| default_session_name(self.config.time_source().now()));
        client
            .assume_role_with_web_identity(&settings.role_arn, &session, &token, None)
            .await
    }
}

async fn read_token(config: &ProviderConfig, path: &Path) -> Result<String, CredentialsError> {
    let fail = |why: String| CredentialsError::Provider {
        provider: NAME.into(),
        message: format!("web identity token file {}: {why}", path.display()),
    };
    let bytes = config
        .fs()
        .read(path, MAX_TOKEN)
        .await
        .map_err(|e| fail(format!("cannot read it: {e}")))?;
    if bytes.len() > MAX_TOKEN {
        return Err(fail(format!("larger than {MAX_TOKEN} bytes")));
    }
    let token = String::from_utf8(bytes).map_err(|_| fail("not UTF-8".into()))?;
    let token = token.trim();
    if token.is_empty() {
        return Err(fail("empty".into()));
    }
    Ok(token.to_owned())
}

impl ProvideCredentials for WebIdentityProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(self.load())
    }
}
