//! [`EnvironmentProvider`]: credentials from `AWS_*` variables.

use std::time::SystemTime;

use sigv4_sign::Credentials;

use crate::config::ProviderConfig;
use crate::error::CredentialsError;
use crate::provider::{BoxFuture, CredentialsResult, ProvideCredentials};

const AKID: &str = "AWS_ACCESS_KEY_ID";
const SECRET: &str = "AWS_SECRET_ACCESS_KEY";
const TOKEN: &str = "AWS_SESSION_TOKEN";
const LEGACY_TOKEN: &str = "AWS_SECURITY_TOKEN";
const EXPIRATION: &str = "AWS_CREDENTIAL_EXPIRATION";

/// Credentials from the environment.
///
/// | Variable | Use |
/// |---|---|
/// | `AWS_ACCESS_KEY_ID` | key id (required with the secret) |
/// | `AWS_SECRET_ACCESS_KEY` | secret (required with the key id) |
/// | `AWS_SESSION_TOKEN` (legacy `AWS_SECURITY_TOKEN`) | session token, optional |
/// | `AWS_CREDENTIAL_EXPIRATION` | RFC 3339 expiry, optional |
///
/// Empty variables count as unset. Neither key variable set is
/// [`CredentialsError::NotLoaded`]; only one of them set is
/// [`CredentialsError::PartialEnvironment`]; an unparsable or past expiry is
/// [`CredentialsError::InvalidEnvironment`]. Answers are named `Environment`.
#[derive(Clone, Debug)]
pub struct EnvironmentProvider {
    config: ProviderConfig,
}

impl EnvironmentProvider {
    /// A provider reading `config`'s environment.
    pub fn new(config: ProviderConfig) -> Self {
        Self { config }
    }

    /// Resolve now (it does no I/O).
    pub fn load(&self) -> CredentialsResult {
        let env = self.config.env();
        let (akid, secret) = match (env.get_non_empty(AKID), env.get_non_empty(SECRET)) {
            (Some(a), Some(s)) => (a, s),
            (None, None) => {
                return Err(CredentialsError::not_loaded(
                    "Environment",
                    format!("{AKID} and {SECRET} are not set"),
                ))
            }
            (Some(_), None) => {
                return Err(CredentialsError::PartialEnvironment {
                    present: AKID,
                    missing: SECRET,
                })
            }
            (None, Some(_)) => {
                return Err(CredentialsError::PartialEnvironment {
                    present: SECRET,
                    missing: AKID,
                })
            }
        };
        let token = env
            .get_non_empty(TOKEN)
            .or_else(|| env.get_non_empty(LEGACY_TOKEN));
        let mut creds = Credentials::new(akid, secret, token).with_provider_name("Environment");
        if let Some(exp) = env.get_non_empty(EXPIRATION) {
            let t =
                time::OffsetDateTime::parse(&exp, &time::format_description::well_known::Rfc3339)
                    .map_err(|e| CredentialsError::InvalidEnvironment {
                    variable: EXPIRATION,
                    reason: format!(
                        "{exp:?} is not an RFC 3339 time such as 2030-01-01T00:00:00Z ({e})"
                    ),
                })?;
            let t = SystemTime::from(t);
            if t <= self.config.time_source().now() {
                return Err(CredentialsError::InvalidEnvironment {
                    variable: EXPIRATION,
                    reason: format!(
                        "the credentials expired at {exp}; refresh them or unset {AKID}"
                    ),
                });
            }
            creds = creds.with_expiry(t);
        }
        Ok(creds)
    }
}

impl ProvideCredentials for EnvironmentProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(std::future::ready(self.load()))
    }
}
