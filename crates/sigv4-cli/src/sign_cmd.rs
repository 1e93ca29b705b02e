//! `sigv4 sign`.

use std::io::Write;
use std::time::Duration;

use clap::Args;
use serde_json::json;
use sigv4_sign::raw::RawRequest;
use sigv4_sign::{
    PayloadHash, Region, Service, SessionTokenPlacement, Settings, SignableRequest,
    SignatureLocation, Signer, SigningParams,
};

use crate::explain::visible;

/// Arguments of `sigv4 sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    /// Read a raw HTTP/1.1 request (the AWS test-suite `request.txt` form) from FILE, or `-` for stdin.
    #[arg(long, value_name = "FILE|-", conflicts_with = "method_url")]
    pub raw: Option<String>,
    /// METHOD URL, e.g. `GET https://bucket.s3.amazonaws.com/key` (instead of --raw).
    #[arg(value_name = "METHOD URL", num_args = 2)]
    pub method_url: Vec<String>,
    /// A header to add, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "Name: value")]
    pub headers: Vec<String>,
    /// The body: DATA, or @FILE to read a file (@- for stdin).
    #[arg(short = 'd', long = "data", value_name = "DATA|@FILE")]
    pub data: Option<String>,
    /// The region of the credential scope, e.g. us-east-1.
    #[arg(long)]
    pub region: String,
    /// The service signing name, e.g. s3 (selects S3 rules), sts, execute-api.
    #[arg(long)]
    pub service: String,
    /// The signing time: 2015-08-30T12:36:00Z or 20150830T123600Z (default: now).
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    /// Credentials on the command line (default: the default credential chain).
    #[command(flatten)]
    pub keys: crate::common::KeyArgs,
    /// Without --access-key: the profile of the shared config files to use (default: AWS_PROFILE).
    #[arg(long, value_name = "P", conflicts_with = "access_key")]
    pub profile: Option<String>,
    /// Presign: put the signature in the query string instead of headers.
    #[arg(long)]
    pub presign: bool,
    /// Lifetime of the presigned URL in seconds (1..=604800).
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 3600,
        requires = "presign"
    )]
    pub expires: u64,
    /// Sign UNSIGNED-PAYLOAD instead of the body's hash.
    #[arg(long)]
    pub unsigned_payload: bool,
    /// Add and sign x-amz-content-sha256 (always on for s3).
    #[arg(long)]
    pub sign_body: bool,
    /// Don't normalize the path (remove `.`/`..` segments and `//`).
    #[arg(long)]
    pub no_normalize: bool,
    /// Append X-Amz-Security-Token after signing, unsigned.
    #[arg(long)]
    pub session_token_after: bool,
    /// Print one JSON object (canonical request, string to sign, signature, ...).
    #[arg(long, conflicts_with = "explain")]
    pub json: bool,
    /// Print the canonical request, string to sign, scope and signature for a person.
    #[arg(long)]
    pub explain: bool,
    /// SigV4a (`--sigv4a [--region-set us-east-1,us-west-2]`).
    #[command(flatten)]
    pub sigv4a: crate::sigv4a_cmd::Sigv4aArgs,
}

/// A one-line error for stderr, and exit code 2.
struct Fail(String);

impl<E: std::fmt::Display> From<E> for Fail {
    fn from(e: E) -> Self {
        Fail(e.to_string())
    }
}

/// Runs `sigv4 sign`; returns the exit code.
pub fn run(args: &SignArgs) -> u8 {
    match sign(args) {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(&out)
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return 1;
            }
            0
        }
        Err(Fail(msg)) => {
            eprintln!("sigv4 sign: {msg}");
            2
        }
    }
}

/// Builds the raw request from `METHOD URL`, `-H` and `-d`.
fn request_from_url(args: &SignArgs) -> Result<(RawRequest, String), Fail> {
    let [method, url] = args.method_url.as_slice() else {
        return Err(Fail("give either --raw FILE|- or METHOD URL".into()));
    };
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        Fail(format!(
            "URL {url:?} must be absolute: http://host/path or https://host/path"
        ))
    })?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.is_empty() {
        return Err(Fail(format!("URL {url:?} has no host")));
    }
    let mut target = rest[end..].split('#').next().unwrap_or("").to_owned();
    if !target.starts_with('/') {
        target.insert(0, '/');
    }
    let body = match &args.data {
        None => Vec::new(),
        Some(d) => crate::common::data_arg(d).map_err(Fail)?,
    };
    let mut text = format!("{method} {target} HTTP/1.1\n");
    let has = |n: &str| {
        args.headers.iter().any(|h| {
            h.split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case(n))
        })
    };
    if !has("host") {
        // The signer's own rule: no user info, no default port.
        let host = SignableRequest::new(method, url, &[])?
            .authority_host()
            .ok_or_else(|| Fail(format!("URL {url:?} has no host")))?;
        text.push_str(&format!("Host:{host}\n"));
    }
    for h in &args.headers {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| Fail(format!("header {h:?} must be `Name: value`")))?;
        if name.trim().is_empty() || name.contains(char::is_whitespace) {
            return Err(Fail(format!("header {h:?} has no valid name before `:`")));
        }
        if value.contains(['\r', '\n']) {
            return Err(Fail(format!("header `{name}` holds a line break")));
        }
        text.push_str(&format!("{name}:{}\n", value.trim_start()));
    }
    if !body.is_empty() && !has("content-length") {
        text.push_str(&format!("Content-Length:{}\n", body.len()));
    }
    text.push('\n');
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(&body);
    let raw = RawRequest::parse(&bytes)?;
    Ok((raw, scheme.to_owned()))
}

fn sign(args: &SignArgs) -> Result<Vec<u8>, Fail> {
    let (raw, scheme) = match &args.raw {
        Some(src) => (
            RawRequest::parse(&crate::common::read_source(src).map_err(Fail)?)?,
            "https".to_owned(),
        ),
        None => request_from_url(args)?,
    };
    let region = Region::new(args.region.clone())?;
    let service = Service::new(args.service.clone())?;
    let time = crate::common::signing_time(args.time.as_deref()).map_err(Fail)?;
    let creds =
        crate::common::credentials_or_chain(&args.keys, args.profile.as_deref()).map_err(Fail)?;
    let mut settings = Settings::for_service(&service).clone();
    if args.sign_body {
        settings = settings.with_content_sha256_header(true);
    }
    if args.no_normalize {
        settings = settings.with_normalize_path(false);
    }
    if args.session_token_after {
        settings = settings.with_session_token(SessionTokenPlacement::AppendAfterSigning);
    }
    let payload = if args.unsigned_payload || (args.presign && service.is_s3()) {
        PayloadHash::Unsigned
    } else {
        PayloadHash::Body(&raw.body)
    };
    let headers = raw.header_pairs();
    let req = SignableRequest::new(&raw.method, &raw.target, &headers)?;
    let params = SigningParams::new(&creds, &region, &service, time)
        .with_settings(&settings)
        .with_debug(true);
    let presign = args.presign.then(|| Duration::from_secs(args.expires));
    let out = match crate::sigv4a_cmd::sign(
        &args.sigv4a,
        &args.region,
        &req,
        payload,
        &params,
        presign,
    ) {
        Some(result) => result.map_err(Fail)?,
        None => {
            let signer = Signer::new();
            match presign {
                Some(expires) => signer.presign(&req, payload, &params, expires)?,
                None => signer.sign(&req, payload, &params)?,
            }
        }
    };
    let debug = out
        .debug()
        .ok_or_else(|| Fail("internal: the signer kept no debug output".into()))?;
    let signed_request = raw.render_signed(&out);

    if args.json {
        let mut obj = json!({
            "canonical_request": String::from_utf8_lossy(&debug.canonical_request),
            "string_to_sign": debug.string_to_sign,
            "signature": out.signature(),
            "signed_headers": out.signed_headers(),
            "signed_request": String::from_utf8_lossy(&signed_request),
            "credential_scope": debug.credential_scope,
            "amz_date": time.as_str(),
        });
        match out.location() {
            SignatureLocation::Headers => {
                obj["authorization"] = json!(out.param("Authorization"));
                obj["headers"] = json!(out
                    .params()
                    .iter()
                    .map(|(n, v)| json!([n, v]))
                    .collect::<Vec<_>>());
            }
            _ => {
                let host = raw.header("host").unwrap_or("");
                let sep = if raw.target.contains('?') { "&" } else { "?" };
                let url = if raw.target.contains("://") {
                    format!("{}{sep}{}", raw.target, out.query_string())
                } else {
                    format!("{scheme}://{host}{}{sep}{}", raw.target, out.query_string())
                };
                obj["url"] = json!(url);
                obj["query_params"] = json!(out
                    .params()
                    .iter()
                    .map(|(n, v)| json!([n, v]))
                    .collect::<Vec<_>>());
            }
        }
        let mut s = serde_json::to_string(&obj)?;
        s.push('\n');
        return Ok(s.into_bytes());
    }
    if args.explain {
        let canonical_hash = debug.string_to_sign.rsplit('\n').next().unwrap_or("");
        let text = format!(
            "Each line below ends with `$`; a tab shows as ^I, a carriage return as ^M, a trailing space as \\x20,\n\
             and any other control or non-ASCII byte as \\xNN. Compare with the server's CanonicalRequest and\n\
             StringToSign (in a SignatureDoesNotMatch error body) line by line.\n\n\
             == Canonical request (SHA-256 {canonical_hash})\n{}\n\
             == String to sign\n{}\n\
             == Credential scope\n{}\n\n\
             == Signed headers\n{}\n\n\
             == Signature\n{}\n",
            visible(&debug.canonical_request),
            visible(debug.string_to_sign.as_bytes()),
            debug.credential_scope,
            out.signed_headers(),
            out.signature(),
        );
        return Ok(text.into_bytes());
    }
    Ok(signed_request)
}
