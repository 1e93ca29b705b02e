//! [`VerifyLayer`].

use std::sync::Arc;

use tower_layer::Layer;

use super::VerifyService;
use crate::Verifier;

/// A tower layer that verifies each request's SigV4 signature.
#[derive(Clone, Debug)]
pub struct VerifyLayer {
    verifier: Arc<Verifier>,
}

impl VerifyLayer {
    /// A layer verifying with `verifier`.
    pub fn new(verifier: Arc<Verifier>) -> Self {
        Self { verifier }
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = VerifyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyService::new(inner, Arc::clone(&self.verifier))
    }
}
