//! # sigv4-sign
//!
//! Sans-IO AWS Signature Version 4: canonical requests, header signing and
//! presigned URLs, for S3 and every other AWS (or S3-compatible) service.
//! No async, no network, no HTTP client: hand it a borrowed view of a
//! request and it tells you what to add.
//!
//! ```
//! use std::time::Duration;
//! use sigv4_sign::{AmzDate, Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningParams};
//!
//! let signer = Signer::new(); // keep one: it caches signing keys
//! let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None);
//! let region = Region::new("us-east-1")?;
//! let s3 = Service::new("s3")?;
//! let params = SigningParams::new(&creds, &region, &s3, AmzDate::parse("20240101T000000Z")?);
//!
//! // Header signing: add these headers to the request you send.
//! let req = SignableRequest::new("GET", "https://bucket.s3.amazonaws.com/key.txt", &[])?;
//! let out = signer.sign(&req, PayloadHash::Body(b""), &params)?;
//! for (name, value) in out.params() {
//!     println!("{name}: {value}");
//! }
//!
//! // Presigning: a URL anyone can GET for an hour.
//! let url = "https://bucket.s3.amazonaws.com/key.txt";
//! let req = SignableRequest::new("GET", url, &[])?;
//! let out = signer.presign(&req, PayloadHash::Unsigned, &params, Duration::from_secs(3600))?;
//! println!("{url}?{}", out.query_string());
//! # Ok::<(), sigv4_sign::SigningError>(())
//! ```
//!
//! ## Pieces
//!
//! - [`Credentials`]: key pair and session token; the secret is zeroized and redacted.
//! - [`SignableRequest`]: method, target and headers, borrowed.
//! - [`Settings`]: the rules of a service ([`Settings::s3`] or the generic default).
//! - [`Signer`]: signs and presigns, caching [`SigningKey`]s per scope.
//! - [`canonical`]: the canonical request writer the verifier shares.
//! - [`raw`]: the raw request format of the AWS test suite and `sigv4 sign --raw`.
//! - [`post_policy`]: S3 browser-upload POST policies and form fields.
//! - [`chunked`]: aws-chunked streaming uploads (chunk-signature chain, framing, trailers).
//! - `sigv4a` (feature `sigv4a`): `AWS4-ECDSA-P256-SHA256` multi-region signing.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `http` | yes | [`SignableRequest::from_http`] and [`SigningOutput::apply_to`] for `http::Request` |
//! | `body` | no | `chunked::body::AwsChunkedBody`: any `http_body::Body` as a signed aws-chunked body |
//! | `sigv4a` | no | `sigv4a`: SigV4a signing with a derived ECDSA P-256 key |

pub mod canonical;
pub mod chunked;
mod credentials;
pub mod encode;
mod error;
mod key;
pub mod post_policy;
pub mod raw;
mod request;
mod scope;
mod settings;
mod sign;
#[cfg(feature = "sigv4a")]
pub mod sigv4a;

pub use credentials::Credentials;
pub use error::SigningError;
pub use key::{sha256_hex, SigningKey, SigningKeyCache};
pub use request::SignableRequest;
pub use scope::{AmzDate, CredentialScope, Region, Service};
pub use settings::{
    PayloadHash, SessionTokenPlacement, Settings, UriEncoding, DEFAULT_EXCLUDED_HEADERS,
    DEFAULT_SETTINGS, EMPTY_SHA256, S3_SETTINGS, STREAMING_SIGNED_PAYLOAD,
    STREAMING_SIGNED_PAYLOAD_TRAILER, STREAMING_UNSIGNED_PAYLOAD_TRAILER, UNSIGNED_PAYLOAD,
};
pub use sign::{
    presign, sign, DebugOutput, SignatureLocation, Signer, SigningOutput, SigningParams,
    MAX_PRESIGN_EXPIRY,
};
