//! Arguments and helpers shared by the signing subcommands (`sign`,
//! `presign`, `presign --post`, `request`), so each flag means one thing
//! everywhere.

use std::io::Read;
use std::time::SystemTime;

use clap::Args;
use sigv4_sign::{AmzDate, Credentials};

/// `--access-key`, `--secret-key`, `--session-token`: credentials given on
/// the command line instead of the default chain.
#[derive(Args, Clone, Default)]
pub struct KeyArgs {
    /// Access key id (default: the default credential chain).
    #[arg(long, value_name = "K", requires = "secret_key")]
    pub access_key: Option<String>,
    /// Secret access key (with --access-key; the command line is visible to
    /// other users of the machine: prefer AWS_SECRET_ACCESS_KEY).
    #[arg(long, value_name = "S", requires = "access_key")]
    pub secret_key: Option<String>,
    /// Session token of temporary credentials (with --access-key).
    #[arg(long, value_name = "T", requires = "access_key")]
    pub session_token: Option<String>,
}

impl KeyArgs {
    /// The credentials given by the flags, if both keys were given.
    pub fn explicit(&self) -> Option<Credentials> {
        match (&self.access_key, &self.secret_key) {
            (Some(k), Some(s)) => Some(
                Credentials::new(k.clone(), s.clone(), self.session_token.clone())
                    .with_provider_name("command line"),
            ),
            _ => None,
        }
    }
}

// By hand: the secret and the token never reach a Debug print.
impl std::fmt::Debug for KeyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "** redacted **");
        f.debug_struct("KeyArgs")
            .field("access_key", &self.access_key)
            .field("secret_key", &redacted(&self.secret_key))
            .field("session_token", &redacted(&self.session_token))
            .finish()
    }
}

/// The explicit credentials, else the default chain (environment, shared
/// files, then the network providers) with `profile` over `AWS_PROFILE`.
/// The error is one line that names every provider tried.
pub fn credentials_or_chain(keys: &KeyArgs, profile: Option<&str>) -> Result<Credentials, String> {
    if let Some(creds) = keys.explicit() {
        return Ok(creds);
    }
    crate::credentials_cmd::resolve_default_credentials(profile).map_err(|e| {
        let tried: Vec<&str> = e.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        format!(
            "no credentials: pass --access-key and --secret-key, or configure the default chain ({})",
            tried.join(" ")
        )
    })
}

/// `--time`: `2015-08-30T12:36:00Z`, `20150830T123600Z` or any RFC 3339
/// time; now when absent.
pub fn signing_time(time: Option<&str>) -> Result<AmzDate, String> {
    let Some(t) = time else {
        return AmzDate::from_system_time(SystemTime::now()).map_err(|e| e.to_string());
    };
    if let Ok(d) = AmzDate::parse(t) {
        return Ok(d);
    }
    let parsed = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            format!("invalid --time {t:?}: use 2015-08-30T12:36:00Z or 20150830T123600Z")
        })?;
    AmzDate::from_unix(parsed.unix_timestamp()).map_err(|e| e.to_string())
}

/// `-d DATA|@FILE|@-`: the body bytes.
pub fn data_arg(data: &str) -> Result<Vec<u8>, String> {
    let Some(source) = data.strip_prefix('@') else {
        return Ok(data.as_bytes().to_vec());
    };
    if source == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(source).map_err(|e| format!("cannot read {source}: {e}"))
    }
}

/// A file's bytes, or stdin's for `-`.
pub fn read_source(source: &str) -> Result<Vec<u8>, String> {
    if source == "-" {
        data_arg("@-")
    } else {
        data_arg(&format!("@{source}"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret_and_token() {
        let keys = KeyArgs {
            access_key: Some("AKIDEXAMPLE".into()),
            secret_key: Some("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
            session_token: Some("IQoJb3JpZ2luX2VjEXAMPLETOKEN".into()),
        };
        let shown = format!("{keys:?}");
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(!shown.contains("EXAMPLETOKEN"), "{shown}");
    }

    #[test]
    fn explicit_needs_both_keys() {
        let only_key = KeyArgs {
            access_key: Some("AKID".into()),
            ..KeyArgs::default()
        };
        assert!(only_key.explicit().is_none());
        let both = KeyArgs {
            access_key: Some("AKID".into()),
            secret_key: Some("secret".into()),
            session_token: Some("tok".into()),
        };
        let creds = both.explicit().unwrap();
        assert_eq!(creds.access_key_id(), "AKID");
        assert_eq!(creds.secret_access_key(), "secret");
        assert_eq!(creds.session_token(), Some("tok"));
    }

    #[test]
    fn time_forms() {
        // 2015-08-30T12:36:00Z is 1440938160 seconds after the epoch.
        let a = signing_time(Some("2015-08-30T12:36:00Z")).unwrap();
        let b = signing_time(Some("20150830T123600Z")).unwrap();
        let c = signing_time(Some("2015-08-30T14:36:00+02:00")).unwrap();
        assert_eq!(a.as_str(), "20150830T123600Z");
        assert_eq!(b.as_str(), "20150830T123600Z");
        assert_eq!(c.as_str(), "20150830T123600Z");
        let err = signing_time(Some("yesterday")).unwrap_err();
        assert!(err.contains("--time"), "{err}");
    }

    #[test]
    fn data_forms() {
        assert_eq!(data_arg("hello").unwrap(), b"hello");
        let err = data_arg("@/nonexistent/sigv4-test-file").unwrap_err();
        assert!(err.contains("/nonexistent/sigv4-test-file"), "{err}");
    }
}
