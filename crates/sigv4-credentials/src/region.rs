//! Region resolution: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the selected
//! profile's `region`.

use crate::config::ProviderConfig;
use crate::error::CredentialsError;
use crate::profile::SharedConfig;

/// A region and where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedRegion {
    /// The region name, such as `eu-west-1`.
    pub region: String,
    /// `AWS_REGION`, `AWS_DEFAULT_REGION`, or `profile dev (/h/.aws/config line 3)`.
    pub source: String,
}

/// The region, or `None` when nothing sets one. Empty values count as unset.
///
/// Errors when the shared files are malformed or a profile chosen
/// explicitly does not exist.
pub async fn resolve_region(
    config: &ProviderConfig,
) -> Result<Option<ResolvedRegion>, CredentialsError> {
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(region) = config.env().get_non_empty(var) {
            return Ok(Some(ResolvedRegion {
                region,
                source: var.to_owned(),
            }));
        }
    }
    let shared = SharedConfig::load(config).await?;
    let Some(profile) = shared.selected_profile()? else {
        return Ok(None);
    };
    Ok(profile
        .property("region")
        .filter(|p| !p.value().is_empty())
        .map(|p| ResolvedRegion {
            region: p.value().to_owned(),
            source: format!("profile {} ({})", profile.name(), p.location()),
        }))
}
