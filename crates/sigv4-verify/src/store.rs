//! [`SecretStore`]: where the verifier finds the secret of an access key.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use sigv4_sign::Credentials;

/// The future a [`SecretStore`] lookup returns.
pub type LookupFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Credentials>, StoreError>> + Send + 'a>>;

/// A failure of the store itself (not "unknown key", which is `Ok(None)`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

/// Looks up the credentials for an access key id.
///
/// Object safe: keep one as `Arc<dyn SecretStore>`. Return `Ok(None)` for
/// an unknown key. When the returned [`Credentials`] carry a session token,
/// the request must carry the same token; when they carry an expiry, the
/// request is refused with `ExpiredToken` after it.
pub trait SecretStore: Send + Sync {
    /// The credentials of `access_key_id`, if it exists.
    fn lookup<'a>(&'a self, access_key_id: &'a str) -> LookupFuture<'a>;

    /// The same answer as [`SecretStore::lookup`] when the store can give
    /// it at once (an in-memory map), sparing the verifier the boxed
    /// future; `None` (the default) means "ask `lookup`".
    fn lookup_now(&self, access_key_id: &str) -> Option<Result<Option<Credentials>, StoreError>> {
        let _ = access_key_id;
        None
    }
}

/// A fixed, in-memory map of access key id to credentials.
///
/// ```
/// use sigv4_verify::StaticSecretStore;
/// let store = StaticSecretStore::new().with_key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
/// assert_eq!(store.len(), 1);
/// ```
#[derive(Default, Clone)]
pub struct StaticSecretStore {
    keys: HashMap<String, Credentials>,
}

impl fmt::Debug for StaticSecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticSecretStore")
            .field("access_key_ids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl StaticSecretStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// With a long-term key pair added.
    #[must_use]
    pub fn with_key(mut self, access_key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.insert(Credentials::new(access_key_id, secret, None));
        self
    }

    /// With credentials added (a session token, when set, is then required).
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.insert(credentials);
        self
    }

    /// Adds (or replaces) credentials.
    pub fn insert(&mut self, credentials: Credentials) {
        self.keys
            .insert(credentials.access_key_id().to_owned(), credentials);
    }

    /// How many keys the store holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl SecretStore for StaticSecretStore {
    fn lookup<'a>(&'a self, access_key_id: &'a str) -> LookupFuture<'a> {
        let found = self.keys.get(access_key_id).cloned();
        Box::pin(std::future::ready(Ok(found)))
    }

    fn lookup_now(&self, access_key_id: &str) -> Option<Result<Option<Credentials>, StoreError>> {
        Some(Ok(self.keys.get(access_key_id).cloned()))
    }
}

impl<S: SecretStore + ?Sized> SecretStore for std::sync::Arc<S> {
    fn lookup<'a>(&'a self, access_key_id: &'a str) -> LookupFuture<'a> {
        (**self).lookup(access_key_id)
    }

    fn lookup_now(&self, access_key_id: &str) -> Option<Result<Option<Credentials>, StoreError>> {
        (**self).lookup_now(access_key_id)
    }
}
