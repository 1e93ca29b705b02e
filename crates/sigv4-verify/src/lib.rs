//! # sigv4-verify
//!
//! Server-side AWS Signature Version 4 verification: for S3-compatible
//! servers, proxies and anything that accepts SigV4-signed requests.
//!
//! A [`Verifier`] parses the signature (an `Authorization` header, a
//! presigned URL, an aws-chunked body, a browser POST form), checks it
//! against its [`Policy`] (clock skew, presign lifetime, scope, headers
//! that must be signed), recomputes it with the same canonical-request
//! code the signer uses ([`sigv4_sign::canonical`]) and compares in
//! constant time. Failures are typed [`VerifyError`]s that map to S3 error
//! codes, HTTP statuses and the S3 XML error document.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use sigv4_sign::SignableRequest;
//! use sigv4_verify::{FixedClock, StaticSecretStore, Verifier};
//!
//! let store = StaticSecretStore::new()
//!     .with_key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
//! // 2015-08-30T12:36:00Z, the time of the AWS test suite.
//! let verifier = Verifier::new(store)
//!     .with_clock(FixedClock(UNIX_EPOCH + Duration::from_secs(1_440_938_160)));
//! let headers = [
//!     ("Host", "example.amazonaws.com"),
//!     ("X-Amz-Date", "20150830T123600Z"),
//!     ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
//! ];
//! let req = SignableRequest::new("GET", "/", &headers).unwrap();
//! let ok = verifier.verify_with(&req, Some(b""), |_| None::<sigv4_sign::Credentials>);
//! assert_eq!(ok.unwrap_err().code(), "InvalidAccessKeyId");
//! ```
//!
//! ## Pieces
//!
//! - [`Verifier`]: `verify(request, body)` (async, looks the key up in a
//!   [`SecretStore`]) and `verify_with` (sync lookup).
//! - [`ChunkedDecoder`]: aws-chunked bodies verified chunk by chunk.
//! - [`post`]: browser-upload POST forms and their policy.
//! - [`AuthorizationHeader`], [`QueryAuth`]: the strict parsers.
//! - `tower` (feature): a layer that verifies every request.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tower` | no | [`tower::VerifyLayer`] and its service |
//! | `sigv4a` | no | SigV4a (`AWS4-ECDSA-P256-SHA256`) verification: header and presigned; the region set is checked against [`Policy::allowed_regions`] |

mod chunked;
mod clock;
mod error;
mod parse;
mod policy;
pub mod post;
mod store;
#[cfg(feature = "tower")]
pub mod tower;
#[cfg(feature = "sigv4a")]
mod v4a;
mod verifier;

pub use chunked::{encode_signed_chunks, ChunkMode, ChunkedDecoder};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{error_xml, SignatureDebug, VerifyError};
pub use parse::{AuthorizationHeader, QueryAuth};
pub use policy::Policy;
pub use store::{LookupFuture, SecretStore, StaticSecretStore, StoreError};
pub use verifier::{AuthLocation, Identity, PayloadMode, Verified, Verifier};
