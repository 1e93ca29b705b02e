//! Runs the `chunked_put` example in its self-contained mode: `stream SIZE`
//! frames SIZE bytes as a signed aws-chunked body into a sink. Its `put`,
//! `post` and `mb` modes need an S3 server: tests/interop/run-chunked-interop.sh
//! runs them against s3s-fs.
//!
//! `cargo test` builds the example next to this test's binary
//! (`target/<profile>/examples/chunked_put`); with `--test examples_run`
//! alone cargo does not, so build it first
//! (`cargo build -p sigv4-sign --example chunked_put`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

#[path = "../../../tests/support/example_bin.rs"]
mod example_bin;

/// The built example (see tests/support/example_bin.rs).
fn chunked_put() -> PathBuf {
    example_bin::example_bin("chunked_put", "-p sigv4-sign")
}

/// Runs the example with `args` and an empty environment.
fn run(args: &[&str]) -> Output {
    Command::new(chunked_put())
        .args(args)
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The signed aws-chunked length of `size` bytes in 64 KiB chunks, from the
/// format in the S3 documentation: each chunk is
/// `hex(len);chunk-signature=<64 hex>\r\n<data>\r\n`, and a final chunk of
/// length 0 ends the body.
fn framed_length(size: u64) -> u64 {
    let chunk = |len: u64| format!("{len:x}").len() as u64 + 17 + 64 + 2 + len + 2;
    let full = size / 65536;
    let last = size % 65536;
    full * chunk(65536) + if last > 0 { chunk(last) } else { 0 } + chunk(0)
}

fn framed(size: u64) -> u64 {
    let out = run(&["stream", &size.to_string()]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // "framed SIZE bytes into N bytes in T s (R MiB/s)"
    let rest = stdout
        .strip_prefix(&format!("framed {size} bytes into "))
        .unwrap_or_else(|| panic!("{stdout}"));
    rest.split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn stream_frames_the_s3_documentation_example_to_its_content_length() {
    // The S3 documentation's example: 66,560 bytes of data in 64 KiB chunks
    // are sent with Content-Length 66,824.
    assert_eq!(framed(66_560), 66_824);
}

#[test]
fn stream_frames_empty_exact_and_multi_chunk_bodies() {
    // An empty body is one final chunk: `0;chunk-signature=<64>\r\n\r\n`.
    assert_eq!(framed(0), 86);
    assert_eq!(framed_length(0), 86);
    for size in [1, 65_536, 65_537, 5 * 1024 * 1024 + 1] {
        assert_eq!(framed(size), framed_length(size), "{size} bytes");
    }
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: chunked_put put|post|mb|stream"));
    // The server modes need keys from the environment and say which is missing.
    let out = run(&["mb", "127.0.0.1:9", "bucket"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AWS_ACCESS_KEY_ID is not set"));
}
