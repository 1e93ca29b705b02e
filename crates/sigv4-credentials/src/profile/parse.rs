//! The line-level parser of shared config and credentials files.
//!
//! This stage is literal: it splits a file into sections and properties and
//! reports malformed lines with their file and line. Deciding what a section
//! header means (`[profile x]` vs `[x]`), dropping invalid names and merging
//! duplicates happens afterwards, in [`super::set`].
//!
//! The rules are those of the AWS SDKs' shared profile-file specification
//! (and its test suite, which `tests/profile_vectors.rs` runs):
//!
//! - A line is split on `\n`; a trailing `\r` is dropped.
//! - Blank lines (only spaces and tabs) are ignored everywhere.
//! - A line whose first character is `#` or `;` is a comment.
//! - A line starting with `[` is a section header. Everything from the first
//!   `#` or `;` is a comment (even right after `]`); what remains must end
//!   with `]`. The header is the text between the brackets, trimmed.
//! - A line starting with a space or tab continues the previous property:
//!   it is trimmed and appended after a `\n`. If the property's own value was
//!   empty (`s3 =`), the continuation lines are sub-properties and each must
//!   look like `name = value`.
//! - Any other line is a property `name = value`: split at the first `=`,
//!   both sides trimmed; the name is lower-cased. A `#` or `;` starts an
//!   inline comment only when preceded by whitespace (`value;x` keeps `;x`).
//! - Only spaces and tabs count as whitespace.

use std::path::Path;

use crate::error::{CredentialsError, Location};

const WHITESPACE: &[char] = &[' ', '\t'];
const COMMENT: &[char] = &['#', ';'];

/// A `[...]` section and its properties, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawSection {
    /// The text between the brackets, trimmed (`profile foo`, `default`).
    pub(crate) header: String,
    /// The 1-based line of the header.
    pub(crate) line: usize,
    /// The properties, in file order, duplicates included.
    pub(crate) properties: Vec<RawProperty>,
}

/// One `name = value` property (with its continuation lines folded in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawProperty {
    /// The lower-cased name.
    pub(crate) name: String,
    /// The value, continuation lines joined with `\n`.
    pub(crate) value: String,
    /// The 1-based line of the `name = value` line.
    pub(crate) line: usize,
}

/// Parse a whole file. `path` is used only in error messages.
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Vec<RawSection>, CredentialsError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        CredentialsError::ProfileParse {
            location: Location {
                path: path.to_path_buf(),
                line,
            },
            message: "the file is not valid UTF-8; is this the right file?".into(),
        }
    })?;
    let mut sections: Vec<RawSection> = Vec::new();
    // Whether the last property's own value was empty: its continuation
    // lines are then sub-properties. `None` when no property has been read
    // in the current section.
    let mut property_is_parent: Option<bool> = None;
    for (index, line) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        let err = |message: String| CredentialsError::ProfileParse {
            location: Location {
                path: path.to_path_buf(),
                line: line_no,
            },
            message,
        };
        if line.trim_matches(WHITESPACE).is_empty() || line.starts_with(COMMENT) {
            continue;
        }
        if line.starts_with('[') {
            let header = strip_comment(line, false).trim_matches(WHITESPACE);
            let inner = header
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .ok_or_else(|| {
                    err("Profile definition must end with ']' (a section header looks like `[profile name]`)".into())
                })?;
            sections.push(RawSection {
                header: inner.trim_matches(WHITESPACE).to_owned(),
                line: line_no,
                properties: Vec::new(),
            });
            property_is_parent = None;
        } else if line.starts_with(WHITESPACE) {
            let Some(section) = sections.last_mut() else {
                return Err(err(
                    "Expected a profile definition before this indented line; add a `[profile name]` header above it".into(),
                ));
            };
            let (Some(is_parent), Some(property)) =
                (property_is_parent, section.properties.last_mut())
            else {
                return Err(err(
                    "Expected a property definition, found continuation: an indented line continues the property above it, and there is none in this section".into(),
                ));
            };
            let content = line.trim_matches(WHITESPACE);
            if is_parent {
                split_property(content).map_err(|e| err(e.message("sub-property")))?;
            }
            property.value.push('\n');
            property.value.push_str(content);
        } else {
            let Some(section) = sections.last_mut() else {
                return Err(err(
                    "Expected a profile definition before this property; add a `[profile name]` (config) or `[name]` (credentials) header above it".into(),
                ));
            };
            let (name, value) = split_property(line).map_err(|e| err(e.message("property")))?;
            property_is_parent = Some(value.is_empty());
            section.properties.push(RawProperty {
                name: name.to_ascii_lowercase(),
                value: value.to_owned(),
                line: line_no,
            });
        }
    }
    Ok(sections)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PropertyError {
    NoEquals,
    NoName,
}

impl PropertyError {
    fn message(self, what: &str) -> String {
        match self {
            Self::NoEquals => format!("Expected an '=' sign defining a {what} (`name = value`)"),
            Self::NoName => {
                let mut w = what.to_owned();
                if let Some(first) = w.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                format!("{w} did not have a name (`name = value`)")
            }
        }
    }
}

/// Split `name = value`, dropping an inline comment (which needs whitespace
/// before it). Both parts are trimmed.
fn split_property(line: &str) -> Result<(&str, &str), PropertyError> {
    let line = strip_comment(line, true);
    let (name, value) = line.split_once('=').ok_or(PropertyError::NoEquals)?;
    let name = name.trim_matches(WHITESPACE);
    if name.is_empty() {
        return Err(PropertyError::NoName);
    }
    Ok((name, value.trim_matches(WHITESPACE)))
}

/// Cut `line` at the first `#` or `;` (only one preceded by whitespace when
/// `needs_whitespace`).
fn strip_comment(line: &str, needs_whitespace: bool) -> &str {
    let mut prev_whitespace = false;
    for (i, c) in line.char_indices() {
        if COMMENT.contains(&c) && (prev_whitespace || !needs_whitespace) {
            return &line[..i];
        }
        prev_whitespace = WHITESPACE.contains(&c);
    }
    line
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Vec<RawSection>, CredentialsError> {
        parse(s.as_bytes(), Path::new("/cfg"))
    }

    fn error_of(s: &str) -> (usize, String) {
        match parse_str(s) {
            Err(CredentialsError::ProfileParse { location, message }) => (location.line, message),
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn splits_properties_and_strips_inline_comments() {
        assert_eq!(split_property("a = b"), Ok(("a", "b")));
        assert_eq!(split_property("a=b=c"), Ok(("a", "b=c")));
        assert_eq!(split_property("a = b # c"), Ok(("a", "b")));
        assert_eq!(split_property("a = b;c"), Ok(("a", "b;c")));
        assert_eq!(split_property("a =\t; c"), Ok(("a", "")));
        assert_eq!(split_property("a b"), Err(PropertyError::NoEquals));
        assert_eq!(split_property(" = b"), Err(PropertyError::NoName));
    }

    #[test]
    fn records_lines_and_lowercases_names() {
        let s = parse_str("# c\n\n[profile a]\nKey = V\n[b]\nx=1\n  -more\n").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].header.as_str(), s[0].line), ("profile a", 3));
        assert_eq!(s[0].properties[0].name, "key");
        assert_eq!(s[0].properties[0].value, "V");
        assert_eq!(s[0].properties[0].line, 4);
        assert_eq!(s[1].properties[0].value, "1\n-more");
        assert_eq!(s[1].properties[0].line, 6);
    }

    #[test]
    fn broken_files_name_the_line() {
        let (line, msg) = error_of("[default]\nregion = x\n[profile dev\n");
        assert_eq!(line, 3);
        assert!(msg.contains("must end with ']'"), "{msg}");

        let (line, msg) = error_of("[default]\n\naws_access_key_id AKID\n");
        assert_eq!(line, 3);
        assert!(
            msg.contains("Expected an '=' sign defining a property"),
            "{msg}"
        );

        let (line, msg) = error_of("region = x\n");
        assert_eq!(line, 1);
        assert!(msg.contains("Expected a profile definition"), "{msg}");

        let (line, msg) = error_of("[a]\n  x = 1\n");
        assert_eq!(line, 2);
        assert!(msg.contains("Expected a property definition"), "{msg}");

        let (line, msg) = error_of("[a]\ns3 =\n  no-equals\n");
        assert_eq!(line, 3);
        assert!(msg.contains("defining a sub-property"), "{msg}");
    }

    #[test]
    fn invalid_utf8_is_an_error_with_a_line() {
        let mut bytes = b"[default]\nregion = x\n".to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe, 0x00, 0x80]);
        match parse(&bytes, Path::new("/cfg")) {
            Err(CredentialsError::ProfileParse { location, message }) => {
                assert_eq!(location.line, 3);
                assert!(message.contains("UTF-8"));
                let shown = CredentialsError::ProfileParse { location, message }.to_string();
                assert!(shown.starts_with("/cfg line 3: "), "{shown}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn crlf_and_blank_lines_inside_sub_properties() {
        let s = parse_str("[a]\r\ns3 =\r\n  x = 1\r\n\r\n  y = 2\r\n").unwrap();
        assert_eq!(s[0].properties[0].value, "\nx = 1\ny = 2");
    }
}
