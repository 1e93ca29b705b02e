//! `sigv4 request`: send a signed HTTP request and print the response
//! (like `curl --aws-sigv4` or awscurl).
//!
//! Exit codes follow curl: 0 on any HTTP answer (22 with `--fail` for
//! status >= 400), 1 when the request could not be sent (network, or no
//! credentials) or the response not read, 2 for bad input (URL, header, file, unknown region or service),
//! 23 when stdout cannot be written.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use clap::Args;
use reqwest_middleware::ClientBuilder;
use sigv4_credentials::{ProviderConfig, StaticProvider};
use sigv4_reqwest::{SigV4Error, SigV4Middleware};
use sigv4_sign::{Region, Service};

/// Bodies larger than this get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 4 << 20;

/// Arguments of `sigv4 request`.
#[derive(Args, Debug)]
pub struct RequestArgs {
    /// The URL, e.g. https://my-bucket.s3.us-west-2.amazonaws.com/key.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The HTTP method (default: GET, or POST with --data).
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    pub method: Option<String>,
    /// A header to add, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "Name: value")]
    pub headers: Vec<String>,
    /// The body: DATA, or @FILE to read a file (@- for stdin). Hashed into the signature.
    #[arg(short = 'd', long = "data", value_name = "DATA|@FILE")]
    pub data: Option<String>,
    /// The signing region (default: from the host, else AWS_REGION / AWS_DEFAULT_REGION / profile).
    #[arg(long)]
    pub region: Option<String>,
    /// The service signing name, e.g. s3, sts, execute-api (default: from the host).
    #[arg(long)]
    pub service: Option<String>,
    /// Print the status line and the response headers before the body.
    #[arg(short = 'i', long = "include")]
    pub include: bool,
    /// On HTTP status >= 400 print a one-line error instead of the body and exit 22.
    #[arg(short = 'f', long)]
    pub fail: bool,
    #[command(flatten)]
    pub keys: crate::common::KeyArgs,
    /// Give up after this many seconds (whole request, body included).
    #[arg(long, value_name = "SECS")]
    pub max_time: Option<u64>,
}

/// A failure: its exit code and a one-line message.
struct Fail {
    code: u8,
    msg: String,
}

impl Fail {
    fn input(msg: impl Into<String>) -> Self {
        Self {
            code: 2,
            msg: msg.into(),
        }
    }
    fn network(msg: impl Into<String>) -> Self {
        Self {
            code: 1,
            msg: msg.into(),
        }
    }
}

/// Runs `sigv4 request`; returns the exit code.
pub fn run(args: &RequestArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sigv4 request: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(request(args)) {
        Ok(code) => code,
        Err(Fail { code, msg }) => {
            if !msg.is_empty() {
                eprintln!("sigv4 request: {msg}");
            }
            code
        }
    }
}

async fn request(args: &RequestArgs) -> Result<u8, Fail> {
    let url = reqwest::Url::parse(&args.url).map_err(|e| {
        Fail::input(format!(
            "invalid URL {:?}: {e} (give an absolute http:// or https:// URL)",
            args.url
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Fail::input(format!(
            "URL {:?}: only http:// and https:// are supported",
            args.url
        )));
    }
    let body = match &args.data {
        None => None,
        Some(d) => Some(crate::common::data_arg(d).map_err(Fail::input)?),
    };
    let method = match (&args.method, &body) {
        (Some(m), _) => reqwest::Method::from_bytes(m.as_bytes())
            .map_err(|_| Fail::input(format!("invalid HTTP method {m:?}")))?,
        (None, Some(_)) => reqwest::Method::POST,
        (None, None) => reqwest::Method::GET,
    };
    let mut headers = reqwest::header::HeaderMap::new();
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| Fail::input(format!("header {h:?} must be `Name: value`")))?;
        let name = reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| Fail::input(format!("header {h:?} has no valid name before `:`")))?;
        let value = reqwest::header::HeaderValue::from_str(value.trim())
            .map_err(|_| Fail::input(format!("header `{name}` has a value HTTP forbids")))?;
        headers.append(name, value);
    }

    let signer = middleware(args)?;
    let mut http = reqwest::Client::builder();
    if let Some(secs) = args.max_time {
        http = http.timeout(Duration::from_secs(secs));
    }
    let http = http
        .build()
        .map_err(|e| Fail::network(format!("cannot set up the HTTP client: {}", chain(&e))))?;
    let client = ClientBuilder::new(http).with(signer).build();
    let mut req = client.request(method, url.clone()).headers(headers);
    if let Some(body) = body {
        req = req.body(body);
    }
    let mut resp = req.send().await.map_err(|e| match e {
        reqwest_middleware::Error::Middleware(m) => match m.downcast_ref::<SigV4Error>() {
            // Unknown region or service, a header the signer rejects: the input.
            Some(
                e @ (SigV4Error::UnknownRegion { .. }
                | SigV4Error::UnknownService { .. }
                | SigV4Error::Signing(_)
                | SigV4Error::NoHost { .. }),
            ) => Fail::input(chain(e)),
            Some(e) => Fail::network(chain(e)),
            None => Fail::network(format!("{m:#}")),
        },
        reqwest_middleware::Error::Reqwest(r) => {
            Fail::network(describe_reqwest(&r.without_url(), &url))
        }
    })?;

    let status = resp.status();
    if args.fail && (status.is_client_error() || status.is_server_error()) {
        // Like curl --fail: no body on stdout; but say what the server said.
        let mut detail = String::new();
        let mut limit = 64 << 10;
        while let Ok(Some(chunk)) = resp.chunk().await {
            detail.push_str(&String::from_utf8_lossy(&chunk));
            limit -= chunk.len().min(limit);
            if limit == 0 {
                break;
            }
        }
        return Err(Fail {
            code: 22,
            msg: format!(
                "{} {} returned HTTP {status}{}",
                args_method_display(args),
                without_query(&url),
                error_summary(&detail)
            ),
        });
    }

    let mut out = std::io::stdout().lock();
    let write_fail = |e: std::io::Error| Fail {
        code: 23,
        msg: format!("cannot write the response to stdout: {e}"),
    };
    if args.include {
        let mut head = format!("{:?} {status}\r\n", resp.version());
        for (name, value) in resp.headers() {
            head.push_str(name.as_str());
            head.push_str(": ");
            head.push_str(&String::from_utf8_lossy(value.as_bytes()));
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes()).map_err(write_fail)?;
    }

    let progress = match resp.content_length() {
        Some(len) if len > PROGRESS_MIN_BYTES && std::io::stderr().is_terminal() => {
            let bar = indicatif::ProgressBar::new(len);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style);
            }
            Some(bar)
        }
        _ => None,
    };
    // Stream the body: at most one chunk in memory at a time.
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                out.write_all(&chunk).map_err(write_fail)?;
                // Stdout holds back a short tail with no newline in it: a
                // reader would not see it until more of the body came.
                out.flush().map_err(write_fail)?;
                if let Some(bar) = &progress {
                    bar.inc(chunk.len() as u64);
                }
            }
            Ok(None) => break,
            Err(e) => {
                if let Some(bar) = &progress {
                    bar.abandon();
                }
                return Err(Fail::network(format!(
                    "reading the response body failed: {}",
                    chain(&e.without_url())
                )));
            }
        }
    }
    out.flush().map_err(write_fail)?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    Ok(0)
}

/// The display name of the method for messages.
fn args_method_display(args: &RequestArgs) -> String {
    args.method
        .clone()
        .unwrap_or_else(|| if args.data.is_some() { "POST" } else { "GET" }.to_owned())
}

/// The URL without its query string (which may hold a presigned signature).
fn without_query(url: &reqwest::Url) -> &str {
    let s = url.as_str();
    s.split_once('?').map_or(s, |(u, _)| u)
}

/// The signing middleware for these arguments.
fn middleware(args: &RequestArgs) -> Result<SigV4Middleware, Fail> {
    let mut b = SigV4Middleware::builder().provider_config(ProviderConfig::from_process());
    if let Some(creds) = args.keys.explicit() {
        b = b.credentials(StaticProvider::new(creds));
    }
    if let Some(r) = &args.region {
        b = b.region(Region::new(r.clone()).map_err(|e| Fail::input(e.to_string()))?);
    }
    if let Some(s) = &args.service {
        b = b.service(Service::new(s.clone()).map_err(|e| Fail::input(e.to_string()))?);
    }
    Ok(b.build())
}

/// An error and its causes on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg.replace('\n', " ")
}

/// A transport error, said plainly.
fn describe_reqwest(e: &reqwest::Error, url: &reqwest::Url) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let host = url.host_str().unwrap_or("");
    let port = url.port_or_known_default().unwrap_or(0);
    format!("{what} to {host}:{port}: {}", chain(e))
}

/// ": Code: Message" from an S3/AWS XML or JSON error body, with a hint for
/// signature errors; empty when the body says nothing recognisable.
fn error_summary(body: &str) -> String {
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = body.find(&open)? + open.len();
        let end = body[start..].find(&close)? + start;
        Some(body[start..end].trim().to_owned())
    };
    let code = tag("Code");
    let message = tag("Message");
    let mut out = String::new();
    if let Some(c) = &code {
        out.push_str(": ");
        out.push_str(c);
    }
    if let Some(m) = &message {
        out.push_str(": ");
        out.push_str(m);
    }
    match code.as_deref() {
        Some("SignatureDoesNotMatch") => out.push_str(
            " (check the secret key, and that --region and --service match the endpoint)",
        ),
        Some("InvalidAccessKeyId") => out.push_str(" (the server does not know this access key)"),
        Some("RequestTimeTooSkewed") => out.push_str(" (check the system clock)"),
        Some("ExpiredToken") => out.push_str(" (refresh the temporary credentials)"),
        _ => {}
    }
    if code.is_none() && message.is_none() {
        let text: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() {
            out.push_str(": ");
            out.extend(text.chars().take(200));
        }
    }
    out
}
