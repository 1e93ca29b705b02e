//! Browser-upload POST forms (`multipart/form-data` with a signed policy):
//! the multipart parser, the signature and every policy condition.

use base64::Engine as _;
use serde_json::Value;
use sigv4_sign::post_policy::post_policy_signature;
use sigv4_sign::{AmzDate, Credentials, SignableRequest};
use subtle::ConstantTimeEq;

use crate::parse::{check_signature_hex, split_credential, QueryAuth};
use crate::verifier::{AuthLocation, Identity};
use crate::{Verifier, VerifyError};

/// The most parts a form may have.
const MAX_PARTS: usize = 256;
/// The largest header block of one part.
const MAX_PART_HEADERS: usize = 8 * 1024;

/// A parsed `multipart/form-data` POST form.
#[derive(Clone, PartialEq, Eq)]
pub struct PostForm<'a> {
    /// The fields before `file`, names as sent, values as UTF-8 text.
    pub fields: Vec<(String, String)>,
    /// The `file` part's content.
    pub file: &'a [u8],
    /// The `file` part's `filename`, if given.
    pub filename: Option<String>,
}

impl std::fmt::Debug for PostForm<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostForm")
            .field(
                "field_names",
                &self.fields.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("file_len", &self.file.len())
            .field("filename", &self.filename)
            .finish()
    }
}

impl PostForm<'_> {
    /// The value of a field (case-insensitive name).
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn malformed(m: impl Into<String>) -> VerifyError {
    VerifyError::MalformedPostRequest(m.into())
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<&str> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        (!v.is_empty() && v.len() <= 70).then_some(v)
    })
}

fn disposition_param(value: &str, name: &str) -> Option<String> {
    for p in value.split(';').skip(1) {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case(name) {
            let v = v.trim();
            return Some(
                v.strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v)
                    .to_owned(),
            );
        }
    }
    None
}

/// Parses a `multipart/form-data` body: every field up to the `file` part
/// (which must be last; anything after it is ignored, as S3 does).
pub fn parse_form<'a>(content_type: &str, body: &'a [u8]) -> Result<PostForm<'a>, VerifyError> {
    let b = boundary(content_type)
        .ok_or_else(|| malformed("the Content-Type must be multipart/form-data with a boundary"))?;
    let delim = [b"--".as_slice(), b.as_bytes()].concat();
    let next_delim = [b"\r\n--".as_slice(), b.as_bytes()].concat();
    let mut pos = find(body, &delim, 0).ok_or_else(|| malformed("the body has no boundary"))?;
    pos += delim.len();
    let mut fields: Vec<(String, String)> = Vec::new();
    loop {
        if body[pos..].starts_with(b"--") {
            return Err(malformed("the form has no `file` field"));
        }
        if !body[pos..].starts_with(b"\r\n") {
            return Err(malformed("a boundary is not followed by CRLF"));
        }
        pos += 2;
        let hend = find(body, b"\r\n\r\n", pos)
            .filter(|e| e - pos <= MAX_PART_HEADERS)
            .ok_or_else(|| malformed("a part's headers do not end (or exceed 8 KiB)"))?;
        let headers = std::str::from_utf8(&body[pos..hend])
            .map_err(|_| malformed("a part's headers are not UTF-8"))?;
        let mut name = None;
        let mut filename = None;
        for line in headers.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                return Err(malformed(format!(
                    "part header {line:?} is not `Name: value`"
                )));
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                if !v.trim_start().to_ascii_lowercase().starts_with("form-data") {
                    return Err(malformed("Content-Disposition must be form-data"));
                }
                name = disposition_param(v, "name");
                filename = disposition_param(v, "filename");
            }
        }
        let name = name.ok_or_else(|| malformed("a part has no Content-Disposition name"))?;
        let start = hend + 4;
        let end = find(body, &next_delim, start)
            .ok_or_else(|| malformed(format!("the part `{name}` is not closed by a boundary")))?;
        let content = &body[start..end];
        if name.eq_ignore_ascii_case("file") {
            return Ok(PostForm {
                fields,
                file: content,
                filename,
            });
        }
        if fields.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
            return Err(malformed(format!(
                "the field `{name}` appears more than once"
            )));
        }
        if fields.len() >= MAX_PARTS {
            return Err(malformed("the form has too many fields"));
        }
        let value = String::from_utf8(content.to_vec())
            .map_err(|_| malformed(format!("the field `{name}` is not UTF-8")))?;
        fields.push((name, value));
        pos = end + next_delim.len();
    }
}

/// A POST form whose signature and policy verified.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PostVerified {
    /// Who signed.
    pub identity: Identity,
    /// The object key (with `${filename}` substituted).
    pub key: String,
    /// The form fields.
    pub fields: Vec<(String, String)>,
}

fn violation(m: impl Into<String>) -> VerifyError {
    VerifyError::PolicyViolation(m.into())
}

/// The value a condition names: `$key` -> the form's `key` (case-insensitive), `bucket` -> the bucket.
fn lookup_field<'v>(
    form: &'v [(String, String)],
    bucket: Option<&'v str>,
    field: &str,
) -> Option<&'v str> {
    let f = field.strip_prefix('$').unwrap_or(field);
    if f.eq_ignore_ascii_case("bucket") {
        return bucket.or_else(|| {
            form.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("bucket"))
                .map(|(_, v)| v.as_str())
        });
    }
    form.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(f))
        .map(|(_, v)| v.as_str())
}

fn check_conditions(
    conditions: &[Value],
    fields: &[(String, String)],
    bucket: Option<&str>,
    file_len: usize,
) -> Result<(), VerifyError> {
    let mut covered: Vec<String> = Vec::new();
    let as_name = |s: &str| s.strip_prefix('$').unwrap_or(s).to_ascii_lowercase();
    for c in conditions {
        match c {
            Value::Object(m) => {
                for (k, v) in m {
                    let want = v.as_str().ok_or_else(|| {
                        VerifyError::InvalidPolicyDocument(format!(
                            "condition `{k}` must be a string"
                        ))
                    })?;
                    let got = lookup_field(fields, bucket, k).unwrap_or("");
                    if got != want {
                        return Err(violation(format!(
                            "Policy Condition failed: [\"eq\", \"${k}\", \"{want}\"]"
                        )));
                    }
                    covered.push(as_name(k));
                }
            }
            Value::Array(a) => {
                let op = a.first().and_then(Value::as_str).unwrap_or("");
                match op.to_ascii_lowercase().as_str() {
                    "eq" | "starts-with" => {
                        let (Some(field), Some(want)) = (
                            a.get(1).and_then(Value::as_str),
                            a.get(2).and_then(Value::as_str),
                        ) else {
                            return Err(VerifyError::InvalidPolicyDocument(format!(
                                "condition {c} must be [op, \"$field\", \"value\"]"
                            )));
                        };
                        if a.len() != 3 || !field.starts_with('$') {
                            return Err(VerifyError::InvalidPolicyDocument(format!(
                                "condition {c} must be [op, \"$field\", \"value\"]"
                            )));
                        }
                        let got = lookup_field(fields, bucket, field).unwrap_or("");
                        let ok = if op.eq_ignore_ascii_case("eq") {
                            got == want
                        } else if as_name(field) == "content-type" {
                            got.split(',').all(|p| p.trim().starts_with(want))
                        } else {
                            got.starts_with(want)
                        };
                        if !ok {
                            return Err(violation(format!("Policy Condition failed: {c}")));
                        }
                        covered.push(as_name(field));
                    }
                    "content-length-range" => {
                        let (Some(min), Some(max)) = (
                            a.get(1).and_then(Value::as_u64),
                            a.get(2).and_then(Value::as_u64),
                        ) else {
                            return Err(VerifyError::InvalidPolicyDocument(
                                "content-length-range needs two non-negative integers".into(),
                            ));
                        };
                        let n = file_len as u64;
                        if n < min {
                            return Err(violation(
                                "Your proposed upload is smaller than the minimum allowed size",
                            ));
                        }
                        if n > max {
                            return Err(violation(
                                "Your proposed upload exceeds the maximum allowed size",
                            ));
                        }
                    }
                    _ => {
                        return Err(VerifyError::InvalidPolicyDocument(format!(
                        "unknown condition {c}: expected eq, starts-with or content-length-range"
                    )))
                    }
                }
            }
            _ => {
                return Err(VerifyError::InvalidPolicyDocument(format!(
                    "condition {c} must be an object or an array"
                )))
            }
        }
    }
    let exempt =
        |n: &str| matches!(n, "policy" | "x-amz-signature" | "file") || n.starts_with("x-ignore-");
    let extra: Vec<&str> = fields
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| {
            let l = n.to_ascii_lowercase();
            !exempt(&l) && !covered.contains(&l)
        })
        .collect();
    if !extra.is_empty() {
        return Err(violation(format!(
            "Extra input fields: {}",
            extra.join(", ")
        )));
    }
    Ok(())
}

impl Verifier {
    /// Verifies a browser-upload POST form for `bucket` (when given, the
    /// `bucket` condition must name it): the request must carry no other
    /// credentials; the form's signature, scope, expiration and every
    /// policy condition are checked, and every field must be covered by a
    /// condition.
    pub async fn verify_post(
        &self,
        request: &SignableRequest<'_>,
        body: &[u8],
        bucket: Option<&str>,
    ) -> Result<PostVerified, VerifyError> {
        let (form, akid) = self.post_prepare(request, body)?;
        let creds = self.store_lookup(&akid).await?;
        self.post_finish(&form, bucket, creds.as_ref())
    }

    /// [`Verifier::verify_post`] with a synchronous credentials lookup.
    pub fn verify_post_with(
        &self,
        request: &SignableRequest<'_>,
        body: &[u8],
        bucket: Option<&str>,
        lookup: impl FnOnce(&str) -> Option<Credentials>,
    ) -> Result<PostVerified, VerifyError> {
        let (form, akid) = self.post_prepare(request, body)?;
        let creds = lookup(&akid);
        self.post_finish(&form, bucket, creds.as_ref())
    }

    fn post_prepare<'b>(
        &self,
        request: &SignableRequest<'_>,
        body: &'b [u8],
    ) -> Result<(PostForm<'b>, String), VerifyError> {
        let mut content_type = None;
        let mut has_auth = false;
        request.for_each_header(|n, v| {
            if n.eq_ignore_ascii_case("content-type") {
                content_type = std::str::from_utf8(v).ok();
            }
            if n.eq_ignore_ascii_case("authorization") {
                has_auth = true;
            }
        });
        if has_auth || QueryAuth::parse(request.query())?.is_some() {
            return Err(VerifyError::InvalidRequest(
                "only one auth mechanism allowed: a POST form carries its own signature; remove the Authorization header or X-Amz-* query parameters".into(),
            ));
        }
        let form = parse_form(content_type.unwrap_or(""), body)?;
        let cred = form
            .field("x-amz-credential")
            .ok_or_else(|| malformed("the form has no x-amz-credential field"))?;
        let (akid, _, _) =
            split_credential(cred).map_err(|r| malformed(format!("x-amz-credential: {r}")))?;
        let akid = akid.to_owned();
        Ok((form, akid))
    }

    fn post_finish(
        &self,
        form: &PostForm<'_>,
        bucket: Option<&str>,
        creds: Option<&Credentials>,
    ) -> Result<PostVerified, VerifyError> {
        let need = |n: &'static str| {
            form.field(n)
                .ok_or_else(|| malformed(format!("the form has no `{n}` field")))
        };
        let alg = need("x-amz-algorithm")?;
        if alg != sigv4_sign::canonical::ALGORITHM {
            return Err(malformed(format!(
                "x-amz-algorithm {alg:?} is not AWS4-HMAC-SHA256"
            )));
        }
        let policy_b64 = need("policy")?;
        let signature = need("x-amz-signature")?;
        check_signature_hex(signature).map_err(|r| malformed(format!("x-amz-signature: {r}")))?;
        let (akid, scope_str, scope) = split_credential(need("x-amz-credential")?)
            .map_err(|r| malformed(format!("x-amz-credential: {r}")))?;
        let date = need("x-amz-date")?;
        let time = (date.len() == 16)
            .then(|| AmzDate::parse(date).ok())
            .flatten()
            .ok_or_else(|| malformed(format!("x-amz-date {date:?} is not YYYYMMDDTHHMMSSZ")))?;
        let _ = need("key")?;
        self.check_scope(&scope, &time, AuthLocation::PostForm)?;
        let creds = self.check_credentials(creds, akid, form.field("x-amz-security-token"))?;
        let key = self.signing_key(&creds, &scope);
        let computed = post_policy_signature(&key, policy_b64);
        if !bool::from(computed.as_bytes().ct_eq(signature.as_bytes())) {
            return Err(VerifyError::SignatureDoesNotMatch(None));
        }
        let _ = scope_str;
        // The policy document.
        let doc = base64::engine::general_purpose::STANDARD
            .decode(policy_b64.trim())
            .map_err(|_| VerifyError::InvalidPolicyDocument("the policy is not base64".into()))?;
        let doc: Value = serde_json::from_slice(&doc).map_err(|e| {
            VerifyError::InvalidPolicyDocument(format!("the policy is not JSON: {e}"))
        })?;
        let exp = doc
            .get("expiration")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                VerifyError::InvalidPolicyDocument("the policy has no `expiration`".into())
            })?;
        let exp = time::OffsetDateTime::parse(exp, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                VerifyError::InvalidPolicyDocument(format!(
                    "expiration {exp:?} is not an ISO 8601 time"
                ))
            })?;
        let now = time::OffsetDateTime::from(self.now());
        if now > exp {
            return Err(violation("Invalid according to Policy: Policy expired."));
        }
        let conditions = doc
            .get("conditions")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                VerifyError::InvalidPolicyDocument("the policy has no `conditions` list".into())
            })?;
        // `${filename}` in the key is replaced by the uploaded file's name.
        let mut fields = form.fields.clone();
        let mut key_value = String::new();
        for (n, v) in &mut fields {
            if n.eq_ignore_ascii_case("key") {
                if let Some(f) = &form.filename {
                    *v = v.replace("${filename}", f);
                }
                key_value.clone_from(v);
            }
        }
        check_conditions(conditions, &fields, bucket, form.file.len())?;
        Ok(PostVerified {
            identity: Identity {
                access_key_id: akid.to_owned(),
                scope,
                location: AuthLocation::PostForm,
                time,
                region_set: None,
            },
            key: key_value,
            fields,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn boundary_and_form_parse() {
        assert_eq!(boundary("multipart/form-data; boundary=abc"), Some("abc"));
        assert_eq!(
            boundary("multipart/form-data; boundary=\"a b\""),
            Some("a b")
        );
        assert_eq!(boundary("text/plain; boundary=abc"), None);
        let body = b"--xx\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuser/a.txt\r\n--xx\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--xx--\r\n";
        let f = parse_form("multipart/form-data; boundary=xx", body).unwrap();
        assert_eq!(f.field("KEY"), Some("user/a.txt"));
        assert_eq!(f.file, b"hello");
        assert_eq!(f.filename.as_deref(), Some("a.txt"));
        for bad in [
            &b"--xx\r\n"[..],
            b"",
            b"--xx--",
            b"--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv",
        ] {
            assert_eq!(
                parse_form("multipart/form-data; boundary=xx", bad)
                    .unwrap_err()
                    .code(),
                "MalformedPOSTRequest"
            );
        }
    }
}
