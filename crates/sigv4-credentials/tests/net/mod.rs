//! In-process HTTP test servers (hyper 1) on 127.0.0.1 port 0, with fault
//! injection: any status, slow answers, bodies cut short, hanging.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::{Body, Frame};

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// What to answer.
pub enum Reply {
    /// Status and body.
    Status(u16, String),
    /// Wait, then answer.
    Slow(Duration, Box<Reply>),
    /// Declare `declared` bytes of body, send `sent`, then drop the connection.
    Truncated { sent: String, declared: usize },
    /// Never answer.
    Hang,
}

pub fn ok(body: impl Into<String>) -> Reply {
    Reply::Status(200, body.into())
}

pub struct Server {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<Req>>>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn requests(&self) -> Vec<Req> {
        self.log.lock().unwrap().clone()
    }
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }
}

struct Cut(Option<Bytes>);

impl Body for Cut {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.0.take() {
            Some(b) => Poll::Ready(Some(Ok(Frame::data(b)))),
            None => Poll::Ready(Some(Err(std::io::Error::other("cut short on purpose")))),
        }
    }
}

type Handler = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;

/// Serve `handler` on 127.0.0.1, port 0, until the runtime ends.
pub async fn serve(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let handler: Handler = Arc::new(handler);
    let log2 = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            let log = log2.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let handler = handler.clone();
                        let log = log.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let r = Req {
                                method: parts.method.to_string(),
                                path: parts.uri.to_string(),
                                headers: parts
                                    .headers
                                    .iter()
                                    .map(|(k, v)| {
                                        (
                                            k.to_string(),
                                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                        )
                                    })
                                    .collect(),
                                body: String::from_utf8_lossy(&body).into_owned(),
                            };
                            log.lock().unwrap().push(r.clone());
                            let mut reply = handler(&r);
                            loop {
                                match reply {
                                    Reply::Slow(d, inner) => {
                                        tokio::time::sleep(d).await;
                                        reply = *inner;
                                    }
                                    Reply::Hang => std::future::pending::<()>().await,
                                    Reply::Status(status, body) => {
                                        let body: BoxBody<Bytes, std::io::Error> =
                                            Full::new(Bytes::from(body))
                                                .map_err(|n: Infallible| match n {})
                                                .boxed();
                                        let resp = hyper::Response::builder()
                                            .status(status)
                                            .body(body)
                                            .unwrap();
                                        return Ok::<_, Infallible>(resp);
                                    }
                                    Reply::Truncated { sent, declared } => {
                                        let body: BoxBody<Bytes, std::io::Error> =
                                            BoxBody::new(Cut(Some(Bytes::from(sent))));
                                        let resp = hyper::Response::builder()
                                            .status(200)
                                            .header("content-length", declared.to_string())
                                            .body(body)
                                            .unwrap();
                                        return Ok(resp);
                                    }
                                }
                            }
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Server { addr, log }
}

/// A port that accepts connections and never answers.
pub async fn black_hole() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    addr
}

/// A port nothing listens on.
pub fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// RFC 3339 of now + `secs` (negative: past).
pub fn in_secs(secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(secs);
    t.replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// The JSON credentials IMDS and the container endpoint serve.
pub fn creds_json(akid: &str, expires_in: i64) -> String {
    format!(
        r#"{{"Code":"Success","LastUpdated":"{}","Type":"AWS-HMAC","AccessKeyId":"{akid}","SecretAccessKey":"SECRET-{akid}","Token":"TOKEN-{akid}","Expiration":"{}"}}"#,
        in_secs(0),
        in_secs(expires_in)
    )
}
