//! Tower integration (feature `tower`): [`VerifyLayer`] wraps any service so
//! that every request is verified before it reaches it.
//!
//! - Bodies are buffered up to [`crate::Policy::max_body_size`] and their
//!   hash checked, except aws-chunked bodies, which stream through a
//!   [`crate::ChunkedDecoder`]: the inner service reads only verified data,
//!   and a bad chunk ends the body with an error.
//! - Failures are answered with the S3 XML error document and its status.
//! - The signer's [`crate::Identity`] is put into the request extensions.
//!
//! ```no_run
//! # async fn doc() {
//! use std::sync::Arc;
//! use sigv4_verify::{StaticSecretStore, Verifier, Identity};
//! use sigv4_verify::tower::VerifyLayer;
//! let verifier = Arc::new(Verifier::new(StaticSecretStore::new().with_key("AKID", "secret")));
//! let app: axum::Router = axum::Router::new()
//!     .route("/{*key}", axum::routing::get(|id: axum::Extension<Identity>| async move { id.access_key_id.clone() }))
//!     .layer(VerifyLayer::new(verifier));
//! # let _ = app;
//! # }
//! ```

mod body;
mod future;
mod layer;
mod service;

pub use body::VerifiedBody;
pub use future::ResponseFuture;
pub use layer::VerifyLayer;
pub use service::{error_response, xml_response, VerifyService};
