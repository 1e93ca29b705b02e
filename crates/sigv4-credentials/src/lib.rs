//! AWS credentials for `sigv4`: providers, a cache, the default chain, and
//! region resolution, read the way the AWS CLI and SDKs read them.
//!
//! - [`ProvideCredentials`]: the one trait, object safe
//!   (`Arc<dyn ProvideCredentials>`), returning a boxed `Send` future.
//! - Providers: [`StaticProvider`], [`EnvironmentProvider`] (`AWS_*`
//!   variables), [`ProfileProvider`] (shared config and credentials files:
//!   static keys, `credential_process`, role chains and web identity through
//!   [`ProfileChain`]), [`CredentialProcessProvider`],
//!   [`WebIdentityProvider`], [`AssumeRoleProvider`] (STS via [`StsClient`]),
//!   [`ContainerProvider`] (ECS / EKS), [`ImdsProvider`] (EC2 IMDSv2 with v1
//!   fallback and static stability). Network providers use explicit
//!   timeouts, bounded retries and bounded responses ([`HttpSettings`]).
//! - [`DefaultChain`] (environment, profile, web identity, container, IMDS)
//!   builds a [`CredentialsChain`] whose error lists every provider tried
//!   and why; answers name the chain that produced them, such as
//!   `AssumeRole(arn:aws:iam::123:role/x) <- Profile(dev) <- Environment`.
//! - [`CredentialsCache`]: lock-free fast path, refresh ahead of expiry with
//!   jitter, single flight, still-valid credentials served through failures.
//! - [`resolve_region`]: `AWS_REGION`, `AWS_DEFAULT_REGION`, profile `region`.
//!
//! Every provider reads through a [`ProviderConfig`]: an [`Env`] (process
//! environment or [`MapEnv`]), an [`Fs`] (real files or [`MemFs`]) and a
//! [`TimeSource`], so tests never touch the real environment or home.
//!
//! ```
//! use std::sync::Arc;
//! use sigv4_credentials::{
//!     CredentialsCache, DefaultChain, MapEnv, MemFs, ProvideCredentials, ProviderConfig,
//! };
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let config = ProviderConfig::new(
//!     MapEnv::from([("HOME", "/home/me"), ("AWS_PROFILE", "dev")]),
//!     MemFs::new().with(
//!         "/home/me/.aws/credentials",
//!         "[dev]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = SECRET\n",
//!     ),
//! );
//! // In a program: ProviderConfig::from_process().
//! let provider: Arc<dyn ProvideCredentials> =
//!     Arc::new(CredentialsCache::new(DefaultChain::new(&config)));
//! let creds = provider.provide_credentials().await.unwrap();
//! assert_eq!(creds.access_key_id(), "AKIDEXAMPLE");
//! assert_eq!(creds.provider_name(), "Profile(dev)");
//! # });
//! ```

pub mod assume_role;
mod cache;
mod chain;
mod clock;
mod config;
pub mod container;
mod env;
mod environment;
mod error;
mod fs;
mod http;
pub mod imds;
pub mod process;
pub mod profile;
mod provider;
mod region;
pub mod sts;
pub mod web_identity;

pub use assume_role::{AssumeRoleProvider, ProfileChain};
pub use cache::{CacheBuilder, CredentialsCache, JitterSource};
pub use chain::{CredentialsChain, DefaultChain};
pub use clock::{ManualTimeSource, SystemTimeSource, TimeSource};
pub use config::ProviderConfig;
pub use container::ContainerProvider;
pub use env::{Env, MapEnv, ProcessEnv};
pub use environment::EnvironmentProvider;
pub use error::{Attempt, CredentialsError, Location};
pub use fs::{Fs, MemFs, RealFs};
pub use http::{HttpError, HttpErrorKind, HttpSettings};
pub use imds::{ImdsClient, ImdsProvider};
pub use process::{CredentialProcessProvider, ProcessSettings};
pub use profile::location::Platform;
pub use profile::{ProfileProvider, SharedConfig};
pub use provider::{BoxFuture, CredentialsResult, ProvideCredentials, StaticProvider};
pub use region::{resolve_region, ResolvedRegion};
pub use sigv4_sign::Credentials;
pub use sts::{StsClient, StsError, StsErrorCode};
pub use web_identity::WebIdentityProvider;

/// `t` as RFC 3339 (UTC), for messages and output.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    time::OffsetDateTime::from(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| format!("{t:?}"))
}
