//! # sigv4-reqwest
//!
//! Signing wired into `reqwest` with one line: [`SigV4Middleware`] is a
//! [`reqwest_middleware::Middleware`] that signs each outgoing request with
//! AWS Signature Version 4, using credentials from any
//! [`ProvideCredentials`](sigv4_credentials::ProvideCredentials) (by default
//! the cached default chain: environment, then profile files).
//!
//! ```no_run
//! use sigv4_reqwest::SigV4Middleware;
//! use sigv4_sign::{Region, Service};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     // A retry middleware goes here, before the signer, so each attempt is re-signed.
//!     .with(SigV4Middleware::from_default_chain())
//!     .build();
//! // Region and service come from the host: s3 / us-west-2.
//! let resp = client
//!     .get("https://my-bucket.s3.us-west-2.amazonaws.com/hello.txt")
//!     .send()
//!     .await?;
//! println!("{}", resp.text().await?);
//!
//! // A custom S3-compatible endpoint names neither: say them.
//! let minio = SigV4Middleware::builder()
//!     .region(Region::new("us-east-1")?)
//!     .service(Service::new("s3")?)
//!     .build();
//! # let _ = minio;
//! # Ok(())
//! # }
//! ```
//!
//! - Region and service: explicit ([`Builder::region`], [`Builder::service`])
//!   beats what the host names ([`infer_scope`]), which beats the defaults
//!   (the region: `AWS_REGION` / `AWS_DEFAULT_REGION` / the profile's
//!   `region`, then [`Builder::default_region`]; the service:
//!   [`Builder::default_service`]).
//! - Bodies: buffered bodies are hashed into the signature; streaming bodies
//!   are sent as `UNSIGNED-PAYLOAD` (S3 accepts it).
//! - Retries: place the middleware *after* `reqwest_retry`'s
//!   `RetryTransientMiddleware`: every attempt then passes through it and is
//!   signed afresh.
//! - Errors: a [`SigV4Error`] inside `reqwest_middleware::Error::Middleware`
//!   ([`SigV4Error::from_middleware`] gets it back).
//! - Logging: at `debug` level (target `sigv4_reqwest`) the canonical
//!   request and string to sign of each request are logged, with session
//!   tokens redacted; the secret key and the signature headers never are.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rustls` | yes | reqwest's `rustls` TLS backend |

mod error;
mod host;
mod middleware;

pub use error::SigV4Error;
pub use host::{infer_scope, HostScope};
pub use middleware::{Builder, SigV4Middleware};
pub use reqwest_middleware;
