//! `sigv4 request` and `sigv4 presign` against an in-process HTTP server on
//! 127.0.0.1 that checks every signature with `sigv4_verify::Verifier`.
//! Runs the built binary (`SIGV4_BIN` overrides it); the child gets a
//! cleared environment, the test process's own is never touched.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may unwrap

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use sigv4_sign::{Credentials, SignableRequest};
use sigv4_verify::{StaticSecretStore, Verifier};

const AKID: &str = "AKIDREQUESTCLI";
const SECRET: &str = "request/cli/secret+key=value";

fn bin() -> String {
    std::env::var("SIGV4_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sigv4").to_owned())
}

/// The server: verified requests get `200` and `METHOD TARGET BODYLEN`;
/// `/status/404` a NoSuchKey error; `/big/N` N bytes; `/stream` 2 MiB
/// sent in two halves, the second only after `release` is set (a flag every
/// connection sees: should the client open a second connection, a stale one
/// cannot swallow the signal meant for the live one).
struct Server {
    base: String,
    seen: Arc<Mutex<Vec<String>>>,
    release: Arc<Release>,
}

/// A flag set once, waited for by any number of connections.
#[derive(Default)]
struct Release {
    set: Mutex<bool>,
    changed: Condvar,
}

impl Release {
    fn set(&self) {
        *self.set.lock().unwrap() = true;
        self.changed.notify_all();
    }

    /// Whether the flag was set within `limit`.
    fn wait(&self, limit: Duration) -> bool {
        let guard = self.set.lock().unwrap();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, limit, |set| !*set)
            .unwrap();
        *guard
    }
}

fn server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let release = Arc::new(Release::default());
    let released = release.clone();
    let verifier = Arc::new(Verifier::new(
        StaticSecretStore::new().with_key(AKID, SECRET),
    ));
    let s = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (verifier, seen, released) = (verifier.clone(), s.clone(), released.clone());
            std::thread::spawn(move || {
                let _ = serve(stream, &verifier, &seen, &released);
            });
        }
    });
    Server {
        base,
        seen,
        release,
    }
}

fn serve(
    stream: TcpStream,
    verifier: &Verifier,
    seen: &Mutex<Vec<String>>,
    released: &Release,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("").to_owned();
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.to_owned(), v.trim().as_bytes().to_vec()));
        }
    }
    let len = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| std::str::from_utf8(v).ok()?.parse().ok())
        .unwrap_or(0usize);
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;

    let pairs: Vec<(&str, &[u8])> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    let req = SignableRequest::with_byte_headers(&method, &target, &pairs).unwrap();
    let verdict = verifier.verify_with(&req, Some(&body), |k| {
        (k == AKID).then(|| Credentials::new(AKID, SECRET, None))
    });
    seen.lock().unwrap().push(format!(
        "{method} {target} {}",
        if verdict.is_ok() {
            "verified"
        } else {
            "rejected"
        }
    ));
    let respond = |out: &mut TcpStream, status: &str, extra: &str, body: &[u8]| {
        write!(
            out,
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nx-test: 1\r\n{extra}connection: close\r\n\r\n",
            body.len()
        )?;
        out.write_all(body)
    };
    if let Err(e) = verdict {
        let xml = e.to_xml(None);
        return respond(
            &mut out,
            &format!("{} Denied", e.status().as_u16()),
            "content-type: application/xml\r\n",
            xml.as_bytes(),
        );
    }
    let path = target.split('?').next().unwrap_or("");
    if path == "/status/404" {
        let xml = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
        return respond(&mut out, "404 Not Found", "", xml.as_bytes());
    }
    if let Some(n) = path.strip_prefix("/big/") {
        let n: usize = n.parse().unwrap();
        return respond(&mut out, "200 OK", "", &vec![b'x'; n]);
    }
    if path == "/stream" {
        let half = vec![b's'; 1 << 20];
        write!(
            out,
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            2 * half.len()
        )?;
        // The first half ends with a short piece of its own: a client that
        // holds back a small tail on stdout stalls here.
        let (most, tail) = half.split_at(half.len() - 100);
        out.write_all(most)?;
        out.flush()?;
        std::thread::sleep(Duration::from_millis(50));
        out.write_all(tail)?;
        out.flush()?;
        // The rest only once the client has shown the first half on stdout.
        if !released.wait(Duration::from_secs(10)) {
            return Ok(()); // the client buffered: cut the response short
        }
        return out.write_all(&half);
    }
    let text = format!("{method} {target} {}", body.len());
    respond(&mut out, "200 OK", "", text.as_bytes())
}

fn sigv4(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_clear()
        .env("HOME", "/nonexistent-sigv4-test-home")
        .output()
        .unwrap()
}

fn keys() -> Vec<&'static str> {
    vec![
        "--region",
        "us-east-1",
        "--service",
        "s3",
        "--access-key",
        AKID,
        "--secret-key",
        SECRET,
    ]
}

fn request(extra: &[&str]) -> Output {
    let mut args = vec!["request"];
    args.extend(keys());
    args.extend(extra);
    sigv4(&args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn get_prints_the_body_and_exits_0() {
    let s = server();
    let out = request(&[&format!("{}/bucket/a%20b+c.txt?x=1", s.base)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // S3 paths go out canonically encoded.
    assert_eq!(text(&out.stdout), "GET /bucket/a%20b%2Bc.txt?x=1 0");
    assert!(out.stderr.is_empty());
    assert_eq!(
        s.seen.lock().unwrap().as_slice(),
        ["GET /bucket/a%20b%2Bc.txt?x=1 verified"]
    );
}

#[test]
fn put_data_from_a_file_with_headers() {
    let s = server();
    let dir = std::env::temp_dir().join(format!("sigv4-request-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("body.bin");
    std::fs::write(&file, vec![7u8; 100_000]).unwrap();
    let data = format!("@{}", file.display());
    let url = format!("{}/bucket/upload.bin", s.base);
    let out = request(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/octet-stream",
        "-H",
        "x-amz-meta-a:  spaced  ",
        "-d",
        &data,
        &url,
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "PUT /bucket/upload.bin 100000");

    // -d DATA without -X is a POST.
    let out = request(&["-d", "Action=List", &format!("{}/", s.base)]);
    assert_eq!(text(&out.stdout), "POST / 11");
}

#[test]
fn include_prints_status_line_and_headers_first() {
    let s = server();
    let out = request(&["-i", &format!("{}/k", s.base)]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("HTTP/1.1 200 OK\r\n"), "{stdout}");
    let (head, body) = stdout.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("\r\nx-test: 1"), "{head}");
    assert_eq!(body, "GET /k 0");
}

#[test]
fn fail_exits_22_on_http_errors_with_one_line() {
    let s = server();
    let url = format!("{}/status/404", s.base);
    let out = request(&["--fail", &url]);
    assert_eq!(out.status.code(), Some(22));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("404") && err.contains("NoSuchKey"), "{err}");

    // Without --fail the error body is the output, and the exit code 0.
    let out = request(&[&url]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("<Code>NoSuchKey</Code>"));
}

#[test]
fn wrong_secret_is_rejected_by_the_server_and_said_clearly() {
    let s = server();
    let out = sigv4(&[
        "request",
        "--fail",
        "--region",
        "us-east-1",
        "--service",
        "s3",
        "--access-key",
        AKID,
        "--secret-key",
        "wrong",
        &format!("{}/bucket?list-type=2", s.base),
    ]);
    assert_eq!(out.status.code(), Some(22));
    let err = text(&out.stderr);
    assert!(err.contains("SignatureDoesNotMatch"), "{err}");
    assert!(err.contains("check the secret key"), "{err}");
    assert!(!err.contains("wrong"), "the secret is never printed: {err}");
    assert_eq!(
        s.seen.lock().unwrap().as_slice(),
        ["GET /bucket?list-type=2 rejected"]
    );
}

#[test]
fn network_errors_exit_1_with_one_line() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = request(&[&format!("http://127.0.0.1:{port}/k?X-Amz-Signature=abc")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("cannot connect") && err.contains(&port.to_string()),
        "{err}"
    );
    assert!(
        !err.contains("X-Amz-Signature"),
        "no query in messages: {err}"
    );
}

#[test]
fn bad_input_exits_2() {
    let s = server();
    let url = format!("{}/k", s.base);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["request", "not a url"], "invalid URL"),
        (vec!["request", "ftp://127.0.0.1/x"], "http"),
        (
            vec![
                "request",
                "--access-key",
                AKID,
                "--secret-key",
                SECRET,
                &url,
            ],
            "--service",
        ),
        (
            vec![
                "request",
                "--service",
                "s3",
                "--access-key",
                AKID,
                "--secret-key",
                SECRET,
                &url,
            ],
            "--region",
        ),
    ];
    for (args, needle) in cases {
        let out = sigv4(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    for extra in [
        vec!["-H", "NoColon", url.as_str()],
        vec!["-d", "@/nonexistent/file", url.as_str()],
        vec!["-X", "BAD METHOD", url.as_str()],
        vec!["--region", "not a region!", url.as_str()],
    ] {
        let out = request(&extra);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{extra:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(s.seen.lock().unwrap().is_empty(), "nothing was sent");
}

#[test]
fn credentials_come_from_the_default_chain() {
    let s = server();
    let out = Command::new(bin())
        .args(["request", "--service", "s3", &format!("{}/k", s.base)])
        .env_clear()
        .env("HOME", "/nonexistent-sigv4-test-home")
        .env("AWS_ACCESS_KEY_ID", AKID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "eu-west-1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "GET /k 0");
}

#[test]
fn large_downloads_stream_to_stdout() {
    let s = server();
    let mut args = vec!["request".to_owned()];
    args.extend(keys().into_iter().map(str::to_owned));
    args.push(format!("{}/stream", s.base));
    let mut child = Command::new(bin())
        .args(&args)
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    // The first half reaches stdout while the server still holds the second.
    let mut first = vec![0; 1 << 20];
    stdout.read_exact(&mut first).unwrap();
    assert!(first.iter().all(|&b| b == b's'));
    s.release.set();
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    assert_eq!(rest.len(), 1 << 20);
    assert!(child.wait().unwrap().success());

    let out = request(&[&format!("{}/big/{}", s.base, 12 << 20)]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout.len(), 12 << 20);
    assert!(
        out.stderr.is_empty(),
        "no progress bar when stderr is not a terminal"
    );
}

/// Sends `GET target` to the server and returns the status line.
fn raw_get(base: &str, target: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.lines().next().unwrap_or("").to_owned()
}

#[test]
fn presigned_urls_verify() {
    let s = server();
    for key in ["plain.txt", "a b+c=d%25e.txt", "ключ.txt"] {
        let out = sigv4(&[
            "presign",
            "--region",
            "us-east-1",
            "--service",
            "s3",
            "--access-key",
            AKID,
            "--secret-key",
            SECRET,
            "--expires",
            "300",
            &format!("{}/bucket/{key}", s.base),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let url = text(&out.stdout).trim().to_owned();
        assert!(url.contains("X-Amz-Expires=300"), "{url}");
        assert!(!url.contains(' '), "{url}");
        let target = &url[s.base.len()..];
        assert_eq!(raw_get(&s.base, target), "HTTP/1.1 200 OK", "{url}");
        // Tampering with the path is caught.
        let tampered = target.replacen("/bucket/", "/bucket/x", 1);
        assert!(raw_get(&s.base, &tampered).starts_with("HTTP/1.1 403"));
    }

    let out = sigv4(&[
        "presign",
        "--expires",
        "0",
        "--region",
        "us-east-1",
        "--service",
        "s3",
        "--access-key",
        AKID,
        "--secret-key",
        SECRET,
        "http://127.0.0.1:1/k",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("604800"));

    // Fixed time: the same URL every time; S3 signs UNSIGNED-PAYLOAD.
    let fixed = |method: &str| {
        let out = sigv4(&[
            "presign",
            "--method",
            method,
            "--time",
            "20240102T030405Z",
            "--access-key",
            AKID,
            "--secret-key",
            SECRET,
            "https://examplebucket.s3.eu-west-1.amazonaws.com/k",
        ]);
        text(&out.stdout)
    };
    let get = fixed("GET");
    assert_eq!(get, fixed("GET"));
    assert_ne!(get, fixed("PUT"));
    assert!(
        get.contains("X-Amz-Credential=AKIDREQUESTCLI%2F20240102%2Feu-west-1%2Fs3%2Faws4_request"),
        "{get}"
    );
}
