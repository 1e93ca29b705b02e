//! Shared config and credentials files: locating, parsing, merging
//! ([`SharedConfig`], [`ProfileSet`]) and the credentials they configure
//! ([`ProfileProvider`]).
//!
//! Parsing follows the AWS SDKs' shared profile-file specification (see
//! [`parse`](self) rules in the source and the vector test); file locations
//! and profile selection are described in [`location`].

pub mod location;
mod parse;
mod set;

use std::io;
use std::path::{Path, PathBuf};

use sigv4_sign::Credentials;

pub use set::{FileKind, Profile, ProfileSet, Property};

use crate::config::ProviderConfig;
use crate::error::CredentialsError;
use crate::process::{CredentialProcessProvider, ProcessSettings};
use crate::provider::{BoxFuture, CredentialsResult, ProvideCredentials};

/// The largest shared file read, in bytes (16 MiB). A larger file is an
/// error rather than read whole (`AWS_CONFIG_FILE=/dev/zero` must not hang).
pub const MAX_FILE_SIZE: usize = 16 << 20;

/// The shared files, loaded and merged, and which profile is selected.
#[derive(Clone, Debug)]
pub struct SharedConfig {
    set: ProfileSet,
    selected: String,
    selected_by: &'static str,
    config_path: Option<PathBuf>,
    credentials_path: Option<PathBuf>,
    found: (bool, bool),
}

impl SharedConfig {
    /// Locate, read and parse both files. A missing file counts as empty;
    /// an unreadable, oversized or malformed one is an error.
    pub async fn load(config: &ProviderConfig) -> Result<Self, CredentialsError> {
        let env = config.env();
        let platform = config.platform();
        let config_path = location::config_file(env, platform);
        let credentials_path = location::credentials_file(env, platform);
        let config_bytes = read_optional(config, config_path.as_deref()).await?;
        let credentials_bytes = read_optional(config, credentials_path.as_deref()).await?;
        let set = ProfileSet::parse(
            config_path.as_deref().zip(config_bytes.as_deref()),
            credentials_path
                .as_deref()
                .zip(credentials_bytes.as_deref()),
        )?;
        let (selected, selected_by) = location::selected_profile(env, config.profile_override());
        Ok(Self {
            set,
            selected,
            selected_by,
            config_path,
            credentials_path,
            found: (config_bytes.is_some(), credentials_bytes.is_some()),
        })
    }

    /// All profiles.
    pub fn profiles(&self) -> &ProfileSet {
        &self.set
    }

    /// The selected profile's name.
    pub fn selected_name(&self) -> &str {
        &self.selected
    }

    /// What selected it: `--profile`, `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`
    /// or `default`.
    pub fn selected_by(&self) -> &str {
        self.selected_by
    }

    /// Whether at least one of the two files exists.
    pub fn any_file_found(&self) -> bool {
        self.found.0 || self.found.1
    }

    /// The selected profile. `Ok(None)` when it is the implicit `default`
    /// and is not defined; an error when a profile chosen explicitly (by
    /// `--profile` or `AWS_PROFILE`) is not defined.
    pub fn selected_profile(&self) -> Result<Option<&Profile>, CredentialsError> {
        match self.set.get(&self.selected) {
            Some(p) => Ok(Some(p)),
            None if self.selected_by == "default" => Ok(None),
            None => Err(CredentialsError::ProfileNotFound {
                profile: self.selected.clone(),
                selected_by: self.selected_by.to_owned(),
                files: self.files_description(),
            }),
        }
    }

    /// "`/h/.aws/config` (not found) and `/h/.aws/credentials`", for messages.
    pub fn files_description(&self) -> String {
        let one = |p: &Option<PathBuf>, found: bool, what: &str| match p {
            Some(p) if found => format!("{}", p.display()),
            Some(p) => format!("{} (not found)", p.display()),
            None => format!("no {what} file (neither HOME nor the variable is set)"),
        };
        format!(
            "{} and {}",
            one(&self.config_path, self.found.0, "config"),
            one(&self.credentials_path, self.found.1, "credentials")
        )
    }
}

async fn read_optional(
    config: &ProviderConfig,
    path: Option<&Path>,
) -> Result<Option<Vec<u8>>, CredentialsError> {
    let Some(path) = path else { return Ok(None) };
    match config.fs().read(path, MAX_FILE_SIZE).await {
        Ok(bytes) if bytes.len() > MAX_FILE_SIZE => Err(CredentialsError::FileTooLarge {
            path: path.to_path_buf(),
            limit: MAX_FILE_SIZE,
        }),
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CredentialsError::FileRead {
            path: path.to_path_buf(),
            source: e.into(),
        }),
    }
}

/// Credentials from the selected profile of the shared files.
///
/// Within a profile, the sources are taken in the AWS CLI's order:
///
/// 1. `role_arn` (with `source_profile`, `credential_source` or
///    `web_identity_token_file`), `web_identity_token_file`, `sso_*`: the
///    profile chain is resolved ([`ProfileChain`](crate::ProfileChain)) and
///    run through STS; answers are named like
///    `AssumeRole(arn) <- Profile(dev) <- Environment`. SSO is recognised
///    and validated but not supported yet (an error says so).
/// 2. `aws_access_key_id` + `aws_secret_access_key` (+ `aws_session_token`)
///    set in the credentials file.
/// 3. `credential_process`.
/// 4. The same static keys set in the config file.
///
/// A key id without a secret (or the reverse) is an error naming the file
/// and line. No files, or no `default` profile when none was chosen, or a
/// profile with none of the above, is [`CredentialsError::NotLoaded`].
/// Answers are named `Profile(name)` or `CredentialProcess(name)`.
#[derive(Clone, Debug)]
pub struct ProfileProvider {
    config: ProviderConfig,
    process: ProcessSettings,
}

impl ProfileProvider {
    /// A provider reading the files `config` locates.
    pub fn new(config: ProviderConfig) -> Self {
        Self {
            config,
            process: ProcessSettings::default(),
        }
    }

    /// The same provider with other `credential_process` limits.
    #[must_use]
    pub fn with_process_settings(mut self, settings: ProcessSettings) -> Self {
        self.process = settings;
        self
    }

    async fn load(&self) -> CredentialsResult {
        const NAME: &str = "Profile";
        let shared = SharedConfig::load(&self.config).await?;
        if !shared.any_file_found() {
            return Err(CredentialsError::not_loaded(
                NAME,
                format!("no shared files: {}", shared.files_description()),
            ));
        }
        let Some(profile) = shared.selected_profile()? else {
            return Err(CredentialsError::not_loaded(
                NAME,
                format!(
                    "profile `default` is not defined in {}",
                    shared.files_description()
                ),
            ));
        };
        if crate::assume_role::needs_chain(profile) {
            // role_arn, web identity, SSO: resolve the chain, then run it.
            let chain =
                crate::assume_role::ProfileChain::resolve(shared.profiles(), profile.name())?;
            let endpoint = crate::sts::StsEndpoint::resolve(self.config.env(), Some(profile));
            return chain
                .provide(
                    &self.config,
                    &endpoint,
                    self.process,
                    crate::HttpSettings::sts(),
                )
                .await;
        }
        self.credentials_of(profile).await
    }

    async fn credentials_of(&self, profile: &Profile) -> CredentialsResult {
        let name = profile.name();
        let invalid = |p: &Property, message: String| CredentialsError::InvalidProfile {
            profile: name.to_owned(),
            location: p.location().clone(),
            message,
        };
        for (key, what) in [
            ("role_arn", "assume role"),
            ("web_identity_token_file", "web identity"),
            ("sso_session", "IAM Identity Center (SSO)"),
            ("sso_start_url", "IAM Identity Center (SSO)"),
        ] {
            if let Some(p) = profile.property(key) {
                return Err(invalid(
                    p,
                    format!("`{key}` ({what}) is not supported yet; put static keys or credential_process in a profile without it, or select another profile"),
                ));
            }
        }
        let non_empty = |key: &str| profile.property(key).filter(|p| !p.value().is_empty());
        let akid = non_empty("aws_access_key_id");
        let secret = non_empty("aws_secret_access_key");
        let process = non_empty("credential_process");
        let static_keys = |akid: &Property| -> CredentialsResult {
            let Some(secret) = secret else {
                return Err(invalid(
                    akid,
                    "aws_access_key_id is set but aws_secret_access_key is not; add it next to the key id".into(),
                ));
            };
            let token = non_empty("aws_session_token")
                .or_else(|| non_empty("aws_security_token"))
                .map(|t| t.value().to_owned());
            Ok(Credentials::new(akid.value(), secret.value(), token)
                .with_provider_name(format!("Profile({name})")))
        };
        match (akid, process) {
            (Some(a), _) if a.file() == FileKind::Credentials => static_keys(a),
            (_, Some(p)) => {
                CredentialProcessProvider::new(p.value(), name, p.location().clone())
                    .with_settings(self.process)
                    .with_time_source(self.config.time_source().clone())
                    .provide_credentials()
                    .await
            }
            (Some(a), None) => static_keys(a),
            (None, None) => match secret {
                Some(s) => Err(invalid(
                    s,
                    "aws_secret_access_key is set but aws_access_key_id is not; add the key id".into(),
                )),
                None => Err(CredentialsError::not_loaded(
                    "Profile",
                    format!(
                        "profile `{name}` ({}) has no credentials: no aws_access_key_id or credential_process",
                        profile.location()
                    ),
                )),
            },
        }
    }
}

impl ProvideCredentials for ProfileProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(self.load())
    }
}
