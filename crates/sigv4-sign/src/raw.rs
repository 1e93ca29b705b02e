//! Raw HTTP/1.1 requests in the form of the AWS signing test suite's
//! `request.txt`: what `sigv4 sign --raw` reads and prints.
//!
//! - The request line is `METHOD TARGET VERSION`; the target may hold
//!   unencoded spaces and UTF-8 (everything between the first and the last
//!   space).
//! - Header lines are `Name:value` (the value as written, leading spaces
//!   included; they are trimmed when signed).
//! - A line that starts with a space or tab continues the previous value.
//! - A blank line ends the headers; everything after it is the body.
//! - Lines end with `\n` or `\r\n`; the signed request keeps the ending used.

use std::fmt;

use crate::{SignatureLocation, SigningOutput};

/// Why a raw request could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RawRequestError {
    /// The input is empty.
    #[error("the request is empty")]
    Empty,
    /// The request line is not `METHOD TARGET VERSION`.
    #[error("line 1: the request line must be `METHOD TARGET HTTP/1.1`")]
    BadRequestLine,
    /// The request line or a header is not UTF-8.
    #[error("line {0}: not valid UTF-8")]
    NotUtf8(usize),
    /// A header line has no `:`.
    #[error("line {0}: a header line must be `Name:value`")]
    MissingColon(usize),
    /// A continuation line comes before any header.
    #[error("line {0}: a continuation line (starting with whitespace) has no header to continue")]
    OrphanContinuation(usize),
}

/// One header: name and value as written (continuations joined with `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawHeader {
    /// The name as written.
    pub name: String,
    /// The value as written after the `:`; continuation lines follow a `\n`.
    pub value: String,
}

/// A parsed raw request; re-rendering keeps the original lines verbatim.
#[derive(Clone, PartialEq, Eq)]
pub struct RawRequest {
    /// The method.
    pub method: String,
    /// The request target (origin-form or absolute).
    pub target: String,
    /// The protocol version, such as `HTTP/1.1`.
    pub version: String,
    /// The headers, in order.
    pub headers: Vec<RawHeader>,
    /// The header lines exactly as read.
    pub header_lines: Vec<String>,
    /// The body bytes.
    pub body: Vec<u8>,
    crlf: bool,
}

impl fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers may carry tokens: show names only.
        f.debug_struct("RawRequest")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("version", &self.version)
            .field(
                "header_names",
                &self.headers.iter().map(|h| &h.name).collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .finish()
    }
}

fn next_line(input: &[u8], pos: &mut usize) -> Option<(Vec<u8>, bool)> {
    if *pos >= input.len() {
        return None;
    }
    let rest = &input[*pos..];
    let (line, consumed, had_nl) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], i + 1, true),
        None => (rest, rest.len(), false),
    };
    *pos += consumed;
    let crlf = had_nl && line.last() == Some(&b'\r');
    let line = if crlf { &line[..line.len() - 1] } else { line };
    Some((line.to_vec(), crlf))
}

impl RawRequest {
    /// Parses a raw request.
    pub fn parse(input: &[u8]) -> Result<Self, RawRequestError> {
        let mut pos = 0;
        let (first, crlf) = next_line(input, &mut pos).ok_or(RawRequestError::Empty)?;
        let first = String::from_utf8(first).map_err(|_| RawRequestError::NotUtf8(1))?;
        let (method, rest) = first
            .split_once(' ')
            .ok_or(RawRequestError::BadRequestLine)?;
        let (target, version) = rest
            .rsplit_once(' ')
            .ok_or(RawRequestError::BadRequestLine)?;
        if method.is_empty() || target.is_empty() || !version.starts_with("HTTP/") {
            return Err(RawRequestError::BadRequestLine);
        }
        let mut headers: Vec<RawHeader> = Vec::new();
        let mut header_lines = Vec::new();
        let mut line_no = 1;
        let mut body_start = input.len();
        while let Some((line, _)) = next_line(input, &mut pos) {
            line_no += 1;
            if line.is_empty() {
                body_start = pos;
                break;
            }
            let line = String::from_utf8(line).map_err(|_| RawRequestError::NotUtf8(line_no))?;
            if line.starts_with([' ', '\t']) {
                let last = headers
                    .last_mut()
                    .ok_or(RawRequestError::OrphanContinuation(line_no))?;
                last.value.push('\n');
                last.value.push_str(&line);
            } else {
                let (name, value) = line
                    .split_once(':')
                    .ok_or(RawRequestError::MissingColon(line_no))?;
                headers.push(RawHeader {
                    name: name.to_owned(),
                    value: value.to_owned(),
                });
            }
            header_lines.push(line);
        }
        Ok(Self {
            method: method.to_owned(),
            target: target.to_owned(),
            version: version.to_owned(),
            headers,
            header_lines,
            body: input[body_start.min(input.len())..].to_vec(),
            crlf,
        })
    }

    /// The first value of a header (case-insensitive name), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.trim())
    }

    /// Header pairs as `(&name, &value)` for [`crate::SignableRequest::new`].
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect()
    }

    /// The request as read, with a signature added: header signing appends
    /// the output headers as `Name:value` lines after the original ones;
    /// presigning appends the query parameters to the target.
    pub fn render_signed(&self, output: &SigningOutput) -> Vec<u8> {
        let nl: &[u8] = if self.crlf { b"\r\n" } else { b"\n" };
        let mut out = Vec::with_capacity(self.target.len() + 1024 + self.body.len());
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.target.as_bytes());
        if output.location() == SignatureLocation::QueryParams {
            if !self.target.contains('?') {
                out.push(b'?');
            } else if !self.target.ends_with(['?', '&']) {
                out.push(b'&');
            }
            out.extend_from_slice(output.query_string().as_bytes());
        }
        out.push(b' ');
        out.extend_from_slice(self.version.as_bytes());
        out.extend_from_slice(nl);
        for line in &self.header_lines {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(nl);
        }
        if output.location() == SignatureLocation::Headers {
            for (name, value) in output.params() {
                out.extend_from_slice(name.as_bytes());
                out.push(b':');
                out.extend_from_slice(value.as_bytes());
                out.extend_from_slice(nl);
            }
        }
        out.extend_from_slice(nl);
        out.extend_from_slice(&self.body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_continuations_and_body() {
        let r = RawRequest::parse(b"POST /a b HTTP/1.1\nHost:x\nH: v1\n  v2\n\nbody\n").unwrap();
        assert_eq!(r.target, "/a b");
        assert_eq!(r.headers.len(), 2);
        assert_eq!(r.headers[1].value, " v1\n  v2");
        assert_eq!(r.body, b"body\n");
        assert_eq!(r.header("h"), Some("v1\n  v2"));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(RawRequest::parse(b""), Err(RawRequestError::Empty));
        assert_eq!(
            RawRequest::parse(b"GET\n"),
            Err(RawRequestError::BadRequestLine)
        );
        assert_eq!(
            RawRequest::parse(b"GET / FTP\n"),
            Err(RawRequestError::BadRequestLine)
        );
        assert_eq!(
            RawRequest::parse(b"GET / HTTP/1.1\n x\n"),
            Err(RawRequestError::OrphanContinuation(2))
        );
        assert_eq!(
            RawRequest::parse(b"GET / HTTP/1.1\nnocolon\n"),
            Err(RawRequestError::MissingColon(2))
        );
        assert_eq!(
            RawRequest::parse(b"GET / HTTP/1.1\nA:\xff\n"),
            Err(RawRequestError::NotUtf8(2))
        );
    }
}
