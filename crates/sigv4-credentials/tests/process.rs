//! `credential_process` end to end with real (harmless) Unix commands.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::time::{Duration, SystemTime};

use sigv4_credentials::{
    CredentialProcessProvider, Location, MapEnv, MemFs, ProcessSettings, ProfileProvider,
    ProvideCredentials, ProviderConfig,
};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn loc() -> Location {
    Location {
        path: "/home/u/.aws/config".into(),
        line: 7,
    }
}

fn run(command: &str, settings: ProcessSettings) -> Result<sigv4_sign::Credentials, String> {
    block_on(
        CredentialProcessProvider::new(command, "dev", loc())
            .with_settings(settings)
            .provide_credentials(),
    )
    .map_err(|e| e.to_string())
}

const GOOD: &str = r#"{"Version": 1, "AccessKeyId": "AKPROC", "SecretAccessKey": "SECRETPROC", "SessionToken": "TOKPROC", "Expiration": "2100-01-01T00:00:00Z"}"#;

#[test]
fn runs_the_command_and_parses_its_json() {
    // printf gets the JSON as one argument: single quotes keep it whole.
    let c = run(&format!("printf '%s' '{GOOD}'"), ProcessSettings::default()).unwrap();
    assert_eq!(c.access_key_id(), "AKPROC");
    assert_eq!(c.secret_access_key(), "SECRETPROC");
    assert_eq!(c.session_token(), Some("TOKPROC"));
    // 2100-01-01T00:00:00Z = 4102444800 s after the epoch.
    assert_eq!(
        c.expiry(),
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800))
    );
    assert_eq!(c.provider_name(), "CredentialProcess(dev)");
}

#[test]
fn no_shell_is_involved() {
    // With a shell, `;` would run `touch` and create the marker file.
    // Without one, `echo` gets `hi;`, `touch` and the path as arguments and
    // prints them, which is not JSON.
    let marker = std::env::temp_dir().join(format!("sigv4-no-shell-{}", std::process::id()));
    let e = run(
        &format!("echo hi; touch {}", marker.display()),
        ProcessSettings::default(),
    )
    .unwrap_err();
    assert!(e.contains("not valid JSON"), "{e}");
    assert!(!marker.exists());
}

#[test]
fn failure_carries_exit_status_and_stderr() {
    let e = run(
        "sh -c 'echo token expired, run login >&2; exit 3'",
        ProcessSettings::default(),
    )
    .unwrap_err();
    assert!(e.starts_with("credential_process of profile `dev` (/home/u/.aws/config line 7): it failed (exit status: 3)"), "{e}");
    assert!(e.contains("stderr: token expired, run login"), "{e}");
}

#[test]
fn stdout_is_never_shown() {
    let e = run(
        "sh -c 'echo SECRETPROC-not-json; echo oops >&2'",
        ProcessSettings::default(),
    )
    .unwrap_err();
    assert!(
        e.contains("not valid JSON") && e.contains("stderr: oops"),
        "{e}"
    );
    assert!(!e.contains("SECRETPROC"), "{e}");
}

#[test]
fn missing_program() {
    let e = run("/nonexistent/sigv4-helper --x", ProcessSettings::default()).unwrap_err();
    assert!(e.contains("cannot run `/nonexistent/sigv4-helper`"), "{e}");
}

#[test]
fn bad_command_lines() {
    assert!(run("", ProcessSettings::default())
        .unwrap_err()
        .contains("command line is empty"));
    assert!(run("tool 'unterminated", ProcessSettings::default())
        .unwrap_err()
        .contains("no closing quotation"));
}

#[test]
fn timeout_stops_the_process() {
    let start = std::time::Instant::now();
    let e = run(
        "sleep 30",
        ProcessSettings::default().with_timeout(Duration::from_millis(200)),
    )
    .unwrap_err();
    assert!(
        e.contains("did not finish within 200ms and was stopped"),
        "{e}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn output_limit() {
    // 100 000 bytes of output against a 1 000-byte limit.
    let e = run(
        "head -c 100000 /dev/zero",
        ProcessSettings::default().with_max_output(1000),
    )
    .unwrap_err();
    assert!(e.contains("wrote more than 1000 bytes to stdout"), "{e}");
    // Endless output is cut off too, not read forever.
    let e = run("yes", ProcessSettings::default().with_max_output(1000)).unwrap_err();
    assert!(e.contains("wrote more than 1000 bytes"), "{e}");
}

#[test]
fn profile_credential_process_and_precedence() {
    let run_profile = |config: &str, credentials: Option<&str>| {
        let mut fs = MemFs::new().with("/h/.aws/config", config);
        if let Some(c) = credentials {
            fs = fs.with("/h/.aws/credentials", c);
        }
        let cfg = ProviderConfig::new(MapEnv::from([("HOME", "/h"), ("AWS_PROFILE", "dev")]), fs);
        block_on(ProfileProvider::new(cfg).provide_credentials())
            .map(|c| (c.access_key_id().to_owned(), c.provider_name().to_owned()))
            .map_err(|e| e.to_string())
    };
    let process = format!("[profile dev]\ncredential_process = printf %s '{GOOD}'\n");
    assert_eq!(
        run_profile(&process, None).unwrap(),
        ("AKPROC".into(), "CredentialProcess(dev)".into())
    );

    // Static keys in the config file lose to credential_process (AWS CLI order) ...
    let both = format!("{process}aws_access_key_id = AKCFG\naws_secret_access_key = S\n");
    assert_eq!(run_profile(&both, None).unwrap().0, "AKPROC");
    // ... static keys in the credentials file win over it.
    let creds = "[dev]\naws_access_key_id = AKCRED\naws_secret_access_key = S\n";
    assert_eq!(
        run_profile(&process, Some(creds)).unwrap(),
        ("AKCRED".into(), "Profile(dev)".into())
    );

    // A failing process names the profile, file and line.
    let e = run_profile(
        "[profile dev]\n\ncredential_process = sh -c 'echo nope >&2; exit 1'\n",
        None,
    )
    .unwrap_err();
    assert!(
        e.starts_with("credential_process of profile `dev` (/h/.aws/config line 3): it failed"),
        "{e}"
    );
    assert!(e.contains("stderr: nope"), "{e}");
}
