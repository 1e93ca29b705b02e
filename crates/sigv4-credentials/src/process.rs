//! `credential_process`: credentials printed by an external command.
//!
//! The command line is split into a program and arguments the way the AWS
//! CLI does on Unix (Python's `shlex.split`: whitespace separates words,
//! `'...'` is literal, `"..."` honours `\"` and `\\`, a backslash outside
//! quotes escapes the next character, `#` is an ordinary character). The
//! program is run directly, never through a shell, so nothing in the
//! profile is interpreted by one.
//!
//! The process gets an empty stdin and inherits the environment. Its stdout
//! must be, within the size limit and the timeout, a JSON object:
//!
//! ```json
//! {"Version": 1, "AccessKeyId": "...", "SecretAccessKey": "...",
//!  "SessionToken": "...", "Expiration": "2030-01-01T00:00:00Z"}
//! ```
//!
//! `SessionToken` and `Expiration` (RFC 3339) are optional. On failure the
//! error carries the exit status and the process's stderr (its first
//! [`STDERR_SHOWN`] bytes); stdout is never shown, as it may hold secrets.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sigv4_sign::Credentials;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::clock::{SystemTimeSource, TimeSource};
use crate::error::{CredentialsError, Location};
use crate::provider::{BoxFuture, CredentialsResult, ProvideCredentials};

/// How much of the process's stderr goes into an error message.
pub const STDERR_SHOWN: usize = 4096;

/// Limits on a `credential_process` run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessSettings {
    timeout: Duration,
    max_output: usize,
}

impl Default for ProcessSettings {
    /// 60 s, 1 MiB of stdout.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_output: 1 << 20,
        }
    }
}

impl ProcessSettings {
    /// The same settings with another timeout (the process is killed after it).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same settings with another limit on stdout, in bytes.
    #[must_use]
    pub fn with_max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes;
        self
    }

    /// The timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The stdout limit in bytes.
    pub fn max_output(&self) -> usize {
        self.max_output
    }
}

/// Runs a `credential_process` command line.
///
/// Usually built by [`ProfileProvider`](crate::ProfileProvider) from a
/// profile; usable on its own too.
#[derive(Clone, Debug)]
pub struct CredentialProcessProvider {
    command: String,
    origin: String,
    location: Location,
    name: String,
    settings: ProcessSettings,
    time: Arc<dyn TimeSource>,
}

impl CredentialProcessProvider {
    /// A provider running `command_line`. `origin` says where it is
    /// configured (a profile name) and `location` the file and line, for
    /// error messages.
    pub fn new(
        command_line: impl Into<String>,
        origin: impl Into<String>,
        location: Location,
    ) -> Self {
        let origin = origin.into();
        Self {
            command: command_line.into(),
            name: format!("CredentialProcess({origin})"),
            origin,
            location,
            settings: ProcessSettings::default(),
            time: Arc::new(SystemTimeSource),
        }
    }

    /// The same provider with other limits.
    #[must_use]
    pub fn with_settings(mut self, settings: ProcessSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The same provider with another clock (to reject expired credentials).
    #[must_use]
    pub fn with_time_source(mut self, time: Arc<dyn TimeSource>) -> Self {
        self.time = time;
        self
    }

    fn error(&self, message: String) -> CredentialsError {
        CredentialsError::CredentialProcess {
            profile: self.origin.clone(),
            location: self.location.clone(),
            message,
        }
    }

    async fn run(&self) -> CredentialsResult {
        let argv = split_command_line(&self.command)
            .map_err(|e| self.error(format!("cannot split the command line: {e}")))?;
        let Some((program, args)) = argv.split_first() else {
            return Err(self.error("the command line is empty".into()));
        };
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                self.error(format!(
                    "cannot run `{program}`: {e}; check that it is installed and on PATH"
                ))
            })?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(self.error("could not capture the process's output".into()));
        };
        let max = self.settings.max_output;
        let run = async {
            let (out, err) = tokio::join!(
                read_limited(stdout, max, false),
                read_limited(stderr, STDERR_SHOWN, true)
            );
            if matches!(out, Ok((_, true))) {
                // Too much output: the run has failed, stop the process.
                let _ = child.start_kill();
            }
            (out, err, child.wait().await)
        };
        let Ok((out, err, status)) = tokio::time::timeout(self.settings.timeout, run).await else {
            // Dropping the child (kill_on_drop) stops the process.
            return Err(self.error(format!(
                "it did not finish within {:?} and was stopped",
                self.settings.timeout
            )));
        };
        let stderr_note = match err {
            Ok((bytes, truncated)) if !bytes.is_empty() => format!(
                "; stderr: {}{}",
                String::from_utf8_lossy(&bytes).trim_end(),
                if truncated { " [truncated]" } else { "" }
            ),
            _ => String::new(),
        };
        let (stdout, too_large) =
            out.map_err(|e| self.error(format!("reading its output failed: {e}{stderr_note}")))?;
        if too_large {
            return Err(self.error(format!(
                "it wrote more than {max} bytes to stdout; expected one small JSON object{stderr_note}"
            )));
        }
        let status = status.map_err(|e| self.error(format!("waiting for it failed: {e}")))?;
        if !status.success() {
            return Err(self.error(format!("it failed ({status}){stderr_note}")));
        }
        let now = self.time.now();
        parse_output(&stdout, now)
            .map(|c| c.with_provider_name(self.name.clone()))
            .map_err(|m| self.error(format!("{m}{stderr_note}")))
    }
}

impl ProvideCredentials for CredentialProcessProvider {
    fn provide_credentials(&self) -> BoxFuture<'_, CredentialsResult> {
        Box::pin(self.run())
    }
}

/// Read at most `limit` bytes. Past the limit, either keep draining (and
/// discarding) so the writer never blocks (`drain`), or stop. Returns the
/// bytes and whether there were more.
async fn read_limited(
    mut r: impl AsyncRead + Unpin,
    limit: usize,
    drain: bool,
) -> std::io::Result<(Vec<u8>, bool)> {
    let mut kept = Vec::new();
    let mut more = false;
    let mut buf = [0u8; 8192];
    loop {
        let n = r.read(&mut buf).await?;
        if n == 0 {
            return Ok((kept, more));
        }
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
        if n > room {
            more = true;
            if !drain {
                return Ok((kept, more));
            }
        }
    }
}

/// Parse the `Version: 1` JSON a credential process prints.
///
/// Messages name the offending field, never its value (which could be a
/// secret).
pub fn parse_output(stdout: &[u8], now: SystemTime) -> Result<Credentials, String> {
    let value: serde_json::Value = serde_json::from_slice(stdout).map_err(|e| {
        format!(
            "its output is not valid JSON (line {}, column {}); it must print one JSON object",
            e.line(),
            e.column()
        )
    })?;
    let Some(obj) = value.as_object() else {
        return Err("its output is JSON but not an object".into());
    };
    match obj.get("Version") {
        Some(v) if v.as_u64() == Some(1) => {}
        Some(v) if v.is_number() => {
            return Err(format!(
                "it printed Version {v}; only Version 1 is supported"
            ))
        }
        Some(_) => return Err("`Version` must be the number 1".into()),
        None => return Err("its output has no `Version` (must be 1)".into()),
    }
    let string = |key: &str, required: bool| -> Result<Option<String>, String> {
        match obj.get(key) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(serde_json::Value::String(_)) | None | Some(serde_json::Value::Null) => {
                if required {
                    Err(format!("its output has no `{key}` (or it is empty)"))
                } else {
                    Ok(None)
                }
            }
            Some(_) => Err(format!("`{key}` in its output must be a string")),
        }
    };
    let access_key_id = string("AccessKeyId", true)?.unwrap_or_default();
    let secret = string("SecretAccessKey", true)?.unwrap_or_default();
    let token = string("SessionToken", false)?;
    let mut creds = Credentials::new(access_key_id, secret, token);
    if let Some(exp) = string("Expiration", false)? {
        let t = time::OffsetDateTime::parse(&exp, &time::format_description::well_known::Rfc3339)
            .map_err(|e| format!("`Expiration` {exp:?} is not an RFC 3339 time: {e}"))?;
        let t = SystemTime::from(t);
        if t <= now {
            return Err(format!(
                "the credentials it printed expired at {exp}; check the tool and the system clock"
            ));
        }
        creds = creds.with_expiry(t);
    }
    Ok(creds)
}

/// Split a command line into words as the AWS CLI does on Unix (Python's
/// `shlex.split`).
///
/// ```
/// use sigv4_credentials::process::split_command_line;
/// assert_eq!(
///     split_command_line(r#"/opt/bin/tool --profile 'my dev' "a \"b\"" c\ d"#).unwrap(),
///     ["/opt/bin/tool", "--profile", "my dev", "a \"b\"", "c d"],
/// );
/// ```
pub fn split_command_line(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("no closing quotation (')".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("no closing quotation (\")".into()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("no closing quotation (\")".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("no escaped character after a trailing backslash".into()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_shlex() {
        let cases: &[(&str, &[&str])] = &[
            ("tool", &["tool"]),
            ("  a  b\tc  ", &["a", "b", "c"]),
            ("a 'b c' d", &["a", "b c", "d"]),
            ("a 'it''s'", &["a", "its"]),
            (r#"a "b \"c\" \\ \$x""#, &["a", r#"b "c" \ \$x"#]),
            (r"a\ b c", &["a b", "c"]),
            ("a '' b", &["a", "", "b"]),
            ("a;rm -rf /", &["a;rm", "-rf", "/"]),
            (
                "a $(id) `id` | x > y",
                &["a", "$(id)", "`id`", "|", "x", ">", "y"],
            ),
            ("a # not a comment", &["a", "#", "not", "a", "comment"]),
            ("x'y'\"z\"", &["xyz"]),
            ("", &[]),
        ];
        for (input, want) in cases {
            assert_eq!(&split_command_line(input).unwrap(), want, "{input}");
        }
        assert!(split_command_line("a 'b").unwrap_err().contains("closing"));
        assert!(split_command_line("a \"b").unwrap_err().contains("closing"));
        assert!(split_command_line("a \\").unwrap_err().contains("escaped"));
    }

    #[test]
    fn parses_version_1_output() {
        let now = SystemTime::UNIX_EPOCH;
        let c = parse_output(
            br#"{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"SK","SessionToken":"T","Expiration":"2030-01-02T03:04:05Z"}"#,
            now,
        )
        .unwrap();
        assert_eq!(c.access_key_id(), "AK");
        assert_eq!(c.secret_access_key(), "SK");
        assert_eq!(c.session_token(), Some("T"));
        // 2030-01-02T03:04:05Z = 1893553445 s after the epoch.
        assert_eq!(
            c.expiry(),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_553_445))
        );
        let c = parse_output(
            br#"{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"SK"}"#,
            now,
        )
        .unwrap();
        assert_eq!((c.session_token(), c.expiry()), (None, None));
    }

    #[test]
    fn rejects_bad_output_without_echoing_secrets() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_553_445);
        let cases: &[(&[u8], &str)] = &[
            (b"not json SECRETVALUE", "not valid JSON"),
            (b"[1]", "not an object"),
            (br#"{"AccessKeyId":"A","SecretAccessKey":"SECRETVALUE"}"#, "no `Version`"),
            (br#"{"Version":2,"AccessKeyId":"A","SecretAccessKey":"SECRETVALUE"}"#, "Version 2"),
            (br#"{"Version":"SECRETVALUE"}"#, "must be the number 1"),
            (br#"{"Version":1,"SecretAccessKey":"SECRETVALUE"}"#, "no `AccessKeyId`"),
            (br#"{"Version":1,"AccessKeyId":"A"}"#, "no `SecretAccessKey`"),
            (br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":7}"#, "must be a string"),
            (br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"SECRETVALUE","Expiration":"tomorrow"}"#, "RFC 3339"),
            (br#"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"SECRETVALUE","Expiration":"2030-01-02T03:04:05Z"}"#, "expired"),
        ];
        for (out, want) in cases {
            let e = parse_output(out, now).unwrap_err();
            assert!(e.contains(want), "{e}");
            assert!(!e.contains("SECRETVALUE"), "{e}");
        }
    }
}
