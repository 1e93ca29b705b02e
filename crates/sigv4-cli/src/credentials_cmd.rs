//! `sigv4 credentials`: resolve the default chain and show what answered.
//!
//! Output (the names, keys and exit codes are a contract):
//!
//! - default: `access_key_id`, `provider`, `expiration` and `session_token`
//!   (`present` / `none`) lines; never the secret;
//! - `--export`: `export AWS_ACCESS_KEY_ID=...` lines (plus the secret,
//!   session token and expiration when present), for `eval`;
//! - `--json`: one object with `access_key_id`, `provider`, `expiration`
//!   (RFC 3339 or null) and `has_session_token`; with `--export` also
//!   `secret_access_key` and `session_token` (or null).
//!
//! On failure: exit 1, the chain's diagnostic (every provider tried and why)
//! on stderr.

use sigv4_credentials::{DefaultChain, ProvideCredentials, ProviderConfig};
use sigv4_sign::Credentials;

/// Arguments of `sigv4 credentials`.
#[derive(clap::Args, Debug)]
pub struct CredentialsArgs {
    /// Use this profile of the shared config files (overrides AWS_PROFILE).
    #[arg(long, value_name = "P")]
    pub profile: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Include the secret access key and session token (as `export` lines,
    /// or in the JSON with --json).
    #[arg(long)]
    pub export: bool,
}

/// Run `sigv4 credentials`; returns the exit code.
pub fn run(args: &CredentialsArgs) -> i32 {
    let creds = match resolve_default_credentials(args.profile.as_deref()) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("sigv4 credentials: {msg}");
            return 1;
        }
    };
    let expiration = creds.expiry().map(sigv4_credentials::rfc3339);
    if args.json {
        let mut obj = serde_json::json!({
            "access_key_id": creds.access_key_id(),
            "provider": creds.provider_name(),
            "expiration": expiration,
            "has_session_token": creds.session_token().is_some(),
        });
        if args.export {
            obj["secret_access_key"] = creds.secret_access_key().into();
            obj["session_token"] = creds.session_token().into();
        }
        println!("{obj}");
    } else if args.export {
        print!("{}", export_lines(&creds, expiration.as_deref()));
    } else {
        println!("access_key_id: {}", creds.access_key_id());
        println!("provider: {}", creds.provider_name());
        println!("expiration: {}", expiration.as_deref().unwrap_or("none"));
        println!(
            "session_token: {}",
            if creds.session_token().is_some() {
                "present"
            } else {
                "none"
            }
        );
    }
    0
}

/// Resolve the default chain (environment, then the shared files) with the
/// real environment, blocking. `profile` overrides `AWS_PROFILE`. The error
/// is the chain's diagnostic: every provider tried and why.
pub fn resolve_default_credentials(profile: Option<&str>) -> Result<Credentials, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let mut config = ProviderConfig::from_process();
    if let Some(p) = profile {
        config = config.with_profile(p);
    }
    let chain = DefaultChain::new(&config);
    runtime
        .block_on(chain.provide_credentials())
        .map_err(|e| e.to_string())
}

fn export_lines(creds: &Credentials, expiration: Option<&str>) -> String {
    let mut out = format!(
        "export AWS_ACCESS_KEY_ID={}\n",
        shell_quote(creds.access_key_id())
    );
    out += &format!(
        "export AWS_SECRET_ACCESS_KEY={}\n",
        shell_quote(creds.secret_access_key())
    );
    if let Some(token) = creds.session_token() {
        out += &format!("export AWS_SESSION_TOKEN={}\n", shell_quote(token));
    }
    if let Some(exp) = expiration {
        out += &format!("export AWS_CREDENTIAL_EXPIRATION={}\n", shell_quote(exp));
    }
    out
}

/// `s` as is when it is plainly safe in a POSIX shell, else single-quoted.
fn shell_quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/+=._:-@%,".contains(c));
    if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("wJalr/K7+MDENG=="), "wJalr/K7+MDENG==");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$(id)"), "'$(id)'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn export_form() {
        let c = Credentials::new("AK", "S/K+", Some("T=".into()));
        assert_eq!(
            export_lines(&c, Some("2030-01-01T00:00:00Z")),
            "export AWS_ACCESS_KEY_ID=AK\nexport AWS_SECRET_ACCESS_KEY=S/K+\n\
             export AWS_SESSION_TOKEN=T=\nexport AWS_CREDENTIAL_EXPIRATION=2030-01-01T00:00:00Z\n"
        );
        let c = Credentials::new("AK", "SK", None);
        assert_eq!(
            export_lines(&c, None),
            "export AWS_ACCESS_KEY_ID=AK\nexport AWS_SECRET_ACCESS_KEY=SK\n"
        );
    }
}
