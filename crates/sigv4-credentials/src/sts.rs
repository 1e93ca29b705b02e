//! A small STS client: `AssumeRole` (signed with our own signer),
//! `AssumeRoleWithWebIdentity` (unsigned) and `GetCallerIdentity`, over the
//! query API (form-encoded POST, XML answers parsed with `quick-xml`).
//!
//! Endpoints: `https://sts.{region}.amazonaws.com` by default (the global
//! `https://sts.amazonaws.com`, signed for `us-east-1`, when no region is
//! set), overridden by `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, or the
//! profile's `endpoint_url` (in that order) unless
//! `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` / `ignore_configured_endpoint_urls`
//! is `true`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use quick_xml::events::Event;
use sigv4_sign::{
    Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningParams,
};

use crate::clock::TimeSource;
use crate::env::Env;
use crate::error::CredentialsError;
use crate::http::{excerpt, HttpClient, HttpErrorKind, HttpSettings};
use crate::profile::Profile;

const PROVIDER: &str = "Sts";
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An STS error code, as STS spells it in its error XML.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StsErrorCode {
    /// `AccessDenied`: the caller may not assume the role (trust policy, permissions).
    AccessDenied,
    /// `ExpiredToken`: the caller's session token (or the web identity token) expired.
    ExpiredToken,
    /// `InvalidIdentityToken`: the web identity token was rejected.
    InvalidIdentityToken,
    /// `IDPCommunicationError`: STS could not reach the identity provider.
    IdpCommunicationError,
    /// `IDPRejectedClaim`: the identity provider rejected the claim.
    IdpRejectedClaim,
    /// `RegionDisabledException`: STS is not activated in this region.
    RegionDisabled,
    /// `InvalidClientTokenId`: the access key id is unknown.
    InvalidClientTokenId,
    /// `SignatureDoesNotMatch`: the secret is wrong (or the signing is).
    SignatureDoesNotMatch,
    /// `MalformedPolicyDocument`.
    MalformedPolicyDocument,
    /// `PackedPolicyTooLarge`.
    PackedPolicyTooLarge,
    /// `Throttling`.
    Throttling,
    /// `ValidationError`: a parameter is invalid (duration, session name, ...).
    ValidationError,
    /// Any other code.
    Other(String),
}

impl StsErrorCode {
    /// The code of `s`.
    pub fn parse(s: &str) -> Self {
        match s {
            "AccessDenied" => Self::AccessDenied,
            "ExpiredToken" | "ExpiredTokenException" => Self::ExpiredToken,
            "InvalidIdentityToken" => Self::InvalidIdentityToken,
            "IDPCommunicationError" => Self::IdpCommunicationError,
            "IDPRejectedClaim" => Self::IdpRejectedClaim,
            "RegionDisabledException" => Self::RegionDisabled,
            "InvalidClientTokenId" => Self::InvalidClientTokenId,
            "SignatureDoesNotMatch" => Self::SignatureDoesNotMatch,
            "MalformedPolicyDocument" => Self::MalformedPolicyDocument,
            "PackedPolicyTooLarge" => Self::PackedPolicyTooLarge,
            "Throttling" => Self::Throttling,
            "ValidationError" => Self::ValidationError,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code as STS spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AccessDenied => "AccessDenied",
            Self::ExpiredToken => "ExpiredToken",
            Self::InvalidIdentityToken => "InvalidIdentityToken",
            Self::IdpCommunicationError => "IDPCommunicationError",
            Self::IdpRejectedClaim => "IDPRejectedClaim",
            Self::RegionDisabled => "RegionDisabledException",
            Self::InvalidClientTokenId => "InvalidClientTokenId",
            Self::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            Self::MalformedPolicyDocument => "MalformedPolicyDocument",
            Self::PackedPolicyTooLarge => "PackedPolicyTooLarge",
            Self::Throttling => "Throttling",
            Self::ValidationError => "ValidationError",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for StsErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// STS answered an error: the operation, the role, the endpoint, and STS's
/// own code and message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("STS {operation} of {role} at {endpoint} failed: HTTP {status} {code}: {message}{}", request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
#[non_exhaustive]
pub struct StsError {
    /// `AssumeRole`, `AssumeRoleWithWebIdentity`, `GetCallerIdentity`.
    pub operation: &'static str,
    /// The role ARN (or `caller` for `GetCallerIdentity`).
    pub role: String,
    /// The endpoint URL.
    pub endpoint: String,
    /// The HTTP status.
    pub status: u16,
    /// STS's error code.
    pub code: StsErrorCode,
    /// STS's message.
    pub message: String,
    /// STS's request id, when given.
    pub request_id: Option<String>,
}

/// The parameters of an `AssumeRole` call.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssumeRoleRequest {
    /// The role to assume.
    pub role_arn: String,
    /// The session name (`[\w+=,.@-]{2,64}`).
    pub role_session_name: String,
    /// The external id the role's trust policy may require.
    pub external_id: Option<String>,
    /// The session duration (STS default: 1 hour).
    pub duration: Option<Duration>,
}

impl AssumeRoleRequest {
    /// Assume `role_arn` in a session named `role_session_name`.
    pub fn new(role_arn: impl Into<String>, role_session_name: impl Into<String>) -> Self {
        Self {
            role_arn: role_arn.into(),
            role_session_name: role_session_name.into(),
            external_id: None,
            duration: None,
        }
    }

    /// With an external id.
    #[must_use]
    pub fn with_external_id(mut self, id: Option<String>) -> Self {
        self.external_id = id;
        self
    }

    /// With a session duration.
    #[must_use]
    pub fn with_duration(mut self, d: Option<Duration>) -> Self {
        self.duration = d;
        self
    }
}

/// Who the caller is, from `GetCallerIdentity`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallerIdentity {
    /// The account id.
    pub account: String,
    /// The caller's ARN.
    pub arn: String,
    /// The caller's unique id.
    pub user_id: String,
}

/// The STS endpoint and signing region to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StsEndpoint {
    /// The endpoint URL.
    pub url: String,
    /// The signing region.
    pub region: String,
    /// Where the URL came from (`default`, `AWS_ENDPOINT_URL_STS`, ...).
    pub source: String,
}

impl StsEndpoint {
    /// Resolve from the environment and (optionally) the selected profile.
    pub fn resolve(env: &dyn Env, profile: Option<&Profile>) -> Self {
        let prof = |key: &str| {
            profile
                .and_then(|p| p.get(key))
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let region = env
            .get_non_empty("AWS_REGION")
            .or_else(|| env.get_non_empty("AWS_DEFAULT_REGION"))
            .or_else(|| prof("region"));
        let ignore = env
            .get_non_empty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .or_else(|| prof("ignore_configured_endpoint_urls"))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let configured = if ignore {
            None
        } else {
            env.get_non_empty("AWS_ENDPOINT_URL_STS")
                .map(|u| (u, "AWS_ENDPOINT_URL_STS".to_owned()))
                .or_else(|| {
                    env.get_non_empty("AWS_ENDPOINT_URL")
                        .map(|u| (u, "AWS_ENDPOINT_URL".to_owned()))
                })
                .or_else(|| {
                    prof("endpoint_url").map(|u| {
                        let name = profile.map_or("", Profile::name);
                        (u, format!("endpoint_url of profile `{name}`"))
                    })
                })
        };
        let signing_region = region.clone().unwrap_or_else(|| "us-east-1".to_owned());
        match (configured, region) {
            (Some((url, source)), _) => Self {
                url,
                region: signing_region,
                source,
            },
            (None, Some(r)) => Self {
                url: if r.starts_with("cn-") {
                    format!("https://sts.{r}.amazonaws.com.cn")
                } else {
                    format!("https://sts.{r}.amazonaws.com")
                },
                region: signing_region,
                source: "default (regional)".into(),
            },
            (None, None) => Self {
                url: "https://sts.amazonaws.com".into(),
                region: signing_region,
                source: "default (global, no region set)".into(),
            },
        }
    }
}

/// An STS client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct StsClient {
    url: reqwest::Url,
    region: Region,
    http: HttpClient,
    signer: Arc<Signer>,
    time: Arc<dyn TimeSource>,
}

impl StsClient {
    /// A client for `endpoint`, signing for its region, reading `time`.
    pub fn new(
        endpoint: &StsEndpoint,
        time: Arc<dyn TimeSource>,
        settings: HttpSettings,
    ) -> Result<Self, CredentialsError> {
        let url = crate::http::parse_endpoint(PROVIDER, &endpoint.source, &endpoint.url)?;
        let region =
            Region::new(endpoint.region.clone()).map_err(|e| CredentialsError::Provider {
                provider: PROVIDER.into(),
                message: format!("region {:?} cannot sign STS requests: {e}", endpoint.region),
            })?;
        let loopback = crate::http::host_ip(&url).is_some_and(|ip| ip.is_loopback())
            || url.host_str() == Some("localhost");
        Ok(Self {
            url,
            region,
            http: HttpClient::new(PROVIDER, settings, !loopback)?,
            signer: Arc::new(Signer::new()),
            time,
        })
    }

    /// The endpoint URL.
    pub fn endpoint(&self) -> &str {
        self.url.as_str()
    }

    /// `AssumeRole` with `source` credentials (signed). The answer's provider
    /// name is `AssumeRole(arn)`.
    pub async fn assume_role(
        &self,
        source: &Credentials,
        req: &AssumeRoleRequest,
    ) -> Result<Credentials, CredentialsError> {
        let mut form = vec![
            ("Action", "AssumeRole".to_owned()),
            ("Version", "2011-06-15".to_owned()),
            ("RoleArn", req.role_arn.clone()),
            ("RoleSessionName", req.role_session_name.clone()),
        ];
        if let Some(id) = &req.external_id {
            form.push(("ExternalId", id.clone()));
        }
        if let Some(d) = req.duration {
            form.push(("DurationSeconds", d.as_secs().to_string()));
        }
        let leaves = self
            .call("AssumeRole", &req.role_arn, &form, Some(source))
            .await?;
        credentials_from(&leaves, "AssumeRole", &req.role_arn, self)
            .map(|c| c.with_provider_name(format!("AssumeRole({})", req.role_arn)))
    }

    /// `AssumeRoleWithWebIdentity` (unsigned: the token is the proof). The
    /// answer's provider name is `WebIdentityToken(arn)`.
    pub async fn assume_role_with_web_identity(
        &self,
        role_arn: &str,
        role_session_name: &str,
        token: &str,
        duration: Option<Duration>,
    ) -> Result<Credentials, CredentialsError> {
        let mut form = vec![
            ("Action", "AssumeRoleWithWebIdentity".to_owned()),
            ("Version", "2011-06-15".to_owned()),
            ("RoleArn", role_arn.to_owned()),
            ("RoleSessionName", role_session_name.to_owned()),
            ("WebIdentityToken", token.to_owned()),
        ];
        if let Some(d) = duration {
            form.push(("DurationSeconds", d.as_secs().to_string()));
        }
        let leaves = self
            .call("AssumeRoleWithWebIdentity", role_arn, &form, None)
            .await?;
        credentials_from(&leaves, "AssumeRoleWithWebIdentity", role_arn, self)
            .map(|c| c.with_provider_name(format!("WebIdentityToken({role_arn})")))
    }

    /// `GetCallerIdentity` with `creds` (signed).
    pub async fn get_caller_identity(
        &self,
        creds: &Credentials,
    ) -> Result<CallerIdentity, CredentialsError> {
        let form = [
            ("Action", "GetCallerIdentity".to_owned()),
            ("Version", "2011-06-15".to_owned()),
        ];
        let leaves = self
            .call("GetCallerIdentity", "caller", &form, Some(creds))
            .await?;
        let get = |k: &str| find(&leaves, k).unwrap_or_default().to_owned();
        Ok(CallerIdentity {
            account: get("GetCallerIdentityResult/Account"),
            arn: get("GetCallerIdentityResult/Arn"),
            user_id: get("GetCallerIdentityResult/UserId"),
        })
    }

    async fn call(
        &self,
        operation: &'static str,
        role: &str,
        form: &[(&str, String)],
        signer: Option<&Credentials>,
    ) -> Result<Vec<(String, String)>, CredentialsError> {
        let body = encode_form(form);
        let content_type = "application/x-www-form-urlencoded; charset=utf-8";
        let mut headers: Vec<(&str, String)> = vec![("content-type", content_type.to_owned())];
        if let Some(creds) = signer {
            let unsigned = [("content-type", content_type)];
            let now = self.time.now();
            let service = Service::new("sts").map_err(|e| self.sign_error(&e))?;
            let params = SigningParams::at_system_time(creds, &self.region, &service, now)
                .map_err(|e| self.sign_error(&e))?;
            let req = SignableRequest::new("POST", self.url.as_str(), &unsigned)
                .map_err(|e| self.sign_error(&e))?;
            let out = self
                .signer
                .sign(&req, PayloadHash::Body(body.as_bytes()), &params)
                .map_err(|e| self.sign_error(&e))?;
            for (name, value) in out.params() {
                headers.push((name, value.clone()));
            }
        }
        let header_refs: Vec<(&str, &str)> =
            headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = self
            .http
            .send(
                reqwest::Method::POST,
                &self.url,
                &header_refs,
                Some(body.as_bytes()),
            )
            .await?;
        let parsed = parse_xml(&resp.body);
        if resp.status == 200 {
            return parsed.map_err(|why| {
                self.http
                    .error(
                        "POST",
                        &self.url,
                        HttpErrorKind::InvalidResponse(format!("{operation}: {why}")),
                    )
                    .into()
            });
        }
        match parsed.ok().filter(|l| find(l, "Error/Code").is_some()) {
            Some(leaves) => Err(CredentialsError::Sts(Box::new(StsError {
                operation,
                role: role.to_owned(),
                endpoint: crate::http::display_url(&self.url),
                status: resp.status,
                code: StsErrorCode::parse(find(&leaves, "Error/Code").unwrap_or_default()),
                message: find(&leaves, "Error/Message")
                    .unwrap_or_default()
                    .to_owned(),
                request_id: find(&leaves, "RequestId").map(str::to_owned),
            }))),
            None => Err(self
                .http
                .status_error("POST", &self.url, &resp, None)
                .into()),
        }
    }

    fn sign_error(&self, e: &sigv4_sign::SigningError) -> CredentialsError {
        CredentialsError::Provider {
            provider: PROVIDER.into(),
            message: format!("cannot sign the request to {}: {e}", self.url),
        }
    }
}

fn credentials_from(
    leaves: &[(String, String)],
    operation: &str,
    role: &str,
    client: &StsClient,
) -> Result<Credentials, CredentialsError> {
    let invalid = |what: String| -> CredentialsError {
        client
            .http
            .error(
                "POST",
                &client.url,
                HttpErrorKind::InvalidResponse(format!("{operation} of {role}: {what}")),
            )
            .into()
    };
    let get = |k: &str| {
        find(leaves, &format!("Credentials/{k}"))
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid(format!("the answer has no Credentials/{k}")))
    };
    let akid = get("AccessKeyId")?;
    let secret = get("SecretAccessKey")?;
    let token = get("SessionToken")?;
    let exp = get("Expiration")?;
    let expiry = parse_time(exp)
        .ok_or_else(|| invalid(format!("Expiration {exp:?} is not an ISO 8601 time")))?;
    Ok(Credentials::new(akid, secret, Some(token.to_owned())).with_expiry(expiry))
}

/// Parse an RFC 3339 time, also accepting one without offset (as UTC).
pub(crate) fn parse_time(s: &str) -> Option<SystemTime> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    time::OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| time::OffsetDateTime::parse(&format!("{s}Z"), &Rfc3339))
        .ok()
        .map(SystemTime::from)
}

fn encode_form(pairs: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(utf8_percent_encode(k, FORM));
        out.push('=');
        out.extend(utf8_percent_encode(v, FORM));
    }
    out
}

/// The text of every leaf element, keyed by its `/`-joined path (root
/// first). Namespaces prefixes are dropped.
fn parse_xml(body: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut leaves = Vec::new();
    let mut current = String::new();
    let mut seen_root = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                seen_root = true;
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                current.clear();
            }
            Ok(Event::Text(t)) => {
                let t = t.unescape().map_err(|e| format!("bad XML text: {e}"))?;
                current.push_str(&t);
            }
            Ok(Event::CData(t)) => current.push_str(&String::from_utf8_lossy(&t)),
            Ok(Event::End(_)) => {
                if !current.trim().is_empty() {
                    leaves.push((path.join("/"), current.trim().to_owned()));
                }
                current.clear();
                path.pop();
            }
            Ok(Event::Empty(_)) => seen_root = true,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "malformed XML at byte {}: {e}",
                    reader.buffer_position()
                ))
            }
        }
    }
    if !seen_root || !path.is_empty() {
        return Err(format!("not a complete XML document: {}", excerpt(body)));
    }
    Ok(leaves)
}

/// The value of the first leaf whose path ends with `/suffix`.
fn find<'a>(leaves: &'a [(String, String)], suffix: &str) -> Option<&'a str> {
    leaves
        .iter()
        .find(|(p, _)| {
            p.ends_with(suffix)
                && (p.len() == suffix.len() || p[..p.len() - suffix.len()].ends_with('/'))
        })
        .map(|(_, v)| v.as_str())
}

/// A session name: `sigv4-<unix millis>`.
pub(crate) fn default_session_name(now: SystemTime) -> String {
    let ms = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("sigv4-{ms}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        let f = encode_form(&[("RoleArn", "arn:aws:iam::1:role/a b+c".into())]);
        assert_eq!(f, "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b%2Bc");
    }

    #[test]
    fn xml_leaves_and_errors() {
        let l = parse_xml(b"<ErrorResponse xmlns=\"x\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>a &amp; b</Message></Error><RequestId>r1</RequestId></ErrorResponse>").unwrap();
        assert_eq!(find(&l, "Error/Code"), Some("AccessDenied"));
        assert_eq!(find(&l, "Error/Message"), Some("a & b"));
        assert_eq!(find(&l, "RequestId"), Some("r1"));
        assert!(parse_xml(b"<a><b>x</b>").is_err());
        assert!(parse_xml(b"not xml").is_err());
        assert!(parse_xml(b"").is_err());
    }

    #[test]
    fn endpoints() {
        let env = crate::MapEnv::from([("AWS_REGION", "eu-west-1")]);
        let e = StsEndpoint::resolve(&env, None);
        assert_eq!(e.url, "https://sts.eu-west-1.amazonaws.com");
        let env = env
            .with("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
            .with("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:2");
        assert_eq!(StsEndpoint::resolve(&env, None).url, "http://127.0.0.1:2");
        let env = env.with("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
        assert_eq!(
            StsEndpoint::resolve(&env, None).url,
            "https://sts.eu-west-1.amazonaws.com"
        );
        let e = StsEndpoint::resolve(&crate::MapEnv::new(), None);
        assert_eq!(
            (e.url.as_str(), e.region.as_str()),
            ("https://sts.amazonaws.com", "us-east-1")
        );
    }
}
