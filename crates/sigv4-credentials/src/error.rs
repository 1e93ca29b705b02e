//! [`CredentialsError`]: every way resolving credentials or a region can fail.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where a setting came from: a file and a 1-based line number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file, as it was resolved (after `~` expansion).
    pub path: PathBuf,
    /// The 1-based line number.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.path.display(), self.line)
    }
}

/// One provider a chain asked, and what happened.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// The provider's name in the chain (`Environment`, `Profile`, ...).
    pub provider: Cow<'static, str>,
    /// Why it yielded nothing.
    pub error: CredentialsError,
}

/// The error of every provider, the cache, the chain and region resolution.
///
/// Messages say what was wrong, where (file and line, variable, provider),
/// and what to do. They never contain a secret access key or session token.
///
/// [`CredentialsError::NotLoaded`] is the one "soft" variant: the provider
/// had nothing to offer (no variables set, no file), and a chain moves on
/// to the next provider. Every other variant is a configuration or runtime
/// failure that stops a chain, as in the AWS CLI (a half-configured source
/// must not silently fall through to a different identity).
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The provider found nothing to load; a chain tries the next one.
    #[error("{provider}: {reason}")]
    NotLoaded {
        /// The provider.
        provider: Cow<'static, str>,
        /// Why it was skipped.
        reason: String,
    },

    /// Only one half of a key pair is set in the environment.
    #[error("environment: {present} is set but {missing} is not; set both, or unset {present}")]
    PartialEnvironment {
        /// The variable that is set.
        present: &'static str,
        /// The variable that is missing or empty.
        missing: &'static str,
    },

    /// An environment variable has a value that cannot be used.
    #[error("environment: {variable} is invalid: {reason}")]
    InvalidEnvironment {
        /// The variable.
        variable: &'static str,
        /// What is wrong with it (never the value of a secret).
        reason: String,
    },

    /// A shared config or credentials file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    FileRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: Arc<io::Error>,
    },

    /// A shared config or credentials file is larger than the limit.
    #[error("{} is larger than {limit} bytes; is AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE pointing at the right file?", path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// The limit in bytes.
        limit: usize,
    },

    /// A shared config or credentials file is malformed.
    #[error("{location}: {message}")]
    ProfileParse {
        /// File and line.
        location: Location,
        /// What is wrong.
        message: String,
    },

    /// The selected profile is in neither file.
    #[error("profile `{profile}` (selected by {selected_by}) is not defined in {files}; add a `[profile {profile}]` section or pick another profile")]
    ProfileNotFound {
        /// The profile name.
        profile: String,
        /// `AWS_PROFILE`, `--profile`, ...
        selected_by: String,
        /// The files looked at.
        files: String,
    },

    /// A profile's settings are incomplete or contradictory.
    #[error("profile `{profile}` ({location}): {message}")]
    InvalidProfile {
        /// The profile name.
        profile: String,
        /// Where the offending setting is.
        location: Location,
        /// What is wrong and what to do.
        message: String,
    },

    /// A `credential_process` could not be run or did not produce credentials.
    #[error("credential_process of profile `{profile}` ({location}): {message}")]
    CredentialProcess {
        /// The profile name.
        profile: String,
        /// Where `credential_process` is set.
        location: Location,
        /// What went wrong, with the process's stderr when it wrote any.
        message: String,
    },

    /// A provider returned credentials that had already expired.
    #[error("{provider} returned credentials that expired at {expiry}; check the system clock and the provider")]
    Expired {
        /// The provider name.
        provider: String,
        /// The expiry, RFC 3339.
        expiry: String,
    },

    /// A provider did not answer in time.
    #[error("{provider} did not answer within {timeout:?}")]
    Timeout {
        /// The provider name.
        provider: String,
        /// The limit.
        timeout: Duration,
    },

    /// No provider of a chain yielded credentials; every attempt is listed.
    #[error("no credentials found; tried, in order:{}", list(attempts))]
    NoCredentials {
        /// Every provider tried, in order.
        attempts: Vec<Attempt>,
    },

    /// A provider of a chain failed; the chain stopped there.
    #[error("credentials chain stopped at {provider}, which failed; fix it or unset what selects it; tried, in order:{}", list(attempts))]
    ChainStopped {
        /// The provider that failed.
        provider: Cow<'static, str>,
        /// Its error.
        #[source]
        source: Box<CredentialsError>,
        /// Every provider tried, in order, the failed one last.
        attempts: Vec<Attempt>,
    },

    /// A credentials endpoint (IMDS, container endpoint, STS) could not be
    /// reached or answered badly.
    #[error(transparent)]
    Http(Box<crate::http::HttpError>),

    /// STS refused a request (`AccessDenied`, `ExpiredToken`, ...).
    #[error(transparent)]
    Sts(Box<crate::sts::StsError>),

    /// A provider failed for a reason of its own (a bad answer, a bad
    /// setting); the message names the provider and what to do.
    #[error("{provider}: {message}")]
    Provider {
        /// The provider.
        provider: String,
        /// What went wrong.
        message: String,
    },
}

fn list(attempts: &[Attempt]) -> String {
    use fmt::Write as _;
    let mut s = String::new();
    for (i, a) in attempts.iter().enumerate() {
        let _ = match &a.error {
            CredentialsError::NotLoaded { reason, .. } => {
                write!(s, "\n  {}. {}: skipped: {}", i + 1, a.provider, reason)
            }
            other => write!(s, "\n  {}. {}: failed: {}", i + 1, a.provider, other),
        };
    }
    s
}

impl CredentialsError {
    /// A [`CredentialsError::NotLoaded`] for `provider`.
    pub fn not_loaded(provider: impl Into<Cow<'static, str>>, reason: impl Into<String>) -> Self {
        Self::NotLoaded {
            provider: provider.into(),
            reason: reason.into(),
        }
    }

    /// Whether this is the soft "nothing to load here" error a chain skips.
    pub fn is_not_loaded(&self) -> bool {
        matches!(self, Self::NotLoaded { .. })
    }
}
