//! [`ProviderConfig`]: what every provider reads through.

use std::sync::Arc;

use crate::clock::{SystemTimeSource, TimeSource};
use crate::env::{Env, ProcessEnv};
use crate::fs::{Fs, RealFs};
use crate::profile::location::Platform;

/// The environment, file system, clock and profile selection a provider
/// reads through. Cheap to clone.
///
/// [`ProviderConfig::from_process`] is the real world; tests build one from a
/// [`MapEnv`](crate::MapEnv) and a [`MemFs`](crate::MemFs):
///
/// ```
/// use sigv4_credentials::{MapEnv, MemFs, ProviderConfig};
/// let config = ProviderConfig::new(
///     MapEnv::from([("HOME", "/home/me")]),
///     MemFs::new().with("/home/me/.aws/credentials", "[default]\naws_access_key_id = AKID\n"),
/// );
/// ```
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    env: Arc<dyn Env>,
    fs: Arc<dyn Fs>,
    time: Arc<dyn TimeSource>,
    profile: Option<String>,
    platform: Platform,
}

impl ProviderConfig {
    /// The real process environment, file system and clock.
    pub fn from_process() -> Self {
        Self::new(ProcessEnv, RealFs)
    }

    /// A configuration reading `env` and `fs`, with the system clock.
    pub fn new(env: impl Env + 'static, fs: impl Fs + 'static) -> Self {
        Self {
            env: Arc::new(env),
            fs: Arc::new(fs),
            time: Arc::new(SystemTimeSource),
            profile: None,
            platform: Platform::current(),
        }
    }

    /// The same configuration with another clock.
    #[must_use]
    pub fn with_time_source(mut self, time: Arc<dyn TimeSource>) -> Self {
        self.time = time;
        self
    }

    /// The same configuration with the profile chosen explicitly (as
    /// `--profile` does); it takes precedence over `AWS_PROFILE`.
    #[must_use]
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// The same configuration resolving home directories and paths as on
    /// `platform` (for tests of Windows rules on any host).
    #[must_use]
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    /// The environment.
    pub fn env(&self) -> &dyn Env {
        &*self.env
    }

    /// The file system.
    pub fn fs(&self) -> &dyn Fs {
        &*self.fs
    }

    /// The clock.
    pub fn time_source(&self) -> &Arc<dyn TimeSource> {
        &self.time
    }

    /// The explicitly chosen profile, if any.
    pub fn profile_override(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    /// The platform whose path rules apply.
    pub fn platform(&self) -> Platform {
        self.platform
    }
}
