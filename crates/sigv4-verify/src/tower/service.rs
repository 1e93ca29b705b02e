//! [`VerifyService`].

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use sigv4_sign::SignableRequest;
use tower_service::Service;

use super::{ResponseFuture, VerifiedBody};
use crate::{Verifier, VerifyError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Verifies each request, then calls the inner service with a
/// [`VerifiedBody`] and the [`crate::Identity`] in the extensions; answers
/// failures itself with the S3 XML error and status.
#[derive(Clone, Debug)]
pub struct VerifyService<S> {
    inner: S,
    verifier: Arc<Verifier>,
}

impl<S> VerifyService<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, verifier: Arc<Verifier>) -> Self {
        Self { inner, verifier }
    }
}

/// The S3 XML error response for `e`.
pub fn error_response<B: From<String>>(e: &VerifyError) -> Response<B> {
    xml_response(e.status(), e.to_xml(None))
}

/// An `application/xml` response with `status`: for S3 error documents
/// such as [`crate::error_xml`]'s.
pub fn xml_response<B: From<String>>(status: http::StatusCode, xml: String) -> Response<B> {
    let mut res = Response::new(B::from(xml));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    res
}

fn is_chunked(parts: &http::request::Parts) -> bool {
    parts
        .headers
        .get("x-amz-content-sha256")
        .is_some_and(|v| v.as_bytes().starts_with(b"STREAMING-"))
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for VerifyService<S>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ReqBody: Body<Data = Bytes> + Send + 'static,
    ReqBody::Error: Into<BoxError>,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Result<Response<ResBody>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // The clone is ready-less; swap so the ready one is used (tower's pattern).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = Arc::clone(&self.verifier);
        ResponseFuture::new(async move {
            let (mut parts, body) = req.into_parts();
            let max = verifier.policy().max_body_size;
            let body = if is_chunked(&parts) {
                let verified = {
                    let view = SignableRequest::from_http_parts(&parts);
                    verifier.verify(&view, None).await
                };
                let verified = match verified {
                    Ok(v) => v,
                    Err(e) => return Ok(error_response(&e)),
                };
                let Some(decoder) = verified.chunked_decoder() else {
                    return Ok(error_response(&VerifyError::InvalidRequest(
                        "aws-chunked body without a streaming payload mode".into(),
                    )));
                };
                parts.extensions.insert(verified.identity);
                let boxed = body.map_err(Into::into).boxed_unsync();
                VerifiedBody::chunked(boxed, decoder)
            } else {
                // A body that is already over (a GET) needs no collecting.
                let collected = if body.is_end_stream() {
                    Ok(Bytes::new())
                } else {
                    Limited::new(body, max)
                        .collect()
                        .await
                        .map(|c| c.to_bytes())
                };
                let bytes = match collected {
                    Ok(b) => b,
                    Err(e) => {
                        let err = if e
                            .downcast_ref::<http_body_util::LengthLimitError>()
                            .is_some()
                        {
                            VerifyError::EntityTooLarge { max: max as u64 }
                        } else {
                            VerifyError::IncompleteBody(format!("reading the body failed: {e}"))
                        };
                        return Ok(error_response(&err));
                    }
                };
                let verified = {
                    let view = SignableRequest::from_http_parts(&parts);
                    verifier.verify(&view, Some(&bytes)).await
                };
                match verified {
                    Ok(v) => {
                        parts.extensions.insert(v.identity);
                        VerifiedBody::buffered(bytes)
                    }
                    Err(e) => return Ok(error_response(&e)),
                }
            };
            inner.call(Request::from_parts(parts, body)).await
        })
    }
}
