//! [`Verifier`]: parse, check, recompute, compare.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use sigv4_sign::canonical::{
    hash_canonical_request, write_string_to_sign, CanonicalHeader, CanonicalRequest, ALGORITHM,
};
use sigv4_sign::{
    sha256_hex, AmzDate, CredentialScope, Credentials, SessionTokenPlacement, SignableRequest,
    SigningKey, SigningKeyCache, STREAMING_SIGNED_PAYLOAD, STREAMING_SIGNED_PAYLOAD_TRAILER,
    STREAMING_UNSIGNED_PAYLOAD_TRAILER, UNSIGNED_PAYLOAD,
};
use subtle::ConstantTimeEq;

use crate::chunked::{ChunkMode, ChunkedDecoder};
use crate::parse::{
    check_signature_hex, check_signed_headers, split_credential, AuthorizationHeader, QueryAuth,
};
use crate::{Clock, Policy, SecretStore, SignatureDebug, SystemClock, VerifyError};

/// Where the request carried its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthLocation {
    /// The `Authorization` header.
    Header,
    /// Presigned-URL query parameters.
    Query,
    /// A browser-upload POST form.
    PostForm,
}

/// How the body is covered by the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadMode {
    /// A SHA-256 (hex) of the whole body is signed. When the body was not
    /// given to the verifier, the caller must check it (see
    /// [`Verified::check_body`]).
    Sha256(String),
    /// `UNSIGNED-PAYLOAD`.
    Unsigned,
    /// aws-chunked; decode with [`Verified::chunked_decoder`].
    Chunked(ChunkMode),
}

/// Who signed the request: what the tower layer puts into request extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// The access key id that signed.
    pub access_key_id: String,
    /// `date/region/service/aws4_request` of the signature.
    pub scope: CredentialScope,
    /// Header, query or POST form.
    pub location: AuthLocation,
    /// The signing time.
    pub time: AmzDate,
}

/// A request whose signature verified.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Who signed.
    pub identity: Identity,
    /// How the payload is covered.
    pub payload: PayloadMode,
    /// The decoded payload of an aws-chunked body, when the body was given.
    pub decoded_body: Option<Vec<u8>>,
    /// Trailing headers of an aws-chunked body, when the body was given.
    pub trailers: Vec<(String, String)>,
    seed_signature: String,
    key: Arc<SigningKey>,
    announced_trailers: Vec<String>,
    decoded_length: Option<u64>,
    max_chunk: usize,
}

impl Verified {
    /// For an aws-chunked body: a decoder that verifies its chunks as they arrive.
    pub fn chunked_decoder(&self) -> Option<ChunkedDecoder> {
        let PayloadMode::Chunked(mode) = self.payload else {
            return None;
        };
        Some(ChunkedDecoder::new(
            mode,
            Arc::clone(&self.key),
            self.identity.time,
            self.identity.scope.to_string(),
            &self.seed_signature,
            self.max_chunk,
            self.announced_trailers.clone(),
            self.decoded_length,
        ))
    }

    /// Checks a body that was not given to the verifier against the signed hash.
    pub fn check_body(&self, body: &[u8]) -> Result<(), VerifyError> {
        if let PayloadMode::Sha256(h) = &self.payload {
            let computed = sha256_hex(body);
            if computed.as_slice() != h.as_bytes() {
                return Err(VerifyError::XAmzContentSha256Mismatch {
                    client: h.clone(),
                    computed: String::from_utf8_lossy(&computed).into_owned(),
                });
            }
        }
        Ok(())
    }
}

/// Verifies SigV4-signed requests.
///
/// Holds a [`SecretStore`], a [`Clock`] and a [`Policy`]; derives each
/// signing key once per (access key, day, region, service).
pub struct Verifier {
    store: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    policy: Policy,
    keys: SigningKeyCache,
    derive: Mutex<()>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("policy", &self.policy)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// The request, parsed and checked up to the point where the secret is needed.
struct Parsed<'r> {
    location: AuthLocation,
    access_key_id: Cow<'r, str>,
    scope: CredentialScope,
    scope_str: Cow<'r, str>,
    time: AmzDate,
    signature: Cow<'r, str>,
    canonical: Vec<u8>,
    payload: PayloadMode,
    payload_line: Cow<'r, str>,
    token: Option<Cow<'r, str>>,
    announced_trailers: Vec<String>,
    decoded_length: Option<u64>,
}

fn header_all<'h, 'r: 'h>(
    headers: &'h [(&'r str, &'r [u8])],
    name: &'h str,
) -> impl Iterator<Item = &'r [u8]> + 'h {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

fn header_one<'r>(
    headers: &[(&str, &'r [u8])],
    name: &'static str,
) -> Result<Option<&'r str>, VerifyError> {
    let mut found = None;
    for (n, v) in headers {
        if n.eq_ignore_ascii_case(name) {
            if found.is_some() {
                return Err(VerifyError::InvalidRequest(format!(
                    "the header `{name}` appears more than once; send it once"
                )));
            }
            let s = std::str::from_utf8(v).map_err(|_| {
                VerifyError::InvalidArgument(format!("the header `{name}` is not valid UTF-8"))
            })?;
            found = Some(s.trim_matches(|c| c == ' ' || c == '\t'));
        }
    }
    Ok(found)
}

fn fmt_time(t: SystemTime) -> String {
    AmzDate::from_system_time(t).map_or_else(|_| "invalid".into(), |d| d.as_str().to_owned())
}

fn unix(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn redact_token(canonical: &str) -> String {
    let mut out = String::with_capacity(canonical.len());
    for (i, line) in canonical.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if line.starts_with("x-amz-security-token:") {
            out.push_str("x-amz-security-token:** redacted **");
        } else if i == 2 && line.contains("X-Amz-Security-Token=") {
            let parts: Vec<String> = line
                .split('&')
                .map(|p| {
                    if p.starts_with("X-Amz-Security-Token=") {
                        "X-Amz-Security-Token=**redacted**".to_owned()
                    } else {
                        p.to_owned()
                    }
                })
                .collect();
            out.push_str(&parts.join("&"));
        } else {
            out.push_str(line);
        }
    }
    out
}

impl Verifier {
    /// A verifier with the default [`Policy`] and the system clock.
    pub fn new(store: impl SecretStore + 'static) -> Self {
        Self {
            store: Arc::new(store),
            clock: Arc::new(SystemClock),
            policy: Policy::default(),
            keys: SigningKeyCache::with_capacity(1024),
            derive: Mutex::new(()),
        }
    }

    /// A verifier sharing a store.
    pub fn with_store(store: Arc<dyn SecretStore>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            policy: Policy::default(),
            keys: SigningKeyCache::with_capacity(1024),
            derive: Mutex::new(()),
        }
    }

    /// With this clock.
    #[must_use]
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// With this policy.
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The current time of the verifier's clock.
    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// How many signing keys are cached.
    pub fn cached_keys(&self) -> usize {
        self.keys.len()
    }

    /// Verifies a request: its signature, time, scope and, when `body` is
    /// given, its payload hash (or its aws-chunked chunks, decoded into
    /// [`Verified::decoded_body`]).
    pub async fn verify(
        &self,
        request: &SignableRequest<'_>,
        body: Option<&[u8]>,
    ) -> Result<Verified, VerifyError> {
        let parsed = self.parse(request, body)?;
        let creds = self
            .store
            .lookup(&parsed.access_key_id)
            .await
            .map_err(|e| VerifyError::Store(e.0))?;
        self.finish(parsed, creds.as_ref(), body)
    }

    /// [`Verifier::verify`] with the credentials looked up synchronously by
    /// `lookup` instead of the store.
    pub fn verify_with(
        &self,
        request: &SignableRequest<'_>,
        body: Option<&[u8]>,
        lookup: impl FnOnce(&str) -> Option<Credentials>,
    ) -> Result<Verified, VerifyError> {
        let parsed = self.parse(request, body)?;
        let creds = lookup(&parsed.access_key_id);
        self.finish(parsed, creds.as_ref(), body)
    }

    pub(crate) async fn store_lookup(
        &self,
        akid: &str,
    ) -> Result<Option<Credentials>, VerifyError> {
        self.store
            .lookup(akid)
            .await
            .map_err(|e| VerifyError::Store(e.0))
    }

    pub(crate) fn signing_key(
        &self,
        creds: &Credentials,
        scope: &CredentialScope,
    ) -> Arc<SigningKey> {
        // One derivation per scope even when many requests miss at once.
        let _g = self
            .derive
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.keys
            .get(creds, scope.date(), scope.region(), scope.service())
    }

    pub(crate) fn check_scope(
        &self,
        scope: &CredentialScope,
        time: &AmzDate,
        location: AuthLocation,
    ) -> Result<(), VerifyError> {
        let err = |reason: String, region: Option<String>| match location {
            AuthLocation::Query => VerifyError::AuthorizationQueryParametersError(reason),
            AuthLocation::PostForm => VerifyError::InvalidRequest(reason),
            AuthLocation::Header => VerifyError::AuthorizationHeaderMalformed {
                part: "Credential",
                reason,
                expected_region: region,
            },
        };
        if scope.date() != time.date() {
            return Err(err(
                format!(
                    "invalid credential date {}: it must be the date of X-Amz-Date ({})",
                    scope.date(),
                    time.date()
                ),
                None,
            ));
        }
        if !self.policy.region_allowed(scope.region().as_str()) {
            let expected = self
                .policy
                .allowed_regions
                .as_ref()
                .and_then(|r| r.first().cloned());
            return Err(err(
                format!(
                    "the region '{}' is wrong; expecting '{}'",
                    scope.region(),
                    expected.as_deref().unwrap_or("")
                ),
                expected,
            ));
        }
        if !self.policy.service_allowed(scope.service().as_str()) {
            return Err(err(
                format!("the service '{}' is not served here", scope.service()),
                None,
            ));
        }
        Ok(())
    }

    pub(crate) fn check_skew(&self, time: &AmzDate) -> Result<(), VerifyError> {
        let now = self.clock.now();
        let skew = i64::try_from(self.policy.max_skew.as_secs()).unwrap_or(i64::MAX);
        if (unix(now).saturating_sub(time.unix())).abs() > skew {
            return Err(VerifyError::RequestTimeTooSkewed {
                request_time: time.as_str().to_owned(),
                server_time: fmt_time(now),
                max_skew_ms: u64::try_from(self.policy.max_skew.as_millis()).unwrap_or(u64::MAX),
            });
        }
        Ok(())
    }

    fn parse<'r>(
        &self,
        req: &SignableRequest<'r>,
        body: Option<&[u8]>,
    ) -> Result<Parsed<'r>, VerifyError> {
        let mut headers: Vec<(&'r str, &'r [u8])> = Vec::with_capacity(16);
        req.for_each_header(|n, v| headers.push((n, v)));
        let mut auths = header_all(&headers, "authorization");
        let auth = auths.next();
        if auths.next().is_some() {
            return Err(VerifyError::InvalidRequest(
                "the Authorization header appears more than once; send one".into(),
            ));
        }
        let query = QueryAuth::parse(req.query())?;
        let (location, akid, scope_str, scope, signed_headers, signature, time, token, expires);
        match (auth, query) {
            (Some(_), Some(_)) => {
                return Err(VerifyError::InvalidRequest(
                    "only one auth mechanism allowed; send either the Authorization header or the X-Amz-Algorithm/X-Amz-Credential/X-Amz-Signature query parameters".into(),
                ))
            }
            (None, None) => return Err(VerifyError::MissingAuthentication),
            (Some(a), None) => {
                let a = std::str::from_utf8(a).map_err(|_| VerifyError::AuthorizationHeaderMalformed {
                    part: "format",
                    reason: "not valid UTF-8".into(),
                    expected_region: None,
                })?;
                let a = AuthorizationHeader::parse(a)?;
                if a.algorithm != ALGORITHM {
                    return Err(VerifyError::AuthorizationHeaderMalformed {
                        part: "algorithm",
                        reason: "SigV4a (AWS4-ECDSA-P256-SHA256) is not enabled on this server".into(),
                        expected_region: None,
                    });
                }
                location = AuthLocation::Header;
                let (date_str, date_header) = match header_one(&headers, "x-amz-date")? {
                    Some(d) => (d, "x-amz-date"),
                    None => match header_one(&headers, "date")? {
                        Some(d) => (d, "date"),
                        None => {
                            return Err(VerifyError::AccessDenied(
                                "AWS authentication requires a valid Date or x-amz-date header".into(),
                            ))
                        }
                    },
                };
                time = parse_time(date_str, date_header == "date").ok_or_else(|| {
                    VerifyError::AccessDenied(format!(
                        "the {date_header} header {date_str:?} is not a valid time (expected YYYYMMDDTHHMMSSZ)"
                    ))
                })?;
                if !a.signed_headers.split(';').any(|h| h == date_header) {
                    return Err(VerifyError::HeadersNotSigned(vec![date_header.into()]));
                }
                akid = Cow::Borrowed(a.access_key_id);
                scope_str = Cow::Borrowed(a.scope_str);
                scope = a.scope;
                signed_headers = Cow::Borrowed(a.signed_headers);
                signature = Cow::Borrowed(a.signature);
                token = header_one(&headers, "x-amz-security-token")?.map(Cow::Borrowed);
                expires = None;
            }
            (None, Some(q)) => {
                location = AuthLocation::Query;
                let err = VerifyError::AuthorizationQueryParametersError;
                let (Some(alg), Some(cred), Some(date), Some(sh), Some(sig), Some(exp)) = (
                    q.algorithm,
                    q.credential,
                    q.date,
                    q.signed_headers,
                    q.signature,
                    q.expires,
                ) else {
                    return Err(err("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.".into()));
                };
                if alg != ALGORITHM {
                    return Err(err(format!(
                        "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\", got {alg:?}"
                    )));
                }
                let (a, s, sc) = split_credential(&cred).map_err(|r| err(format!("X-Amz-Credential: {r}")))?;
                akid = Cow::Owned(a.to_owned());
                scope_str = Cow::Owned(s.to_owned());
                scope = sc;
                check_signed_headers(&sh).map_err(|r| err(format!("X-Amz-SignedHeaders: {r}")))?;
                check_signature_hex(&sig).map_err(|r| err(format!("X-Amz-Signature: {r}")))?;
                time = parse_time(&date, false).ok_or_else(|| {
                    err(format!("X-Amz-Date {date:?} must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""))
                })?;
                let secs: u64 = if !exp.is_empty() && exp.len() <= 7 && exp.bytes().all(|b| b.is_ascii_digit()) {
                    exp.parse().unwrap_or(0)
                } else {
                    return Err(err(format!("X-Amz-Expires {exp:?} must be a number of seconds")));
                };
                if secs == 0 {
                    return Err(err("X-Amz-Expires must be non-negative and at least 1 second".into()));
                }
                if secs > self.policy.max_presign_expiry.as_secs() {
                    return Err(err(format!(
                        "X-Amz-Expires must be less than a week (in seconds) that is 604800 (and at most {} here)",
                        self.policy.max_presign_expiry.as_secs()
                    )));
                }
                signed_headers = sh;
                signature = sig;
                token = q.security_token;
                expires = Some((secs, q.content_sha256));
            }
        }
        self.check_scope(&scope, &time, location)?;
        if let Some((secs, _)) = &expires {
            let now = self.clock.now();
            let n = unix(now);
            let skew = i64::try_from(self.policy.max_skew.as_secs()).unwrap_or(i64::MAX);
            if time.unix() > n.saturating_add(skew) {
                return Err(VerifyError::RequestNotYetValid {
                    signed_at: time.as_str().to_owned(),
                    server_time: fmt_time(now),
                });
            }
            if n > time
                .unix()
                .saturating_add(i64::try_from(*secs).unwrap_or(i64::MAX))
            {
                return Err(VerifyError::RequestExpired {
                    signed_at: time.as_str().to_owned(),
                    expires_secs: *secs,
                    server_time: fmt_time(now),
                });
            }
        } else {
            self.check_skew(&time)?;
        }

        let settings = self.policy.settings_for(scope.service());
        let token_unsigned = settings.session_token == SessionTokenPlacement::AppendAfterSigning;

        // The host the client signed.
        let host: Option<Cow<'r, [u8]>> = {
            let fwd = self
                .policy
                .forwarded_host_header
                .as_deref()
                .and_then(|f| headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(f)))
                .map(|(_, v)| {
                    let first = v.split(|&b| b == b',').next().unwrap_or(v);
                    Cow::Owned(first.trim_ascii().to_vec())
                });
            match fwd {
                Some(h) => Some(h),
                None => {
                    let mut hosts = header_all(&headers, "host");
                    let h = hosts.next();
                    if hosts.next().is_some() {
                        return Err(VerifyError::InvalidRequest(
                            "the Host header appears more than once".into(),
                        ));
                    }
                    match h {
                        Some(h) => Some(Cow::Borrowed(h)),
                        None => req.authority_host().map(|a| match a {
                            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
                            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
                        }),
                    }
                }
            }
        };

        // Headers that must be signed.
        let signed: Vec<&str> = signed_headers.split(';').collect();
        let is_signed = |n: &str| signed.iter().any(|s| s.eq_ignore_ascii_case(n));
        if !is_signed("host") {
            return Err(VerifyError::HeadersNotSigned(vec!["host".into()]));
        }
        let mut unsigned: Vec<String> = Vec::new();
        for (n, _) in &headers {
            let lower = n.to_ascii_lowercase();
            let must = (self.policy.strict
                && (lower.starts_with("x-amz-")
                    || lower == "content-type"
                    || lower == "content-md5"))
                || self.policy.required_signed_headers.contains(&lower);
            let exempt = token_unsigned && lower == "x-amz-security-token";
            if must && !exempt && !is_signed(&lower) && !unsigned.contains(&lower) {
                unsigned.push(lower);
            }
        }
        if !unsigned.is_empty() {
            return Err(VerifyError::HeadersNotSigned(unsigned));
        }

        // The payload line.
        let is_s3 = scope.service().is_s3();
        let content_sha = header_one(&headers, "x-amz-content-sha256")?;
        let declared: Option<Cow<'r, str>> = match (&expires, content_sha) {
            (Some((_, Some(q))), _) => Some(q.clone()),
            (Some(_), _) if is_s3 => Some(Cow::Borrowed(UNSIGNED_PAYLOAD)),
            (Some(_), _) => None,
            (None, Some(h)) => Some(Cow::Borrowed(h)),
            (None, None) => None,
        };
        let (payload, payload_line): (PayloadMode, Cow<'r, str>) = match declared {
            Some(d) => {
                let mode = match &*d {
                    UNSIGNED_PAYLOAD => PayloadMode::Unsigned,
                    STREAMING_SIGNED_PAYLOAD => PayloadMode::Chunked(ChunkMode::Signed),
                    STREAMING_SIGNED_PAYLOAD_TRAILER => PayloadMode::Chunked(ChunkMode::SignedTrailer),
                    STREAMING_UNSIGNED_PAYLOAD_TRAILER => PayloadMode::Chunked(ChunkMode::UnsignedTrailer),
                    h if check_signature_hex(h).is_ok() => PayloadMode::Sha256(h.to_owned()),
                    _ => {
                        return Err(VerifyError::InvalidArgument(
                            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-UNSIGNED-PAYLOAD-TRAILER or 64 lower-case hex digits".into(),
                        ))
                    }
                };
                (mode, d)
            }
            None => match body {
                Some(b) => {
                    let h = String::from_utf8_lossy(&sha256_hex(b)).into_owned();
                    (PayloadMode::Sha256(h.clone()), Cow::Owned(h))
                }
                None if is_s3 && expires.is_none() => {
                    return Err(VerifyError::MissingSecurityHeader("x-amz-content-sha256"))
                }
                None => {
                    return Err(VerifyError::InvalidRequest(
                        "the request carries no x-amz-content-sha256, so its body is needed to verify it".into(),
                    ))
                }
            },
        };
        let unsigned_ok = if expires.is_some() {
            self.policy.allow_unsigned_payload_query
        } else {
            self.policy.allow_unsigned_payload_header
        };
        if matches!(
            payload,
            PayloadMode::Unsigned | PayloadMode::Chunked(ChunkMode::UnsignedTrailer)
        ) && !unsigned_ok
        {
            return Err(VerifyError::AccessDenied(
                "unsigned payloads are not accepted here: sign the body (x-amz-content-sha256: <hex sha256>)".into(),
            ));
        }
        if matches!(payload, PayloadMode::Chunked(_)) && expires.is_some() {
            // Allowed, but the decoder then chains from the query signature.
        }

        // The canonical headers, in the signed order.
        let mut canon_headers: Vec<CanonicalHeader<'_>> = Vec::with_capacity(signed.len() + 1);
        for name in &signed {
            if *name == "host" {
                let h = host
                    .as_deref()
                    .ok_or(VerifyError::MissingSecurityHeader("host"))?;
                canon_headers.push(CanonicalHeader {
                    name: Cow::Borrowed(name),
                    value: h,
                });
                continue;
            }
            let before = canon_headers.len();
            for v in header_all(&headers, name) {
                canon_headers.push(CanonicalHeader {
                    name: Cow::Borrowed(name),
                    value: v,
                });
            }
            if canon_headers.len() == before {
                return Err(VerifyError::AccessDenied(format!(
                    "the header `{name}` is listed in SignedHeaders but absent from the request"
                )));
            }
        }
        let filtered_query: String;
        let query_str = if location == AuthLocation::Query && token_unsigned {
            filtered_query = req
                .query()
                .split('&')
                .filter(|p| {
                    let k = p.split_once('=').map_or(*p, |(k, _)| k);
                    sigv4_sign::encode::percent_decode(k).as_ref() != b"X-Amz-Security-Token"
                })
                .collect::<Vec<_>>()
                .join("&");
            filtered_query.as_str()
        } else {
            req.query()
        };
        let cr = CanonicalRequest {
            method: req.method(),
            path: req.path(),
            query: query_str,
            extra_query: &[],
            skip_query_key: (location == AuthLocation::Query).then_some("X-Amz-Signature"),
            headers: &canon_headers,
            payload_hash: &payload_line,
            uri_encoding: settings.uri_encoding,
            normalize_path: settings.normalize_path,
        };
        let mut canonical = Vec::with_capacity(512);
        cr.write(&mut canonical);

        let announced_trailers = header_one(&headers, "x-amz-trailer")?
            .map(|t| {
                t.split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let decoded_length = match header_one(&headers, "x-amz-decoded-content-length")? {
            Some(v) => Some(v.parse::<u64>().map_err(|_| {
                VerifyError::InvalidArgument("x-amz-decoded-content-length is not a number".into())
            })?),
            None => None,
        };
        Ok(Parsed {
            location,
            access_key_id: akid,
            scope,
            scope_str,
            time,
            signature,
            canonical,
            payload,
            payload_line,
            token,
            announced_trailers,
            decoded_length,
        })
    }

    /// Checks the credentials found for the request: unknown key, expiry,
    /// session token.
    pub(crate) fn check_credentials(
        &self,
        creds: Option<&Credentials>,
        access_key_id: &str,
        token: Option<&str>,
    ) -> Result<Credentials, VerifyError> {
        let Some(creds) = creds else {
            return Err(if self.policy.distinguish_unknown_key {
                VerifyError::InvalidAccessKeyId(access_key_id.to_owned())
            } else {
                VerifyError::SignatureDoesNotMatch(None)
            });
        };
        if creds.is_expired_at(self.clock.now()) {
            return Err(VerifyError::ExpiredToken);
        }
        if let Some(expected) = creds.session_token() {
            let ok = token.is_some_and(|t| bool::from(t.as_bytes().ct_eq(expected.as_bytes())));
            if !ok {
                return Err(VerifyError::InvalidToken);
            }
        }
        Ok(creds.clone())
    }

    fn finish(
        &self,
        p: Parsed<'_>,
        creds: Option<&Credentials>,
        body: Option<&[u8]>,
    ) -> Result<Verified, VerifyError> {
        let creds = self.check_credentials(creds, &p.access_key_id, p.token.as_deref())?;
        let hash = hash_canonical_request(&p.canonical);
        let mut sts = Vec::with_capacity(160);
        write_string_to_sign(&mut sts, ALGORITHM, &p.time, p.scope_str.as_bytes(), &hash);
        let key = self.signing_key(&creds, &p.scope);
        let computed = key.sign_hex(&sts);
        if !bool::from(computed.ct_eq(p.signature.as_bytes())) {
            let debug = self.policy.expose_signature_debug.then(|| {
                Box::new(SignatureDebug {
                    access_key_id: p.access_key_id.to_string(),
                    string_to_sign: String::from_utf8_lossy(&sts).into_owned(),
                    signature_provided: p.signature.to_string(),
                    canonical_request: redact_token(&String::from_utf8_lossy(&p.canonical)),
                })
            });
            return Err(VerifyError::SignatureDoesNotMatch(debug));
        }
        let _ = &p.payload_line;
        let mut verified = Verified {
            identity: Identity {
                access_key_id: p.access_key_id.into_owned(),
                scope: p.scope,
                location: p.location,
                time: p.time,
            },
            payload: p.payload,
            decoded_body: None,
            trailers: Vec::new(),
            seed_signature: p.signature.into_owned(),
            key,
            announced_trailers: p.announced_trailers,
            decoded_length: p.decoded_length,
            max_chunk: self.policy.max_chunk_size,
        };
        if let Some(body) = body {
            if let Some(mut dec) = verified.chunked_decoder() {
                let mut out = Vec::with_capacity(body.len());
                dec.push(body, &mut out)?;
                dec.finish()?;
                verified.trailers = dec.trailers().to_vec();
                verified.decoded_body = Some(out);
            } else {
                verified.check_body(body)?;
            }
        }
        Ok(verified)
    }
}

/// `YYYYMMDDTHHMMSSZ` (and, for the `Date` header, the HTTP date form).
fn parse_time(s: &str, http_date: bool) -> Option<AmzDate> {
    if s.len() == 16 {
        return AmzDate::parse(s).ok();
    }
    if http_date {
        let t =
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc2822).ok()?;
        return AmzDate::from_unix(t.unix_timestamp()).ok();
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        let t = parse_time("Sun, 30 Aug 2015 12:36:00 GMT", true).unwrap();
        assert_eq!(t.as_str(), "20150830T123600Z");
        assert!(parse_time("2015-08-30T12:36:00Z", false).is_none());
    }

    #[test]
    fn redaction_hides_tokens() {
        let c = "GET\n/\nX-Amz-Security-Token=abc&a=b\nx-amz-security-token:abc\n\nhost\nUNSIGNED-PAYLOAD";
        let r = redact_token(c);
        assert!(!r.contains("abc"));
        assert!(r.contains("a=b"));
    }
}
