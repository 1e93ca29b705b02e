//! Strict parsers for the `Authorization` header and the presigned-URL
//! query parameters.

use std::borrow::Cow;

use sigv4_sign::CredentialScope;

use crate::VerifyError;

/// The SigV4a algorithm name.
pub(crate) const V4A_ALGORITHM: &str = "AWS4-ECDSA-P256-SHA256";

/// The signature scheme an `Authorization` header or `X-Amz-Algorithm` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Algorithm {
    /// `AWS4-HMAC-SHA256`.
    V4,
    /// `AWS4-ECDSA-P256-SHA256`.
    V4a,
}

impl Algorithm {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            sigv4_sign::canonical::ALGORITHM => Some(Self::V4),
            V4A_ALGORITHM => Some(Self::V4a),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::V4 => sigv4_sign::canonical::ALGORITHM,
            Self::V4a => V4A_ALGORITHM,
        }
    }
}

/// The parts of `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader<'a> {
    /// The algorithm: `AWS4-HMAC-SHA256`.
    pub algorithm: &'a str,
    /// The access key id.
    pub access_key_id: &'a str,
    /// `date/region/service/aws4_request` as sent.
    pub scope_str: &'a str,
    /// The parsed scope.
    pub scope: CredentialScope,
    /// `host;x-amz-date;...` as sent (validated: lower-case, sorted, unique).
    pub signed_headers: &'a str,
    /// The signature: 64 lower-case hex digits.
    pub signature: &'a str,
}

pub(crate) fn malformed(part: &'static str, reason: impl Into<String>) -> VerifyError {
    VerifyError::AuthorizationHeaderMalformed {
        part,
        reason: reason.into(),
        expected_region: None,
    }
}

/// The byte index of the first `needle` in `s`: a plain loop, fewer
/// instructions than `memchr` on the short pieces of an `Authorization` header.
fn find_byte(s: &str, needle: u8) -> Option<usize> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let b = s.as_bytes();
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    // Eight bytes per step: a zero byte of `word ^ needle` is a match
    // (the exact `haszero` test of Hacker's Delight).
    for c in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_le_bytes(w) ^ (LOW * u64::from(needle));
        let hit = x.wrapping_sub(LOW) & !x & HIGH;
        if hit != 0 {
            return Some(at + (hit.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == needle)
        .map(|i| at + i)
}

/// `s` split at every `;` (which is ASCII, so every piece is a `str`).
pub(crate) fn split_semicolons(s: &str) -> impl Iterator<Item = &str> + Clone {
    SplitByte {
        rest: Some(s),
        byte: b';',
    }
}

#[derive(Clone)]
struct SplitByte<'a> {
    rest: Option<&'a str>,
    byte: u8,
}

impl<'a> Iterator for SplitByte<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match find_byte(s, self.byte) {
            Some(i) => {
                self.rest = Some(&s[i + 1..]);
                Some(&s[..i])
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

/// Whether an access key id is usable: not empty, no whitespace, control
/// bytes, `,` or `/`.
fn valid_akid(akid: &str) -> bool {
    !akid.is_empty()
        && !akid
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b == b'/' || b == b',')
}

/// Splits `cred` at its `n`-th `/` counted from the end.
fn cut_from_end(cred: &str, n: usize) -> Option<usize> {
    let mut seen = 0;
    for (i, &b) in cred.as_bytes().iter().enumerate().rev() {
        if b == b'/' {
            seen += 1;
            if seen == n {
                return Some(i);
            }
        }
    }
    None
}

/// Splits `AKID/date/region/service/aws4_request` into the key id, the
/// scope text and the parsed scope.
pub(crate) fn split_credential(cred: &str) -> Result<(&str, &str, CredentialScope), String> {
    let Some(cut) = cut_from_end(cred, 4) else {
        return Err("expected AKID/YYYYMMDD/region/service/aws4_request".into());
    };
    let (akid, scope_str) = (&cred[..cut], &cred[cut + 1..]);
    if !valid_akid(akid) {
        return Err("the access key id is empty or holds whitespace, ',' or '/'".into());
    }
    if !scope_str.ends_with("/aws4_request") {
        return Err(format!(
            "the scope must end in `aws4_request`, got {:?}",
            scope_str.rsplit('/').next().unwrap_or("")
        ));
    }
    let scope = CredentialScope::parse(scope_str).ok_or_else(|| {
        format!("the scope {scope_str:?} is not YYYYMMDD/region/service/aws4_request")
    })?;
    Ok((akid, scope_str, scope))
}

/// The parts of a SigV4a credential, `AKID/date/service/aws4_request` (the
/// scope of a SigV4a signature has no region).
#[cfg(feature = "sigv4a")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct V4aCredential<'a> {
    pub(crate) access_key_id: &'a str,
    /// `date/service/aws4_request` as sent.
    pub(crate) scope_str: &'a str,
    /// `YYYYMMDD`.
    pub(crate) date: &'a str,
    pub(crate) service: sigv4_sign::Service,
}

/// Splits a SigV4a credential `AKID/date/service/aws4_request`.
#[cfg(feature = "sigv4a")]
pub(crate) fn split_credential_v4a(cred: &str) -> Result<V4aCredential<'_>, String> {
    let Some(cut) = cut_from_end(cred, 3) else {
        return Err(
            "expected AKID/YYYYMMDD/service/aws4_request (a SigV4a scope has no region)".into(),
        );
    };
    let (akid, scope_str) = (&cred[..cut], &cred[cut + 1..]);
    if !valid_akid(akid) {
        return Err("the access key id is empty or holds whitespace, ',' or '/'".into());
    }
    let mut parts = scope_str.split('/');
    let (Some(date), Some(service), Some(term)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(
            "expected AKID/YYYYMMDD/service/aws4_request (a SigV4a scope has no region)".into(),
        );
    };
    if term != "aws4_request" {
        return Err(format!(
            "the scope must end in `aws4_request`, got {term:?}"
        ));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("the scope date {date:?} is not YYYYMMDD"));
    }
    let service = sigv4_sign::Service::new(service.to_owned())
        .map_err(|_| format!("the scope service {service:?} is not a service name"))?;
    Ok(V4aCredential {
        access_key_id: akid,
        scope_str,
        date,
        service,
    })
}

/// Bytes allowed in a header name of `SignedHeaders`: visible ASCII other
/// than upper-case letters and the separators of RFC 9110.
const fn header_name_table() -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0x21;
    while b < 0x7f {
        t[b] = true;
        b += 1;
    }
    let mut u = b'A';
    while u <= b'Z' {
        t[u as usize] = false;
        u += 1;
    }
    let seps = b"\"(),/:;<=>?@[\\]{}";
    let mut i = 0;
    while i < seps.len() {
        t[seps[i] as usize] = false;
        i += 1;
    }
    t
}

static HEADER_NAME_BYTE: [bool; 256] = header_name_table();

/// Checks a `SignedHeaders` list: non-empty, lower-case header names,
/// sorted, no repeats.
pub(crate) fn check_signed_headers(list: &str) -> Result<(), String> {
    if list.is_empty() {
        return Err("the list is empty; it must name at least `host`".into());
    }
    let mut prev: Option<&str> = None;
    for name in split_semicolons(list) {
        if name.is_empty() {
            return Err("it holds an empty header name".into());
        }
        if !name.bytes().all(|b| HEADER_NAME_BYTE[usize::from(b)]) {
            return Err(format!("{name:?} is not a lower-case header name"));
        }
        if let Some(p) = prev {
            if p >= name {
                return Err(format!(
                    "header names must be sorted and unique, but {name:?} follows {p:?}"
                ));
            }
        }
        prev = Some(name);
    }
    Ok(())
}

const fn lower_hex_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let digits = b"0123456789abcdef";
    let mut i = 0;
    while i < digits.len() {
        t[digits[i] as usize] = 1;
        i += 1;
    }
    t
}

static LOWER_HEX: [u8; 256] = lower_hex_table();

/// Whether every byte is a lower-case hex digit (no early exit: one table
/// look-up per byte, folded).
fn all_lower_hex(s: &str) -> bool {
    s.bytes().fold(1u8, |ok, b| ok & LOWER_HEX[usize::from(b)]) == 1
}

pub(crate) fn check_signature_hex(sig: &str) -> Result<(), String> {
    if sig.len() == 64 && all_lower_hex(sig) {
        Ok(())
    } else {
        Err("expected 64 lower-case hex digits".into())
    }
}

/// A SigV4a signature: the lower-case hex of a DER ECDSA P-256 signature
/// (at most 72 bytes).
#[cfg(feature = "sigv4a")]
pub(crate) fn check_signature_der_hex(sig: &str) -> Result<(), String> {
    if (16..=144).contains(&sig.len()) && sig.len() % 2 == 0 && all_lower_hex(sig) {
        Ok(())
    } else {
        Err("expected the lower-case hex of a DER ECDSA signature (16 to 144 hex digits)".into())
    }
}

/// The components of an `Authorization` header, as sent.
pub(crate) struct RawAuthorization<'a> {
    pub(crate) algorithm: Algorithm,
    pub(crate) credential: &'a str,
    pub(crate) signed_headers: &'a str,
    pub(crate) signature: &'a str,
}

/// Splits an `Authorization` header value into its algorithm and the
/// `Credential`, `SignedHeaders` and `Signature` components. Tolerates what
/// real clients send (one space after the algorithm; spaces or none after
/// each comma) and rejects everything else, naming the part at fault.
pub(crate) fn split_authorization(value: &str) -> Result<RawAuthorization<'_>, VerifyError> {
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    let Some(sp) = find_byte(value, b' ') else {
        return Err(malformed(
            "format",
            "expected `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`",
        ));
    };
    let (name, rest) = (&value[..sp], &value[sp + 1..]);
    let Some(algorithm) = Algorithm::from_name(name) else {
        return Err(malformed(
            "algorithm",
            format!("{name:?} is not supported; only AWS4-HMAC-SHA256 (Signature Version 4) and AWS4-ECDSA-P256-SHA256 (SigV4a) are accepted"),
        ));
    };
    let (mut cred, mut sh, mut sig) = (None, None, None);
    let mut first = true;
    let mut pieces = SplitByte {
        rest: Some(rest),
        byte: b',',
    };
    for comp in &mut pieces {
        let comp = if first {
            comp
        } else {
            comp.trim_start_matches(' ')
        };
        first = false;
        let Some(eq) = find_byte(comp, b'=') else {
            return Err(malformed(
                "format",
                format!("component {comp:?} is not `Name=value`"),
            ));
        };
        let (k, v) = (&comp[..eq], &comp[eq + 1..]);
        let slot = match k {
            "Credential" => &mut cred,
            "SignedHeaders" => &mut sh,
            "Signature" => &mut sig,
            other => {
                return Err(malformed(
                    "format",
                    format!(
                    "unknown component {other:?}; expected Credential, SignedHeaders and Signature"
                ),
                ))
            }
        };
        if slot.replace(v).is_some() {
            return Err(malformed("format", format!("{k} appears twice")));
        }
    }
    Ok(RawAuthorization {
        algorithm,
        credential: cred.ok_or_else(|| malformed("Credential", "missing"))?,
        signed_headers: sh.ok_or_else(|| malformed("SignedHeaders", "missing"))?,
        signature: sig.ok_or_else(|| malformed("Signature", "missing"))?,
    })
}

impl<'a> AuthorizationHeader<'a> {
    /// Parses a SigV4 (`AWS4-HMAC-SHA256`) header value. Tolerates what
    /// real clients send (one space after the algorithm; spaces or none
    /// after each comma) and rejects everything else with
    /// `AuthorizationHeaderMalformed` naming the part at fault. A SigV4a
    /// header (`AWS4-ECDSA-P256-SHA256`, whose scope has no region) is
    /// rejected here; the [`crate::Verifier`] verifies it when the `sigv4a`
    /// feature is on.
    pub fn parse(value: &'a str) -> Result<Self, VerifyError> {
        let raw = split_authorization(value)?;
        if raw.algorithm != Algorithm::V4 {
            return Err(malformed(
                "algorithm",
                "AWS4-ECDSA-P256-SHA256 (SigV4a) is not parsed by AuthorizationHeader, which reads SigV4 headers only",
            ));
        }
        Self::from_raw(&raw)
    }

    pub(crate) fn from_raw(raw: &RawAuthorization<'a>) -> Result<Self, VerifyError> {
        let (access_key_id, scope_str, scope) =
            split_credential(raw.credential).map_err(|r| malformed("Credential", r))?;
        check_signed_headers(raw.signed_headers).map_err(|r| malformed("SignedHeaders", r))?;
        check_signature_hex(raw.signature).map_err(|r| malformed("Signature", r))?;
        Ok(Self {
            algorithm: raw.algorithm.name(),
            access_key_id,
            scope_str,
            scope,
            signed_headers: raw.signed_headers,
            signature: raw.signature,
        })
    }
}

/// The `X-Amz-*` parameters of a presigned URL, percent-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryAuth<'a> {
    /// `X-Amz-Algorithm`.
    pub algorithm: Option<Cow<'a, str>>,
    /// `X-Amz-Credential`.
    pub credential: Option<Cow<'a, str>>,
    /// `X-Amz-Date`.
    pub date: Option<Cow<'a, str>>,
    /// `X-Amz-Expires`.
    pub expires: Option<Cow<'a, str>>,
    /// `X-Amz-SignedHeaders`.
    pub signed_headers: Option<Cow<'a, str>>,
    /// `X-Amz-Signature`.
    pub signature: Option<Cow<'a, str>>,
    /// `X-Amz-Security-Token`.
    pub security_token: Option<Cow<'a, str>>,
    /// `X-Amz-Content-Sha256`.
    pub content_sha256: Option<Cow<'a, str>>,
    /// `X-Amz-Region-Set` (SigV4a).
    pub region_set: Option<Cow<'a, str>>,
}

fn decode(s: &str) -> Result<Cow<'_, str>, String> {
    match sigv4_sign::encode::percent_decode(s) {
        Cow::Borrowed(_) => Ok(Cow::Borrowed(s)),
        Cow::Owned(v) => String::from_utf8(v)
            .map(Cow::Owned)
            .map_err(|_| "a parameter is not UTF-8 once percent-decoded".to_owned()),
    }
}

impl<'a> QueryAuth<'a> {
    /// Scans a query string for the `X-Amz-*` auth parameters. Returns
    /// `Ok(None)` when none of `X-Amz-Algorithm`, `X-Amz-Credential` or
    /// `X-Amz-Signature` is present (not a presigned URL); rejects repeated
    /// `X-Amz-*` parameters.
    pub fn parse(query: &'a str) -> Result<Option<Self>, VerifyError> {
        let err = VerifyError::AuthorizationQueryParametersError;
        let mut q = QueryAuth::default();
        let mut seen: Vec<Cow<'a, str>> = Vec::new();
        let mut any = false;
        for piece in query.split('&') {
            if piece.is_empty() {
                continue;
            }
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            // Most keys of a request are not X-Amz-* and not encoded: skip
            // them without decoding.
            if !k
                .as_bytes()
                .get(..6)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"x-amz-"))
                && !k.contains('%')
            {
                continue;
            }
            let key: Cow<'a, str> = match decode(k) {
                Ok(k) => k,
                // Only X-Amz-* keys matter here; any other key may hold any bytes.
                Err(_) => continue,
            };
            // Compare bytes: a decoded key may hold UTF-8, and slicing it at
            // byte 6 could split a character (fuzzing found that panic).
            if !key
                .as_bytes()
                .get(..6)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"x-amz-"))
            {
                continue;
            }
            if seen.iter().any(|s| s.eq_ignore_ascii_case(&key)) {
                return Err(err(format!(
                    "the parameter {key} appears more than once; send each X-Amz-* parameter once"
                )));
            }
            let slot = match &*key {
                "X-Amz-Algorithm" => &mut q.algorithm,
                "X-Amz-Credential" => &mut q.credential,
                "X-Amz-Date" => &mut q.date,
                "X-Amz-Expires" => &mut q.expires,
                "X-Amz-SignedHeaders" => &mut q.signed_headers,
                "X-Amz-Signature" => &mut q.signature,
                "X-Amz-Security-Token" => &mut q.security_token,
                "X-Amz-Content-Sha256" | "X-Amz-Content-SHA256" => &mut q.content_sha256,
                "X-Amz-Region-Set" => &mut q.region_set,
                _ => {
                    seen.push(key);
                    continue;
                }
            };
            if matches!(
                &*key,
                "X-Amz-Algorithm" | "X-Amz-Credential" | "X-Amz-Signature"
            ) {
                any = true;
            }
            *slot = Some(decode(v).map_err(err)?);
            seen.push(key);
        }
        if !any {
            // A lower-case or otherwise mis-cased auth parameter is not ignored silently.
            if seen.iter().any(|k| {
                ["x-amz-algorithm", "x-amz-credential", "x-amz-signature"]
                    .iter()
                    .any(|n| k.eq_ignore_ascii_case(n))
            }) {
                return Err(err(
                    "X-Amz-* auth parameters are case-sensitive: use X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature".into(),
                ));
            }
            return Ok(None);
        }
        Ok(Some(q))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SIG: &str = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

    #[test]
    fn parses_what_clients_send() {
        for v in [
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature={SIG}"),
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request,SignedHeaders=host;x-amz-date,Signature={SIG}"),
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request,  SignedHeaders=host;x-amz-date, Signature={SIG}"),
        ] {
            let a = AuthorizationHeader::parse(&v).unwrap();
            assert_eq!(a.access_key_id, "AKIDEXAMPLE");
            assert_eq!(a.scope.region().as_str(), "us-east-1");
            assert_eq!(a.scope.service().as_str(), "iam");
            assert_eq!(a.signed_headers, "host;x-amz-date");
            assert_eq!(a.signature, SIG);
        }
    }

    fn part_of(v: &str) -> &'static str {
        match AuthorizationHeader::parse(v) {
            Err(VerifyError::AuthorizationHeaderMalformed { part, .. }) => part,
            other => panic!("{v}: {other:?}"),
        }
    }

    #[test]
    fn rejects_and_names_the_part() {
        let ok_cred = "Credential=AK/20150830/us-east-1/s3/aws4_request";
        assert_eq!(part_of("AWS4-HMAC-SHA256"), "format");
        assert_eq!(
            part_of(&format!(
                "AWS4-HMAC-SHA1 {ok_cred}, SignedHeaders=host, Signature={SIG}"
            )),
            "algorithm"
        );
        assert_eq!(
            part_of(&format!("AWS4-HMAC-SHA256 {ok_cred}, SignedHeaders=host")),
            "Signature"
        );
        assert_eq!(
            part_of(&format!(
                "AWS4-HMAC-SHA256 {ok_cred}, SignedHeaders=host, Signature={}",
                &SIG[1..]
            )),
            "Signature"
        );
        assert_eq!(
            part_of(&format!(
                "AWS4-HMAC-SHA256 {ok_cred}, SignedHeaders=x-amz-date;host, Signature={SIG}"
            )),
            "SignedHeaders"
        );
        assert_eq!(
            part_of(&format!(
                "AWS4-HMAC-SHA256 {ok_cred}, SignedHeaders=Host, Signature={SIG}"
            )),
            "SignedHeaders"
        );
        assert_eq!(
            part_of(&format!("AWS4-HMAC-SHA256 Credential=AK/2015083/us-east-1/s3/aws4_request, SignedHeaders=host, Signature={SIG}")),
            "Credential"
        );
        assert_eq!(
            part_of(&format!("AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws4_requesx, SignedHeaders=host, Signature={SIG}")),
            "Credential"
        );
        assert_eq!(
            part_of(&format!(
                "AWS4-HMAC-SHA256 {ok_cred}, {ok_cred}, SignedHeaders=host, Signature={SIG}"
            )),
            "format"
        );
        assert_eq!(
            part_of(&format!(
                "AWS4-HMAC-SHA256 {ok_cred}; SignedHeaders=host, Signature={SIG}"
            )),
            "SignedHeaders"
        );
        assert_eq!(
            part_of(&format!(
                "AWS4-HMAC-SHA256 {ok_cred}, SignedHeaders=host, Signature={SIG}, Extra=1"
            )),
            "format"
        );
    }

    #[test]
    fn query_duplicates_are_rejected() {
        assert!(QueryAuth::parse("a=1&b=2").unwrap().is_none());
        assert!(QueryAuth::parse("X-Amz-Signature=1&X-Amz-Signature=2").is_err());
        assert!(QueryAuth::parse("X-Amz-Signature=1&x-amz-signature=2").is_err());
        assert!(QueryAuth::parse("X-Amz-Signature=1&X-Amz-Meta-A=1&X-Amz-Meta-A=2").is_err());
        assert!(QueryAuth::parse("x-amz-signature=1").is_err());
        let q = QueryAuth::parse("X-Amz-Credential=AK%2F20150830%2Fus-east-1%2Fs3%2Faws4_request")
            .unwrap()
            .unwrap();
        assert_eq!(
            q.credential.as_deref(),
            Some("AK/20150830/us-east-1/s3/aws4_request")
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod scan_tests {
    use super::*;

    #[test]
    fn find_byte_matches_position_everywhere() {
        let s = "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/s3/aws4_request,x";
        for needle in [b',', b' ', b'=', b'x', b'A', b'#', 0x80] {
            for start in 0..s.len() {
                let t = &s[start..];
                assert_eq!(
                    find_byte(t, needle),
                    t.bytes().position(|b| b == needle),
                    "{needle} in {t:?}"
                );
            }
        }
        assert_eq!(find_byte("\u{e9}\u{e9}\u{e9}\u{e9},", b','), Some(8));
    }

    #[test]
    fn lower_hex() {
        assert!(all_lower_hex("0123456789abcdef"));
        for bad in ["A", "g", "0123456789abcdeF", " ", "/", ":", "`"] {
            assert!(!all_lower_hex(bad), "{bad}");
        }
    }
}
