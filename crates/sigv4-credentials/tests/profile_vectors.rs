//! The AWS SDKs' shared profile-file test suites, walked as data: every case
//! in the JSON files runs; a new case needs no code change.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use sigv4_credentials::profile::{location, ProfileSet};
use sigv4_credentials::{MapEnv, Platform};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/aws-sdk-config/"
);

fn load(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    json["tests"].as_array().unwrap().clone()
}

type Sections = BTreeMap<String, BTreeMap<String, String>>;

fn as_sections(v: &Value) -> Sections {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(name, props)| {
            let props = props
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            (name.clone(), props)
        })
        .collect()
}

fn flatten<'a>(
    profiles: impl Iterator<Item = &'a sigv4_credentials::profile::Profile>,
) -> Sections {
    profiles
        .map(|p| {
            let props = p
                .properties()
                .map(|(k, v)| (k.to_owned(), v.value().to_owned()))
                .collect();
            (p.name().to_owned(), props)
        })
        .collect()
}

#[test]
fn profile_parser_suite() {
    let cases = load("profile-parser-tests.json");
    assert_eq!(cases.len(), 65, "the suite has 65 cases");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        let config = input["configFile"].as_str();
        let credentials = input["credentialsFile"].as_str();
        let result = ProfileSet::parse(
            config.map(|c| (Path::new("/test/config"), c.as_bytes())),
            credentials.map(|c| (Path::new("/test/credentials"), c.as_bytes())),
        );
        let output = &case["output"];
        match (result, output.get("errorContaining")) {
            (Ok(set), None) => {
                let want = as_sections(&output["config"]["profiles"]);
                let got = flatten(set.profiles());
                if got != want {
                    failures.push(format!("{name}: profiles {got:?}, want {want:?}"));
                }
                if let Some(sso) = output["config"].get("sso_sessions") {
                    let want = as_sections(sso);
                    let got = flatten(set.sso_sessions());
                    if got != want {
                        failures.push(format!("{name}: sso sessions {got:?}, want {want:?}"));
                    }
                }
            }
            (Err(e), Some(want)) => {
                let msg = e.to_string();
                let want = want.as_str().unwrap();
                if !msg.contains(want) {
                    failures.push(format!("{name}: error {msg:?} lacks {want:?}"));
                }
                // Errors name the file and a line.
                if !msg.starts_with("/test/config line ")
                    && !msg.starts_with("/test/credentials line ")
                {
                    failures.push(format!("{name}: error {msg:?} does not name file and line"));
                }
            }
            (Ok(set), Some(want)) => {
                failures.push(format!(
                    "{name}: parsed {:?}, want error {want}",
                    flatten(set.profiles())
                ));
            }
            (Err(e), None) => failures.push(format!("{name}: unexpected error {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn file_location_suite() {
    let cases = load("file-location-tests.json");
    assert_eq!(cases.len(), 9, "the suite has 9 cases");
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let env: MapEnv = case["environment"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        let platform = match case["platform"].as_str().unwrap() {
            "windows" => Platform::Windows,
            "linux" | "macos" => Platform::Unix,
            other => panic!("{name}: unknown platform {other}"),
        };
        let config = location::config_file(&env, platform).unwrap();
        let credentials = location::credentials_file(&env, platform).unwrap();
        assert_eq!(config.to_str(), case["configLocation"].as_str(), "{name}");
        assert_eq!(
            credentials.to_str(),
            case["credentialsLocation"].as_str(),
            "{name}"
        );
        if let Some(profile) = case["profile"].as_str() {
            assert_eq!(location::selected_profile(&env, None).0, profile, "{name}");
        }
    }
}
