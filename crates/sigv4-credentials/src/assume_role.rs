//! Profile role chains: [`ProfileChain::resolve`] turns the shared profiles
//! into a plan (a base source, then the roles to assume, innermost first),
//! and [`ProfileChain::provide`] executes it through STS.
//! [`AssumeRoleProvider`] assumes one role with credentials from any
//! provider.
//!
//! Resolution follows the AWS SDKs: in the selected profile `role_arn` wins
//! over static keys; `role_arn` needs exactly one of `source_profile` or
//! `credential_source` (`Environment`, `Ec2InstanceMetadata`,
//! `EcsContainer`), or `web_identity_token_file`; a source profile with
//! static keys ends the chain with them (its own `role_arn` is ignored),
//! except a profile naming itself as its source, which assumes its role
//! with its own keys. A profile met twice is a cycle, reported with the
//! whole chain.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sigv4_sign::Credentials;

use crate::config::ProviderConfig;
use crate::container::ContainerProvider;
use crate::environment::EnvironmentProvider;
use crate::error::CredentialsError;
use crate::http::HttpSettings;
use crate::imds::ImdsProvider;
use crate::process::{CredentialProcessProvider, ProcessSettings};
use crate::profile::{FileKind, Profile, ProfileSet, Property};
use crate::provider::{BoxFuture, CredentialsResult, ProvideCredentials};
use crate::sts::{default_session_name, AssumeRoleRequest, StsClient, StsEndpoint};
use crate::web_identity::{WebIdentityProvider, WebIdentitySettings};
use crate::Location;

/// A `credential_source` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NamedSource {
    /// `Environment`: the `AWS_*` key variables.
    Environment,
    /// `Ec2InstanceMetadata`: the instance profile, from IMDS.
    Ec2InstanceMetadata,
    /// `EcsContainer`: the container credentials endpoint.
    EcsContainer,
}

impl NamedSource {
    /// The name as written in a profile.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Environment => "Environment",
            Self::Ec2InstanceMetadata => "Ec2InstanceMetadata",
            Self::EcsContainer => "EcsContainer",
        }
    }
}

/// Where a chain's first credentials come from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BaseProvider {
    /// Static keys of a profile (the secret is redacted in `Debug`).
    AccessKey {
        /// The profile holding them.
        profile: String,
        /// The keys, named `Profile(name)`.
        credentials: Credentials,
        /// `aws_account_id`, if set.
        account_id: Option<String>,
    },
    /// `credential_process` of a profile.
    CredentialProcess {
        /// The profile.
        profile: String,
        /// The command line.
        command: String,
        /// Where it is set.
        location: Location,
    },
    /// `credential_source` of a profile.
    NamedSource {
        /// The profile naming it.
        profile: String,
        /// The source.
        source: NamedSource,
    },
    /// `role_arn` + `web_identity_token_file` of a profile.
    WebIdentityToken {
        /// The profile.
        profile: String,
        /// The role, the token file and the session name.
        settings: WebIdentitySettings,
    },
    /// IAM Identity Center (SSO): recognised and validated, not executed.
    Sso {
        /// The profile.
        profile: String,
        /// The `sso_*` settings (of the profile and its `sso-session`).
        settings: Vec<(String, String)>,
    },
}

/// One `AssumeRole` of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoleStep {
    /// The profile holding `role_arn`.
    pub profile: String,
    /// The role.
    pub role_arn: String,
    /// `role_session_name`.
    pub role_session_name: Option<String>,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `duration_seconds`.
    pub duration: Option<Duration>,
}

/// A resolved profile chain: the base, then the roles, innermost first.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProfileChain {
    /// Where the first credentials come from.
    pub base: BaseProvider,
    /// The roles to assume in turn.
    pub roles: Vec<RoleStep>,
}

/// Whether `profile` needs [`ProfileChain`] (role, web identity or SSO
/// settings) rather than the plain static / process provider.
pub fn needs_chain(profile: &Profile) -> bool {
    [
        "role_arn",
        "web_identity_token_file",
        "sso_session",
        "sso_start_url",
        "sso_account_id",
        "sso_role_name",
    ]
    .iter()
    .any(|k| profile.property(k).is_some())
}

fn invalid(profile: &Profile, p: Option<&Property>, message: String) -> CredentialsError {
    CredentialsError::InvalidProfile {
        profile: profile.name().to_owned(),
        location: p.map_or_else(|| profile.location().clone(), |p| p.location().clone()),
        message,
    }
}

fn non_empty<'a>(profile: &'a Profile, key: &str) -> Option<&'a Property> {
    profile
        .property(key)
        .filter(|p| !p.value().trim().is_empty())
}

impl ProfileChain {
    /// Resolve the chain starting at profile `selected` of `set`.
    pub fn resolve(set: &ProfileSet, selected: &str) -> Result<Self, CredentialsError> {
        let mut visited: Vec<String> = Vec::new();
        let mut roles: Vec<RoleStep> = Vec::new();
        let mut name = selected.to_owned();
        let base = loop {
            let Some(profile) = set.get(&name) else {
                return Err(match visited.last() {
                    Some(from) => {
                        let p = set.get(from).and_then(|f| f.property("source_profile"));
                        match (set.get(from), p) {
                            (Some(f), p) => invalid(f, p, format!("`source_profile` points to `{name}`, which does not exist; could not find source profile {name} referenced from {from}")),
                            (None, _) => CredentialsError::not_loaded("Profile", format!("profile `{name}` is not defined")),
                        }
                    }
                    None => CredentialsError::Provider {
                        provider: "Profile".into(),
                        message: format!("profile `{name}` is not defined (No profiles were defined with that name)"),
                    },
                });
            };
            if visited.contains(&name) {
                let mut chain = visited.clone();
                chain.push(name.clone());
                return Err(invalid(
                    profile,
                    profile.property("source_profile"),
                    format!("source_profile chain forms a cycle (an infinite loop): {}; break it by giving one of them static keys or a credential_source", chain.join(" -> ")),
                ));
            }
            visited.push(name.clone());
            let first = visited.len() == 1;
            if !first && non_empty(profile, "aws_access_key_id").is_some() {
                break static_keys(profile)?;
            }
            let Some(role_arn) = non_empty(profile, "role_arn") else {
                break leaf(set, profile, first)?;
            };
            if let Some(file) = non_empty(profile, "web_identity_token_file") {
                break BaseProvider::WebIdentityToken {
                    profile: name.clone(),
                    settings: WebIdentitySettings {
                        role_arn: role_arn.value().trim().to_owned(),
                        token_file: file.value().trim().into(),
                        session_name: non_empty(profile, "role_session_name")
                            .map(|p| p.value().trim().to_owned()),
                    },
                };
            }
            roles.push(role_step(profile, role_arn)?);
            let source = non_empty(profile, "source_profile");
            let named = non_empty(profile, "credential_source");
            match (source, named) {
                (Some(_), Some(c)) => {
                    return Err(invalid(profile, Some(c), "profile contained both source_profile and credential_source; keep one".into()))
                }
                (Some(s), None) if s.value().trim() == name => break static_keys(profile)?,
                (Some(s), None) => name = s.value().trim().to_owned(),
                (None, Some(c)) => {
                    let source = match c.value().trim() {
                        "Environment" => NamedSource::Environment,
                        "Ec2InstanceMetadata" => NamedSource::Ec2InstanceMetadata,
                        "EcsContainer" => NamedSource::EcsContainer,
                        other => {
                            return Err(invalid(profile, Some(c), format!("credential_source {other:?} is not one of Environment, Ec2InstanceMetadata, EcsContainer")))
                        }
                    };
                    break BaseProvider::NamedSource { profile: name.clone(), source };
                }
                (None, None) => {
                    return Err(invalid(profile, Some(role_arn), "role_arn is set, so the profile must contain `source_profile` or `credential_source` (or web_identity_token_file)".into()))
                }
            }
        };
        roles.reverse();
        Ok(Self { base, roles })
    }

    /// A description: `AssumeRole(arn) <- Profile(a) <- ... <- base`.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for r in self.roles.iter().rev() {
            s.push_str(&format!(
                "AssumeRole({}) <- Profile({}) <- ",
                r.role_arn, r.profile
            ));
        }
        s.push_str(&match &self.base {
            BaseProvider::AccessKey { profile, .. } => format!("Profile({profile})"),
            BaseProvider::CredentialProcess { profile, .. } => {
                format!("CredentialProcess({profile})")
            }
            BaseProvider::NamedSource { source, .. } => source.as_str().to_owned(),
            BaseProvider::WebIdentityToken { profile, settings } => format!(
                "WebIdentityToken({}) <- Profile({profile})",
                settings.role_arn
            ),
            BaseProvider::Sso { profile, .. } => format!("Sso({profile})"),
        });
        s
    }

    /// Execute: load the base, then assume each role in turn through the
    /// STS `endpoint`. The answer's provider name shows the whole chain.
    pub async fn provide(
        &self,
        config: &ProviderConfig,
        endpoint: &StsEndpoint,
        process: ProcessSettings,
        settings: HttpSettings,
    ) -> CredentialsResult {
        let mut creds = match &self.base {
            BaseProvider::AccessKey { credentials, .. } => credentials.clone(),
            BaseProvider::CredentialProcess { profile, command, location } => {
                CredentialProcessProvider::new(command.as_str(), profile.as_str(), location.clone())
                    .with_settings(process)
                    .with_time_source(config.time_source().clone())
                    .provide_credentials()
                    .await?
            }
            BaseProvider::NamedSource { profile, source } => {
                let provider: Box<dyn ProvideCredentials> = match source {
                    NamedSource::Environment => Box::new(EnvironmentProvider::new(config.clone())),
                    NamedSource::Ec2InstanceMetadata => Box::new(ImdsProvider::new(config.clone())),
                    NamedSource::EcsContainer => Box::new(ContainerProvider::new(config.clone())),
                };
                provider.provide_credentials().await.map_err(|e| match e {
                    CredentialsError::NotLoaded { reason, .. } => CredentialsError::Provider {
                        provider: format!("Profile({profile})"),
                        message: format!("credential_source = {} gave no credentials: {reason}", source.as_str()),
                    },
                    e => e,
                })?
            }
            BaseProvider::WebIdentityToken { profile, settings: s } => {
                let c = WebIdentityProvider::with_settings(config.clone(), s.clone(), Some(endpoint.clone()))
                    .with_http_settings(settings)
                    .provide_credentials()
                    .await?;
                let name = format!("{} <- Profile({profile})", c.provider_name());
                c.with_provider_name(name)
            }
            BaseProvider::Sso { profile, .. } => {
                return Err(CredentialsError::Provider {
                    provider: format!("Profile({profile})"),
                    message: "IAM Identity Center (SSO) credentials are not supported yet; run `aws configure export-credentials` into a credential_process, or select another profile".into(),
                })
            }
        };
        if self.roles.is_empty() {
            return Ok(creds);
        }
        let sts = StsClient::new(endpoint, config.time_source().clone(), settings)?;
        for role in &self.roles {
            creds = assume(&sts, &creds, role, config).await?;
        }
        Ok(creds)
    }
}

async fn assume(
    sts: &StsClient,
    source: &Credentials,
    role: &RoleStep,
    config: &ProviderConfig,
) -> CredentialsResult {
    let session = role
        .role_session_name
        .clone()
        .unwrap_or_else(|| default_session_name(config.time_source().now()));
    let req = AssumeRoleRequest::new(role.role_arn.clone(), session)
        .with_external_id(role.external_id.clone())
        .with_duration(role.duration);
    let c = sts.assume_role(source, &req).await?;
    let name = format!(
        "AssumeRole({}) <- Profile({}) <- {}",
        role.role_arn,
        role.profile,
        source.provider_name()
    );
    Ok(c.with_provider_name(name))
}

fn role_step(profile: &Profile, role_arn: &Property) -> Result<RoleStep, CredentialsError> {
    let get = |k: &str| non_empty(profile, k).map(|p| p.value().trim().to_owned());
    let duration = match non_empty(profile, "duration_seconds") {
        None => None,
        Some(p) => match p.value().trim().parse::<u64>() {
            Ok(n) if (900..=43_200).contains(&n) => Some(Duration::from_secs(n)),
            _ => {
                return Err(invalid(
                    profile,
                    Some(p),
                    format!(
                        "duration_seconds {:?} is not a number of seconds from 900 to 43200",
                        p.value()
                    ),
                ))
            }
        },
    };
    Ok(RoleStep {
        profile: profile.name().to_owned(),
        role_arn: role_arn.value().trim().to_owned(),
        role_session_name: get("role_session_name"),
        external_id: get("external_id"),
        duration,
    })
}

fn static_keys(profile: &Profile) -> Result<BaseProvider, CredentialsError> {
    let akid = non_empty(profile, "aws_access_key_id");
    let secret = non_empty(profile, "aws_secret_access_key");
    match (akid, secret) {
        (Some(a), Some(s)) => {
            let token = non_empty(profile, "aws_session_token").map(|t| t.value().to_owned());
            Ok(BaseProvider::AccessKey {
                profile: profile.name().to_owned(),
                credentials: Credentials::new(a.value(), s.value(), token)
                    .with_provider_name(format!("Profile({})", profile.name())),
                account_id: non_empty(profile, "aws_account_id").map(|p| p.value().to_owned()),
            })
        }
        (Some(a), None) => Err(invalid(
            profile,
            Some(a),
            "profile missing aws_secret_access_key: aws_access_key_id is set without it".into(),
        )),
        (None, Some(s)) => Err(invalid(
            profile,
            Some(s),
            "profile missing aws_access_key_id: aws_secret_access_key is set without it".into(),
        )),
        (None, None) => Err(invalid(
            profile,
            None,
            format!(
                "profile `{}` did not contain credential information (no aws_access_key_id)",
                profile.name()
            ),
        )),
    }
}

/// A profile without `role_arn` (or a source profile): web identity
/// without a role, SSO, static keys, or `credential_process`.
fn leaf(
    set: &ProfileSet,
    profile: &Profile,
    first: bool,
) -> Result<BaseProvider, CredentialsError> {
    let name = profile.name().to_owned();
    if let Some(p) = non_empty(profile, "web_identity_token_file") {
        return Err(invalid(
            profile,
            Some(p),
            "web_identity_token_file is set but `role_arn` was missing; add the role to assume"
                .into(),
        ));
    }
    if let Some(sso) = sso(set, profile)? {
        return Ok(sso);
    }
    let akid = non_empty(profile, "aws_access_key_id");
    let process = non_empty(profile, "credential_process");
    match (akid, process) {
        (Some(a), _) if a.file() == FileKind::Credentials => static_keys(profile),
        (_, Some(p)) => Ok(BaseProvider::CredentialProcess {
            profile: name,
            command: p.value().to_owned(),
            location: p.location().clone(),
        }),
        (Some(_), None) => static_keys(profile),
        (None, None) if non_empty(profile, "aws_secret_access_key").is_some() => static_keys(profile),
        (None, None) if first => Err(CredentialsError::not_loaded(
            "Profile",
            format!("profile `{name}` did not contain credential information ({}): no aws_access_key_id, credential_process or role_arn", profile.location()),
        )),
        (None, None) => static_keys(profile),
    }
}

fn sso(set: &ProfileSet, profile: &Profile) -> Result<Option<BaseProvider>, CredentialsError> {
    let keys = [
        "sso_session",
        "sso_start_url",
        "sso_region",
        "sso_account_id",
        "sso_role_name",
    ];
    if !keys[..2]
        .iter()
        .chain(&keys[3..])
        .any(|k| profile.property(k).is_some())
    {
        return Ok(None);
    }
    let get = |k: &str| non_empty(profile, k);
    let mut settings: Vec<(String, String)> = Vec::new();
    if let Some(s) = get("sso_session") {
        let session_name = s.value().trim();
        let Some(session) = set.sso_session(session_name) else {
            return Err(invalid(
                profile,
                Some(s),
                format!(
                    "sso-session named `{session_name}` (referenced by profile `{}`) was not found",
                    profile.name()
                ),
            ));
        };
        if let Some(r) = get("sso_region") {
            if session.get("sso_region") != Some(r.value().trim()) {
                return Err(invalid(profile, Some(r), "`sso_region` can only be specified in the [sso-session] config when a session name is given".into()));
            }
        }
        settings.push(("sso_session".into(), session_name.to_owned()));
        for (k, v) in session.properties() {
            settings.push((k.to_owned(), v.value().to_owned()));
        }
    }
    for k in keys {
        if let Some(p) = get(k) {
            if !settings.iter().any(|(key, _)| key == k) {
                settings.push((k.to_owned(), p.value().trim().to_owned()));
            }
        }
    }
    match (get("sso_account_id"), get("sso_role_name")) {
        (None, Some(r)) => {
            return Err(invalid(
                profile,
                Some(r),
                "if `sso_role_name` is set, then `sso_account_id` must also be set".into(),
            ))
        }
        (Some(a), None) => {
            return Err(invalid(
                profile,
                Some(a),
                "if `sso_account_id` is set, then `sso_role_name` must also be set".into(),
            ))
        }
        _ => {}
    }
    Ok(Some(BaseProvider::Sso {
        profile: profile.name().to_owned(),
        settings,
    }))
}

/// Assumes one role with credentials from another provider. Answers are
/// named `AssumeRole(arn) <- {source's name}`.
pub struct AssumeRoleProvider {
    source: Arc<dyn ProvideCredentials>,
    sts: StsClient,
    request: AssumeRoleRequest,
}

impl fmt::Debug for AssumeRoleProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRoleProvider")
            .field("source", &self.source)
            .field("sts", &self.sts.endpoint())
            .field("request", &self.request)
            .finish()
    }
}

impl AssumeRoleProvider {
    /// Assume `request`'s role through `sts` with credentials from `source`.
    pub fn new(
        source: impl ProvideCredentials + 'static,
        sts: StsClient,
        request: AssumeRoleRequest,
    ) -> Self {
        Self {
            source: Arc::new(source),
            sts,
            request,
        }
    }

    async fn load(&self) -> CredentialsResult {
        let source = self.source.provide_credentials().await?;
        let c = self.sts.assume_role(&source, &self.request).await?;
        let name = format!(
            "AssumeRole({}) <- {}",
            self.request.role_arn,
            source.provider_name()
        );
        Ok(c.with_provider_name(name))
    }
}

impl ProvideCredentials for AssumeRoleProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(self.load())
    }
}
