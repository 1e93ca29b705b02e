//! End-to-end tests of `sigv4 proxy`: the built binary runs in front of an
//! in-process upstream on 127.0.0.1 that verifies every request with its own
//! key (sigv4-verify) and records what it received. Clients sign with the
//! proxy's keys (sigv4-sign) and talk HTTP/1.1 through hyper.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a test failure

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use sha2::{Digest, Sha256};
use sigv4_sign::{
    AmzDate, Credentials, PayloadHash, Region, Service, Settings, SignableRequest, Signer,
    SigningParams,
};
use sigv4_verify::tower::error_response;
use sigv4_verify::{encode_signed_chunks, PayloadMode, StaticSecretStore, Verifier, VerifyError};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;
type ClientBody = BoxBody<Bytes, Infallible>;

const CLIENT_KEY: &str = "AKIDPROXYCLIENT";
const CLIENT_SECRET: &str = "proxy-client-secret/abc+def";
const UPSTREAM_KEY: &str = "AKIDUPSTREAM";
const UPSTREAM_SECRET: &str = "upstream-secret/xyz";
const MIB: u64 = 1 << 20;

// ---------------------------------------------------------------- bodies

/// A deterministic body of `len` bytes, produced 64 KiB at a time (never
/// held in memory whole).
struct PatternBody {
    offset: u64,
    len: u64,
}

fn pattern_byte(i: u64) -> u8 {
    // 251 is prime: the pattern does not line up with chunk sizes.
    u8::try_from((i % 251) ^ ((i >> 16) & 0x7f)).unwrap_or(0)
}

impl PatternBody {
    fn new(len: u64) -> Self {
        Self { offset: 0, len }
    }

    /// SHA-256 (hex) of the whole pattern, computed in chunks.
    fn sha256(len: u64) -> String {
        let mut h = Sha256::new();
        let mut body = Self::new(len);
        while let Some(chunk) = body.next_chunk() {
            h.update(&chunk);
        }
        hex::encode(h.finalize())
    }

    fn next_chunk(&mut self) -> Option<Bytes> {
        if self.offset >= self.len {
            return None;
        }
        let n = (self.len - self.offset).min(64 * 1024);
        let chunk: Vec<u8> = (self.offset..self.offset + n).map(pattern_byte).collect();
        self.offset += n;
        Some(Bytes::from(chunk))
    }
}

impl Body for PatternBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.next_chunk().map(|c| Ok(Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.offset >= self.len
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len - self.offset)
    }
}

fn full(b: impl Into<Bytes>) -> ClientBody {
    Full::new(b.into()).boxed()
}

// ---------------------------------------------------------------- upstream

/// What the upstream received, after it verified the request.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path_and_query: String,
    host: String,
    access_key_id: String,
    content_sha256: Option<String>,
    len: u64,
    sha256: String,
}

struct Upstream {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Requests that reached the upstream at all (verified or not).
    arrived: Arc<AtomicUsize>,
}

impl Upstream {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn arrived(&self) -> usize {
        self.arrived.load(Ordering::SeqCst)
    }
}

/// Starts the upstream: verifies with [`UPSTREAM_KEY`], reads the body as a
/// stream (hash and length), checks a declared hash, records, answers
/// `upstream ok LEN SHA256`. `GET /bucket/download-N` answers N bytes of
/// the pattern instead.
async fn start_upstream() -> TestResult<Upstream> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let verifier = Arc::new(Verifier::new(
        StaticSecretStore::new().with_key(UPSTREAM_KEY, UPSTREAM_SECRET),
    ));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let arrived = Arc::new(AtomicUsize::new(0));
    let (s, a) = (Arc::clone(&seen), Arc::clone(&arrived));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (verifier, seen, arrived) = (Arc::clone(&verifier), Arc::clone(&s), Arc::clone(&a));
            let svc = hyper::service::service_fn(move |req| {
                upstream_handle(
                    req,
                    Arc::clone(&verifier),
                    Arc::clone(&seen),
                    Arc::clone(&arrived),
                )
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc),
            );
        }
    });
    Ok(Upstream {
        addr,
        seen,
        arrived,
    })
}

async fn upstream_handle(
    req: Request<Incoming>,
    verifier: Arc<Verifier>,
    seen: Arc<Mutex<Vec<Seen>>>,
    arrived: Arc<AtomicUsize>,
) -> Result<Response<ClientBody>, Infallible> {
    arrived.fetch_add(1, Ordering::SeqCst);
    let (parts, mut body) = req.into_parts();
    let verified = {
        let view = SignableRequest::from_http_parts(&parts);
        verifier.verify(&view, None).await
    };
    let verified = match verified {
        Ok(v) => v,
        Err(e) => return Ok(error_response::<String>(&e).map(full)),
    };
    let mut hasher = Sha256::new();
    let mut len = 0u64;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(d) = f.into_data() {
                    hasher.update(&d);
                    len += d.len() as u64;
                }
            }
            Err(e) => {
                let e = VerifyError::IncompleteBody(e.to_string());
                return Ok(error_response::<String>(&e).map(full));
            }
        }
    }
    let sha256 = hex::encode(hasher.finalize());
    if let PayloadMode::Sha256(h) = &verified.payload {
        if *h != sha256 {
            let e = VerifyError::XAmzContentSha256Mismatch {
                client: h.clone(),
                computed: sha256,
            };
            return Ok(error_response::<String>(&e).map(full));
        }
    }
    let header = |n: &str| {
        parts
            .headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let record = Seen {
        method: parts.method.to_string(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map(ToString::to_string)
            .unwrap_or_default(),
        host: header("host").unwrap_or_default(),
        access_key_id: verified.identity.access_key_id.clone(),
        content_sha256: header("x-amz-content-sha256"),
        len,
        sha256: sha256.clone(),
    };
    if let Ok(mut s) = seen.lock() {
        s.push(record);
    }
    let download = parts
        .uri
        .path()
        .strip_prefix("/bucket/download-")
        .and_then(|n| n.parse::<u64>().ok());
    let res = match download {
        Some(n) => Response::new(PatternBody::new(n).boxed()),
        None => Response::new(full(format!("upstream ok {len} {sha256}"))),
    };
    Ok(res)
}

// ---------------------------------------------------------------- proxy process

/// The `sigv4 proxy` child process; killed on drop.
struct Proxy {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Peak resident memory (VmHWM) of the proxy, in bytes (Linux).
    fn peak_rss(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }
}

fn scratch_dir(name: &str) -> TestResult<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("proxy_cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Starts `sigv4 proxy --listen 127.0.0.1:0` with the client keys file, a
/// clean environment plus `env`, and `extra` arguments; waits for its
/// `listening on ADDR` line.
async fn start_proxy(
    name: &str,
    upstream: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> TestResult<Proxy> {
    let dir = scratch_dir(name)?;
    let keys = dir.join("keys.json");
    std::fs::write(
        &keys,
        serde_json::json!({ CLIENT_KEY: CLIENT_SECRET }).to_string(),
    )?;
    let log = dir.join("proxy.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sigv4"));
    cmd.args(["proxy", "--listen", "127.0.0.1:0", "--upstream", upstream])
        .arg("--keys")
        .arg(&keys)
        .args(extra)
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("HOME", &dir)
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log)?);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let first = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        }),
    )
    .await;
    let proxy = |addr| Proxy {
        child,
        addr,
        log: log.clone(),
    };
    let line = match first {
        Ok(Ok(Ok(line))) => line,
        _ => {
            let p = proxy(SocketAddr::from(([127, 0, 0, 1], 0)));
            return Err(format!("the proxy printed no address; its log:\n{}", p.log()).into());
        }
    };
    let Some(addr) = line.trim().strip_prefix("listening on ") else {
        let p = proxy(SocketAddr::from(([127, 0, 0, 1], 0)));
        return Err(format!("unexpected first line {line:?}; log:\n{}", p.log()).into());
    };
    let addr: SocketAddr = addr.parse()?;
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    Ok(proxy(addr))
}

// ---------------------------------------------------------------- client

fn client() -> Client<HttpConnector, ClientBody> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

/// How the test client signs the payload.
enum Payload<'a> {
    /// `x-amz-content-sha256: <hex>` (the hash given, whatever the body).
    Hash(&'a str),
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// No `x-amz-content-sha256` header; the hash of these bytes is signed (curl).
    Implicit(&'a [u8]),
}

/// A header-signed request to the proxy.
fn signed(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    payload: &Payload<'_>,
    (key, secret): (&str, &str),
    body: ClientBody,
) -> TestResult<Request<ClientBody>> {
    let mut b = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .header("host", addr.to_string());
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    let mut req = b.body(body)?;
    let creds = Credentials::new(key, secret, None);
    let (region, service) = (Region::new("us-east-1")?, Service::new("s3")?);
    let no_header = Settings::s3().with_content_sha256_header(false);
    let mut params = SigningParams::at_system_time(&creds, &region, &service, SystemTime::now())?;
    let hash = match payload {
        Payload::Hash(h) => PayloadHash::Precomputed(h),
        Payload::Unsigned => PayloadHash::Unsigned,
        Payload::Implicit(b) => {
            params = params.with_settings(&no_header);
            PayloadHash::Body(b)
        }
    };
    let out = Signer::new().sign(&SignableRequest::from_http(&req), hash, &params)?;
    out.apply_to(&mut req)?;
    Ok(req)
}

fn sha(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Sends `req`; returns the status and the whole response body as text.
async fn send(req: Request<ClientBody>) -> TestResult<(StatusCode, String)> {
    let res = client().request(req).await?;
    let status = res.status();
    let body = res.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

const GOOD: (&str, &str) = (CLIENT_KEY, CLIENT_SECRET);

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_verified_requests_resigned_and_rejects_the_rest() -> TestResult {
    let up = start_upstream().await?;
    let upstream_url = format!("http://{}", up.addr);
    let proxy = start_proxy(
        "main",
        &upstream_url,
        &[
            "--region",
            "us-east-1",
            "--service",
            "s3",
            "--access-key",
            UPSTREAM_KEY,
            "--secret-key",
            UPSTREAM_SECRET,
        ],
        &[],
    )
    .await?;
    let a = proxy.addr;

    // A hashed PUT: forwarded with the same hash, re-signed with the upstream key.
    let h = sha(b"hello");
    let req = signed(
        a,
        "PUT",
        "/bucket/key.txt",
        &[("content-type", "text/plain"), ("x-amz-meta-color", "blue")],
        &Payload::Hash(&h),
        GOOD,
        full("hello"),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::OK, "{body}\n{}", proxy.log());
    assert_eq!(body, format!("upstream ok 5 {h}"));
    let s = up.seen();
    let last = s.last().ok_or("upstream saw nothing")?;
    assert_eq!(
        (last.method.as_str(), last.path_and_query.as_str()),
        ("PUT", "/bucket/key.txt")
    );
    assert_eq!(last.access_key_id, UPSTREAM_KEY);
    assert_eq!(last.host, up.addr.to_string());
    assert_eq!(last.content_sha256.as_deref(), Some(h.as_str()));

    // An unsigned GET with a query: the query passes as sent.
    let req = signed(
        a,
        "GET",
        "/bucket?list-type=2&prefix=a%2Fb",
        &[],
        &Payload::Unsigned,
        GOOD,
        full(""),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let last = up.seen().pop().ok_or("upstream saw nothing")?;
    assert_eq!(last.path_and_query, "/bucket?list-type=2&prefix=a%2Fb");
    assert_eq!(last.content_sha256.as_deref(), Some("UNSIGNED-PAYLOAD"));

    // curl --aws-sigv4 style (no x-amz-content-sha256): buffered by the
    // verifier's layer, forwarded with the body's hash.
    let req = signed(
        a,
        "PUT",
        "/bucket/curl.txt",
        &[("content-type", "text/plain")],
        &Payload::Implicit(b"from curl"),
        GOOD,
        full("from curl"),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let last = up.seen().pop().ok_or("upstream saw nothing")?;
    assert_eq!(
        last.content_sha256.as_deref(),
        Some(sha(b"from curl").as_str())
    );
    assert_eq!(last.len, 9);

    // aws-chunked with chunk signatures: decoded by the layer as it streams.
    let data: Vec<u8> = (0..200_000u64).map(pattern_byte).collect();
    let chunked = chunked_request(a, "/bucket/chunked.bin", &data, CLIENT_SECRET)?;
    let (status, body) = send(chunked).await?;
    assert_eq!(status, StatusCode::OK, "{body}\n{}", proxy.log());
    let last = up.seen().pop().ok_or("upstream saw nothing")?;
    assert_eq!(
        (last.len, last.sha256.as_str()),
        (200_000, sha(&data).as_str())
    );
    assert_eq!(last.content_sha256.as_deref(), Some("UNSIGNED-PAYLOAD"));

    // A presigned GET: the X-Amz-* parameters are not forwarded.
    let url = presigned(a, "/bucket/key.txt")?;
    let req = Request::get(url)
        .header("host", a.to_string())
        .body(full(""))?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    let last = up.seen().pop().ok_or("upstream saw nothing")?;
    assert_eq!(last.path_and_query, "/bucket/key.txt");

    let forwarded = up.arrived();
    assert_eq!(forwarded, 5);

    // A wrong secret: 403 SignatureDoesNotMatch, from the proxy.
    let req = signed(
        a,
        "PUT",
        "/bucket/key.txt",
        &[],
        &Payload::Hash(&h),
        (CLIENT_KEY, "wrong"),
        full("hello"),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
    // ... also through the buffering layer path.
    let req = signed(
        a,
        "PUT",
        "/bucket/curl.txt",
        &[],
        &Payload::Implicit(b"x"),
        (CLIENT_KEY, "wrong"),
        full("x"),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
    // ... and the upstream's own key is no client key.
    let req = signed(
        a,
        "GET",
        "/bucket/key.txt",
        &[],
        &Payload::Unsigned,
        (UPSTREAM_KEY, UPSTREAM_SECRET),
        full(""),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("<Code>InvalidAccessKeyId</Code>"), "{body}");

    // An unknown key: InvalidAccessKeyId.
    let req = signed(
        a,
        "GET",
        "/bucket/key.txt",
        &[],
        &Payload::Unsigned,
        ("AKIDUNKNOWN", "x"),
        full(""),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("<Code>InvalidAccessKeyId</Code>"), "{body}");

    // A region the proxy does not serve.
    let (status, body) = send(signed_for_region(a, "eu-west-1")?).await?;
    assert!(status.is_client_error(), "{status} {body}");
    assert!(body.contains("<Code>"), "{body}");

    // Body tampered after signing: the declared hash is checked as the body
    // streams; the upstream never gets a complete body, the client gets 400.
    let req = signed(
        a,
        "PUT",
        "/bucket/tampered",
        &[],
        &Payload::Hash(&h),
        GOOD,
        full("jello"),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.contains("<Code>XAmzContentSHA256Mismatch</Code>"),
        "{body}"
    );

    // A bad chunk signature in an aws-chunked body.
    let bad = chunked_request(a, "/bucket/bad-chunk", &data, CLIENT_SECRET)?;
    let (parts, body) = bad.into_parts();
    let mut bytes = body.collect().await?.to_bytes().to_vec();
    // A hex digit inside the final chunk's signature (`...=<64 hex>\r\n\r\n`).
    let at = bytes.len() - 10;
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    let (status, body) = send(Request::from_parts(parts, full(bytes))).await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );

    tokio::time::sleep(Duration::from_millis(200)).await;
    let seen = up.seen();
    assert!(
        !seen.iter().any(
            |s| s.path_and_query.contains("tampered") || s.path_and_query.contains("bad-chunk")
        ),
        "a request failing verification completed upstream: {seen:?}"
    );
    assert_eq!(
        seen.len(),
        5,
        "only the five good requests completed upstream"
    );

    // Logs name keys and codes, never a secret.
    let log = proxy.log();
    assert!(log.contains("SignatureDoesNotMatch"), "{log}");
    for secret in [CLIENT_SECRET, UPSTREAM_SECRET] {
        assert!(!log.contains(secret), "a secret is in the log:\n{log}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_stream_through_in_bounded_memory() -> TestResult {
    let up = start_upstream().await?;
    let proxy = start_proxy(
        "large",
        &format!("http://{}", up.addr),
        &[
            "--access-key",
            UPSTREAM_KEY,
            "--secret-key",
            UPSTREAM_SECRET,
        ],
        &[],
    )
    .await?;
    let len = 50 * MIB;
    let h = PatternBody::sha256(len);
    let len_s = len.to_string();
    let headers = [
        ("content-length", len_s.as_str()),
        ("content-type", "application/octet-stream"),
    ];

    // Hashed: checked on the way, forwarded with its hash.
    let req = signed(
        proxy.addr,
        "PUT",
        "/bucket/big-hashed",
        &headers,
        &Payload::Hash(&h),
        GOOD,
        PatternBody::new(len).boxed(),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::OK, "{body}\n{}", proxy.log());
    assert_eq!(body, format!("upstream ok {len} {h}"));

    // Unsigned.
    let req = signed(
        proxy.addr,
        "PUT",
        "/bucket/big-unsigned",
        &headers,
        &Payload::Unsigned,
        GOOD,
        PatternBody::new(len).boxed(),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, format!("upstream ok {len} {h}"));

    // Download: the upstream's 50 MiB response streams back intact.
    let req = signed(
        proxy.addr,
        "GET",
        &format!("/bucket/download-{len}"),
        &[],
        &Payload::Unsigned,
        GOOD,
        full(""),
    )?;
    let res = client().request(req).await?;
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body();
    let (mut n, mut hasher) = (0u64, Sha256::new());
    while let Some(frame) = body.frame().await {
        if let Ok(d) = frame?.into_data() {
            n += d.len() as u64;
            hasher.update(&d);
        }
    }
    assert_eq!((n, hex::encode(hasher.finalize())), (len, h));

    let seen = up.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen[..2]
        .iter()
        .all(|s| s.len == len && s.sha256 == PatternBody::sha256(len)));

    if let Some(peak) = proxy.peak_rss() {
        eprintln!(
            "proxy peak RSS after 3 x 50 MiB: {:.1} MiB",
            peak as f64 / MIB as f64
        );
        assert!(peak < 64 * MIB, "the proxy buffered: peak RSS {peak} bytes");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_chain_credentials_hidden_keys_and_graceful_shutdown() -> TestResult {
    let up = start_upstream().await?;
    let mut proxy = start_proxy(
        "chain",
        &format!("http://{}", up.addr),
        &["--hide-unknown-keys"],
        &[
            ("AWS_ACCESS_KEY_ID", UPSTREAM_KEY),
            ("AWS_SECRET_ACCESS_KEY", UPSTREAM_SECRET),
        ],
    )
    .await?;
    let req = signed(
        proxy.addr,
        "GET",
        "/bucket/k",
        &[],
        &Payload::Unsigned,
        GOOD,
        full(""),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::OK, "{body}\n{}", proxy.log());
    assert_eq!(
        up.seen().pop().map(|s| s.access_key_id),
        Some(UPSTREAM_KEY.to_owned())
    );

    // With --hide-unknown-keys an unknown key looks like a bad signature.
    let req = signed(
        proxy.addr,
        "GET",
        "/bucket/k",
        &[],
        &Payload::Unsigned,
        ("AKIDUNKNOWN", "x"),
        full(""),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );

    // SIGTERM: exits 0, promptly.
    let pid = proxy.child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status()?;
    assert!(killed.success());
    let mut code = None;
    for _ in 0..100 {
        if let Some(status) = proxy.child.try_wait()? {
            code = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let code = code.ok_or("the proxy did not exit within 5 s of SIGTERM")?;
    assert!(code.success(), "{code:?}\n{}", proxy.log());
    let log = proxy.log();
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(!log.contains(UPSTREAM_SECRET), "{log}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_upstream_is_a_bad_gateway() -> TestResult {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let proxy = start_proxy(
        "down",
        &format!("http://127.0.0.1:{port}"),
        &[
            "--access-key",
            UPSTREAM_KEY,
            "--secret-key",
            UPSTREAM_SECRET,
            "--connect-timeout",
            "2",
        ],
        &[],
    )
    .await?;
    let req = signed(
        proxy.addr,
        "GET",
        "/bucket/k",
        &[],
        &Payload::Unsigned,
        GOOD,
        full(""),
    )?;
    let (status, body) = send(req).await?;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body.contains("<Code>BadGateway</Code>"), "{body}");
    Ok(())
}

#[test]
fn bad_arguments_exit_2() -> TestResult {
    let dir = scratch_dir("args")?;
    let out = Command::new(env!("CARGO_BIN_EXE_sigv4"))
        .args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "ftp://x",
            "--keys",
        ])
        .arg(dir.join("missing.json"))
        .env_clear()
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--upstream"), "{err}");
    Ok(())
}

// ---------------------------------------------------------------- helpers

/// An aws-chunked PUT (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) of `data` in 64 KiB chunks.
fn chunked_request(
    addr: SocketAddr,
    path: &str,
    data: &[u8],
    secret: &str,
) -> TestResult<Request<ClientBody>> {
    let creds = Credentials::new(CLIENT_KEY, secret, None);
    let (region, service) = (Region::new("us-east-1")?, Service::new("s3")?);
    let time = AmzDate::from_system_time(SystemTime::now())?;
    let scope = format!("{}/us-east-1/s3/aws4_request", time.date());
    let signer = Signer::new();
    let key = signer.signing_key(&creds, time.date(), &region, &service);
    let chunks: Vec<&[u8]> = data.chunks(64 * 1024).collect();
    // The framing's length does not depend on the signatures' values.
    let encoded_len =
        encode_signed_chunks(&key, &time, &scope, &"0".repeat(64), &chunks, None).len();
    let mut req = Request::put(format!("http://{addr}{path}"))
        .header("host", addr.to_string())
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", data.len().to_string())
        .header("content-length", encoded_len.to_string())
        .body(full(""))?;
    let params = SigningParams::new(&creds, &region, &service, time);
    let out = signer.sign(
        &SignableRequest::from_http(&req),
        PayloadHash::StreamingSigned,
        &params,
    )?;
    out.apply_to(&mut req)?;
    let body = encode_signed_chunks(&key, &time, &scope, out.signature(), &chunks, None);
    *req.body_mut() = full(body);
    Ok(req)
}

/// A presigned GET URL for `path` on the proxy.
fn presigned(addr: SocketAddr, path: &str) -> TestResult<String> {
    let creds = Credentials::new(CLIENT_KEY, CLIENT_SECRET, None);
    let (region, service) = (Region::new("us-east-1")?, Service::new("s3")?);
    let host = addr.to_string();
    let headers = [("host", host.as_str())];
    let view = SignableRequest::new("GET", path, &headers)?;
    let params = SigningParams::at_system_time(&creds, &region, &service, SystemTime::now())?;
    let out = Signer::new().presign(
        &view,
        PayloadHash::Unsigned,
        &params,
        Duration::from_secs(300),
    )?;
    Ok(format!("http://{addr}{path}?{}", out.query_string()))
}

/// A GET signed for `region` (the proxy serves us-east-1 only).
fn signed_for_region(addr: SocketAddr, region: &str) -> TestResult<Request<ClientBody>> {
    let mut req = Request::get(format!("http://{addr}/bucket/key.txt"))
        .header("host", addr.to_string())
        .body(full(""))?;
    let creds = Credentials::new(CLIENT_KEY, CLIENT_SECRET, None);
    let (region, service) = (Region::new(region.to_owned())?, Service::new("s3")?);
    let params = SigningParams::at_system_time(&creds, &region, &service, SystemTime::now())?;
    let out = Signer::new().sign(
        &SignableRequest::from_http(&req),
        PayloadHash::Unsigned,
        &params,
    )?;
    out.apply_to(&mut req)?;
    Ok(req)
}
