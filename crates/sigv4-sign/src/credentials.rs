//! [`Credentials`]: an access key id, its secret, and an optional session token.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::canonical::has_byte_at_or_below_space;

/// AWS credentials: access key id, secret access key, optional session token
/// and expiry, and the name of the provider that produced them.
///
/// The secret and the token are zeroized when the last clone is dropped and
/// are never printed: `Debug` shows `** redacted **` in their place, and
/// there is no `Display`. Cloning is cheap (one reference count).
///
/// ```
/// use sigv4_sign::Credentials;
/// let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None);
/// assert_eq!(creds.access_key_id(), "AKIDEXAMPLE");
/// assert!(!format!("{creds:?}").contains("wJalr"));
/// ```
#[derive(Clone)]
pub struct Credentials(Arc<Inner>);

#[derive(Clone)]
struct Inner {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    /// Shared, so that a signed request's `X-Amz-Security-Token` can borrow it.
    session_token: Option<Arc<Zeroizing<String>>>,
    /// The token holds no byte at or below a space (nothing to trim or fold
    /// in the canonical `x-amz-security-token` line); found once, here.
    token_is_canonical: bool,
    /// The access key id can stand in a credential scope: not empty, no
    /// `/`, space, control byte or DEL; found once, here.
    access_key_id_is_valid: bool,
    expiry: Option<SystemTime>,
    provider_name: Cow<'static, str>,
}

impl Credentials {
    /// Credentials from their parts. The provider name defaults to `Static`.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        let token_is_canonical = session_token
            .as_deref()
            .is_some_and(|t| !has_byte_at_or_below_space(t.as_bytes()));
        let access_key_id: String = access_key_id.into();
        let access_key_id_is_valid = !access_key_id.is_empty()
            && !access_key_id
                .bytes()
                .any(|b| b == b'/' || b <= b' ' || b == 0x7f);
        Self(Arc::new(Inner {
            access_key_id,
            access_key_id_is_valid,
            secret_access_key: Zeroizing::new(secret_access_key.into()),
            session_token: session_token.map(|t| Arc::new(Zeroizing::new(t))),
            token_is_canonical,
            expiry: None,
            provider_name: Cow::Borrowed("Static"),
        }))
    }

    /// The same credentials, expiring at `expiry`.
    #[must_use]
    pub fn with_expiry(mut self, expiry: SystemTime) -> Self {
        Arc::make_mut(&mut self.0).expiry = Some(expiry);
        self
    }

    /// The same credentials, attributed to a provider (shown in diagnostics).
    #[must_use]
    pub fn with_provider_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        Arc::make_mut(&mut self.0).provider_name = name.into();
        self
    }

    /// The access key id (not secret).
    pub fn access_key_id(&self) -> &str {
        &self.0.access_key_id
    }

    /// The secret access key. Handle with care: never log it.
    pub fn secret_access_key(&self) -> &str {
        &self.0.secret_access_key
    }

    /// The session token of temporary credentials, if any. Never log it.
    pub fn session_token(&self) -> Option<&str> {
        self.0.session_token.as_deref().map(|t| t.as_str())
    }

    /// Whether the access key id can stand in a credential scope.
    pub(crate) fn access_key_id_is_valid(&self) -> bool {
        self.0.access_key_id_is_valid
    }

    /// Whether the session token can enter a canonical request unscanned.
    pub(crate) fn session_token_is_canonical(&self) -> bool {
        self.0.token_is_canonical
    }

    /// The session token, shared (zeroized when the last holder drops it).
    pub(crate) fn shared_session_token(&self) -> Option<Arc<Zeroizing<String>>> {
        self.0.session_token.clone()
    }

    /// When these credentials stop working, if they expire.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.0.expiry
    }

    /// The name of the provider that produced these credentials.
    pub fn provider_name(&self) -> &str {
        &self.0.provider_name
    }

    /// Whether the credentials have expired at `now`.
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        self.0.expiry.is_some_and(|e| e <= now)
    }

    /// Whether `self` and `other` hold the same session token (or both
    /// none): a pointer comparison when they share it, as clones do.
    pub(crate) fn same_token_as(&self, other: &Credentials) -> bool {
        if Arc::ptr_eq(&self.0, &other.0) {
            return true;
        }
        match (&self.0.session_token, &other.0.session_token) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a.as_str() == b.as_str(),
            (None, None) => true,
            _ => false,
        }
    }

    /// Whether `self` and `other` hold the same key pair (constant time in the secret).
    pub(crate) fn same_key_as(&self, other: &Credentials) -> bool {
        if Arc::ptr_eq(&self.0, &other.0) {
            return true;
        }
        self.0.access_key_id == other.0.access_key_id
            && bool::from(
                self.0
                    .secret_access_key
                    .as_bytes()
                    .ct_eq(other.0.secret_access_key.as_bytes()),
            )
    }
}

impl PartialEq for Credentials {
    fn eq(&self, other: &Self) -> bool {
        self.same_key_as(other)
            && self.session_token() == other.session_token()
            && self.0.expiry == other.0.expiry
    }
}

impl Eq for Credentials {}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const REDACTED: &str = "** redacted **";
        f.debug_struct("Credentials")
            .field("provider_name", &self.0.provider_name)
            .field("access_key_id", &self.0.access_key_id)
            .field("secret_access_key", &REDACTED)
            .field(
                "session_token",
                &self.0.session_token.as_ref().map(|_| REDACTED),
            )
            .field("expiry", &self.0.expiry)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secret_and_token() {
        let c = Credentials::new("AKID", "supersecretvalue", Some("tokentokentoken".into()));
        let d = format!("{c:?}");
        assert!(d.contains("AKID"));
        assert!(!d.contains("supersecret"));
        assert!(!d.contains("tokentoken"));
        assert!(d.contains("** redacted **"));
    }

    #[test]
    fn equality_compares_keys_token_and_expiry() {
        let a = Credentials::new("AKID", "s1", None);
        let b = Credentials::new("AKID", "s1", None);
        let c = Credentials::new("AKID", "s2", None);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let t = SystemTime::UNIX_EPOCH;
        assert_ne!(a.clone().with_expiry(t), b);
        assert!(a.clone().with_expiry(t).is_expired_at(t));
        assert!(!a.is_expired_at(t));
    }
}
