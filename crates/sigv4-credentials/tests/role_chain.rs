//! Profile role chains: the AWS SDK vector suite (resolution to a plan),
//! then execution against an in-process STS on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)]

mod net;

use std::collections::BTreeMap;
use std::path::Path;

use net::{in_secs, ok, serve, Reply, Req};
use serde_json::{json, Value};
use sigv4_credentials::assume_role::{BaseProvider, ProfileChain};
use sigv4_credentials::profile::ProfileSet;
use sigv4_credentials::{
    CredentialsCache, CredentialsError, DefaultChain, MapEnv, MemFs, ProfileProvider,
    ProvideCredentials, ProviderConfig,
};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/aws-sdk-config/assume-role-tests.json"
);

fn config_text(input: &Value) -> String {
    let mut out = String::new();
    for (section, prefix) in [("profiles", "profile"), ("sso_sessions", "sso-session")] {
        if let Some(map) = input.get(section).and_then(Value::as_object) {
            for (name, props) in map {
                out.push_str(&format!("[{prefix} {name}]\n"));
                for (k, v) in props.as_object().unwrap() {
                    out.push_str(&format!("{k} = {}\n", v.as_str().unwrap()));
                }
            }
        }
    }
    out
}

/// Our plan in the vectors' shape.
fn as_vector(chain: &ProfileChain) -> Value {
    let mut out = vec![match &chain.base {
        BaseProvider::AccessKey {
            credentials,
            account_id,
            ..
        } => {
            let mut v = json!({
                "access_key_id": credentials.access_key_id(),
                "secret_access_key": credentials.secret_access_key(),
            });
            if let Some(a) = account_id {
                v["account_id"] = a.as_str().into();
            }
            json!({ "AccessKey": v })
        }
        BaseProvider::NamedSource { source, .. } => json!({ "NamedSource": source.as_str() }),
        BaseProvider::WebIdentityToken { settings, .. } => {
            let mut v = json!({
                "role_arn": settings.role_arn,
                "web_identity_token_file": settings.token_file.to_str().unwrap(),
            });
            if let Some(s) = &settings.session_name {
                v["role_session_name"] = s.as_str().into();
            }
            json!({ "WebIdentityToken": v })
        }
        BaseProvider::Sso { settings, .. } => {
            let m: BTreeMap<_, _> = settings.iter().cloned().collect();
            json!({ "Sso": m })
        }
        other => panic!("unexpected base {other:?}"),
    }];
    for r in &chain.roles {
        let mut v = json!({ "role_arn": r.role_arn });
        if let Some(s) = &r.role_session_name {
            v["role_session_name"] = s.as_str().into();
        }
        if let Some(e) = &r.external_id {
            v["external_id"] = e.as_str().into();
        }
        out.push(json!({ "AssumeRole": v }));
    }
    Value::Array(out)
}

#[test]
fn aws_sdk_assume_role_vectors() {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    assert_eq!(cases.len(), 28);
    let mut passed = 0;
    for case in &cases {
        let docs = case["docs"].as_str().unwrap();
        let text = config_text(&case["input"]);
        let set =
            ProfileSet::parse(Some((Path::new("/h/.aws/config"), text.as_bytes())), None).unwrap();
        let selected = case["input"]["selected_profile"].as_str().unwrap();
        let got = ProfileChain::resolve(&set, selected);
        match (
            &case["output"].get("ProfileChain"),
            case["output"].get("Error"),
        ) {
            (Some(want), _) => {
                let chain = got.unwrap_or_else(|e| panic!("{docs}: {e}"));
                assert_eq!(&as_vector(&chain), *want, "{docs}");
            }
            (None, Some(want)) => {
                let e = got.expect_err(docs).to_string();
                let want = match want.as_str().unwrap() {
                    "profile formed an infinite loop" => "infinite loop",
                    w => w,
                };
                assert!(e.contains(want), "{docs}: {e:?} should contain {want:?}");
            }
            _ => panic!("{docs}: bad vector"),
        }
        passed += 1;
    }
    assert_eq!(passed, 28);
}

#[test]
fn cycles_are_reported_with_the_chain_and_location() {
    let text = "[profile A]\nrole_arn = arn:a\nsource_profile = B\n[profile B]\nrole_arn = arn:b\nsource_profile = C\n[profile C]\nrole_arn = arn:c\nsource_profile = A\n";
    let set =
        ProfileSet::parse(Some((Path::new("/h/.aws/config"), text.as_bytes())), None).unwrap();
    let e = ProfileChain::resolve(&set, "A").unwrap_err().to_string();
    assert!(e.contains("A -> B -> C -> A"), "{e}");
    assert!(e.contains("/h/.aws/config line 3"), "{e}");
}

/// A fake STS: the new key is `ASIA` + the role's name; it records which
/// key signed each call.
fn sts(r: &Req) -> Reply {
    let role = r
        .body
        .split('&')
        .find_map(|kv| kv.strip_prefix("RoleArn="))
        .unwrap_or("");
    let name = role.rsplit("%2F").next().unwrap().to_uppercase();
    if name == "DENIED" {
        return Reply::Status(403, "<ErrorResponse><Error><Code>AccessDenied</Code><Message>not trusted</Message></Error></ErrorResponse>".into());
    }
    let op = if r.body.contains("Action=AssumeRoleWithWebIdentity") {
        "AssumeRoleWithWebIdentity"
    } else {
        "AssumeRole"
    };
    ok(format!(
        "<{op}Response><{op}Result><Credentials><AccessKeyId>ASIA{name}</AccessKeyId><SecretAccessKey>S{name}</SecretAccessKey><SessionToken>T{name}</SessionToken><Expiration>{}</Expiration></Credentials></{op}Result></{op}Response>",
        in_secs(3600)
    ))
}

fn signer_of(r: &Req) -> String {
    let auth = r.header("authorization").unwrap_or("");
    auth.split("Credential=")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or("")
        .to_owned()
}

fn cfg(sts_url: &str, env: &[(&str, &str)], config: &str, credentials: &str) -> ProviderConfig {
    let mut e = MapEnv::from([
        ("HOME", "/h"),
        ("AWS_ENDPOINT_URL_STS", sts_url),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]);
    for (k, v) in env {
        e = e.with(*k, *v);
    }
    ProviderConfig::new(
        e,
        MemFs::new()
            .with("/h/.aws/config", config)
            .with("/h/.aws/credentials", credentials),
    )
}

const TWO_HOPS: &str = "[profile A]\nrole_arn = arn:aws:iam::123456789012:role/RoleA\nsource_profile = B\nrole_session_name = sess-a\nexternal_id = ext-a\nduration_seconds = 1800\n\
                        [profile B]\nrole_arn = arn:aws:iam::123456789012:role/RoleB\nsource_profile = C\nregion = eu-central-1\n";
const C_KEYS: &str = "[C]\naws_access_key_id = AKIDC\naws_secret_access_key = secret-c\n";

#[tokio::test]
async fn two_hops_each_signed_by_the_previous_credentials() {
    let s = serve(sts).await;
    let config = cfg(
        &s.url(),
        &[("AWS_PROFILE", "A"), ("AWS_REGION", "eu-west-1")],
        TWO_HOPS,
        C_KEYS,
    );
    let c = ProfileProvider::new(config.clone())
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(c.access_key_id(), "ASIAROLEA");
    assert_eq!(
        c.provider_name(),
        "AssumeRole(arn:aws:iam::123456789012:role/RoleA) <- Profile(A) <- AssumeRole(arn:aws:iam::123456789012:role/RoleB) <- Profile(B) <- Profile(C)"
    );
    let reqs = s.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(signer_of(&reqs[0]), "AKIDC");
    assert!(reqs[0].body.contains("RoleB"));
    assert_eq!(signer_of(&reqs[1]), "ASIAROLEB");
    assert_eq!(reqs[1].header("x-amz-security-token"), Some("TROLEB"));
    assert!(
        reqs[1]
            .body
            .contains("RoleSessionName=sess-a&ExternalId=ext-a&DurationSeconds=1800"),
        "{}",
        reqs[1].body
    );
    assert!(reqs[1]
        .header("authorization")
        .unwrap()
        .contains("/eu-west-1/sts/"));

    // Through the default chain and the cache: the same, once.
    let cached = CredentialsCache::new(DefaultChain::new(&config));
    let c = cached.provide_credentials().await.unwrap();
    assert!(c
        .provider_name()
        .starts_with("AssumeRole(arn:aws:iam::123456789012:role/RoleA) <- Profile(A)"));
    cached.provide_credentials().await.unwrap();
    assert_eq!(s.requests().len(), 4);
}

#[tokio::test]
async fn credential_source_environment() {
    let s = serve(sts).await;
    let config = cfg(
        &s.url(),
        &[
            ("AWS_PROFILE", "dev"),
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "secret-env"),
        ],
        "[profile dev]\nrole_arn = arn:aws:iam::123:role/x\ncredential_source = Environment\n",
        "",
    );
    let c = ProfileProvider::new(config)
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(
        c.provider_name(),
        "AssumeRole(arn:aws:iam::123:role/x) <- Profile(dev) <- Environment"
    );
    assert_eq!(signer_of(&s.requests()[0]), "AKIDENV");
}

#[tokio::test]
async fn web_identity_profile_then_role() {
    let s = serve(sts).await;
    let config = ProviderConfig::new(
        MapEnv::from([("HOME", "/h"), ("AWS_PROFILE", "A"), ("AWS_ENDPOINT_URL", s.url().as_str())]),
        MemFs::new()
            .with(
                "/h/.aws/config",
                "[profile A]\nrole_arn = arn:aws:iam::1:role/Top\nsource_profile = W\n[profile W]\nrole_arn = arn:aws:iam::1:role/Web\nweb_identity_token_file = /var/jwt\n",
            )
            .with("/var/jwt", "header.payload.sig\n"),
    );
    let c = ProfileProvider::new(config)
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(c.access_key_id(), "ASIATOP");
    assert_eq!(
        c.provider_name(),
        "AssumeRole(arn:aws:iam::1:role/Top) <- Profile(A) <- WebIdentityToken(arn:aws:iam::1:role/Web) <- Profile(W)"
    );
    let reqs = s.requests();
    assert!(reqs[0].header("authorization").is_none());
    assert!(reqs[0].body.contains("WebIdentityToken=header.payload.sig"));
    assert_eq!(signer_of(&reqs[1]), "ASIAWEB");
}

#[tokio::test]
async fn failures_name_the_role_and_stop_the_chain() {
    let s = serve(sts).await;
    let config = cfg(
        &s.url(),
        &[("AWS_PROFILE", "A")],
        "[profile A]\nrole_arn = arn:aws:iam::1:role/denied\nsource_profile = C\n",
        C_KEYS,
    );
    let e = DefaultChain::new(&config)
        .provide_credentials()
        .await
        .unwrap_err();
    let CredentialsError::ChainStopped {
        provider, source, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(provider, "Profile");
    assert!(matches!(**source, CredentialsError::Sts(_)));
    let msg = e.to_string();
    assert!(
        msg.contains("STS AssumeRole of arn:aws:iam::1:role/denied")
            && msg.contains("AccessDenied: not trusted"),
        "{msg}"
    );
    assert!(!msg.contains("secret-c"), "{msg}");

    // A cycle and a missing source profile stop the chain before any call.
    for (text, want) in [
        ("[profile A]\nrole_arn = arn:a\nsource_profile = B\n[profile B]\nrole_arn = arn:b\nsource_profile = A\n", "A -> B -> A"),
        ("[profile A]\nrole_arn = arn:a\nsource_profile = nope\n", "`source_profile` points to `nope`, which does not exist"),
        ("[profile A]\nrole_arn = arn:a\ncredential_source = Somewhere\n", "credential_source \"Somewhere\" is not one of"),
        ("[profile A]\nrole_arn = arn:a\nsource_profile = C\nduration_seconds = 5\n", "duration_seconds \"5\""),
    ] {
        let s2 = serve(sts).await;
        let config = cfg(&s2.url(), &[("AWS_PROFILE", "A")], text, C_KEYS);
        let e = ProfileProvider::new(config).provide_credentials().await.unwrap_err().to_string();
        assert!(e.contains(want) && e.contains("profile `A`"), "{e}");
        assert!(s2.requests().is_empty());
    }
}
