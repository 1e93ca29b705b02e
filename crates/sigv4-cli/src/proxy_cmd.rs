//! `sigv4 proxy`: a verifying, re-signing reverse proxy.
//!
//! Each incoming request is verified against the keys of `--keys` (the
//! `sigv4-verify` [`Verifier`]), stripped of its signature and hop-by-hop
//! headers, re-signed for the upstream with the proxy's own credentials
//! (`--access-key`/`--secret-key`, else the default chain) and forwarded.
//! Bodies stream both ways; memory stays bounded whatever their size:
//!
//! | client `x-amz-content-sha256` | verified by | forwarded as |
//! |---|---|---|
//! | 64 hex digits | headers at once, the body hash as it streams (the last frame is held back until the hash matched, so an upstream never sees a complete unverified body) | the same hash, signed |
//! | `UNSIGNED-PAYLOAD`, or a presigned S3 URL | headers at once | `UNSIGNED-PAYLOAD` |
//! | `STREAMING-*` (aws-chunked) | the tower layer, chunk by chunk | the decoded body, `UNSIGNED-PAYLOAD` |
//! | absent (curl) | the tower layer, buffering the body (up to `--max-buffered-body`) | the body's hash |
//!
//! Rejected requests get the verifier's S3 XML error and status and never
//! reach the upstream. Logs (stderr, `tracing`) carry method, path, access
//! key id, status and error code, never a secret or a signature.

use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::request::Parts;
use http::uri::{Authority, Scheme};
use http::{Request, Response, StatusCode, Uri};
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use sha2::{Digest, Sha256};
use sigv4_credentials::{
    CredentialsCache, DefaultChain, ProvideCredentials, ProviderConfig, StaticProvider,
};
use sigv4_sign::{
    AmzDate, PayloadHash, Region, Service, Settings, SignableRequest, Signer, SigningParams,
};
use sigv4_verify::tower::{error_response, xml_response, VerifiedBody, VerifyService};
use sigv4_verify::{Identity, PayloadMode, Policy, StaticSecretStore, Verifier, VerifyError};
use tracing::level_filters::LevelFilter;
use tracing::{debug, error, info, warn, Instrument};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Run a reverse proxy that verifies each request's SigV4 signature and
/// re-signs it for the upstream.
#[derive(clap::Args, Debug)]
pub struct ProxyArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port). The first
    /// line on stdout is `listening on ADDR`.
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Base URL of the upstream (`http://` or `https://`, optional path prefix).
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// JSON object mapping the clients' access key ids to their secrets
    /// (or to `{"secret_access_key": ..., "session_token": ...}`), as for `sigv4 verify`.
    #[arg(long, value_name = "KEYS.json")]
    pub keys: PathBuf,
    /// Accept only this region from clients and sign upstream requests for
    /// it (default: whatever region the client signed for).
    #[arg(long, value_name = "R")]
    pub region: Option<String>,
    /// Accept only this service from clients and sign upstream requests for
    /// it (default: whatever service the client signed for).
    #[arg(long, value_name = "S")]
    pub service: Option<String>,
    /// Seconds allowed to connect to the upstream.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// Seconds allowed for the upstream's response headers (the request
    /// body is sent meanwhile).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub upstream_timeout: u64,
    /// Largest body the proxy buffers to verify, for requests that carry no
    /// `x-amz-content-sha256` (curl --aws-sigv4); others stream.
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub max_buffered_body: usize,
    /// Answer unknown access keys with `SignatureDoesNotMatch`, as for a bad
    /// signature, instead of `InvalidAccessKeyId` (hides which keys exist).
    #[arg(long)]
    pub hide_unknown_keys: bool,
    /// Seconds to let open requests finish after SIGINT/SIGTERM.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub shutdown_grace: u64,
    /// Log level on stderr: off, error, warn, info, debug, trace.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: LevelFilter,
    // Last, so that its help heading covers only these three flags.
    // Credentials for signing upstream requests; KeyArgs' Debug hides the
    // secret and token.
    #[command(
        flatten,
        next_help_heading = "Upstream credentials (default: the default credential chain)"
    )]
    pub upstream_keys: crate::common::KeyArgs,
}

/// Runs `sigv4 proxy` until SIGINT/SIGTERM; returns the exit code (0 after a
/// graceful shutdown, 1 on a runtime failure, 2 on unusable arguments).
pub fn run(args: &ProxyArgs) -> u8 {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(args.log_level)
        .with_target(false)
        .with_ansi(false)
        .try_init();
    let config = match Config::from_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sigv4 proxy: {e}");
            return 2;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sigv4 proxy: cannot start the runtime: {e}");
            return 1;
        }
    };
    match rt.block_on(serve(args, config)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sigv4 proxy: {e}");
            1
        }
    }
}

/// Everything checked before the listener opens.
struct Config {
    verifier: Arc<Verifier>,
    upstream: Upstream,
    credentials: Arc<dyn ProvideCredentials>,
    region: Option<Region>,
    service: Option<Service>,
}

impl Config {
    fn from_args(args: &ProxyArgs) -> Result<Self, String> {
        let upstream = Upstream::parse(&args.upstream)?;
        let region = args
            .region
            .as_deref()
            .map(|r| Region::new(r.to_owned()).map_err(|e| format!("--region {r:?}: {e}")))
            .transpose()?;
        let service = args
            .service
            .as_deref()
            .map(|s| Service::new(s.to_owned()).map_err(|e| format!("--service {s:?}: {e}")))
            .transpose()?;
        let mut store = StaticSecretStore::new();
        for c in crate::keys::load_keys(&args.keys)? {
            store.insert(c);
        }
        if store.is_empty() {
            return Err(format!("keys file {} holds no keys", args.keys.display()));
        }
        let mut policy = Policy::default()
            .with_max_body_size(args.max_buffered_body)
            .with_distinguish_unknown_key(!args.hide_unknown_keys);
        if let Some(r) = &region {
            policy = policy.with_allowed_regions([r.as_str()]);
        }
        if let Some(s) = &service {
            policy = policy.with_allowed_services([s.as_str()]);
        }
        let verifier = Arc::new(Verifier::new(store).with_policy(policy));
        let credentials: Arc<dyn ProvideCredentials> = match args.upstream_keys.explicit() {
            Some(creds) => Arc::new(StaticProvider::new(creds)),
            None => Arc::new(CredentialsCache::new(DefaultChain::new(
                &ProviderConfig::from_process(),
            ))),
        };
        Ok(Self {
            verifier,
            upstream,
            credentials,
            region,
            service,
        })
    }
}

/// The upstream base URL, split once.
#[derive(Clone, Debug)]
struct Upstream {
    scheme: Scheme,
    authority: Authority,
    host: HeaderValue,
    /// Path prefix without a trailing `/` (often empty).
    prefix: String,
}

impl Upstream {
    fn parse(s: &str) -> Result<Self, String> {
        let uri: Uri = s
            .parse()
            .map_err(|e| format!("--upstream {s:?} is not a URL: {e}"))?;
        let scheme = match uri.scheme_str() {
            Some("http") => Scheme::HTTP,
            Some("https") => Scheme::HTTPS,
            _ => return Err(format!("--upstream {s:?}: use an http:// or https:// URL")),
        };
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| format!("--upstream {s:?} names no host"))?;
        if uri.query().is_some() {
            return Err(format!("--upstream {s:?}: a query string is not allowed"));
        }
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|_| format!("--upstream {s:?}: the host is not a valid header value"))?;
        Ok(Self {
            scheme,
            authority,
            host,
            prefix: uri.path().trim_end_matches('/').to_owned(),
        })
    }
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.prefix)
    }
}

async fn serve(args: &ProxyArgs, config: Config) -> Result<(), String> {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(Duration::from_secs(args.connect_timeout)));
    http.set_nodelay(true);
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(|e| format!("cannot set up TLS for the upstream: {e}"))?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client = Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(https);

    match config.credentials.provide_credentials().await {
        Ok(c) => info!(
            access_key_id = c.access_key_id(),
            from = %c.provider_name(),
            "upstream credentials loaded"
        ),
        Err(e) => {
            warn!(error = %e, "no upstream credentials yet; requests will fail until some are found")
        }
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {local}");
        let _ = out.flush();
    }
    info!(listen = %local, upstream = %config.upstream, "proxy started");

    let proxy = Arc::new(Proxy {
        verifier: config.verifier,
        forward: Forward(Arc::new(ForwardInner {
            client,
            upstream: config.upstream,
            credentials: config.credentials,
            region: config.region,
            service: config.service,
            signer: Signer::new(),
            response_timeout: Duration::from_secs(args.upstream_timeout),
        })),
        next_id: AtomicU64::new(1),
    });

    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let proxy = Arc::clone(&proxy);
                    let svc = hyper::service::service_fn(move |req| {
                        Arc::clone(&proxy).handle(req, peer)
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(30))
                        .serve_connection(TokioIo::new(stream), svc);
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    info!("shutting down: no new connections, waiting for open requests");
    tokio::select! {
        () = graceful.shutdown() => info!("all connections closed"),
        () = tokio::time::sleep(Duration::from_secs(args.shutdown_grace)) => {
            warn!(grace_secs = args.shutdown_grace, "grace period over; dropping open connections");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => info!(signal = "SIGINT", "signal received"),
        () = term => info!(signal = "SIGTERM", "signal received"),
    }
}

/// The proxy's state shared by all connections.
struct Proxy {
    verifier: Arc<Verifier>,
    forward: Forward,
    next_id: AtomicU64,
}

impl Proxy {
    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> Result<Response<ProxyBody>, Infallible> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        // The path only: a presigned query carries credentials and a token.
        let span = tracing::info_span!(
            "request",
            id,
            %peer,
            method = %req.method(),
            path = %req.uri().path(),
            payload = payload_kind(&req),
            access_key_id = tracing::field::Empty,
        );
        async move {
            let started = Instant::now();
            let res = self.dispatch(req).await;
            info!(
                status = res.status().as_u16(),
                elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "done"
            );
            Ok(res)
        }
        .instrument(span)
        .await
    }

    async fn dispatch(&self, req: Request<Incoming>) -> Response<ProxyBody> {
        let content_sha = req.headers().get("x-amz-content-sha256");
        let streams = match content_sha {
            Some(v) => !v.as_bytes().starts_with(b"STREAMING-"),
            None => is_presigned(req.uri()),
        };
        if streams {
            return self.verify_streaming(req).await;
        }
        // aws-chunked (verified chunk by chunk as it streams) and requests
        // without a declared hash (buffered, bounded): the verifier's layer.
        let mut svc = VerifyService::new(self.forward.clone(), Arc::clone(&self.verifier));
        let res = match tower_service::Service::call(&mut svc, req).await {
            Ok(res) => res,
            Err(never) => match never {},
        };
        if res.extensions().get::<Forwarded>().is_none() {
            warn!(status = res.status().as_u16(), "rejected by the verifier");
        }
        res
    }

    /// Headers verified now; a declared body hash checked as the body streams.
    async fn verify_streaming(&self, req: Request<Incoming>) -> Response<ProxyBody> {
        let (mut parts, body) = req.into_parts();
        let verified = {
            let view = SignableRequest::from_http_parts(&parts);
            self.verifier.verify(&view, None).await
        };
        let verified = match verified {
            Ok(v) => v,
            Err(e) => return reject(&e),
        };
        let slot = Arc::new(OnceLock::new());
        let (body, payload) = match verified.payload {
            PayloadMode::Sha256(h) => (
                GuardedBody::new(body, Some(h.clone()), true, Arc::clone(&slot)),
                UpstreamPayload::Sha256(h),
            ),
            PayloadMode::Unsigned => (
                GuardedBody::new(body, None, false, Arc::clone(&slot)),
                UpstreamPayload::Unsigned,
            ),
            _ => {
                return reject(&VerifyError::InvalidRequest(
                    "an aws-chunked payload needs `x-amz-content-sha256: STREAMING-...`".into(),
                ))
            }
        };
        parts.extensions.insert(verified.identity);
        self.forward
            .send(parts, ProxyBody::new(body), payload, &slot)
            .await
    }
}

/// How the client covered the body, for the logs.
fn payload_kind<B>(req: &Request<B>) -> &'static str {
    match req
        .headers()
        .get("x-amz-content-sha256")
        .map(HeaderValue::as_bytes)
    {
        Some(b"UNSIGNED-PAYLOAD") => "unsigned",
        Some(v) if v.starts_with(b"STREAMING-") => "aws-chunked",
        Some(_) => "sha256",
        None if is_presigned(req.uri()) => "presigned",
        None => "buffered",
    }
}

/// Whether the query carries a presigned-URL signature.
fn is_presigned(uri: &Uri) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&').any(|p| {
            p.split('=')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case("X-Amz-Signature"))
        })
    })
}

fn reject(e: &VerifyError) -> Response<ProxyBody> {
    warn!(code = e.code(), status = e.status().as_u16(), reason = %e, "rejected");
    error_response(e)
}

/// An S3-style XML error produced by the proxy itself (not the verifier).
fn proxy_error(status: StatusCode, code: &str, message: &str) -> Response<ProxyBody> {
    xml_response(status, sigv4_verify::error_xml(code, message))
}

/// Marks a response made past verification (for logging).
#[derive(Clone, Copy, Debug)]
struct Forwarded;

/// How the upstream request's payload is signed.
enum UpstreamPayload {
    /// The client's verified SHA-256 (hex), passed on.
    Sha256(String),
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
}

/// Re-signs and sends requests to the upstream; the inner service of the
/// verifier's tower layer.
#[derive(Clone)]
struct Forward(Arc<ForwardInner>);

struct ForwardInner {
    client: Client<HttpsConnector<HttpConnector>, ProxyBody>,
    upstream: Upstream,
    credentials: Arc<dyn ProvideCredentials>,
    region: Option<Region>,
    service: Option<Service>,
    signer: Signer,
    response_timeout: Duration,
}

impl tower_service::Service<Request<VerifiedBody>> for Forward {
    type Response = Response<ProxyBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ProxyBody>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<VerifiedBody>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let mut res = this.forward_verified(req).await;
            res.extensions_mut().insert(Forwarded);
            Ok(res)
        })
    }
}

impl Forward {
    /// The request the layer verified: decoded aws-chunked, or buffered.
    async fn forward_verified(&self, req: Request<VerifiedBody>) -> Response<ProxyBody> {
        let this = self;
        {
            let (mut parts, body) = req.into_parts();
            let slot = Arc::new(OnceLock::new());
            let chunked = parts
                .headers
                .get("x-amz-content-sha256")
                .is_some_and(|v| v.as_bytes().starts_with(b"STREAMING-"));
            if chunked {
                // Decoded by the layer as it streams: forward the payload itself.
                strip_aws_chunked(&mut parts.headers);
                let body = GuardedBody::new(body, None, true, Arc::clone(&slot));
                return this
                    .send(
                        parts,
                        ProxyBody::new(body),
                        UpstreamPayload::Unsigned,
                        &slot,
                    )
                    .await;
            }
            // No declared hash: the layer buffered (bounded) and checked the body.
            let bytes = match body.collect().await {
                Ok(c) => c.to_bytes(),
                Err(e) => {
                    return proxy_error(
                        StatusCode::BAD_REQUEST,
                        "IncompleteBody",
                        &format!("reading the request body failed: {e}"),
                    )
                }
            };
            let hash = hex::encode(Sha256::digest(&bytes));
            this.send(
                parts,
                ProxyBody::new(Full::new(bytes)),
                UpstreamPayload::Sha256(hash),
                &slot,
            )
            .await
        }
    }

    /// Rewrites `parts` for the upstream, signs, sends and relays the response.
    /// `slot` receives a verification failure of the streamed body; it wins
    /// over whatever the upstream said.
    async fn send(
        &self,
        mut parts: Parts,
        body: ProxyBody,
        payload: UpstreamPayload,
        slot: &OnceLock<VerifyError>,
    ) -> Response<ProxyBody> {
        let f = &*self.0;
        let Some(identity) = parts.extensions.get::<Identity>().cloned() else {
            return proxy_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "verified request without an identity",
            );
        };
        tracing::Span::current().record("access_key_id", identity.access_key_id.as_str());
        debug!(scope = %identity.scope, "verified");
        if let Err(msg) = rewrite_for_upstream(&mut parts, &f.upstream) {
            return proxy_error(StatusCode::BAD_REQUEST, "InvalidURI", &msg);
        }
        let creds = match f.credentials.provide_credentials().await {
            Ok(c) => c,
            Err(e) => {
                error!(error = %e, "no credentials for the upstream");
                return proxy_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalError",
                    "the proxy has no credentials for the upstream",
                );
            }
        };
        let region = f
            .region
            .clone()
            .unwrap_or_else(|| identity.scope.region().clone());
        let service = f
            .service
            .clone()
            .unwrap_or_else(|| identity.scope.service().clone());
        let signed = AmzDate::from_system_time(SystemTime::now()).and_then(|time| {
            let view = SignableRequest::from_http_parts(&parts);
            let params = SigningParams::new(&creds, &region, &service, time)
                .with_settings(Settings::for_service(&service));
            let hash = match &payload {
                UpstreamPayload::Sha256(h) => PayloadHash::Precomputed(h),
                UpstreamPayload::Unsigned => PayloadHash::Unsigned,
            };
            f.signer.sign(&view, hash, &params)
        });
        let mut req = Request::from_parts(parts, body);
        if let Err(e) = signed.and_then(|out| out.apply_to(&mut req)) {
            error!(error = %e, "signing the upstream request failed");
            return proxy_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "signing the upstream request failed",
            );
        }
        for name in [header::AUTHORIZATION.as_str(), "x-amz-security-token"] {
            if let Some(v) = req.headers_mut().get_mut(name) {
                v.set_sensitive(true);
            }
        }
        let sent = tokio::time::timeout(f.response_timeout, f.client.request(req)).await;
        if let Some(e) = slot.get() {
            return reject(e);
        }
        match sent {
            Err(_) => {
                warn!(
                    timeout_secs = f.response_timeout.as_secs(),
                    "upstream timed out"
                );
                proxy_error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "GatewayTimeout",
                    "the upstream did not answer in time",
                )
            }
            Ok(Err(e)) => {
                warn!(error = %error_chain(&e), "upstream request failed");
                proxy_error(
                    StatusCode::BAD_GATEWAY,
                    "BadGateway",
                    "the upstream could not be reached or failed mid-request",
                )
            }
            Ok(Ok(res)) => {
                let (mut p, b) = res.into_parts();
                remove_hop_by_hop(&mut p.headers);
                debug!(upstream_status = p.status.as_u16(), "upstream answered");
                Response::from_parts(p, ProxyBody::new(b))
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Query parameters of a presigned URL, dropped before re-signing.
const PRESIGN_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "X-Amz-Content-Sha256",
];

/// Headers of the client's signature, replaced by the proxy's.
const CLIENT_AUTH_HEADERS: &[&str] = &[
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "expect",
];

/// Points the request at the upstream: URI, `Host`, and no client signature
/// or hop-by-hop headers.
fn rewrite_for_upstream(parts: &mut Parts, up: &Upstream) -> Result<(), String> {
    let path = parts.uri.path();
    let mut pq = String::with_capacity(up.prefix.len() + path.len() + 64);
    pq.push_str(&up.prefix);
    pq.push_str(if path.is_empty() { "/" } else { path });
    if let Some(q) = parts.uri.query() {
        let mut first = true;
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let name = pair.split('=').next().unwrap_or(pair);
            if PRESIGN_PARAMS.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                continue;
            }
            pq.push(if first { '?' } else { '&' });
            pq.push_str(pair);
            first = false;
        }
    }
    parts.uri = Uri::builder()
        .scheme(up.scheme.clone())
        .authority(up.authority.clone())
        .path_and_query(pq)
        .build()
        .map_err(|e| format!("the upstream URI cannot be built: {e}"))?;
    parts.version = http::Version::HTTP_11;
    remove_hop_by_hop(&mut parts.headers);
    for name in CLIENT_AUTH_HEADERS {
        parts.headers.remove(*name);
    }
    parts.headers.insert(header::HOST, up.host.clone());
    Ok(())
}

/// Removes the hop-by-hop headers (RFC 9110 7.6.1), including those the
/// `Connection` header names.
fn remove_hop_by_hop(h: &mut HeaderMap) {
    let named: Vec<HeaderName> = h
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        h.remove(n);
    }
    for n in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        h.remove(n);
    }
}

/// An aws-chunked request, decoded: drop the framing headers, and send the
/// decoded length as `Content-Length`.
fn strip_aws_chunked(h: &mut HeaderMap) {
    let decoded = h
        .get("x-amz-decoded-content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let encodings: Vec<String> = h
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
        .map(str::to_owned)
        .collect();
    h.remove(header::CONTENT_ENCODING);
    if !encodings.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&encodings.join(", ")) {
            h.insert(header::CONTENT_ENCODING, v);
        }
    }
    h.remove("x-amz-decoded-content-length");
    h.remove("x-amz-trailer");
    h.remove(header::CONTENT_LENGTH);
    if let Some(n) = decoded {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
    }
}

/// The body type sent both ways: a boxed stream of bytes.
pub struct ProxyBody(UnsyncBoxBody<Bytes, BoxError>);

impl ProxyBody {
    fn new<B>(b: B) -> Self
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self(b.map_err(Into::into).boxed_unsync())
    }
}

impl From<String> for ProxyBody {
    fn from(s: String) -> Self {
        Self::new(Full::new(Bytes::from(s)))
    }
}

impl Body for ProxyBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

/// Wraps a client body on its way upstream:
/// - with a declared SHA-256, hashes what passes and, at the end, compares;
/// - with `hold_back`, keeps the latest frame until the body ended cleanly
///   (and its hash matched), so a failed check leaves the upstream with an
///   incomplete body, never a complete unverified one;
/// - records the first [`VerifyError`] (a hash mismatch here, a bad chunk
///   from the layer's [`VerifiedBody`]) in `slot` for the response.
struct GuardedBody<B> {
    inner: B,
    hash: Option<(Sha256, String)>,
    hold_back: bool,
    held: Option<Bytes>,
    done: bool,
    slot: Arc<OnceLock<VerifyError>>,
}

impl<B> GuardedBody<B> {
    fn new(
        inner: B,
        expected: Option<String>,
        hold_back: bool,
        slot: Arc<OnceLock<VerifyError>>,
    ) -> Self {
        Self {
            inner,
            hash: expected.map(|h| (Sha256::new(), h)),
            hold_back,
            held: None,
            done: false,
            slot,
        }
    }

    fn fail(&mut self, e: VerifyError) -> BoxError {
        self.held = None;
        let msg: BoxError = format!("{}: {e}", e.code()).into();
        let _ = self.slot.set(e);
        msg
    }
}

impl<B> Body for GuardedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(this.held.take().map(|b| Ok(Frame::data(b))));
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(frame))) => {
                    // Trailers (checksums of aws-chunked) are not forwarded.
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    if data.is_empty() {
                        continue;
                    }
                    if let Some((h, _)) = &mut this.hash {
                        h.update(&data);
                    }
                    if !this.hold_back {
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    if let Some(prev) = this.held.replace(data) {
                        return Poll::Ready(Some(Ok(Frame::data(prev))));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.done = true;
                    let e: BoxError = e.into();
                    let e = match e.downcast::<VerifyError>() {
                        Ok(v) => this.fail(*v),
                        Err(e) => {
                            this.held = None;
                            e
                        }
                    };
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    this.done = true;
                    if let Some((h, expected)) = this.hash.take() {
                        let computed = hex::encode(h.finalize());
                        if computed != expected {
                            let e = this.fail(VerifyError::XAmzContentSha256Mismatch {
                                client: expected,
                                computed,
                            });
                            return Poll::Ready(Some(Err(e)));
                        }
                    }
                    return Poll::Ready(this.held.take().map(|b| Ok(Frame::data(b))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.held.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        let held = self.held.as_ref().map_or(0, |b| b.len() as u64);
        let inner = if self.done {
            SizeHint::with_exact(0)
        } else {
            self.inner.size_hint()
        };
        let mut s = SizeHint::new();
        s.set_lower(inner.lower().saturating_add(held));
        if let Some(u) = inner.upper() {
            s.set_upper(u.saturating_add(held));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presign_params_are_dropped_and_host_rewritten() {
        let req = Request::builder()
            .uri("/b/k?versionId=3&X-Amz-Signature=abc&X-Amz-Credential=x%2Fy&list-type=2")
            .header("host", "127.0.0.1:1")
            .header("connection", "keep-alive, x-hop")
            .header("x-hop", "1")
            .header("authorization", "AWS4-HMAC-SHA256 ...")
            .header("x-amz-meta-a", "b")
            .body(())
            .map_err(|e| e.to_string());
        let Ok(req) = req else {
            panic!("request builds");
        };
        let (mut parts, ()) = req.into_parts();
        let Ok(up) = Upstream::parse("http://127.0.0.1:9000/prefix/") else {
            panic!("upstream parses");
        };
        assert!(rewrite_for_upstream(&mut parts, &up).is_ok());
        assert_eq!(
            parts.uri.to_string(),
            "http://127.0.0.1:9000/prefix/b/k?versionId=3&list-type=2"
        );
        assert_eq!(parts.headers["host"], "127.0.0.1:9000");
        assert!(parts.headers.get("x-hop").is_none());
        assert!(parts.headers.get("connection").is_none());
        assert!(parts.headers.get("authorization").is_none());
        assert_eq!(parts.headers["x-amz-meta-a"], "b");
    }

    #[test]
    fn aws_chunked_headers_become_plain() {
        let mut h = HeaderMap::new();
        h.insert(
            "content-encoding",
            HeaderValue::from_static("aws-chunked,gzip"),
        );
        h.insert(
            "x-amz-decoded-content-length",
            HeaderValue::from_static("10"),
        );
        h.insert("content-length", HeaderValue::from_static("200"));
        h.insert(
            "x-amz-trailer",
            HeaderValue::from_static("x-amz-checksum-crc32"),
        );
        strip_aws_chunked(&mut h);
        assert_eq!(h["content-encoding"], "gzip");
        assert_eq!(h["content-length"], "10");
        assert!(h.get("x-amz-decoded-content-length").is_none());
        assert!(h.get("x-amz-trailer").is_none());
    }

    #[test]
    fn upstream_urls_are_checked() {
        assert!(Upstream::parse("ftp://x").is_err());
        assert!(Upstream::parse("http://x/?a=b").is_err());
        assert!(Upstream::parse("/relative").is_err());
        assert!(Upstream::parse("https://s3.amazonaws.com").is_ok());
    }
}
