//! aws-chunked uploads and POST-policy uploads to an S3 server on 127.0.0.1,
//! over a plain `std::net::TcpStream` (no HTTP client): what the interop
//! script `tests/interop/run-chunked-interop.sh` drives.
//!
//! ```text
//! chunked_put put    ENDPOINT BUCKET KEY SIZE [MODE] [CHECKSUM|-] [tamper]  # PUT aws-chunked, GET back, compare
//! chunked_put post   ENDPOINT BUCKET KEY SIZE [TAMPER]            # POST form upload (TAMPER: policy|signature|key)
//! chunked_put mb     ENDPOINT BUCKET                              # create the bucket
//! chunked_put stream SIZE                                         # frame SIZE bytes into a sink (memory check)
//! ```
//!
//! ENDPOINT is `127.0.0.1:PORT`; MODE is `signed` (default), `signed-trailer`
//! or `unsigned-trailer`; CHECKSUM `crc32`, `crc32c`, `sha256` or `-`; with
//! `tamper` a data byte is flipped after signing and the server must refuse. Keys come
//! from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`, the region from
//! `AWS_REGION` (default us-east-1). Exit status 0 on success, 1 on a
//! failed check, 2 on bad usage.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use sigv4_sign::chunked::{
    self, ChecksumAlgorithm, ChunkSigner, ChunkedReader, StreamingMode, DEFAULT_CHUNK_SIZE,
};
use sigv4_sign::post_policy::{presign_post, PostPolicy};
use sigv4_sign::{
    AmzDate, Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningParams,
};

type Error = Box<dyn std::error::Error>;

/// Deterministic body bytes, generated on the fly (never held whole).
struct Pattern {
    left: u64,
    pos: u64,
}

impl Pattern {
    fn new(size: u64) -> Self {
        Self { left: size, pos: 0 }
    }

    fn byte(i: u64) -> u8 {
        // A cheap sequence with no short period that aligns with chunk sizes.
        ((i.wrapping_mul(2_654_435_761) >> 13) & 0xff) as u8
    }
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for (j, b) in buf[..n].iter_mut().enumerate() {
            *b = Self::byte(self.pos + j as u64);
        }
        self.pos += n as u64;
        self.left -= n as u64;
        Ok(n)
    }
}

struct Ctx {
    endpoint: String,
    creds: Credentials,
    region: Region,
    s3: Service,
    signer: Signer,
}

impl Ctx {
    fn from_env(endpoint: &str) -> Result<Self, Error> {
        let akid =
            std::env::var("AWS_ACCESS_KEY_ID").map_err(|_| "AWS_ACCESS_KEY_ID is not set")?;
        let secret = std::env::var("AWS_SECRET_ACCESS_KEY")
            .map_err(|_| "AWS_SECRET_ACCESS_KEY is not set")?;
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".to_owned());
        Ok(Self {
            endpoint: endpoint.to_owned(),
            creds: Credentials::new(akid, secret, None),
            region: Region::new(region)?,
            s3: Service::new("s3")?,
            signer: Signer::new(),
        })
    }

    fn params(&self) -> Result<SigningParams<'_>, Error> {
        Ok(SigningParams::at_system_time(
            &self.creds,
            &self.region,
            &self.s3,
            SystemTime::now(),
        )?)
    }

    /// Sends one request (`Connection: close`) and returns status and body.
    fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: &mut dyn Read,
    ) -> Result<(u16, Vec<u8>), Error> {
        let mut stream = TcpStream::connect(&self.endpoint)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let mut head = format!("{method} {path} HTTP/1.1\r\n");
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("Connection: close\r\n\r\n");
        stream.write_all(head.as_bytes())?;
        let mut w = io::BufWriter::with_capacity(64 * 1024, &mut stream);
        io::copy(body, &mut w)?;
        w.flush()?;
        drop(w);
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        parse_response(&raw)
    }

    /// Signs and sends a request with a fully known body.
    fn simple(&self, method: &str, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), Error> {
        let host = self.endpoint.clone();
        let len = body.len().to_string();
        let pairs = [("host", host.as_str()), ("content-length", len.as_str())];
        let req = SignableRequest::new(method, path, &pairs)?;
        let params = self.params()?;
        let out = self.signer.sign(&req, PayloadHash::Body(body), &params)?;
        let mut headers: Vec<(String, String)> = pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        headers.extend(
            out.params()
                .iter()
                .map(|(n, v)| ((*n).to_owned(), v.clone())),
        );
        self.send(method, path, &headers, &mut &body[..])
    }
}

fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), Error> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the response has no header end")?;
    let head = std::str::from_utf8(&raw[..end])?;
    let status: u16 = head.split(' ').nth(1).ok_or("no status code")?.parse()?;
    let mut body = raw[end + 4..].to_vec();
    let chunked_te = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked_te {
        body = dechunk(&body)?;
    }
    Ok((status, body))
}

/// Decodes an HTTP/1.1 `Transfer-Encoding: chunked` body.
fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n").ok_or("bad chunk")?;
        let size_text = std::str::from_utf8(&b[..nl])?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
        b = &b[nl + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(b.get(..size).ok_or("truncated chunk")?);
        b = b.get(size + 2..).ok_or("truncated chunk")?;
    }
}

fn mode_of(s: &str) -> Result<StreamingMode, Error> {
    Ok(match s {
        "signed" => StreamingMode::Signed,
        "signed-trailer" => StreamingMode::SignedTrailer,
        "unsigned-trailer" => StreamingMode::UnsignedTrailer,
        _ => {
            return Err(
                format!("unknown mode {s:?}: signed, signed-trailer, unsigned-trailer").into(),
            )
        }
    })
}

fn checksum_of(s: &str) -> Result<ChecksumAlgorithm, Error> {
    ChecksumAlgorithm::from_header_name(&format!("x-amz-checksum-{s}"))
        .ok_or_else(|| format!("unknown checksum {s:?}: crc32, crc32c, sha256").into())
}

fn expected(size: u64) -> Vec<u8> {
    let mut v = Vec::new();
    // Test sizes are a few MiB at most.
    let _ = Pattern::new(size).read_to_end(&mut v);
    v
}

fn get_and_compare(ctx: &Ctx, path: &str, size: u64) -> Result<bool, Error> {
    let (status, body) = ctx.simple("GET", path, b"")?;
    if status != 200 {
        eprintln!(
            "GET {path}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        );
        return Ok(false);
    }
    if body != expected(size) {
        eprintln!("GET {path}: {} bytes back, not the {size} sent", body.len());
        return Ok(false);
    }
    Ok(true)
}

/// Flips the byte at offset `at` of what `inner` yields.
struct Flip<R> {
    inner: R,
    pos: u64,
    at: Option<u64>,
}

impl<R: Read> Read for Flip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(at) = self.at {
            if (self.pos..self.pos + n as u64).contains(&at) {
                buf[usize::try_from(at - self.pos).unwrap_or(0)] ^= 1;
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

fn put(
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    size: u64,
    mode: StreamingMode,
    checksum: Option<ChecksumAlgorithm>,
    tamper: bool,
) -> Result<bool, Error> {
    let path = format!("/{bucket}/{key}");
    let chunk_size = DEFAULT_CHUNK_SIZE;
    let announced = chunked::aws_chunked_headers(size, chunk_size, mode, checksum);
    let host = ctx.endpoint.clone();
    let mut pairs: Vec<(&str, &str)> = vec![
        ("host", &host),
        ("content-type", "application/octet-stream"),
    ];
    pairs.extend(announced.iter().map(|(n, v)| (*n, v.as_str())));
    let req = SignableRequest::new("PUT", &path, &pairs)?;
    let params = ctx.params()?;
    let seed = ctx.signer.sign(&req, mode.payload_hash(), &params)?;
    let mut cs = ChunkSigner::for_request(&ctx.signer, &params, mode, &seed)?;
    if let Some(c) = checksum {
        cs = cs.with_checksum(c)?;
    }
    let body = ChunkedReader::new(Pattern::new(size), cs, chunk_size)?;
    // With `tamper`, one data byte changes after signing: the server must refuse.
    let mut body = Flip {
        inner: body,
        pos: 0,
        at: tamper.then_some(100),
    };
    let mut headers: Vec<(String, String)> = pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    headers.extend(
        seed.params()
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone())),
    );
    let sent = ctx.send("PUT", &path, &headers, &mut body);
    if tamper {
        // A server may also cut the upload short: a broken pipe is a refusal.
        let refused = match &sent {
            Ok((status, _)) => *status != 200,
            Err(_) => true,
        };
        match &sent {
            Ok((status, resp)) => eprintln!(
                "PUT {path} with a flipped data byte: HTTP {status}: {}",
                String::from_utf8_lossy(resp)
            ),
            Err(e) => eprintln!("PUT {path} with a flipped data byte: connection ended: {e}"),
        }
        // And nothing was stored.
        let (get_status, _) = ctx.simple("GET", &path, b"")?;
        eprintln!("GET {path} afterwards: HTTP {get_status}");
        return Ok(refused && get_status == 404);
    }
    let (status, resp) = sent?;
    if status != 200 {
        eprintln!(
            "PUT {path}: HTTP {status}: {}",
            String::from_utf8_lossy(&resp)
        );
        return Ok(false);
    }
    get_and_compare(ctx, &path, size)
}

fn post(
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    size: u64,
    tamper: Option<&str>,
) -> Result<bool, Error> {
    let params = ctx.params()?;
    let now = AmzDate::from_system_time(SystemTime::now())?;
    let policy = PostPolicy::expires_in(&now, Duration::from_secs(600))?
        .content_length_range(0, 10 * 1024 * 1024)?;
    let url = format!("http://{}/{bucket}", ctx.endpoint);
    let post = presign_post(
        &params,
        &url,
        bucket,
        key,
        &[("Content-Type", "text/plain")],
        &policy,
    )?;
    let mut fields = post.fields.clone();
    match tamper {
        None => {}
        Some("policy") => {
            // A different policy (a wider size range) under the old signature.
            let doc = post.policy_json.replace("10485760", "1073741824");
            let b64 = base64_encode(doc.as_bytes());
            set(&mut fields, "policy", &b64);
        }
        Some("signature") => {
            let sig = post.field("x-amz-signature").unwrap_or_default();
            let flipped: String = sig
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i == 0 {
                        if c == '0' {
                            '1'
                        } else {
                            '0'
                        }
                    } else {
                        c
                    }
                })
                .collect();
            set(&mut fields, "x-amz-signature", &flipped);
        }
        Some("key") => set(&mut fields, "key", &format!("{key}-other")),
        Some(t) => return Err(format!("unknown tamper {t:?}: policy, signature, key").into()),
    }
    let boundary = "----sigv4-interop-boundary-7d1f";
    let mut form = Vec::new();
    for (n, v) in &fields {
        form.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    form.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"upload.txt\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes(),
    );
    form.extend_from_slice(&expected(size));
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let headers = vec![
        ("Host".to_owned(), ctx.endpoint.clone()),
        (
            "Content-Type".to_owned(),
            format!("multipart/form-data; boundary={boundary}"),
        ),
        ("Content-Length".to_owned(), form.len().to_string()),
    ];
    let (status, resp) = ctx.send("POST", &format!("/{bucket}"), &headers, &mut &form[..])?;
    let accepted = (200..300).contains(&status);
    match tamper {
        None => {
            if !accepted {
                eprintln!("POST: HTTP {status}: {}", String::from_utf8_lossy(&resp));
                return Ok(false);
            }
            get_and_compare(ctx, &format!("/{bucket}/{key}"), size)
        }
        Some(t) => {
            if accepted {
                eprintln!("POST with tampered {t}: accepted (HTTP {status}), expected a rejection");
            } else {
                eprintln!("POST with tampered {t}: rejected with HTTP {status}");
            }
            Ok(!accepted)
        }
    }
}

fn set(fields: &mut [(String, String)], name: &str, value: &str) {
    for (n, v) in fields.iter_mut() {
        if n == name {
            value.clone_into(v);
        }
    }
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Frames `size` bytes into a sink with a fixed key: no network, to measure
/// throughput and peak memory (`/usr/bin/time -v`).
fn stream(size: u64) -> Result<bool, Error> {
    let key = std::sync::Arc::new(sigv4_sign::SigningKey::derive(
        "secret",
        "20240101",
        "us-east-1",
        "s3",
    ));
    let time = AmzDate::parse("20240101T000000Z")?;
    let cs = ChunkSigner::new(
        StreamingMode::Signed,
        key,
        time,
        "20240101/us-east-1/s3/aws4_request",
        sigv4_sign::EMPTY_SHA256,
    )?;
    let mut r = ChunkedReader::new(Pattern::new(size), cs, DEFAULT_CHUNK_SIZE)?;
    let start = std::time::Instant::now();
    let n = io::copy(&mut r, &mut io::sink())?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "framed {size} bytes into {n} bytes in {secs:.3} s ({:.0} MiB/s)",
        size as f64 / secs / 1048576.0
    );
    Ok(n == chunked::encoded_length(size, DEFAULT_CHUNK_SIZE, StreamingMode::Signed, None))
}

fn run(args: &[String]) -> Result<bool, Error> {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["mb", endpoint, bucket] => {
            let ctx = Ctx::from_env(endpoint)?;
            let (status, body) = ctx.simple("PUT", &format!("/{bucket}"), b"")?;
            if status != 200 {
                eprintln!(
                    "PUT /{bucket}: HTTP {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            Ok(status == 200)
        }
        ["put", endpoint, bucket, key, size, rest @ ..] => {
            let ctx = Ctx::from_env(endpoint)?;
            let mode = mode_of(rest.first().copied().unwrap_or("signed"))?;
            let checksum = rest
                .get(1)
                .filter(|c| **c != "-")
                .map(|c| checksum_of(c))
                .transpose()?;
            let tamper = rest.get(2) == Some(&"tamper");
            put(&ctx, bucket, key, size.parse()?, mode, checksum, tamper)
        }
        ["post", endpoint, bucket, key, size, rest @ ..] => {
            let ctx = Ctx::from_env(endpoint)?;
            post(&ctx, bucket, key, size.parse()?, rest.first().copied())
        }
        ["stream", size] => stream(size.parse()?),
        _ => Err("usage: chunked_put put|post|mb|stream ... (see the file's header)".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("chunked_put: {e}");
            ExitCode::from(2)
        }
    }
}
