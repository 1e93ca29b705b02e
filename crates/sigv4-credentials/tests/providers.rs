//! Table tests of the environment and profile providers, region resolution
//! and the default chain, all through in-memory `Env` and `Fs` fakes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::time::{Duration, SystemTime};

use sigv4_credentials::{
    resolve_region, CredentialsError, DefaultChain, EnvironmentProvider, MapEnv, MemFs,
    ProfileProvider, ProvideCredentials, ProviderConfig,
};

const HOME: &str = "/home/u";
const CONFIG: &str = "/home/u/.aws/config";
const CREDS: &str = "/home/u/.aws/credentials";

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn config(env: &[(&str, &str)], files: &[(&str, &str)]) -> ProviderConfig {
    let env: MapEnv = env.iter().map(|(k, v)| (*k, *v)).collect();
    let fs = files.iter().fold(MemFs::new(), |fs, (p, c)| {
        fs.with(*p, c.as_bytes().to_vec())
    });
    ProviderConfig::new(env, fs)
}

/// What a provider yields, summarised: `Ok(akid/secret/token/provider)` or
/// `Err(display)`.
fn summarize(r: Result<sigv4_sign::Credentials, CredentialsError>) -> Result<String, String> {
    r.map(|c| {
        format!(
            "{}/{}/{}/{}",
            c.access_key_id(),
            c.secret_access_key(),
            c.session_token().unwrap_or("-"),
            c.provider_name()
        )
    })
    .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------- environment

#[test]
fn environment_provider_table() {
    // (name, env, expected Ok summary or Err substring, is_not_loaded)
    type EnvCase<'a> = (&'a str, &'a [(&'a str, &'a str)], Result<&'a str, &'a str>);
    let cases: &[EnvCase<'_>] = &[
        (
            "nothing set",
            &[],
            Err("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set"),
        ),
        (
            "key pair",
            &[("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", "SK")],
            Ok("AK/SK/-/Environment"),
        ),
        (
            "with session token",
            &[
                ("AWS_ACCESS_KEY_ID", "AK"),
                ("AWS_SECRET_ACCESS_KEY", "SK"),
                ("AWS_SESSION_TOKEN", "TK"),
            ],
            Ok("AK/SK/TK/Environment"),
        ),
        (
            "legacy security token",
            &[
                ("AWS_ACCESS_KEY_ID", "AK"),
                ("AWS_SECRET_ACCESS_KEY", "SK"),
                ("AWS_SECURITY_TOKEN", "OLD"),
            ],
            Ok("AK/SK/OLD/Environment"),
        ),
        (
            "session token wins over legacy",
            &[
                ("AWS_ACCESS_KEY_ID", "AK"),
                ("AWS_SECRET_ACCESS_KEY", "SK"),
                ("AWS_SESSION_TOKEN", "NEW"),
                ("AWS_SECURITY_TOKEN", "OLD"),
            ],
            Ok("AK/SK/NEW/Environment"),
        ),
        (
            "empty token is no token",
            &[
                ("AWS_ACCESS_KEY_ID", "AK"),
                ("AWS_SECRET_ACCESS_KEY", "SK"),
                ("AWS_SESSION_TOKEN", ""),
            ],
            Ok("AK/SK/-/Environment"),
        ),
        (
            "key id without secret",
            &[("AWS_ACCESS_KEY_ID", "AK")],
            Err("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
        ),
        (
            "key id with empty secret",
            &[("AWS_ACCESS_KEY_ID", "AK"), ("AWS_SECRET_ACCESS_KEY", "")],
            Err("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"),
        ),
        (
            "secret without key id",
            &[("AWS_SECRET_ACCESS_KEY", "SK")],
            Err("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"),
        ),
        (
            "empty both is unset",
            &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
            Err("are not set"),
        ),
        (
            "bad expiration",
            &[
                ("AWS_ACCESS_KEY_ID", "AK"),
                ("AWS_SECRET_ACCESS_KEY", "SK"),
                ("AWS_CREDENTIAL_EXPIRATION", "soon"),
            ],
            Err("AWS_CREDENTIAL_EXPIRATION is invalid: \"soon\" is not an RFC 3339 time"),
        ),
        (
            "past expiration",
            &[
                ("AWS_ACCESS_KEY_ID", "AK"),
                ("AWS_SECRET_ACCESS_KEY", "SK"),
                ("AWS_CREDENTIAL_EXPIRATION", "2000-01-01T00:00:00Z"),
            ],
            Err("expired at 2000-01-01T00:00:00Z"),
        ),
    ];
    for (name, env, want) in cases {
        let got = EnvironmentProvider::new(config(env, &[])).load();
        match (summarize(got), want) {
            (Ok(g), Ok(w)) => assert_eq!(&g, w, "{name}"),
            (Err(g), Err(w)) => {
                assert!(g.contains(w), "{name}: {g}");
                assert!(!g.contains("SK"), "{name}: secret leaked: {g}");
            }
            (g, w) => panic!("{name}: got {g:?}, want {w:?}"),
        }
    }
}

#[test]
fn environment_expiration_is_parsed() {
    let cfg = config(
        &[
            ("AWS_ACCESS_KEY_ID", "AK"),
            ("AWS_SECRET_ACCESS_KEY", "SK"),
            ("AWS_CREDENTIAL_EXPIRATION", "2100-01-01T00:00:00+01:00"),
        ],
        &[],
    );
    let c = EnvironmentProvider::new(cfg).load().unwrap();
    // 2100-01-01T00:00:00+01:00 = 2099-12-31T23:00:00Z = 4102441200 s.
    assert_eq!(
        c.expiry(),
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_441_200))
    );
}

#[test]
fn missing_key_id_is_not_a_silent_skip() {
    let r = block_on(
        EnvironmentProvider::new(config(&[("AWS_ACCESS_KEY_ID", "AK")], &[])).provide_credentials(),
    );
    let e = r.unwrap_err();
    assert!(!e.is_not_loaded());
    assert!(matches!(e, CredentialsError::PartialEnvironment { .. }));
}

// ---------------------------------------------------------------- profile

type Case<'a> = (
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a [(&'a str, &'a str)],
    Result<&'a str, &'a str>,
);

fn run_profile_cases(cases: &[Case<'_>]) {
    for (name, env, files, want) in cases {
        let mut env_all = vec![("HOME", HOME)];
        env_all.extend_from_slice(env);
        let got = block_on(ProfileProvider::new(config(&env_all, files)).provide_credentials());
        match (summarize(got), want) {
            (Ok(g), Ok(w)) => assert_eq!(&g, w, "{name}"),
            (Err(g), Err(w)) => {
                assert!(g.contains(w), "{name}: `{g}` lacks `{w}`");
                assert!(!g.contains("SECRET"), "{name}: secret leaked: {g}");
            }
            (g, w) => panic!("{name}: got {g:?}, want {w:?}"),
        }
    }
}

#[test]
fn profile_provider_table() {
    let keys = "[default]\naws_access_key_id = AK\naws_secret_access_key = SECRET\n";
    run_profile_cases(&[
        ("no files", &[], &[], Err("Profile: no shared files: /home/u/.aws/config (not found) and /home/u/.aws/credentials (not found)")),
        ("default in credentials", &[], &[(CREDS, keys)], Ok("AK/SECRET/-/Profile(default)")),
        ("default in config", &[], &[(CONFIG, keys)], Ok("AK/SECRET/-/Profile(default)")),
        (
            "session token",
            &[],
            &[(CREDS, "[default]\naws_access_key_id=AK\naws_secret_access_key=SECRET\naws_session_token=TK\n")],
            Ok("AK/SECRET/TK/Profile(default)"),
        ),
        (
            "AWS_PROFILE selects [profile dev] in config",
            &[("AWS_PROFILE", "dev")],
            &[(CONFIG, "[default]\naws_access_key_id=D\naws_secret_access_key=SECRET\n[profile dev]\naws_access_key_id=AKDEV\naws_secret_access_key=SECRET\n")],
            Ok("AKDEV/SECRET/-/Profile(dev)"),
        ),
        (
            "AWS_PROFILE selects [dev] in credentials",
            &[("AWS_PROFILE", "dev")],
            &[(CREDS, "[dev]\naws_access_key_id=AKDEV\naws_secret_access_key=SECRET\n")],
            Ok("AKDEV/SECRET/-/Profile(dev)"),
        ),
        (
            "[dev] in config is not a profile",
            &[("AWS_PROFILE", "dev")],
            &[(CONFIG, "[dev]\naws_access_key_id=AKDEV\naws_secret_access_key=SECRET\n")],
            Err("profile `dev` (selected by AWS_PROFILE) is not defined in /home/u/.aws/config and /home/u/.aws/credentials (not found)"),
        ),
        (
            "[profile dev] in credentials is not a profile",
            &[("AWS_PROFILE", "dev")],
            &[(CREDS, "[profile dev]\naws_access_key_id=AKDEV\naws_secret_access_key=SECRET\n")],
            Err("profile `dev` (selected by AWS_PROFILE) is not defined"),
        ),
        (
            "implicit default missing is a skip",
            &[],
            &[(CONFIG, "[profile other]\nregion=x\n")],
            Err("Profile: profile `default` is not defined in"),
        ),
        (
            "credentials file wins over config for keys",
            &[],
            &[(CONFIG, "[default]\naws_access_key_id=CFG\naws_secret_access_key=SECRET\n"), (CREDS, "[default]\naws_access_key_id=CRED\n")],
            Ok("CRED/SECRET/-/Profile(default)"),
        ),
        (
            "profile names are case sensitive",
            &[("AWS_PROFILE", "Dev")],
            &[(CREDS, "[dev]\naws_access_key_id=AK\naws_secret_access_key=SECRET\n")],
            Err("profile `Dev` (selected by AWS_PROFILE) is not defined"),
        ),
        (
            "property names are case insensitive, values trimmed",
            &[],
            &[(CREDS, "[default]\nAWS_Access_Key_ID  =\t AK \t\naws_secret_access_key=SECRET # comment\n")],
            Ok("AK/SECRET/-/Profile(default)"),
        ),
        (
            "inline comment needs whitespace",
            &[],
            &[(CREDS, "[default] ; c\naws_access_key_id=AK;x\naws_secret_access_key=SECRET\n")],
            Ok("AK;x/SECRET/-/Profile(default)"),
        ),
        (
            "duplicate keys and sections: last wins",
            &[],
            &[(CREDS, "[default]\naws_access_key_id=ONE\n[default]\naws_access_key_id=TWO\naws_secret_access_key=SECRET\n")],
            Ok("TWO/SECRET/-/Profile(default)"),
        ),
        (
            "indented sub-properties do not break parsing",
            &[],
            &[(CONFIG, "[default]\ns3 =\n  max_concurrent_requests = 20\naws_access_key_id=AK\naws_secret_access_key=SECRET\n")],
            Ok("AK/SECRET/-/Profile(default)"),
        ),
        (
            "key id without secret",
            &[],
            &[(CREDS, "[default]\n\naws_access_key_id = AK\n")],
            Err("profile `default` (/home/u/.aws/credentials line 3): aws_access_key_id is set but aws_secret_access_key is not"),
        ),
        (
            "secret without key id",
            &[],
            &[(CONFIG, "[default]\naws_secret_access_key = SECRET\n")],
            Err("profile `default` (/home/u/.aws/config line 2): aws_secret_access_key is set but aws_access_key_id is not"),
        ),
        (
            "no credentials in profile is a skip",
            &[],
            &[(CONFIG, "[default]\nregion = eu-west-1\n")],
            Err("Profile: profile `default` (/home/u/.aws/config line 1) has no credentials"),
        ),
        (
            "role_arn is not silently ignored",
            &[],
            &[(CONFIG, "[default]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = b\naws_access_key_id=AK\naws_secret_access_key=SECRET\n")],
            // An error naming the profile and file, never the static keys next to it.
            Err("profile `default` (/home/u/.aws/config line "),
        ),
        (
            "sso is not silently ignored",
            &[],
            &[(CONFIG, "[default]\nsso_session = corp\n")],
            Err("profile `default` (/home/u/.aws/config line "),
        ),
        (
            "AWS_CONFIG_FILE with ~",
            &[("AWS_CONFIG_FILE", "~/elsewhere/cfg")],
            &[("/home/u/elsewhere/cfg", keys)],
            Ok("AK/SECRET/-/Profile(default)"),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE absolute",
            &[("AWS_SHARED_CREDENTIALS_FILE", "/etc/creds")],
            &[("/etc/creds", keys), (CREDS, "[default]\naws_access_key_id=IGNORED\naws_secret_access_key=SECRET\n")],
            Ok("AK/SECRET/-/Profile(default)"),
        ),
    ]);
}

#[test]
fn explicit_profile_beats_aws_profile() {
    let cfg = config(
        &[("HOME", HOME), ("AWS_PROFILE", "a")],
        &[(CREDS, "[a]\naws_access_key_id=A\naws_secret_access_key=S\n[b]\naws_access_key_id=B\naws_secret_access_key=S\n")],
    )
    .with_profile("b");
    let c = block_on(ProfileProvider::new(cfg).provide_credentials()).unwrap();
    assert_eq!((c.access_key_id(), c.provider_name()), ("B", "Profile(b)"));
}

#[test]
fn windows_home_from_userprofile() {
    let cfg = config(
        &[("USERPROFILE", "C:\\Users\\u")],
        &[(
            "C:\\Users\\u\\.aws\\credentials",
            "[default]\naws_access_key_id=W\naws_secret_access_key=S\n",
        )],
    )
    .with_platform(sigv4_credentials::Platform::Windows);
    let c = block_on(ProfileProvider::new(cfg).provide_credentials()).unwrap();
    assert_eq!(c.access_key_id(), "W");
}

#[test]
fn broken_files_are_clear_errors_with_file_and_line() {
    let mut garbage = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..4096 {
        // A fixed pseudo-random byte stream (xorshift), not valid UTF-8.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        garbage.push((x >> 24) as u8);
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "unterminated section header",
            b"[default]\nregion=x\n[profile dev\n".to_vec(),
            "/home/u/.aws/config line 3: Profile definition must end with ']'",
        ),
        (
            "key without =",
            b"[default]\naws_access_key_id AK\n".to_vec(),
            "/home/u/.aws/config line 2: Expected an '=' sign defining a property",
        ),
        (
            "property before any section",
            b"# c\nregion = x\n".to_vec(),
            "/home/u/.aws/config line 2: Expected a profile definition",
        ),
        (
            "property without name",
            b"[default]\n= x\n".to_vec(),
            "/home/u/.aws/config line 2: Property did not have a name",
        ),
        ("binary garbage", garbage, "/home/u/.aws/config line "),
        (
            "NUL bytes",
            b"[default]\n\0\0\0\n".to_vec(),
            "/home/u/.aws/config line 2: Expected an '=' sign",
        ),
    ];
    for (name, bytes, want) in cases {
        let fs = MemFs::new().with(CONFIG, bytes);
        let cfg = ProviderConfig::new(MapEnv::from([("HOME", HOME)]), fs);
        let e = block_on(ProfileProvider::new(cfg.clone()).provide_credentials()).unwrap_err();
        assert!(!e.is_not_loaded(), "{name}");
        assert!(e.to_string().contains(want), "{name}: {e}");
        // The chain stops on it and says so.
        let e = block_on(DefaultChain::new(&cfg).provide_credentials())
            .unwrap_err()
            .to_string();
        assert!(e.contains("stopped at Profile"), "{name}: {e}");
        assert!(e.contains(want), "{name}: {e}");
    }
}

#[test]
fn ten_megabyte_file_parses() {
    // 10 MB of valid profiles: parsed (under the 16 MiB limit), not a panic.
    let mut text = String::with_capacity(10 << 20);
    let mut i = 0;
    while text.len() < 10_000_000 {
        text.push_str(&format!(
            "[profile p{i}]\nregion = us-east-1\noutput = json\n"
        ));
        i += 1;
    }
    text.push_str("[default]\naws_access_key_id = LAST\naws_secret_access_key = S\n");
    let cfg = config(&[("HOME", HOME)], &[(CONFIG, &text)]);
    let c = block_on(ProfileProvider::new(cfg).provide_credentials()).unwrap();
    assert_eq!(c.access_key_id(), "LAST");
}

#[test]
fn ten_megabyte_garbage_and_oversized_files_are_errors() {
    let garbage: Vec<u8> = (0..10_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let cfg = ProviderConfig::new(
        MapEnv::from([("HOME", HOME)]),
        MemFs::new().with(CREDS, garbage),
    );
    let e = block_on(ProfileProvider::new(cfg).provide_credentials())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("/home/u/.aws/credentials line "), "{e}");

    let huge = vec![b'#'; (16 << 20) + 1];
    let cfg = ProviderConfig::new(
        MapEnv::from([("HOME", HOME)]),
        MemFs::new().with(CONFIG, huge),
    );
    let e = block_on(ProfileProvider::new(cfg).provide_credentials()).unwrap_err();
    assert!(
        matches!(e, CredentialsError::FileTooLarge { limit, .. } if limit == 16 << 20),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("/home/u/.aws/config is larger than 16777216 bytes"),
        "{e}"
    );
}

// ---------------------------------------------------------------- region

#[test]
fn region_table() {
    let cfg_file = "[default]\nregion = eu-west-1\n[profile dev]\nregion = ap-south-1\n[profile empty]\nregion =\n";
    type RegionCase<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        Option<(&'a str, &'a str)>,
    );
    let cases: &[RegionCase<'_>] = &[
        (
            "AWS_REGION first",
            &[
                ("AWS_REGION", "us-east-2"),
                ("AWS_DEFAULT_REGION", "us-west-1"),
            ],
            Some(("us-east-2", "AWS_REGION")),
        ),
        (
            "then AWS_DEFAULT_REGION",
            &[("AWS_DEFAULT_REGION", "us-west-1")],
            Some(("us-west-1", "AWS_DEFAULT_REGION")),
        ),
        (
            "empty AWS_REGION is unset",
            &[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "us-west-1")],
            Some(("us-west-1", "AWS_DEFAULT_REGION")),
        ),
        (
            "then the default profile",
            &[],
            Some(("eu-west-1", "profile default (/home/u/.aws/config line 2)")),
        ),
        (
            "then the selected profile",
            &[("AWS_PROFILE", "dev")],
            Some(("ap-south-1", "profile dev (/home/u/.aws/config line 4)")),
        ),
        ("empty region is none", &[("AWS_PROFILE", "empty")], None),
    ];
    for (name, env, want) in cases {
        let mut e = vec![("HOME", HOME)];
        e.extend_from_slice(env);
        let got = block_on(resolve_region(&config(&e, &[(CONFIG, cfg_file)]))).unwrap();
        let got = got.as_ref().map(|r| (r.region.as_str(), r.source.as_str()));
        assert_eq!(got, *want, "{name}");
    }
    // Nothing at all: none.
    assert_eq!(block_on(resolve_region(&config(&[], &[]))).unwrap(), None);
    // A profile chosen explicitly that does not exist is an error.
    let e = block_on(resolve_region(&config(
        &[("HOME", HOME), ("AWS_PROFILE", "nope")],
        &[(CONFIG, cfg_file)],
    )))
    .unwrap_err();
    assert!(e.to_string().contains("profile `nope`"), "{e}");
}

// ---------------------------------------------------------------- chain

#[test]
fn chain_environment_wins_over_profile() {
    let cfg = config(
        &[
            ("HOME", HOME),
            ("AWS_ACCESS_KEY_ID", "ENV"),
            ("AWS_SECRET_ACCESS_KEY", "S"),
        ],
        &[(
            CREDS,
            "[default]\naws_access_key_id=PROF\naws_secret_access_key=S\n",
        )],
    );
    let c = block_on(DefaultChain::new(&cfg).provide_credentials()).unwrap();
    assert_eq!(
        (c.access_key_id(), c.provider_name()),
        ("ENV", "Environment")
    );
}

#[test]
fn chain_falls_through_to_profile() {
    let cfg = config(
        &[("HOME", HOME)],
        &[(
            CREDS,
            "[default]\naws_access_key_id=PROF\naws_secret_access_key=S\n",
        )],
    );
    let c = block_on(DefaultChain::new(&cfg).provide_credentials()).unwrap();
    assert_eq!(
        (c.access_key_id(), c.provider_name()),
        ("PROF", "Profile(default)")
    );
}

/// The part of the default chain this crate's first issue defines:
/// environment, then profile. (The default chain adds network providers
/// after these.)
fn env_then_profile(cfg: &ProviderConfig) -> sigv4_credentials::CredentialsChain {
    sigv4_credentials::CredentialsChain::new()
        .with("Environment", EnvironmentProvider::new(cfg.clone()))
        .with("Profile", ProfileProvider::new(cfg.clone()))
}

#[test]
fn chain_error_lists_every_provider_in_order() {
    let cfg = config(&[("HOME", HOME)], &[(CONFIG, "[default]\nregion = x\n")]);
    let e = block_on(env_then_profile(&cfg).provide_credentials()).unwrap_err();
    let CredentialsError::NoCredentials { attempts } = &e else {
        panic!("{e:?}")
    };
    let names: Vec<_> = attempts.iter().map(|a| a.provider.as_ref()).collect();
    assert_eq!(names, ["Environment", "Profile"]);
    assert_eq!(
        e.to_string(),
        "no credentials found; tried, in order:\n  \
         1. Environment: skipped: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set\n  \
         2. Profile: skipped: profile `default` (/home/u/.aws/config line 1) has no credentials: no aws_access_key_id or credential_process"
    );

    // The default chain starts the same way (IMDS disabled: no network).
    let cfg = config(
        &[("HOME", HOME), ("AWS_EC2_METADATA_DISABLED", "true")],
        &[(CONFIG, "[default]\nregion = x\n")],
    );
    let e = block_on(DefaultChain::new(&cfg).provide_credentials())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\n  1. Environment: skipped: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set\n  2. Profile: skipped: profile `default`"),
        "{e}"
    );
}

#[test]
fn chain_stops_at_a_broken_provider() {
    // A key id without secret in the environment must not fall through to
    // the (valid) profile.
    let cfg = config(
        &[("HOME", HOME), ("AWS_ACCESS_KEY_ID", "ENV")],
        &[(
            CREDS,
            "[default]\naws_access_key_id=PROF\naws_secret_access_key=S\n",
        )],
    );
    let e = block_on(DefaultChain::new(&cfg).provide_credentials()).unwrap_err();
    assert!(
        matches!(&e, CredentialsError::ChainStopped { provider, .. } if provider == "Environment")
    );
    let s = e.to_string();
    assert!(s.contains("1. Environment: failed: environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"), "{s}");
    assert!(!s.contains("2."), "{s}");
}

#[test]
fn chain_is_extensible() {
    use sigv4_credentials::StaticProvider;
    let cfg = config(&[], &[]);
    let names: Vec<String> = DefaultChain::new(&cfg).names().map(str::to_owned).collect();
    assert_eq!(names[..2], ["Environment", "Profile"]);
    let chain = env_then_profile(&cfg).with(
        "Fallback",
        StaticProvider::new(sigv4_sign::Credentials::new("FB", "S", None)),
    );
    assert_eq!(
        chain.names().collect::<Vec<_>>(),
        ["Environment", "Profile", "Fallback"]
    );
    let chain = chain.with_after(
        "Environment",
        "Middle",
        StaticProvider::new(sigv4_sign::Credentials::new("M", "S", None)),
    );
    assert_eq!(
        chain.names().collect::<Vec<_>>(),
        ["Environment", "Middle", "Profile", "Fallback"]
    );
    let c = block_on(chain.provide_credentials()).unwrap();
    assert_eq!(c.access_key_id(), "M");
}
