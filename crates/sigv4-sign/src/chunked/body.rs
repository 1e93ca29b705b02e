//! [`AwsChunkedBody`]: any `http_body::Body` as a signed aws-chunked body
//! (feature `body`).
//!
//! A byte `Stream` becomes a `Body` with `http_body_util::StreamBody`.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

use super::{encoded_length, ChunkSigner, ChunkedError};

/// Why an [`AwsChunkedBody`] failed: the wrapped body failed, or the framing did.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AwsChunkedBodyError<E> {
    /// The wrapped body returned an error.
    #[error("the wrapped body failed: {0}")]
    Inner(#[source] E),
    /// Signing or framing failed.
    #[error(transparent)]
    Chunked(#[from] ChunkedError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Streaming,
    InnerDone,
    Finished,
}

/// Wraps a body and yields it aws-chunked: each `chunk_size` piece framed
/// and signed by a [`ChunkSigner`], then the final chunk and trailers.
///
/// Memory is bounded by one chunk plus one frame of the wrapped body: data
/// frames of at least a chunk are sliced without copying.
pub struct AwsChunkedBody<B> {
    inner: Pin<Box<B>>,
    signer: ChunkSigner,
    chunk_size: usize,
    buf: BytesMut,
    pending: VecDeque<Bytes>,
    state: State,
    started: bool,
}

impl<B> std::fmt::Debug for AwsChunkedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsChunkedBody")
            .field("signer", &self.signer)
            .field("chunk_size", &self.chunk_size)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<B> AwsChunkedBody<B>
where
    B: Body,
{
    /// Frames `inner` in chunks of `chunk_size` bytes (the last one shorter).
    pub fn new(inner: B, signer: ChunkSigner, chunk_size: usize) -> Result<Self, ChunkedError> {
        if chunk_size == 0 {
            return Err(ChunkedError::InvalidChunkSize);
        }
        Ok(Self {
            inner: Box::pin(inner),
            signer,
            chunk_size,
            buf: BytesMut::new(),
            pending: VecDeque::with_capacity(3),
            state: State::Streaming,
            started: false,
        })
    }

    fn emit(&mut self, data: Bytes) -> Result<(), ChunkedError> {
        let mut header = Vec::with_capacity(96);
        self.signer.write_chunk_header(&data, &mut header)?;
        self.pending.push_back(Bytes::from(header));
        self.pending.push_back(data);
        self.pending.push_back(Bytes::from_static(b"\r\n"));
        Ok(())
    }

    fn take_data(&mut self, mut data: Bytes) -> Result<(), ChunkedError> {
        while !data.is_empty() {
            if self.buf.is_empty() && data.len() >= self.chunk_size {
                let chunk = data.split_to(self.chunk_size);
                self.emit(chunk)?;
                continue;
            }
            if self.buf.capacity() < self.chunk_size {
                self.buf.reserve(self.chunk_size - self.buf.len());
            }
            let take = (self.chunk_size - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data.split_to(take));
            if self.buf.len() == self.chunk_size {
                let chunk = self.buf.split().freeze();
                self.emit(chunk)?;
            }
        }
        Ok(())
    }
}

impl<B> Body for AwsChunkedBody<B>
where
    B: Body,
{
    type Data = Bytes;
    type Error = AwsChunkedBodyError<B::Error>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        // Every field is Unpin (the inner body is boxed).
        let this = self.get_mut();
        this.started = true;
        loop {
            if let Some(b) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(Frame::data(b))));
            }
            match this.state {
                State::Finished => return Poll::Ready(None),
                State::InnerDone => {
                    if this.buf.is_empty() {
                        let mut tail = Vec::with_capacity(256);
                        this.signer.finish(&mut tail)?;
                        this.pending.push_back(Bytes::from(tail));
                        this.state = State::Finished;
                    } else {
                        let chunk = this.buf.split().freeze();
                        this.emit(chunk)?;
                    }
                }
                State::Streaming => match this.inner.as_mut().poll_frame(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(None) => this.state = State::InnerDone,
                    Poll::Ready(Some(Err(e))) => {
                        return Poll::Ready(Some(Err(AwsChunkedBodyError::Inner(e))))
                    }
                    Poll::Ready(Some(Ok(frame))) => {
                        // Trailers of the wrapped body are not forwarded: the
                        // aws-chunked trailer is the signer's.
                        if let Ok(mut data) = frame.into_data() {
                            let n = data.remaining();
                            let bytes = data.copy_to_bytes(n);
                            this.take_data(bytes)?;
                        }
                    }
                },
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.state == State::Finished && self.pending.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        // Exact only before the first frame: later the wrapped body's hint
        // no longer says how much was read.
        if self.started {
            return SizeHint::default();
        }
        match self.inner.size_hint().exact() {
            Some(n) => {
                let checksum = self
                    .signer
                    .checksum
                    .as_ref()
                    .map(super::Checksum::algorithm);
                SizeHint::with_exact(encoded_length(
                    n,
                    self.chunk_size,
                    self.signer.mode(),
                    checksum,
                ))
            }
            None => SizeHint::default(),
        }
    }
}
