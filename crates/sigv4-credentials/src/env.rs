//! [`Env`]: where providers read environment variables from.
//!
//! Providers never call `std::env` directly: they read through an injected
//! [`Env`], so tests use a [`MapEnv`] and never touch (or race on) the real
//! process environment.

use std::collections::HashMap;
use std::fmt;

/// A source of environment variables.
pub trait Env: Send + Sync + fmt::Debug {
    /// The value of `name`, or `None` when it is unset.
    ///
    /// The real environment reports a variable whose value is not valid
    /// Unicode as unset.
    fn get(&self, name: &str) -> Option<String>;

    /// The value of `name`, or `None` when it is unset or empty.
    ///
    /// The AWS CLI treats an empty variable as unset; providers use this.
    fn get_non_empty(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// The real process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var_os(name).and_then(|v| v.into_string().ok())
    }
}

/// An in-memory environment, for tests.
///
/// ```
/// use sigv4_credentials::{Env, MapEnv};
/// let env = MapEnv::from([("AWS_PROFILE", "dev")]);
/// assert_eq!(env.get("AWS_PROFILE").as_deref(), Some("dev"));
/// assert_eq!(env.get("HOME"), None);
/// ```
#[derive(Clone, Debug, Default)]
pub struct MapEnv(HashMap<String, String>);

impl MapEnv {
    /// An empty environment.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same environment with `name` set to `value`.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.insert(name.into(), value.into());
        self
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for MapEnv {
    fn from(vars: [(K, V); N]) -> Self {
        Self(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for MapEnv {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl Env for MapEnv {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_unset_for_get_non_empty() {
        let env = MapEnv::new().with("A", "").with("B", "x");
        assert_eq!(env.get("A").as_deref(), Some(""));
        assert_eq!(env.get_non_empty("A"), None);
        assert_eq!(env.get_non_empty("B").as_deref(), Some("x"));
        assert_eq!(env.get_non_empty("C"), None);
    }
}
