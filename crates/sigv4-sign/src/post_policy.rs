//! S3 browser-based uploads: the POST policy document, its signature and the
//! complete list of form fields (what boto3's `generate_presigned_post` gives).
//!
//! The policy is a JSON document (`expiration` and `conditions`), sent
//! base64-encoded as the `policy` field; `x-amz-signature` is the
//! HMAC-SHA256 of that base64 text under the SigV4 signing key of
//! `date/region/s3/aws4_request`.
//!
//! ```
//! use std::time::Duration;
//! use sigv4_sign::post_policy::{presign_post, PostPolicy};
//! use sigv4_sign::{AmzDate, Credentials, Region, Service, SigningParams};
//!
//! let creds = Credentials::new("AKIDEXAMPLE", "secret", None);
//! let (region, s3) = (Region::new("us-east-1")?, Service::new("s3")?);
//! let now = AmzDate::parse("20240101T000000Z")?;
//! let params = SigningParams::new(&creds, &region, &s3, now);
//! let policy = PostPolicy::expires_in(&now, Duration::from_secs(3600))?
//!     .content_length_range(1, 10 * 1024 * 1024)?;
//! let post = presign_post(
//!     &params,
//!     "https://bucket.s3.amazonaws.com/",
//!     "bucket",
//!     "uploads/${filename}",
//!     &[("Content-Type", "image/png")],
//!     &policy,
//! )?;
//! assert_eq!(post.field("x-amz-algorithm"), Some("AWS4-HMAC-SHA256"));
//! assert!(post.field("x-amz-signature").is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::canonical::ALGORITHM;
use crate::key::SigningKey;
use crate::{AmzDate, SigningError, SigningParams};

/// The longest a POST policy may live here: 7 days, like a presigned URL.
pub const MAX_POLICY_LIFETIME: Duration = Duration::from_secs(604_800);

/// Why a POST policy could not be built or signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PostPolicyError {
    /// The bucket name is empty.
    #[error("the bucket name is empty")]
    EmptyBucket,
    /// A form field name is empty or holds control characters.
    #[error(
        "invalid form field name {0:?}: a field name is non-empty text without control characters"
    )]
    InvalidFieldName(String),
    /// `content-length-range` with a minimum above the maximum.
    #[error("invalid content-length-range {min}..={max}: the minimum is above the maximum")]
    InvalidContentLengthRange {
        /// The minimum asked for.
        min: u64,
        /// The maximum asked for.
        max: u64,
    },
    /// The policy lifetime is outside 1 s ..= 7 days.
    #[error(
        "POST policy lifetime of {seconds} s is out of range: it must be from 1 to 604800 (7 days)"
    )]
    InvalidLifetime {
        /// The lifetime asked for, in seconds.
        seconds: u64,
    },
    /// The policy expires at or before the signing time.
    #[error("the POST policy expires at {expiration}, not after the signing time {time}")]
    ExpiresBeforeSigning {
        /// The expiration, `YYYY-MM-DDTHH:MM:SSZ`.
        expiration: String,
        /// The signing time, `YYYYMMDDTHHMMSSZ`.
        time: String,
    },
    /// The credentials or time cannot sign.
    #[error(transparent)]
    Signing(#[from] SigningError),
}

/// One condition of a POST policy.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Condition {
    /// The field must equal the value: `{"field": "value"}`.
    Eq {
        /// The form field name (without `$`).
        field: String,
        /// The exact value.
        value: String,
    },
    /// The field must start with the prefix (an empty prefix allows any
    /// value): `["starts-with", "$field", "prefix"]`.
    StartsWith {
        /// The form field name (without `$`).
        field: String,
        /// The prefix.
        prefix: String,
    },
    /// The file must be `min..=max` bytes: `["content-length-range", min, max]`.
    ContentLengthRange {
        /// Smallest size, in bytes.
        min: u64,
        /// Largest size, in bytes.
        max: u64,
    },
}

impl Condition {
    fn field(&self) -> Option<&str> {
        match self {
            Self::Eq { field, .. } | Self::StartsWith { field, .. } => Some(field),
            Self::ContentLengthRange { .. } => None,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Eq { field, value } => json!({ field.as_str(): value }),
            Self::StartsWith { field, prefix } => {
                json!(["starts-with", format!("${field}"), prefix])
            }
            Self::ContentLengthRange { min, max } => json!(["content-length-range", min, max]),
        }
    }
}

fn check_field(name: &str) -> Result<(), PostPolicyError> {
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(PostPolicyError::InvalidFieldName(name.to_owned()));
    }
    Ok(())
}

/// A POST policy: when it expires and what the form must satisfy.
///
/// [`presign_post`] adds the conditions on the bucket, the key, every form
/// field it is given and the signing fields itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostPolicy {
    expiration: AmzDate,
    conditions: Vec<Condition>,
}

impl PostPolicy {
    /// A policy that expires at `expiration`, with no conditions yet.
    pub fn new(expiration: AmzDate) -> Self {
        Self {
            expiration,
            conditions: Vec::new(),
        }
    }

    /// A policy that expires `lifetime` (1 s ..= 7 days) after `time`.
    pub fn expires_in(time: &AmzDate, lifetime: Duration) -> Result<Self, PostPolicyError> {
        let seconds = lifetime.as_secs();
        if !(1..=MAX_POLICY_LIFETIME.as_secs()).contains(&seconds) {
            return Err(PostPolicyError::InvalidLifetime { seconds });
        }
        // seconds <= 604800: the cast cannot wrap.
        let expiration = AmzDate::from_unix(time.unix() + seconds as i64)?;
        Ok(Self::new(expiration))
    }

    /// The expiration time.
    pub fn expiration(&self) -> &AmzDate {
        &self.expiration
    }

    /// The conditions added so far.
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Adds a condition.
    #[must_use]
    pub fn condition(mut self, c: Condition) -> Self {
        self.conditions.push(c);
        self
    }

    /// The field must equal `value`.
    pub fn eq(self, field: &str, value: &str) -> Result<Self, PostPolicyError> {
        check_field(field)?;
        Ok(self.condition(Condition::Eq {
            field: field.to_owned(),
            value: value.to_owned(),
        }))
    }

    /// The field must start with `prefix` (`""` allows any value).
    pub fn starts_with(self, field: &str, prefix: &str) -> Result<Self, PostPolicyError> {
        check_field(field)?;
        Ok(self.condition(Condition::StartsWith {
            field: field.to_owned(),
            prefix: prefix.to_owned(),
        }))
    }

    /// The uploaded file must be `min..=max` bytes.
    pub fn content_length_range(self, min: u64, max: u64) -> Result<Self, PostPolicyError> {
        if min > max {
            return Err(PostPolicyError::InvalidContentLengthRange { min, max });
        }
        Ok(self.condition(Condition::ContentLengthRange { min, max }))
    }

    /// `Content-Type` must equal `content_type`.
    pub fn content_type(self, content_type: &str) -> Result<Self, PostPolicyError> {
        self.eq("Content-Type", content_type)
    }

    /// `success_action_status` must equal `status` (200, 201 or 204).
    pub fn success_action_status(self, status: u16) -> Result<Self, PostPolicyError> {
        self.eq("success_action_status", &status.to_string())
    }

    /// `x-amz-meta-{name}` must equal `value`.
    pub fn meta(self, name: &str, value: &str) -> Result<Self, PostPolicyError> {
        self.eq(&format!("x-amz-meta-{name}"), value)
    }

    fn has_condition_on(&self, field: &str) -> bool {
        self.conditions
            .iter()
            .any(|c| c.field().is_some_and(|f| f.eq_ignore_ascii_case(field)))
    }

    /// The policy document as JSON: `{"expiration": "...", "conditions": [...]}`.
    pub fn to_json(&self) -> String {
        let conditions: Vec<Value> = self.conditions.iter().map(Condition::to_json).collect();
        json!({
            "expiration": iso8601(&self.expiration),
            "conditions": conditions,
        })
        .to_string()
    }
}

/// `2024-01-01T00:00:00Z` from an [`AmzDate`].
fn iso8601(t: &AmzDate) -> String {
    let s = t.as_str();
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    )
}

/// The signature of a POST policy: HMAC-SHA256 of the policy's base64 text
/// under the SigV4 signing key, as 64 lowercase hex digits.
pub fn post_policy_signature(key: &SigningKey, policy_base64: &str) -> String {
    String::from_utf8_lossy(&key.sign_hex(policy_base64.as_bytes())).into_owned()
}

/// A presigned POST: where to send the form and the fields to put in it
/// (before the `file` field, which must come last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedPost {
    /// The URL to POST the multipart form to.
    pub url: String,
    /// The form fields, in order.
    pub fields: Vec<(String, String)>,
    /// The policy document (JSON) that `policy` encodes.
    pub policy_json: String,
}

impl PresignedPost {
    /// The value of a field (case-insensitive name).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `{"url": ..., "fields": {...}}`, like boto3's `generate_presigned_post`.
    pub fn to_json(&self) -> Value {
        let fields: serde_json::Map<String, Value> = self
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({ "url": self.url, "fields": fields })
    }
}

/// Builds and signs a POST upload form for `bucket`, like boto3's
/// `generate_presigned_post`.
///
/// - `key` is the object key; one ending in `${filename}` becomes a
///   `starts-with` condition on what precedes it.
/// - `fields` are further form fields (`Content-Type`, `acl`,
///   `success_action_status`, `x-amz-meta-*`, ...); each gets an exact
///   condition unless `policy` already has a condition on that field.
/// - The policy gains the conditions on `bucket`, `key`, `x-amz-algorithm`,
///   `x-amz-credential`, `x-amz-date` and `x-amz-security-token` (with
///   temporary credentials), and is signed with the key of
///   `date/region/service/aws4_request` (service normally `s3`).
///
/// The form fields are: the given `fields`, `key`, `x-amz-algorithm`,
/// `x-amz-credential`, `x-amz-date`, `x-amz-security-token` (if any),
/// `policy`, `x-amz-signature`.
pub fn presign_post(
    params: &SigningParams<'_>,
    url: &str,
    bucket: &str,
    key: &str,
    fields: &[(&str, &str)],
    policy: &PostPolicy,
) -> Result<PresignedPost, PostPolicyError> {
    if bucket.is_empty() {
        return Err(PostPolicyError::EmptyBucket);
    }
    let time = *params.time();
    if policy.expiration.unix() <= time.unix() {
        return Err(PostPolicyError::ExpiresBeforeSigning {
            expiration: iso8601(&policy.expiration),
            time: time.as_str().to_owned(),
        });
    }
    let creds = params.credentials;
    let akid = creds.access_key_id();
    if !creds.access_key_id_is_valid() {
        return Err(SigningError::InvalidAccessKeyId.into());
    }
    for (name, _) in fields {
        check_field(name)?;
    }
    let region = params.region.as_str();
    let service = params.service.as_str();
    let credential = format!("{akid}/{}/{region}/{service}/aws4_request", time.date());

    let mut doc = policy.clone();
    doc.conditions.insert(
        0,
        Condition::Eq {
            field: "bucket".to_owned(),
            value: bucket.to_owned(),
        },
    );
    if !doc.has_condition_on("key") {
        doc.conditions.push(match key.strip_suffix("${filename}") {
            Some(prefix) => Condition::StartsWith {
                field: "key".to_owned(),
                prefix: prefix.to_owned(),
            },
            None => Condition::Eq {
                field: "key".to_owned(),
                value: key.to_owned(),
            },
        });
    }
    for (name, value) in fields {
        if !doc.has_condition_on(name) {
            doc.conditions.push(Condition::Eq {
                field: (*name).to_owned(),
                value: (*value).to_owned(),
            });
        }
    }
    let mut signing_fields: Vec<(&str, &str)> = vec![
        ("x-amz-algorithm", ALGORITHM),
        ("x-amz-credential", &credential),
        ("x-amz-date", time.as_str()),
    ];
    if let Some(token) = creds.session_token() {
        signing_fields.push(("x-amz-security-token", token));
    }
    for (name, value) in &signing_fields {
        doc.conditions.push(Condition::Eq {
            field: (*name).to_owned(),
            value: (*value).to_owned(),
        });
    }

    let policy_json = doc.to_json();
    let policy_b64 = base64::engine::general_purpose::STANDARD.encode(policy_json.as_bytes());
    let signing_key = SigningKey::derive(creds.secret_access_key(), time.date(), region, service);
    let signature = post_policy_signature(&signing_key, &policy_b64);

    let mut out: Vec<(String, String)> = Vec::with_capacity(fields.len() + 7);
    out.extend(
        fields
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    out.push(("key".to_owned(), key.to_owned()));
    out.extend(
        signing_fields
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    out.push(("policy".to_owned(), policy_b64));
    out.push(("x-amz-signature".to_owned(), signature));
    Ok(PresignedPost {
        url: url.to_owned(),
        fields: out,
        policy_json,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn iso_expiration() {
        let t = AmzDate::parse("20151229T120000Z").unwrap();
        assert_eq!(iso8601(&t), "2015-12-29T12:00:00Z");
    }

    #[test]
    fn rejects_bad_policies() {
        let t = AmzDate::parse("20151229T120000Z").unwrap();
        assert_eq!(
            PostPolicy::expires_in(&t, Duration::from_secs(0)).unwrap_err(),
            PostPolicyError::InvalidLifetime { seconds: 0 }
        );
        let p = PostPolicy::new(t);
        assert!(matches!(
            p.clone().content_length_range(5, 1),
            Err(PostPolicyError::InvalidContentLengthRange { min: 5, max: 1 })
        ));
        assert!(matches!(
            p.eq("", "x"),
            Err(PostPolicyError::InvalidFieldName(_))
        ));
    }
}
