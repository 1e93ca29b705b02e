//! [`ProvideCredentials`], the one trait every credentials source implements,
//! and [`StaticProvider`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sigv4_sign::Credentials;

use crate::CredentialsError;

/// A boxed, `Send` future: what [`ProvideCredentials`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The result of asking a provider.
pub type CredentialsResult = Result<Credentials, CredentialsError>;

/// A source of credentials.
///
/// Object safe, so a provider can be stored as `Arc<dyn ProvideCredentials>`
/// and chained, cached or swapped at runtime.
///
/// ```
/// use std::sync::Arc;
/// use sigv4_credentials::{ProvideCredentials, StaticProvider};
/// use sigv4_sign::Credentials;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let p: Arc<dyn ProvideCredentials> =
///     Arc::new(StaticProvider::new(Credentials::new("AKID", "SECRET", None)));
/// assert_eq!(p.provide_credentials().await.unwrap().access_key_id(), "AKID");
/// # });
/// ```
pub trait ProvideCredentials: Send + Sync + std::fmt::Debug {
    /// Load credentials. A provider with nothing to offer returns
    /// [`CredentialsError::NotLoaded`].
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult>;
}

impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Arc<T> {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        (**self).provide_credentials()
    }
}

impl<T: ProvideCredentials + ?Sized> ProvideCredentials for Box<T> {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        (**self).provide_credentials()
    }
}

/// Always the same credentials.
#[derive(Clone, Debug)]
pub struct StaticProvider(Credentials);

impl StaticProvider {
    /// A provider that always answers `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        Self(credentials)
    }
}

impl ProvideCredentials for StaticProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(std::future::ready(Ok(self.0.clone())))
    }
}

impl ProvideCredentials for Credentials {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(std::future::ready(Ok(self.clone())))
    }
}
