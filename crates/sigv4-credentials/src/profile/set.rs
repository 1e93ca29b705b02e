//! Turning parsed sections into profiles: header meaning, name validation,
//! duplicates, and the merge of the config and credentials files.
//!
//! - Config file: `[default]` and `[profile name]` are profiles,
//!   `[sso-session name]` is an SSO session; any other header (`[name]`,
//!   `[profilename]`) is ignored. If a `[profile default]` section exists,
//!   every bare `[default]` section of that file is ignored.
//! - Credentials file: `[name]` is the profile `name`; a header with a space
//!   in it (such as `[profile name]`) is not a valid name and is ignored.
//! - Profile and property names may use ASCII letters, digits and
//!   `- / . % @ _ : +`; a section or property with another name is ignored
//!   (its properties too), as the AWS SDKs do.
//! - Profile names are case sensitive; property names are not (lower-cased).
//! - A profile defined twice in a file is merged; a property defined twice
//!   keeps the last value.
//! - The two files merge per profile; for a property in both, the
//!   credentials file wins.

use std::collections::BTreeMap;
use std::path::Path;

use super::parse::{parse, RawSection};
use crate::error::{CredentialsError, Location};

/// Which of the two shared files something came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// The config file (`~/.aws/config`, `AWS_CONFIG_FILE`).
    Config,
    /// The credentials file (`~/.aws/credentials`, `AWS_SHARED_CREDENTIALS_FILE`).
    Credentials,
}

/// A property value and where it was set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Property {
    value: String,
    location: Location,
    file: FileKind,
}

impl Property {
    /// The value (continuation lines joined with `\n`).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The file and line that set it.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Which file set it.
    pub fn file(&self) -> FileKind {
        self.file
    }
}

/// A named profile (or SSO session): its properties, with where each is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    name: String,
    location: Location,
    properties: BTreeMap<String, Property>,
}

impl Profile {
    /// The profile name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the profile was first defined.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The value of property `name` (lower case), if set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(|p| p.value.as_str())
    }

    /// Property `name` (lower case) with its location, if set.
    pub fn property(&self, name: &str) -> Option<&Property> {
        self.properties.get(name)
    }

    /// All properties, by name.
    pub fn properties(&self) -> impl Iterator<Item = (&str, &Property)> {
        self.properties.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// The profiles of a config file and a credentials file, merged.
///
/// ```
/// use std::path::Path;
/// use sigv4_credentials::profile::ProfileSet;
/// let set = ProfileSet::parse(
///     Some((Path::new("/h/.aws/config"), b"[profile dev]\nregion = eu-west-1\n")),
///     Some((Path::new("/h/.aws/credentials"), b"[dev]\naws_access_key_id = AKID\n")),
/// ).unwrap();
/// let dev = set.get("dev").unwrap();
/// assert_eq!(dev.get("region"), Some("eu-west-1"));
/// assert_eq!(dev.property("aws_access_key_id").unwrap().location().line, 2);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileSet {
    profiles: BTreeMap<String, Profile>,
    sso_sessions: BTreeMap<String, Profile>,
}

impl ProfileSet {
    /// Parse and merge a config file and a credentials file, each given as
    /// its path (for messages) and contents; `None` for an absent file.
    pub fn parse(
        config: Option<(&Path, &[u8])>,
        credentials: Option<(&Path, &[u8])>,
    ) -> Result<Self, CredentialsError> {
        let mut set = Self::default();
        if let Some((path, bytes)) = config {
            let sections = parse(bytes, path)?;
            set.add_config(path, &sections);
        }
        if let Some((path, bytes)) = credentials {
            let sections = parse(bytes, path)?;
            set.add_credentials(path, &sections);
        }
        Ok(set)
    }

    /// The profile `name`.
    pub fn get(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// All profiles, by name.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// The `[sso-session name]` section `name` of the config file.
    pub fn sso_session(&self, name: &str) -> Option<&Profile> {
        self.sso_sessions.get(name)
    }

    /// All SSO sessions, by name.
    pub fn sso_sessions(&self) -> impl Iterator<Item = &Profile> {
        self.sso_sessions.values()
    }

    fn add_config(&mut self, path: &Path, sections: &[RawSection]) {
        let target = config_target;
        let has_prefixed_default = sections
            .iter()
            .any(|s| matches!(target(&s.header), Some(Target::Profile("default"))));
        for section in sections {
            let (map, name) = match target(&section.header) {
                Some(Target::Profile(name)) => (&mut self.profiles, name),
                Some(Target::BareDefault) if !has_prefixed_default => {
                    (&mut self.profiles, "default")
                }
                Some(Target::Sso(name)) => (&mut self.sso_sessions, name),
                Some(Target::BareDefault) | None => continue,
            };
            merge_section(map, name, path, section, FileKind::Config);
        }
    }

    fn add_credentials(&mut self, path: &Path, sections: &[RawSection]) {
        for section in sections {
            if is_valid_name(&section.header) {
                merge_section(
                    &mut self.profiles,
                    &section.header,
                    path,
                    section,
                    FileKind::Credentials,
                );
            }
        }
    }
}

enum Target<'a> {
    Profile(&'a str),
    BareDefault,
    Sso(&'a str),
}

/// What a config-file section header defines, if anything valid.
fn config_target(header: &str) -> Option<Target<'_>> {
    if header == "default" {
        return Some(Target::BareDefault);
    }
    if let Some(name) = prefixed(header, "profile") {
        return is_valid_name(name).then_some(Target::Profile(name));
    }
    if let Some(name) = prefixed(header, "sso-session") {
        return is_valid_name(name).then_some(Target::Sso(name));
    }
    None
}

fn merge_section(
    map: &mut BTreeMap<String, Profile>,
    name: &str,
    path: &Path,
    section: &RawSection,
    file: FileKind,
) {
    let profile = map.entry(name.to_owned()).or_insert_with(|| Profile {
        name: name.to_owned(),
        location: Location {
            path: path.to_path_buf(),
            line: section.line,
        },
        properties: BTreeMap::new(),
    });
    for p in &section.properties {
        if is_valid_name(&p.name) {
            profile.properties.insert(
                p.name.clone(),
                Property {
                    value: p.value.clone(),
                    location: Location {
                        path: path.to_path_buf(),
                        line: p.line,
                    },
                    file,
                },
            );
        }
    }
}

/// `rest` when `header` is `prefix`, then at least one space or tab, then `rest`.
fn prefixed<'a>(header: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = header.strip_prefix(prefix)?;
    let trimmed = rest.trim_start_matches([' ', '\t']);
    (trimmed.len() < rest.len()).then_some(trimmed)
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-/.%@_:+".contains(c))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn set(config: &str, credentials: &str) -> ProfileSet {
        ProfileSet::parse(
            Some((Path::new("/c"), config.as_bytes())),
            Some((Path::new("/k"), credentials.as_bytes())),
        )
        .unwrap()
    }

    #[test]
    fn prefixes() {
        assert_eq!(prefixed("profile foo", "profile"), Some("foo"));
        assert_eq!(prefixed("profile\t foo", "profile"), Some("foo"));
        assert_eq!(prefixed("profilefoo", "profile"), None);
        assert_eq!(prefixed("profile", "profile"), None);
    }

    #[test]
    fn credentials_file_wins_and_locations_follow_the_winner() {
        let s = set(
            "[profile dev]\nregion = r1\naws_access_key_id = FROMCONFIG\n",
            "# c\n[dev]\naws_access_key_id = FROMCREDS\n",
        );
        let dev = s.get("dev").unwrap();
        let akid = dev.property("aws_access_key_id").unwrap();
        assert_eq!(akid.value(), "FROMCREDS");
        assert_eq!(akid.file(), FileKind::Credentials);
        assert_eq!(akid.location().line, 3);
        assert_eq!(akid.location().path, Path::new("/k"));
        assert_eq!(dev.property("region").unwrap().file(), FileKind::Config);
    }

    #[test]
    fn names_are_case_sensitive_properties_are_not() {
        let s = set("[profile Dev]\nREGION = a\n[profile dev]\nRegion = b\n", "");
        assert_eq!(s.get("Dev").unwrap().get("region"), Some("a"));
        assert_eq!(s.get("dev").unwrap().get("region"), Some("b"));
    }
}
