//! [`VerifiedBody`]: what the inner service reads.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;

use crate::ChunkedDecoder;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

enum Inner {
    Buffered(Option<Bytes>),
    Chunked {
        body: UnsyncBoxBody<Bytes, BoxError>,
        decoder: Box<ChunkedDecoder>,
        done: bool,
    },
}

/// A request body whose signature has been (or, for aws-chunked, is being)
/// verified: buffered bytes whose hash matched, or an aws-chunked stream
/// decoded chunk by chunk, each chunk released only once its signature
/// verified. A bad chunk or a truncated stream ends the body with a
/// [`crate::VerifyError`].
pub struct VerifiedBody {
    inner: Inner,
}

impl std::fmt::Debug for VerifiedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::Buffered(b) => f
                .debug_struct("VerifiedBody::Buffered")
                .field("len", &b.as_ref().map_or(0, Bytes::len))
                .finish(),
            Inner::Chunked { decoder, .. } => f
                .debug_struct("VerifiedBody::Chunked")
                .field("decoder", decoder)
                .finish(),
        }
    }
}

impl VerifiedBody {
    pub(crate) fn buffered(b: Bytes) -> Self {
        Self {
            inner: Inner::Buffered(Some(b)),
        }
    }

    pub(crate) fn chunked(body: UnsyncBoxBody<Bytes, BoxError>, decoder: ChunkedDecoder) -> Self {
        Self {
            inner: Inner::Chunked {
                body,
                decoder: Box::new(decoder),
                done: false,
            },
        }
    }
}

impl Body for VerifiedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match &mut self.inner {
            Inner::Buffered(b) => Poll::Ready(
                b.take()
                    .filter(|b| !b.is_empty())
                    .map(|b| Ok(Frame::data(b))),
            ),
            Inner::Chunked {
                body,
                decoder,
                done,
            } => loop {
                if *done {
                    return Poll::Ready(None);
                }
                match Pin::new(&mut *body).poll_frame(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(None) => {
                        *done = true;
                        return match decoder.finish() {
                            Ok(()) => Poll::Ready(None),
                            Err(e) => Poll::Ready(Some(Err(Box::new(e)))),
                        };
                    }
                    Poll::Ready(Some(Err(e))) => {
                        *done = true;
                        return Poll::Ready(Some(Err(e)));
                    }
                    Poll::Ready(Some(Ok(frame))) => {
                        let Ok(data) = frame.into_data() else {
                            continue;
                        };
                        let mut out = Vec::new();
                        if let Err(e) = decoder.push(&data, &mut out) {
                            *done = true;
                            return Poll::Ready(Some(Err(Box::new(e) as BoxError)));
                        }
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                        }
                    }
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            Inner::Buffered(b) => b.as_ref().is_none_or(Bytes::is_empty),
            Inner::Chunked { done, .. } => *done,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.inner {
            Inner::Buffered(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Inner::Chunked { .. } => SizeHint::default(),
        }
    }
}
