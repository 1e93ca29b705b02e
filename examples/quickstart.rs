//! Quickstart: sign a request and presign a URL, send both to a verifying
//! server on 127.0.0.1, and see what it says. No AWS account needed.
//!
//! Run with `cargo run --example quickstart`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, SystemTime};

use sigv4::sign::raw::RawRequest;
use sigv4::sign::{
    Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningParams,
};
use sigv4::verify::{StaticSecretStore, Verifier};

const ACCESS_KEY: &str = "AKIDQUICKSTART";
const SECRET: &str = "quickstart/secret/key/only/for/this/demo";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A server on a free loopback port that checks every signature.
    //    The verifier knows one key pair; it is strict by default (host and
    //    x-amz-date signed, 15 min clock skew, presign expiry, body hash).
    let verifier = Verifier::new(StaticSecretStore::new().with_key(ACCESS_KEY, SECRET));
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = serve(&verifier, stream);
        }
    });
    let host = addr.to_string();
    println!("verifying server listening on http://{host}");

    // 2. Sign a PUT with headers, as an S3 client would.
    let signer = Signer::new();
    let creds = Credentials::new(ACCESS_KEY, SECRET, None);
    let (region, s3) = (Region::new("us-east-1")?, Service::new("s3")?);
    let params = SigningParams::at_system_time(&creds, &region, &s3, SystemTime::now())?;
    let body = b"hello, sigv4";
    let headers = [("host", host.as_str()), ("content-type", "text/plain")];
    let req = SignableRequest::new("PUT", "/demo-bucket/hello.txt", &headers)?;
    let signed = signer.sign(&req, PayloadHash::Body(body), &params)?;
    let mut extra = String::new();
    for (name, value) in signed.params() {
        extra.push_str(&format!("{name}: {value}\r\n"));
    }
    let put = format!(
        "PUT /demo-bucket/hello.txt HTTP/1.1\r\nhost: {host}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{extra}\r\n",
        body.len()
    );
    println!(
        "PUT  signed with headers       -> {}",
        send(addr, put.as_bytes(), body)?
    );

    // 3. Presign a GET for five minutes and use the URL as is.
    let headers = [("host", host.as_str())];
    let req = SignableRequest::new("GET", "/demo-bucket/hello.txt", &headers)?;
    let url = signer.presign(
        &req,
        PayloadHash::Unsigned,
        &params,
        Duration::from_secs(300),
    )?;
    let target = format!("/demo-bucket/hello.txt?{}", url.query_string());
    println!("presigned URL: http://{host}{target}");
    let get = format!("GET {target} HTTP/1.1\r\nhost: {host}\r\n\r\n");
    println!(
        "GET  presigned URL             -> {}",
        send(addr, get.as_bytes(), b"")?
    );

    // 4. The same URL pointed at another object must be refused.
    let tampered = get.replace("hello.txt", "secret.txt");
    println!(
        "GET  presigned URL, other key  -> {}",
        send(addr, tampered.as_bytes(), b"")?
    );
    Ok(())
}

/// Sends one request and returns the response's status line and body.
fn send(addr: std::net::SocketAddr, head: &[u8], body: &[u8]) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(head)?;
    s.write_all(body)?;
    let mut response = String::new();
    s.read_to_string(&mut response)?;
    let status = response
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("HTTP/1.1 ")
        .to_owned();
    let text = response.split("\r\n\r\n").nth(1).unwrap_or("");
    Ok(format!("{status} ({text})"))
}

/// Reads one request, checks its signature, and answers 200 or 403.
fn serve(verifier: &Verifier, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = Vec::new();
    loop {
        let n = reader.read_until(b'\n', &mut head)?;
        if n == 0 || head.ends_with(b"\r\n\r\n") || head.len() > 64 * 1024 {
            break;
        }
    }
    let mut request = head;
    if let Ok(raw) = RawRequest::parse(&request) {
        let len: usize = raw
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len.min(1 << 20)];
        reader.read_exact(&mut body)?;
        request.extend_from_slice(&body);
    }
    let (status, text) = match RawRequest::parse(&request)
        .map_err(|e| e.to_string())
        .and_then(|r| check(verifier, &r))
    {
        Ok(who) => ("200 OK", format!("signature valid, access key {who}")),
        Err(why) => ("403 Forbidden", why),
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    )
}

/// Checks the signature with `sigv4-verify`.
fn check(verifier: &Verifier, raw: &RawRequest) -> Result<String, String> {
    let headers = raw.header_pairs();
    let req =
        SignableRequest::new(&raw.method, &raw.target, &headers).map_err(|e| e.to_string())?;
    // `verify` looks keys up in the verifier's async store; this std-only
    // server uses the synchronous form with the same key.
    let lookup =
        |akid: &str| (akid == ACCESS_KEY).then(|| Credentials::new(ACCESS_KEY, SECRET, None));
    match verifier.verify_with(&req, Some(&raw.body), lookup) {
        Ok(v) => Ok(v.identity.access_key_id),
        Err(e) => Err(format!("{}: {}", e.code(), e.message())),
    }
}
