//! [`CredentialsChain`] and the [`DefaultChain`].

use std::borrow::Cow;
use std::sync::Arc;

use crate::config::ProviderConfig;
use crate::container::ContainerProvider;
use crate::environment::EnvironmentProvider;
use crate::error::{Attempt, CredentialsError};
use crate::imds::ImdsProvider;
use crate::profile::ProfileProvider;
use crate::provider::{BoxFuture, CredentialsResult, ProvideCredentials};
use crate::web_identity::WebIdentityProvider;

/// Providers asked in order until one answers.
///
/// A provider returning [`CredentialsError::NotLoaded`] is skipped; any
/// other error stops the chain ([`CredentialsError::ChainStopped`]), as in
/// the AWS CLI: a broken configuration must not silently fall through to a
/// different identity. When all are skipped the error is
/// [`CredentialsError::NoCredentials`]. Both list every provider tried and
/// why it was skipped or failed, in order.
#[derive(Clone, Debug, Default)]
pub struct CredentialsChain {
    providers: Vec<(Cow<'static, str>, Arc<dyn ProvideCredentials>)>,
}

impl CredentialsChain {
    /// An empty chain.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same chain with `provider` appended under `name`.
    #[must_use]
    pub fn with(
        mut self,
        name: impl Into<Cow<'static, str>>,
        provider: impl ProvideCredentials + 'static,
    ) -> Self {
        self.providers.push((name.into(), Arc::new(provider)));
        self
    }

    /// The same chain with `provider` inserted under `name` right after the
    /// provider named `after` (appended when there is none).
    #[must_use]
    pub fn with_after(
        mut self,
        after: &str,
        name: impl Into<Cow<'static, str>>,
        provider: impl ProvideCredentials + 'static,
    ) -> Self {
        let at = self
            .providers
            .iter()
            .position(|(n, _)| n == after)
            .map_or(self.providers.len(), |i| i + 1);
        self.providers.insert(at, (name.into(), Arc::new(provider)));
        self
    }

    /// The providers' names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.providers.iter().map(|(n, _)| n.as_ref())
    }

    async fn resolve(&self) -> CredentialsResult {
        let mut attempts = Vec::with_capacity(self.providers.len());
        for (name, provider) in &self.providers {
            match provider.provide_credentials().await {
                Ok(creds) => return Ok(creds),
                Err(error) if error.is_not_loaded() => attempts.push(Attempt {
                    provider: name.clone(),
                    error,
                }),
                Err(error) => {
                    attempts.push(Attempt {
                        provider: name.clone(),
                        error: error.clone(),
                    });
                    return Err(CredentialsError::ChainStopped {
                        provider: name.clone(),
                        source: Box::new(error),
                        attempts,
                    });
                }
            }
        }
        Err(CredentialsError::NoCredentials { attempts })
    }
}

impl ProvideCredentials for CredentialsChain {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(self.resolve())
    }
}

/// The default chain, in the AWS CLI's order: `Environment`, `Profile`
/// (static keys, `credential_process`, web identity and role chains of the
/// selected profile), `WebIdentityToken` (from `AWS_ROLE_ARN` /
/// `AWS_WEB_IDENTITY_TOKEN_FILE`), `EcsContainer`, `Ec2InstanceMetadata`.
/// Put a [`CredentialsCache`](crate::CredentialsCache) in front of it.
///
/// Off EC2, IMDS does not answer within its 1 s timeouts and is skipped
/// (`AWS_EC2_METADATA_DISABLED=true` skips it without trying).
///
/// ```
/// use sigv4_credentials::{DefaultChain, MapEnv, MemFs, ProviderConfig};
/// let chain = DefaultChain::new(&ProviderConfig::new(MapEnv::new(), MemFs::new()));
/// assert_eq!(
///     chain.names().collect::<Vec<_>>(),
///     ["Environment", "Profile", "WebIdentityToken", "EcsContainer", "Ec2InstanceMetadata"]
/// );
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DefaultChain;

impl DefaultChain {
    /// The default chain reading through `config`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(config: &ProviderConfig) -> CredentialsChain {
        CredentialsChain::new()
            .with("Environment", EnvironmentProvider::new(config.clone()))
            .with("Profile", ProfileProvider::new(config.clone()))
            .with("WebIdentityToken", WebIdentityProvider::new(config.clone()))
            .with("EcsContainer", ContainerProvider::new(config.clone()))
            .with("Ec2InstanceMetadata", ImdsProvider::new(config.clone()))
    }
}
