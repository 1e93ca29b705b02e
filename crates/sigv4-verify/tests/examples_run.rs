//! Runs the `tower` examples as servers on 127.0.0.1:0 and talks to them:
//! `axum_verifier` and `verify_server`. Requests are signed with `sigv4-sign`
//! and sent over a plain `TcpStream`.
//!
//! `cargo test --features tower` builds the examples next to this test's
//! binary (`target/<profile>/examples/NAME`); with `--test examples_run`
//! alone cargo does not, so build them first
//! (`cargo build -p sigv4-verify --features tower --examples`).
#![cfg(feature = "tower")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use sigv4_sign::{
    Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningParams,
};

#[path = "../../../tests/support/example_bin.rs"]
mod example_bin;

/// The built example `name` (see tests/support/example_bin.rs).
fn example(name: &str) -> PathBuf {
    example_bin::example_bin(name, "-p sigv4-verify --features tower")
}

/// An example server, killed when dropped.
struct Server {
    child: Child,
    /// Its first line on stdout.
    banner: String,
}

impl Server {
    /// Starts `name` with only `env` in its environment; waits at most 20 s
    /// for its first line.
    fn start(name: &str, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(example(name))
            .env_clear()
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = Self {
            child,
            banner: String::new(),
        };
        server.banner = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{name} printed nothing in 20 s"));
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `method path` with `body` to `port`, signed for S3 in us-east-1 by
/// `(akid, secret)` unless `None`; returns the status and the body.
fn send(
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
    key: Option<(&str, &str)>,
) -> (u16, String) {
    let host = format!("127.0.0.1:{port}");
    let len = body.len().to_string();
    let headers = [("host", host.as_str()), ("content-length", len.as_str())];
    let mut head = format!("{method} {path} HTTP/1.1\r\nconnection: close\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some((akid, secret)) = key {
        let creds = Credentials::new(akid, secret, None);
        let (region, s3) = (
            Region::new("us-east-1").unwrap(),
            Service::new("s3").unwrap(),
        );
        let params =
            SigningParams::at_system_time(&creds, &region, &s3, SystemTime::now()).unwrap();
        let req = SignableRequest::new(method, path, &headers).unwrap();
        let out = Signer::new()
            .sign(&req, PayloadHash::Body(body), &params)
            .unwrap();
        for (n, v) in out.params() {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    head.push_str("\r\n");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

fn code(body: &str) -> &str {
    let start = body.find("<Code>").map_or(0, |i| i + 6);
    let end = body.find("</Code>").unwrap_or(start);
    &body[start..end]
}

#[test]
fn axum_verifier_greets_the_signer_and_refuses_the_rest() {
    let server = Server::start("axum_verifier", &[]);
    let port: u16 = server
        .banner
        .trim_end()
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("banner: {:?}", server.banner))
        .parse()
        .unwrap();

    let (status, body) = send(
        port,
        "GET",
        "/bucket/key",
        b"",
        Some(("AKIDEXAMPLE", "secret")),
    );
    assert_eq!(status, 200, "{body}");
    let greeting = body
        .strip_prefix("hello AKIDEXAMPLE (")
        .unwrap_or_else(|| panic!("{body}"));
    // The scope: today's date (8 digits), the region and service signed for.
    let (date, rest) = greeting.split_at(8);
    assert!(date.bytes().all(|b| b.is_ascii_digit()), "{body}");
    assert_eq!(rest, "/us-east-1/s3/aws4_request)\n");

    let (status, body) = send(
        port,
        "PUT",
        "/bucket/key",
        b"data",
        Some(("AKIDEXAMPLE", "wrong")),
    );
    assert_eq!(
        (status, code(&body)),
        (403, "SignatureDoesNotMatch"),
        "{body}"
    );
    let (status, body) = send(
        port,
        "GET",
        "/bucket/key",
        b"",
        Some(("AKIDOTHER", "secret")),
    );
    assert_eq!((status, code(&body)), (403, "InvalidAccessKeyId"), "{body}");
    let (status, body) = send(port, "GET", "/bucket/key", b"", None);
    assert_eq!((status, code(&body)), (403, "AccessDenied"), "{body}");
}

#[test]
fn verify_server_answers_with_the_identity_and_explains_a_mismatch_on_request() {
    let keys = r#"{"AKIDVERIFYTEST":"verify/test+secret"}"#;
    let good = Some(("AKIDVERIFYTEST", "verify/test+secret"));
    let server = Server::start("verify_server", &[("VERIFY_KEYS", keys)]);
    let port: u16 = server
        .banner
        .trim_end()
        .strip_prefix("PORT ")
        .unwrap_or_else(|| panic!("banner: {:?}", server.banner))
        .parse()
        .unwrap();

    let (status, body) = send(port, "GET", "/bucket/a%20b.txt?x=1", b"", good);
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"ok": true, "access_key_id": "AKIDVERIFYTEST", "bytes": 0})
    );
    // A verified PUT reads its body and answers 200 with no body.
    let (status, body) = send(port, "PUT", "/bucket/key", &[7; 5000], good);
    assert_eq!((status, body.as_str()), (200, ""));

    let (status, body) = send(
        port,
        "GET",
        "/bucket/key",
        b"",
        Some(("AKIDVERIFYTEST", "wrong")),
    );
    assert_eq!(
        (status, code(&body)),
        (403, "SignatureDoesNotMatch"),
        "{body}"
    );
    // Without VERIFY_DEBUG the server keeps its canonical request to itself.
    assert!(!body.contains("CanonicalRequest"), "{body}");
    let (status, body) = send(
        port,
        "GET",
        "/bucket/key",
        b"",
        Some(("AKIDEXAMPLE", "secret")),
    );
    assert_eq!((status, code(&body)), (403, "InvalidAccessKeyId"), "{body}");
    drop(server);

    // With VERIFY_DEBUG, the mismatch carries the server's canonical request.
    let server = Server::start(
        "verify_server",
        &[("VERIFY_KEYS", keys), ("VERIFY_DEBUG", "1")],
    );
    let port: u16 = server
        .banner
        .trim_end()
        .strip_prefix("PORT ")
        .unwrap()
        .parse()
        .unwrap();
    let (status, body) = send(
        port,
        "GET",
        "/bucket/key",
        b"",
        Some(("AKIDVERIFYTEST", "wrong")),
    );
    assert_eq!(
        (status, code(&body)),
        (403, "SignatureDoesNotMatch"),
        "{body}"
    );
    // (XML-escaped: a newline is `&#10;`.)
    assert!(
        body.contains("<CanonicalRequest>GET&#10;/bucket/key&#10;"),
        "{body}"
    );
}
