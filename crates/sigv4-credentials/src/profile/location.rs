//! Where the shared files are and which profile is selected.
//!
//! - Home: `HOME`; on Windows, when `HOME` is unset, `USERPROFILE`, then
//!   `HOMEDRIVE` + `HOMEPATH`.
//! - Config file: `AWS_CONFIG_FILE`, else `<home>/.aws/config`.
//! - Credentials file: `AWS_SHARED_CREDENTIALS_FILE`, else
//!   `<home>/.aws/credentials`.
//! - A leading `~` (alone or followed by `/`, or `\` on Windows) in either
//!   variable is the home directory.
//! - Profile: an explicit choice (`--profile`), else `AWS_PROFILE`, else
//!   `AWS_DEFAULT_PROFILE` (legacy), else `default`.
//!
//! Empty variables count as unset.

use std::path::PathBuf;

use crate::env::Env;

/// Whose path rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Platform {
    /// Linux, macOS and other Unix systems.
    Unix,
    /// Windows.
    Windows,
}

impl Platform {
    /// The platform this program runs on.
    pub fn current() -> Self {
        if cfg!(windows) {
            Self::Windows
        } else {
            Self::Unix
        }
    }

    fn separator(self) -> char {
        match self {
            Self::Unix => '/',
            Self::Windows => '\\',
        }
    }
}

/// The home directory, as the AWS SDKs find it.
pub fn home_dir(env: &dyn Env, platform: Platform) -> Option<String> {
    if let Some(home) = env.get_non_empty("HOME") {
        return Some(home);
    }
    if platform == Platform::Windows {
        if let Some(home) = env.get_non_empty("USERPROFILE") {
            return Some(home);
        }
        if let (Some(drive), Some(path)) = (
            env.get_non_empty("HOMEDRIVE"),
            env.get_non_empty("HOMEPATH"),
        ) {
            return Some(format!("{drive}{path}"));
        }
    }
    None
}

/// `path` with a leading `~` replaced by the home directory; `None` when it
/// needs a home directory and there is none.
pub fn expand_home(path: &str, env: &dyn Env, platform: Platform) -> Option<PathBuf> {
    let Some(rest) = path.strip_prefix('~') else {
        return Some(PathBuf::from(path));
    };
    let is_sep = |c: char| c == '/' || (platform == Platform::Windows && c == '\\');
    if !(rest.is_empty() || rest.starts_with(is_sep)) {
        // `~user/...` is not expanded.
        return Some(PathBuf::from(path));
    }
    let home = home_dir(env, platform)?;
    Some(PathBuf::from(format!("{home}{rest}")))
}

fn shared_file(env: &dyn Env, platform: Platform, var: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = env.get_non_empty(var) {
        return expand_home(&path, env, platform);
    }
    let home = home_dir(env, platform)?;
    let sep = platform.separator();
    let home = home.strip_suffix(sep).unwrap_or(&home);
    Some(PathBuf::from(format!("{home}{sep}.aws{sep}{name}")))
}

/// The config file path; `None` when neither `AWS_CONFIG_FILE` nor a home
/// directory is set.
pub fn config_file(env: &dyn Env, platform: Platform) -> Option<PathBuf> {
    shared_file(env, platform, "AWS_CONFIG_FILE", "config")
}

/// The credentials file path; `None` when neither
/// `AWS_SHARED_CREDENTIALS_FILE` nor a home directory is set.
pub fn credentials_file(env: &dyn Env, platform: Platform) -> Option<PathBuf> {
    shared_file(env, platform, "AWS_SHARED_CREDENTIALS_FILE", "credentials")
}

/// The selected profile and what selected it (`--profile`, `AWS_PROFILE`,
/// `AWS_DEFAULT_PROFILE`, or `default` when nothing did).
pub fn selected_profile(env: &dyn Env, explicit: Option<&str>) -> (String, &'static str) {
    if let Some(p) = explicit.filter(|p| !p.is_empty()) {
        return (p.to_owned(), "--profile");
    }
    if let Some(p) = env.get_non_empty("AWS_PROFILE") {
        return (p, "AWS_PROFILE");
    }
    if let Some(p) = env.get_non_empty("AWS_DEFAULT_PROFILE") {
        return (p, "AWS_DEFAULT_PROFILE");
    }
    ("default".to_owned(), "default")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::MapEnv;

    #[test]
    fn tilde_expansion() {
        let env = MapEnv::from([("HOME", "/home/u"), ("USERPROFILE", "C:\\Users\\u")]);
        let x = |p: &str, pl| expand_home(p, &env, pl).map(|p| p.to_string_lossy().into_owned());
        assert_eq!(x("~/a/b", Platform::Unix).as_deref(), Some("/home/u/a/b"));
        assert_eq!(x("~", Platform::Unix).as_deref(), Some("/home/u"));
        assert_eq!(x("~other/a", Platform::Unix).as_deref(), Some("~other/a"));
        assert_eq!(x("/abs/~/a", Platform::Unix).as_deref(), Some("/abs/~/a"));
        assert_eq!(x("~\\a", Platform::Unix).as_deref(), Some("~\\a"));
        assert_eq!(x("~\\a", Platform::Windows).as_deref(), Some("/home/u\\a"));
        let env = MapEnv::from([("USERPROFILE", "C:\\Users\\u")]);
        assert_eq!(
            expand_home("~\\a", &env, Platform::Windows)
                .unwrap()
                .to_str(),
            Some("C:\\Users\\u\\a")
        );
        assert_eq!(expand_home("~/a", &env, Platform::Unix), None);
    }

    #[test]
    fn profile_selection_order() {
        let env = MapEnv::from([("AWS_PROFILE", "a"), ("AWS_DEFAULT_PROFILE", "b")]);
        assert_eq!(selected_profile(&env, Some("x")), ("x".into(), "--profile"));
        assert_eq!(selected_profile(&env, None), ("a".into(), "AWS_PROFILE"));
        let env = MapEnv::from([("AWS_PROFILE", ""), ("AWS_DEFAULT_PROFILE", "b")]);
        assert_eq!(
            selected_profile(&env, None),
            ("b".into(), "AWS_DEFAULT_PROFILE")
        );
        assert_eq!(
            selected_profile(&MapEnv::new(), None),
            ("default".into(), "default")
        );
    }

    #[test]
    fn no_home_no_default_files() {
        let env = MapEnv::new();
        assert_eq!(config_file(&env, Platform::Unix), None);
        let env = MapEnv::from([("AWS_CONFIG_FILE", "/etc/aws")]);
        assert_eq!(
            config_file(&env, Platform::Unix),
            Some(PathBuf::from("/etc/aws"))
        );
        assert_eq!(credentials_file(&env, Platform::Unix), None);
    }
}
