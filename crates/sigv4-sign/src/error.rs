//! The one error type of this crate.

use thiserror::Error;

/// Why a request could not be signed.
///
/// Every variant names the offending part of the input. None of them ever
/// carries a secret, a session token or a header value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SigningError {
    /// Neither a `Host` header nor an absolute URI gives the host to sign.
    #[error(
        "the request has no host: add a `Host` header or sign an absolute URI (https://host/path)"
    )]
    MissingHost,
    /// The HTTP method is empty or holds characters a method cannot hold.
    #[error(
        "invalid HTTP method {0:?}: a method is one or more token characters, such as GET or PUT"
    )]
    InvalidMethod(String),
    /// The request URI cannot be signed.
    #[error("invalid request URI: {0}")]
    InvalidUri(String),
    /// A header name is not an HTTP token.
    #[error("invalid header name {0:?}: a header name is one or more token characters (letters, digits, !#$%&'*+-.^_`|~)")]
    InvalidHeaderName(String),
    /// A header value holds bytes HTTP forbids (NUL, a bare CR or LF, other control characters).
    #[error("header `{name}` has a value HTTP forbids: {reason}")]
    InvalidHeaderValue {
        /// The header's name, as given.
        name: String,
        /// What is wrong with the value.
        reason: &'static str,
    },
    /// The presigned URL lifetime is outside 1 s ..= 7 days.
    #[error("presign expiry of {seconds} s is out of range: X-Amz-Expires must be from 1 to 604800 (7 days)")]
    InvalidExpiry {
        /// The lifetime asked for, in seconds.
        seconds: u64,
    },
    /// The signing time cannot be represented (before 1970 or after 9999).
    #[error("invalid signing time: {0}")]
    InvalidTime(String),
    /// A region name is empty or holds characters a region cannot hold.
    #[error("invalid region {0:?}: expected a name such as us-east-1 (letters, digits, '-', '_', '.', '*')")]
    InvalidRegion(String),
    /// A service name is empty or holds characters a service cannot hold.
    #[error("invalid service {0:?}: expected a signing name such as s3 or execute-api (letters, digits, '-', '_', '.')")]
    InvalidService(String),
    /// A precomputed payload hash is not 64 hex digits.
    #[error("invalid precomputed payload hash {0:?}: expected 64 lowercase hex digits (SHA-256)")]
    InvalidPayloadHash(String),
    /// The access key id is empty or holds characters that break the credential scope.
    #[error("invalid access key id: it must be non-empty and hold no '/', whitespace or control characters")]
    InvalidAccessKeyId,
}
