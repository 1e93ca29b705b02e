//! `sigv4 credentials` end to end: the built binary, a temporary HOME, and
//! only the variables each case passes (`env_clear`). The test process's own
//! environment is never changed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh temporary home directory, removed on drop.
struct TempHome(PathBuf);

impl TempHome {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sigv4-credentials-cli-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join(".aws")).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, contents: &str) -> &Self {
        fs::write(self.0.join(".aws").join(name), contents).unwrap();
        self
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn sigv4(home: &TempHome, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigv4"));
    cmd.arg("credentials")
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        // Keep the chain off the network: no instance metadata lookups.
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

const ENV_KEYS: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "AKIDENV"),
    ("AWS_SECRET_ACCESS_KEY", "envSecretKey/+="),
];

#[test]
fn environment_plain_output_hides_the_secret() {
    let home = TempHome::new();
    let o = sigv4(&home, ENV_KEYS, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "access_key_id: AKIDENV\nprovider: Environment\nexpiration: none\nsession_token: none\n"
    );
}

#[test]
fn environment_json() {
    let home = TempHome::new();
    let mut env = ENV_KEYS.to_vec();
    env.push(("AWS_SESSION_TOKEN", "tok"));
    env.push(("AWS_CREDENTIAL_EXPIRATION", "2100-01-01T00:00:00Z"));
    let o = sigv4(&home, &env, &["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "access_key_id": "AKIDENV",
            "provider": "Environment",
            "expiration": "2100-01-01T00:00:00Z",
            "has_session_token": true,
        })
    );
    assert!(!stdout(&o).contains("envSecretKey"));
}

#[test]
fn profile_from_home_credentials_file() {
    let home = TempHome::new();
    home.write(
        "credentials",
        "[default]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profSecret\n",
    );
    let o = sigv4(&home, &[], &["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["access_key_id"], "AKIDPROFILE");
    assert_eq!(v["provider"], "Profile(default)");
    assert_eq!(v["expiration"], serde_json::Value::Null);
    assert_eq!(v["has_session_token"], false);
    assert_eq!(v.as_object().unwrap().len(), 4);
}

#[test]
fn profile_flag_and_credential_process_with_export_json() {
    let home = TempHome::new();
    home.write(
        "config",
        "[default]\nregion = eu-west-1\n\
         [profile dev]\ncredential_process = printf %s '{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\",\"SecretAccessKey\":\"procSecret\",\"SessionToken\":\"procToken\",\"Expiration\":\"2100-01-01T00:00:00Z\"}'\n",
    );
    // --profile beats AWS_PROFILE.
    let o = sigv4(
        &home,
        &[("AWS_PROFILE", "nope")],
        &["--profile", "dev", "--json", "--export"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "access_key_id": "AKIDPROC",
            "provider": "CredentialProcess(dev)",
            "expiration": "2100-01-01T00:00:00Z",
            "has_session_token": true,
            "secret_access_key": "procSecret",
            "session_token": "procToken",
        })
    );
}

#[test]
fn export_lines() {
    let home = TempHome::new();
    home.write(
        "credentials",
        "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev/Secret+1\n",
    );
    let o = sigv4(&home, &[("AWS_PROFILE", "dev")], &["--export"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "export AWS_ACCESS_KEY_ID=AKIDDEV\nexport AWS_SECRET_ACCESS_KEY=dev/Secret+1\n"
    );
    // --json --export without a token: session_token is null.
    let o = sigv4(&home, &[("AWS_PROFILE", "dev")], &["--json", "--export"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["secret_access_key"], "dev/Secret+1");
    assert_eq!(v["session_token"], serde_json::Value::Null);
    assert_eq!(v["provider"], "Profile(dev)");
}

#[test]
fn nothing_found_exits_1_with_every_provider_listed() {
    let home = TempHome::new();
    let o = sigv4(&home, &[], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    let e = stderr(&o);
    assert!(e.contains("tried, in order:"), "{e}");
    let env_at = e
        .find("1. Environment: skipped: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        .expect(&e);
    let profile_at = e.find("2. Profile: skipped: no shared files").expect(&e);
    assert!(env_at < profile_at);
}

#[test]
fn broken_config_exits_1_naming_file_and_line() {
    let home = TempHome::new();
    home.write("config", "[default]\nregion = x\n[profile dev\n");
    let o = sigv4(&home, &[], &["--json"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    let want = format!(
        "{} line 3: Profile definition must end with ']'",
        home.path().join(".aws/config").display()
    );
    assert!(e.contains(&want), "{e}");
    assert!(e.contains("stopped at Profile"), "{e}");
}

#[test]
fn unknown_profile_and_partial_env_exit_1() {
    let home = TempHome::new();
    home.write("config", "[default]\nregion = x\n");
    let o = sigv4(&home, &[], &["--profile", "ghost"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("profile `ghost` (selected by --profile) is not defined"),
        "{}",
        stderr(&o)
    );

    let o = sigv4(&home, &[("AWS_ACCESS_KEY_ID", "AKIDONLY")], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
        "{}",
        stderr(&o)
    );
}
