//! [`VerifyError`]: why a request was refused, mapped to S3 error codes,
//! HTTP statuses and the S3 XML error document.

use std::fmt::Write as _;

use thiserror::Error;

/// The server's view of a signature that did not match: what S3 returns in
/// its `SignatureDoesNotMatch` error when asked to help debugging.
///
/// Only filled in when [`crate::Policy::expose_signature_debug`] is on. The
/// value of a session token is redacted from the canonical request.
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureDebug {
    /// The access key id of the request.
    pub access_key_id: String,
    /// The string to sign the server computed.
    pub string_to_sign: String,
    /// The signature the client sent.
    pub signature_provided: String,
    /// The canonical request the server computed.
    pub canonical_request: String,
}

impl std::fmt::Debug for SignatureDebug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureDebug")
            .field("access_key_id", &self.access_key_id)
            .field("string_to_sign", &self.string_to_sign)
            .field("signature_provided", &self.signature_provided)
            .field("canonical_request_len", &self.canonical_request.len())
            .finish()
    }
}

/// Why a request failed verification.
///
/// Each variant maps to an S3 error code ([`VerifyError::code`]) and HTTP
/// status ([`VerifyError::status`]), and renders as the S3 XML error body
/// ([`VerifyError::to_xml`]). No variant carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The request carries no signature at all.
    #[error("the request is not signed: send an `Authorization: AWS4-HMAC-SHA256 ...` header or presigned `X-Amz-*` query parameters")]
    MissingAuthentication,
    /// The `Authorization` header cannot be parsed; `part` names the piece.
    #[error("malformed Authorization header, {part}: {reason}")]
    AuthorizationHeaderMalformed {
        /// The part at fault: `algorithm`, `Credential`, `SignedHeaders`, `Signature`, `format`.
        part: &'static str,
        /// What is wrong and what was expected.
        reason: String,
        /// The region the server expects, when the scope named another.
        expected_region: Option<String>,
    },
    /// The presigned-URL query parameters are missing, repeated or malformed.
    #[error("presigned URL query parameters: {0}")]
    AuthorizationQueryParametersError(String),
    /// The request is not acceptable as sent (two auth mechanisms, repeated headers, ...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// A header or parameter holds a value the server does not accept.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A header the request needs is absent.
    #[error("missing required header `{0}`: add it and sign it")]
    MissingSecurityHeader(&'static str),
    /// Headers that must be signed were sent unsigned.
    #[error("there were headers present in the request which were not signed: {}; add them to SignedHeaders", .0.join(", "))]
    HeadersNotSigned(Vec<String>),
    /// Access refused for a reason given in the message.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// A presigned URL whose lifetime is over.
    #[error("request has expired: signed at {signed_at} for {expires_secs} s, server time is {server_time}; presign a new URL")]
    RequestExpired {
        /// `X-Amz-Date` of the request.
        signed_at: String,
        /// `X-Amz-Expires` of the request.
        expires_secs: u64,
        /// The server's time, `YYYYMMDDTHHMMSSZ`.
        server_time: String,
    },
    /// A presigned URL dated in the future.
    #[error("request is not valid yet: signed for {signed_at}, server time is {server_time}; check the client's clock")]
    RequestNotYetValid {
        /// `X-Amz-Date` of the request.
        signed_at: String,
        /// The server's time, `YYYYMMDDTHHMMSSZ`.
        server_time: String,
    },
    /// The request time is too far from the server's clock.
    #[error("the difference between the request time ({request_time}) and the server's time ({server_time}) is more than {max_skew_ms} ms; fix the client's clock")]
    RequestTimeTooSkewed {
        /// The request time, `YYYYMMDDTHHMMSSZ`.
        request_time: String,
        /// The server's time, `YYYYMMDDTHHMMSSZ`.
        server_time: String,
        /// The largest allowed difference, in milliseconds.
        max_skew_ms: u64,
    },
    /// The access key id is not known to the secret store.
    #[error("the access key id `{0}` does not exist in our records")]
    InvalidAccessKeyId(String),
    /// The signature does not match the one the server computed.
    #[error("the request signature we calculated does not match the signature you provided; check your key and signing method")]
    SignatureDoesNotMatch(Option<Box<SignatureDebug>>),
    /// The body does not hash to `x-amz-content-sha256`.
    #[error("the provided x-amz-content-sha256 header ({client}) does not match what was computed ({computed})")]
    XAmzContentSha256Mismatch {
        /// What the client declared.
        client: String,
        /// What the server computed over the body.
        computed: String,
    },
    /// The session token has expired.
    #[error("the provided token has expired; get new temporary credentials")]
    ExpiredToken,
    /// The session token does not match the one on record.
    #[error("the provided session token is malformed or otherwise invalid")]
    InvalidToken,
    /// An aws-chunked body ended early or is malformed.
    #[error("aws-chunked body: {0}")]
    IncompleteBody(String),
    /// An aws-chunked chunk is larger than allowed, or a non-final chunk too small.
    #[error("aws-chunked body: {0}")]
    InvalidChunkSize(String),
    /// The body (or a chunk) is larger than the server accepts.
    #[error("the request body is larger than the allowed {max} bytes")]
    EntityTooLarge {
        /// The limit, in bytes.
        max: u64,
    },
    /// A POST form is not a valid multipart form with the needed fields.
    #[error("malformed POST form: {0}")]
    MalformedPostRequest(String),
    /// The POST policy document cannot be decoded.
    #[error("invalid POST policy document: {0}")]
    InvalidPolicyDocument(String),
    /// A POST form violates its policy (expired, or a condition failed).
    #[error("invalid according to policy: {0}")]
    PolicyViolation(String),
    /// The secret store failed (not the client's fault).
    #[error("the secret store failed: {0}")]
    Store(String),
}

impl VerifyError {
    /// The S3 error code, such as `SignatureDoesNotMatch`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingAuthentication
            | Self::HeadersNotSigned(_)
            | Self::AccessDenied(_)
            | Self::RequestExpired { .. }
            | Self::RequestNotYetValid { .. }
            | Self::PolicyViolation(_) => "AccessDenied",
            Self::AuthorizationHeaderMalformed { .. } => "AuthorizationHeaderMalformed",
            Self::AuthorizationQueryParametersError(_) => "AuthorizationQueryParametersError",
            Self::InvalidRequest(_) => "InvalidRequest",
            Self::InvalidArgument(_) => "InvalidArgument",
            Self::MissingSecurityHeader(_) => "MissingSecurityHeader",
            Self::RequestTimeTooSkewed { .. } => "RequestTimeTooSkewed",
            Self::InvalidAccessKeyId(_) => "InvalidAccessKeyId",
            Self::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
            Self::XAmzContentSha256Mismatch { .. } => "XAmzContentSHA256Mismatch",
            Self::ExpiredToken => "ExpiredToken",
            Self::InvalidToken => "InvalidToken",
            Self::IncompleteBody(_) => "IncompleteBody",
            Self::InvalidChunkSize(_) => "InvalidChunkSizeError",
            Self::EntityTooLarge { .. } => "EntityTooLarge",
            Self::MalformedPostRequest(_) => "MalformedPOSTRequest",
            Self::InvalidPolicyDocument(_) => "InvalidPolicyDocument",
            Self::Store(_) => "InternalError",
        }
    }

    /// The HTTP status S3 answers with.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            Self::MissingAuthentication
            | Self::HeadersNotSigned(_)
            | Self::AccessDenied(_)
            | Self::RequestExpired { .. }
            | Self::RequestNotYetValid { .. }
            | Self::PolicyViolation(_)
            | Self::RequestTimeTooSkewed { .. }
            | Self::InvalidAccessKeyId(_)
            | Self::SignatureDoesNotMatch(_) => S::FORBIDDEN,
            Self::Store(_) => S::INTERNAL_SERVER_ERROR,
            _ => S::BAD_REQUEST,
        }
    }

    /// The S3 `Message` text.
    pub fn message(&self) -> String {
        match self {
            Self::SignatureDoesNotMatch(_) => "The request signature we calculated does not match the signature you provided. Check your key and signing method.".into(),
            Self::RequestExpired { .. } => "Request has expired".into(),
            Self::RequestNotYetValid { .. } => "Request is not valid yet".into(),
            Self::RequestTimeTooSkewed { .. } => {
                "The difference between the request time and the current time is too large.".into()
            }
            Self::InvalidAccessKeyId(_) => {
                "The AWS Access Key Id you provided does not exist in our records.".into()
            }
            Self::HeadersNotSigned(_) => {
                "There were headers present in the request which were not signed".into()
            }
            Self::ExpiredToken => "The provided token has expired.".into(),
            other => {
                let mut s = other.to_string();
                if let Some(first) = s.get(..1) {
                    let up = first.to_ascii_uppercase();
                    s.replace_range(..1, &up);
                }
                s
            }
        }
    }

    /// The S3 XML error document for this error:
    /// `<Error><Code>..</Code><Message>..</Message>...</Error>`.
    /// `request_id`, when given, is added as `<RequestId>`.
    pub fn to_xml(&self, request_id: Option<&str>) -> String {
        let mut x = error_head(self.code(), &self.message());
        match self {
            Self::AuthorizationHeaderMalformed {
                expected_region: Some(r),
                ..
            } => field(&mut x, "Region", r),
            Self::RequestExpired {
                signed_at,
                expires_secs,
                server_time,
            } => {
                field(&mut x, "X-Amz-Expires", &expires_secs.to_string());
                field(&mut x, "Expires", signed_at);
                field(&mut x, "ServerTime", server_time);
            }
            Self::RequestTimeTooSkewed {
                request_time,
                server_time,
                max_skew_ms,
            } => {
                field(&mut x, "RequestTime", request_time);
                field(&mut x, "ServerTime", server_time);
                field(
                    &mut x,
                    "MaxAllowedSkewMilliseconds",
                    &max_skew_ms.to_string(),
                );
            }
            Self::InvalidAccessKeyId(akid) => field(&mut x, "AWSAccessKeyId", akid),
            Self::SignatureDoesNotMatch(Some(d)) => {
                field(&mut x, "AWSAccessKeyId", &d.access_key_id);
                field(&mut x, "StringToSign", &d.string_to_sign);
                field(&mut x, "SignatureProvided", &d.signature_provided);
                field(&mut x, "StringToSignBytes", &spaced_hex(&d.string_to_sign));
                field(&mut x, "CanonicalRequest", &d.canonical_request);
                field(
                    &mut x,
                    "CanonicalRequestBytes",
                    &spaced_hex(&d.canonical_request),
                );
            }
            Self::XAmzContentSha256Mismatch { client, computed } => {
                field(&mut x, "ClientComputedContentSHA256", client);
                field(&mut x, "S3ComputedContentSHA256", computed);
            }
            Self::HeadersNotSigned(h) => field(&mut x, "HeadersNotSigned", &h.join(", ")),
            _ => {}
        }
        if let Some(id) = request_id {
            field(&mut x, "RequestId", id);
        }
        x.push_str("</Error>");
        x
    }
}

/// An S3 XML error document with only a code and a message, for errors
/// that are not the verifier's (such as a proxy's upstream failures), so
/// they read like [`VerifyError::to_xml`]'s.
///
/// ```
/// let xml = sigv4_verify::error_xml("BadGateway", "upstream <down>");
/// assert!(xml.ends_with("<Error><Code>BadGateway</Code><Message>upstream &lt;down&gt;</Message></Error>"));
/// ```
pub fn error_xml(code: &str, message: &str) -> String {
    let mut x = error_head(code, message);
    x.push_str("</Error>");
    x
}

/// The XML declaration, `<Error>`, and its `Code` and `Message`.
fn error_head(code: &str, message: &str) -> String {
    let mut x = String::with_capacity(512);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
    field(&mut x, "Code", code);
    field(&mut x, "Message", message);
    x
}

fn spaced_hex(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for (i, b) in s.bytes().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn field(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, value);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// XML-escapes text content (and drops characters XML 1.0 cannot hold).
pub(crate) fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn skew_renders_the_s3_fields() {
        let e = VerifyError::RequestTimeTooSkewed {
            request_time: "20150830T123600Z".into(),
            server_time: "20150830T130000Z".into(),
            max_skew_ms: 900_000,
        };
        assert_eq!(e.code(), "RequestTimeTooSkewed");
        assert_eq!(e.status(), http::StatusCode::FORBIDDEN);
        let x = e.to_xml(Some("r1"));
        assert!(x.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed</Code>"
        ));
        assert!(x.contains("<RequestTime>20150830T123600Z</RequestTime><ServerTime>20150830T130000Z</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds><RequestId>r1</RequestId></Error>"));
    }

    #[test]
    fn xml_escapes_and_debug_fields_appear_only_when_present() {
        let e = VerifyError::SignatureDoesNotMatch(None);
        assert!(!e.to_xml(None).contains("StringToSign"));
        let e = VerifyError::SignatureDoesNotMatch(Some(Box::new(SignatureDebug {
            access_key_id: "AK".into(),
            string_to_sign: "A\nB".into(),
            signature_provided: "00".into(),
            canonical_request: "<x>&".into(),
        })));
        let x = e.to_xml(None);
        assert!(x.contains("<StringToSign>A&#10;B</StringToSign>"));
        assert!(x.contains("<StringToSignBytes>41 0a 42</StringToSignBytes>"));
        assert!(x.contains("<CanonicalRequest>&lt;x&gt;&amp;</CanonicalRequest>"));
        assert_eq!(e.code(), "SignatureDoesNotMatch");
    }

    #[test]
    fn expired_presign_is_access_denied_request_has_expired() {
        let e = VerifyError::RequestExpired {
            signed_at: "20150830T123600Z".into(),
            expires_secs: 60,
            server_time: "20150830T130000Z".into(),
        };
        assert_eq!(e.code(), "AccessDenied");
        assert!(e
            .to_xml(None)
            .contains("<Message>Request has expired</Message>"));
    }
}
