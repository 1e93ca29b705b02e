//! `sigv4 presign --post`: a presigned S3 POST form (browser upload), printed
//! as JSON `{"url": ..., "fields": {...}}` like boto3's `generate_presigned_post`.
//!
//! Wiring (for main.rs): add `PostArgs` as the arguments of `presign --post`
//! (or its own subcommand) and call [`run_post`]; it returns the exit code.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use sigv4_sign::post_policy::{presign_post, PostPolicy};
use sigv4_sign::{Region, Service, SigningParams};

/// Arguments of `sigv4 presign --post`.
#[derive(Args, Debug, Clone)]
pub struct PostArgs {
    /// The URL the form is posted to, e.g. https://BUCKET.s3.amazonaws.com/ or http://127.0.0.1:9000/BUCKET.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The bucket (a `bucket` condition of the policy).
    #[arg(long)]
    pub bucket: String,
    /// The object key; a key ending in `${filename}` allows any file name after its prefix.
    #[arg(long)]
    pub key: String,
    /// The region of the credential scope, e.g. us-east-1.
    #[arg(long)]
    pub region: String,
    /// Lifetime of the policy in seconds (1..=604800).
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub expires: u64,
    /// A form field to include, `name=value` (repeatable); each gets an exact-match condition.
    #[arg(long = "field", value_name = "NAME=VALUE")]
    pub fields: Vec<String>,
    /// A `starts-with` condition, `name=prefix` (repeatable; an empty prefix allows any value).
    #[arg(long = "starts-with", value_name = "NAME=PREFIX")]
    pub starts_with: Vec<String>,
    /// Allowed file size in bytes, `MIN,MAX` (a `content-length-range` condition).
    #[arg(long, value_name = "MIN,MAX")]
    pub content_length_range: Option<String>,
    /// The signing time: 2015-08-30T12:36:00Z or 20150830T123600Z (default: now).
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    #[command(flatten)]
    pub keys: crate::common::KeyArgs,
    /// The profile of the shared config files (default chain only).
    #[arg(long)]
    pub profile: Option<String>,
    /// Also print the decoded policy document under "policy_document".
    #[arg(long)]
    pub explain: bool,
}

fn split_pair<'a>(s: &'a str, what: &str) -> Result<(&'a str, &'a str), String> {
    s.split_once('=')
        .ok_or_else(|| format!("{what} {s:?} must be NAME=VALUE"))
}

/// Builds the presigned POST and returns the JSON to print.
pub fn presigned_post_json(args: &PostArgs) -> Result<serde_json::Value, String> {
    let region = Region::new(args.region.clone()).map_err(|e| e.to_string())?;
    let s3 = Service::new("s3").map_err(|e| e.to_string())?;
    let time = crate::common::signing_time(args.time.as_deref())?;
    let creds = crate::common::credentials_or_chain(&args.keys, args.profile.as_deref())?;
    let mut policy = PostPolicy::expires_in(&time, Duration::from_secs(args.expires))
        .map_err(|e| e.to_string())?;
    for s in &args.starts_with {
        let (name, prefix) = split_pair(s, "--starts-with")?;
        policy = policy
            .starts_with(name, prefix)
            .map_err(|e| e.to_string())?;
    }
    if let Some(range) = &args.content_length_range {
        let (min, max) = range
            .split_once(',')
            .ok_or_else(|| format!("--content-length-range {range:?} must be MIN,MAX"))?;
        let parse = |v: &str| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("--content-length-range {range:?}: {v:?} is not a byte count"))
        };
        policy = policy
            .content_length_range(parse(min)?, parse(max)?)
            .map_err(|e| e.to_string())?;
    }
    let mut fields = Vec::with_capacity(args.fields.len());
    for f in &args.fields {
        fields.push(split_pair(f, "--field")?);
    }
    let params = SigningParams::new(&creds, &region, &s3, time);
    let post = presign_post(
        &params,
        &args.url,
        &args.bucket,
        &args.key,
        &fields,
        &policy,
    )
    .map_err(|e| e.to_string())?;
    let mut json = post.to_json();
    if args.explain {
        let doc: serde_json::Value =
            serde_json::from_str(&post.policy_json).map_err(|e| e.to_string())?;
        json["policy_document"] = doc;
    }
    Ok(json)
}

/// Runs `sigv4 presign --post`: prints `{"url": ..., "fields": {...}}`; returns the exit code.
pub fn run_post(args: &PostArgs) -> u8 {
    match presigned_post_json(args) {
        Ok(json) => {
            let mut out = std::io::stdout().lock();
            let text = serde_json::to_string_pretty(&json).unwrap_or_default();
            if writeln!(out, "{text}").and_then(|()| out.flush()).is_err() {
                return 1;
            }
            0
        }
        Err(msg) => {
            eprintln!("sigv4 presign --post: {msg}");
            2
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args() -> PostArgs {
        PostArgs {
            url: "http://127.0.0.1:9000/bucket".into(),
            bucket: "bucket".into(),
            key: "uploads/${filename}".into(),
            region: "us-east-1".into(),
            expires: 600,
            fields: vec!["Content-Type=text/plain".into()],
            starts_with: vec![],
            content_length_range: Some("0,1024".into()),
            time: Some("20240101T000000Z".into()),
            keys: crate::common::KeyArgs {
                access_key: Some("AKIDEXAMPLE".into()),
                secret_key: Some("secret".into()),
                session_token: None,
            },
            profile: None,
            explain: true,
        }
    }

    #[test]
    fn prints_url_fields_and_policy() {
        let json = presigned_post_json(&args()).unwrap();
        assert_eq!(json["url"], "http://127.0.0.1:9000/bucket");
        assert_eq!(json["fields"]["key"], "uploads/${filename}");
        assert_eq!(json["fields"]["Content-Type"], "text/plain");
        assert_eq!(
            json["fields"]["x-amz-credential"],
            "AKIDEXAMPLE/20240101/us-east-1/s3/aws4_request"
        );
        assert_eq!(
            json["policy_document"]["expiration"],
            "2024-01-01T00:10:00Z"
        );
    }

    #[test]
    fn bad_input_is_a_message() {
        let mut a = args();
        a.content_length_range = Some("5".into());
        assert!(presigned_post_json(&a).unwrap_err().contains("MIN,MAX"));
        let mut a = args();
        a.fields = vec!["novalue".into()];
        assert!(presigned_post_json(&a).unwrap_err().contains("NAME=VALUE"));
    }
}
