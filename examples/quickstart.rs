//! Quickstart: sign a request and presign a URL, send both to a verifying
//! server on 127.0.0.1, and see what it says. No AWS account needed.
//!
//! Run with `cargo run --example quickstart`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, SystemTime};

use sigv4::sign::canonical::{
    hash_canonical_request, write_string_to_sign, CanonicalHeader, CanonicalRequest, ALGORITHM,
};
use sigv4::sign::raw::RawRequest;
use sigv4::sign::{
    encode::percent_decode, sha256_hex, AmzDate, Credentials, PayloadHash, Region, Service,
    Settings, SignableRequest, Signer, SigningKey, SigningParams,
};

const ACCESS_KEY: &str = "AKIDQUICKSTART";
const SECRET: &str = "quickstart/secret/key/only/for/this/demo";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. A server on a free loopback port that checks every signature.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = serve(stream);
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
fn serve(stream: TcpStream) -> std::io::Result<()> {
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
        .and_then(|r| check(&r))
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

/// Recomputes the signature through the same canonical-request code the
/// signer uses. (A stand-in: `sigv4-verify` does this fully and strictly.)
fn check(raw: &RawRequest) -> Result<String, String> {
    let (path, query) = raw.target.split_once('?').unwrap_or((&raw.target, ""));
    let from_query = |k: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
            .map(|v| String::from_utf8_lossy(&percent_decode(v)).into_owned())
    };
    let (credential, signed_headers, signature, date, presigned) =
        if let Some(auth) = raw.header("authorization") {
            let rest = auth
                .strip_prefix("AWS4-HMAC-SHA256 ")
                .ok_or("not a SigV4 Authorization header")?;
            let field = |k: &str| {
                rest.split(',')
                    .find_map(|p| p.trim().strip_prefix(k))
                    .map(str::to_owned)
            };
            let date = raw.header("x-amz-date").ok_or("no x-amz-date")?.to_owned();
            (
                field("Credential="),
                field("SignedHeaders="),
                field("Signature="),
                date,
                false,
            )
        } else {
            let date = from_query("X-Amz-Date").ok_or("no X-Amz-Date")?;
            (
                from_query("X-Amz-Credential"),
                from_query("X-Amz-SignedHeaders"),
                from_query("X-Amz-Signature"),
                date,
                true,
            )
        };
    let (credential, signed_headers, signature) = (
        credential.ok_or("no credential")?,
        signed_headers.ok_or("no signed headers")?,
        signature.ok_or("no signature")?,
    );
    let (akid, scope) = credential.split_once('/').ok_or("malformed credential")?;
    if akid != ACCESS_KEY {
        return Err(format!("unknown access key {akid}"));
    }
    let time = AmzDate::parse(&date).map_err(|e| e.to_string())?;
    let mut headers: Vec<CanonicalHeader> = Vec::new();
    for name in signed_headers.split(';') {
        for h in raw
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
        {
            headers.push(CanonicalHeader::new(&h.name, h.value.as_bytes()));
        }
    }
    CanonicalRequest::sort_headers(&mut headers);
    let body_hash = sha256_hex(&raw.body);
    let payload_hash = match (presigned, raw.header("x-amz-content-sha256")) {
        (true, _) => "UNSIGNED-PAYLOAD".to_owned(),
        (false, Some(h)) if h == String::from_utf8_lossy(&body_hash) || h == "UNSIGNED-PAYLOAD" => {
            h.to_owned()
        }
        (false, Some(_)) => return Err("x-amz-content-sha256 does not match the body".into()),
        (false, None) => String::from_utf8_lossy(&body_hash).into_owned(),
    };
    let s3 = Settings::s3();
    let mut canonical = Vec::new();
    CanonicalRequest {
        method: &raw.method,
        path,
        query,
        extra_query: &[],
        skip_query_key: presigned.then_some("X-Amz-Signature"),
        headers: &headers,
        payload_hash: &payload_hash,
        uri_encoding: s3.uri_encoding,
        normalize_path: s3.normalize_path,
    }
    .write(&mut canonical);
    let mut sts = Vec::new();
    write_string_to_sign(
        &mut sts,
        ALGORITHM,
        &time,
        scope.as_bytes(),
        &hash_canonical_request(&canonical),
    );
    let mut parts = scope.split('/');
    let (d, r, s) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let expected = SigningKey::derive(SECRET, d, r, s).sign_hex(&sts);
    if expected.as_slice() == signature.as_bytes() {
        Ok(akid.to_owned())
    } else {
        Err("SignatureDoesNotMatch".into())
    }
}
