//! [`ResponseFuture`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The response future of [`super::VerifyService`]: verification (which may
/// buffer the body and look up a secret), then the inner service.
pub struct ResponseFuture<T> {
    inner: Pin<Box<dyn Future<Output = T> + Send>>,
}

impl<T> ResponseFuture<T> {
    pub(crate) fn new(f: impl Future<Output = T> + Send + 'static) -> Self {
        Self { inner: Box::pin(f) }
    }
}

impl<T> std::fmt::Debug for ResponseFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseFuture")
    }
}

impl<T> Future for ResponseFuture<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        self.inner.as_mut().poll(cx)
    }
}
