//! Header signing and presigning: [`Signer`], [`SigningParams`], [`SigningOutput`].

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::canonical::{
    hash_canonical_request, write_string_to_sign, CanonicalHeader, CanonicalRequest, ALGORITHM,
};
use crate::encode::uri_encode_into;
use crate::key::{sha256_hex, SigningKey, SigningKeyCache};
use crate::request::{check_header_value, is_tchar};
use crate::settings::{
    PayloadHash, SessionTokenPlacement, Settings, EMPTY_SHA256, STREAMING_SIGNED_PAYLOAD,
    STREAMING_SIGNED_PAYLOAD_TRAILER, STREAMING_UNSIGNED_PAYLOAD_TRAILER, UNSIGNED_PAYLOAD,
};
use crate::{AmzDate, Credentials, Region, Service, SignableRequest, SigningError};

/// The longest presigned URL lifetime SigV4 allows: 7 days.
pub const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(604_800);

/// What to sign with: credentials, region, service, time and settings.
///
/// ```
/// use sigv4_sign::{Credentials, Region, Service, SigningParams, AmzDate};
/// let creds = Credentials::new("AKIDEXAMPLE", "secret", None);
/// let region = Region::new("us-east-1").unwrap();
/// let service = Service::new("s3").unwrap();
/// let params = SigningParams::new(&creds, &region, &service, AmzDate::parse("20150830T123600Z").unwrap());
/// ```
#[derive(Clone, Debug)]
pub struct SigningParams<'a> {
    pub(crate) credentials: &'a Credentials,
    pub(crate) region: &'a Region,
    pub(crate) service: &'a Service,
    pub(crate) time: AmzDate,
    pub(crate) settings: &'a Settings,
    pub(crate) debug: bool,
}

impl<'a> SigningParams<'a> {
    /// Parameters with the preset settings for `service` ([`Settings::for_service`]).
    pub fn new(
        credentials: &'a Credentials,
        region: &'a Region,
        service: &'a Service,
        time: AmzDate,
    ) -> Self {
        Self {
            credentials,
            region,
            service,
            time,
            settings: Settings::for_service(service),
            debug: false,
        }
    }

    /// Parameters signing at `time` (truncated to the second).
    pub fn at_system_time(
        credentials: &'a Credentials,
        region: &'a Region,
        service: &'a Service,
        time: SystemTime,
    ) -> Result<Self, SigningError> {
        Ok(Self::new(
            credentials,
            region,
            service,
            AmzDate::from_system_time(time)?,
        ))
    }

    /// With these settings instead of the service's preset.
    #[must_use]
    pub fn with_settings(mut self, settings: &'a Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Keep the canonical request and string to sign in the output (for debugging).
    #[must_use]
    pub fn with_debug(mut self, on: bool) -> Self {
        self.debug = on;
        self
    }

    /// The signing time.
    pub fn time(&self) -> &AmzDate {
        &self.time
    }
}

/// Where the signature goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureLocation {
    /// `Authorization` and `X-Amz-*` headers.
    Headers,
    /// `X-Amz-*` query parameters (a presigned URL).
    QueryParams,
}

/// The canonical request, string to sign and scope, kept on request.
#[derive(Clone, Debug)]
pub struct DebugOutput {
    /// The canonical request, byte for byte.
    pub canonical_request: Vec<u8>,
    /// The string to sign.
    pub string_to_sign: String,
    /// `date/region/service/aws4_request`.
    pub credential_scope: String,
}

/// The result of signing: what to add to the request, and the signature.
#[derive(Clone, Debug)]
pub struct SigningOutput {
    location: SignatureLocation,
    params: Vec<(&'static str, String)>,
    signature: String,
    signed_headers: String,
    debug: Option<Box<DebugOutput>>,
}

impl SigningOutput {
    /// Headers or query parameters.
    pub fn location(&self) -> SignatureLocation {
        self.location
    }

    /// The headers to set (header signing) or the query parameters to
    /// append, in order, with values already percent-encoded (presigning).
    ///
    /// Header signing gives, in this order: `X-Amz-Security-Token` (with
    /// temporary credentials), `X-Amz-Date`, `x-amz-content-sha256` (when
    /// the settings add it) and `Authorization`.
    pub fn params(&self) -> &[(&'static str, String)] {
        &self.params
    }

    /// The value of one output parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The signature, 64 lowercase hex digits.
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// `host;x-amz-date;...`.
    pub fn signed_headers(&self) -> &str {
        &self.signed_headers
    }

    /// The canonical request and string to sign, when asked for with
    /// [`SigningParams::with_debug`].
    pub fn debug(&self) -> Option<&DebugOutput> {
        self.debug.as_deref()
    }

    /// The query string to append to a URL (presigning): `X-Amz-Algorithm=...&...`.
    pub fn query_string(&self) -> String {
        let mut out =
            String::with_capacity(self.params.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
        for (i, (k, v)) in self.params.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out
    }

    /// Adds the output to an `http::Request`: sets the headers, or appends
    /// the query parameters to its URI.
    #[cfg(feature = "http")]
    pub fn apply_to<B>(&self, req: &mut http::Request<B>) -> Result<(), SigningError> {
        match self.location {
            SignatureLocation::Headers => {
                for (name, value) in &self.params {
                    let name = http::HeaderName::from_bytes(name.as_bytes())
                        .map_err(|_| SigningError::InvalidHeaderName((*name).to_owned()))?;
                    let value = http::HeaderValue::from_str(value).map_err(|_| {
                        SigningError::InvalidHeaderValue {
                            name: name.as_str().to_owned(),
                            reason: "it cannot be sent as an HTTP header value",
                        }
                    })?;
                    req.headers_mut().insert(name, value);
                }
            }
            SignatureLocation::QueryParams => {
                let uri = req.uri().clone();
                let mut parts = uri.into_parts();
                let (path, query) = match &parts.path_and_query {
                    Some(pq) => (pq.path(), pq.query()),
                    None => ("/", None),
                };
                let mut pq = String::with_capacity(path.len() + 512);
                pq.push_str(if path.is_empty() { "/" } else { path });
                pq.push('?');
                if let Some(q) = query.filter(|q| !q.is_empty()) {
                    pq.push_str(q);
                    pq.push('&');
                }
                pq.push_str(&self.query_string());
                parts.path_and_query = Some(pq.parse().map_err(|_| {
                    SigningError::InvalidUri("the presigned URI does not parse".into())
                })?);
                *req.uri_mut() = http::Uri::from_parts(parts).map_err(|_| {
                    SigningError::InvalidUri("the presigned URI does not parse".into())
                })?;
            }
        }
        Ok(())
    }
}

/// Signs requests, caching signing keys per (access key, date, region, service).
///
/// Keep one `Signer` for the life of the process (it is `Send + Sync`).
///
/// ```
/// use sigv4_sign::{AmzDate, Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningParams};
/// let signer = Signer::new();
/// let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None);
/// let (region, service) = (Region::new("us-east-1").unwrap(), Service::new("service").unwrap());
/// let time = AmzDate::parse("20150830T123600Z").unwrap();
/// let headers = [("Host", "example.amazonaws.com")];
/// let req = SignableRequest::new("GET", "/", &headers).unwrap();
/// let params = SigningParams::new(&creds, &region, &service, time);
/// let out = signer.sign(&req, PayloadHash::Body(b""), &params).unwrap();
/// // The `get-vanilla` case of the AWS signing test suite:
/// assert_eq!(out.signature(), "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
/// ```
#[derive(Debug, Default)]
pub struct Signer {
    keys: SigningKeyCache,
}

pub(crate) enum Mode {
    Headers,
    Query { expires: u64 },
}

/// Signs a string to sign (for a scheme other than SigV4's HMAC).
pub(crate) type SignFn<'a> = &'a dyn Fn(&[u8]) -> String;

/// The signature scheme: SigV4 (HMAC with the cached key) or, from the
/// `sigv4a` module, another algorithm over the same canonical request.
pub(crate) struct Scheme<'a> {
    /// The algorithm name (string to sign, `Authorization`, `X-Amz-Algorithm`).
    pub(crate) algorithm: &'static str,
    /// SigV4a: the region set, signed as `X-Amz-Region-Set`; the scope then has no region.
    pub(crate) region_set: Option<&'a str>,
    /// Signs the string to sign; `None` signs with the cached SigV4 key.
    pub(crate) sign: Option<SignFn<'a>>,
}

const V4: Scheme<'static> = Scheme {
    algorithm: ALGORITHM,
    region_set: None,
    sign: None,
};

struct QueryParts {
    region_set: Option<String>,
    credential: String,
    signed_headers: String,
    expires: String,
    token: Option<String>,
}

impl Signer {
    /// A signer with an empty key cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Signs with headers: `Authorization`, `X-Amz-Date`, and as the settings
    /// and credentials say `X-Amz-Security-Token` and `x-amz-content-sha256`.
    pub fn sign(
        &self,
        request: &SignableRequest<'_>,
        payload: PayloadHash<'_>,
        params: &SigningParams<'_>,
    ) -> Result<SigningOutput, SigningError> {
        self.sign_inner(request, payload, params, Mode::Headers, &V4)
    }

    /// Presigns: the `X-Amz-*` query parameters of a URL valid for `expires_in`
    /// (1 s ..= 7 days). S3 presigned URLs usually sign [`PayloadHash::Unsigned`].
    pub fn presign(
        &self,
        request: &SignableRequest<'_>,
        payload: PayloadHash<'_>,
        params: &SigningParams<'_>,
        expires_in: Duration,
    ) -> Result<SigningOutput, SigningError> {
        let mode = Self::presign_mode(expires_in)?;
        self.sign_inner(request, payload, params, mode, &V4)
    }

    /// Checks the presign expiry: 1 s ..= 7 days.
    pub(crate) fn presign_mode(expires_in: Duration) -> Result<Mode, SigningError> {
        let expires = expires_in.as_secs();
        if !(1..=MAX_PRESIGN_EXPIRY.as_secs()).contains(&expires) {
            return Err(SigningError::InvalidExpiry { seconds: expires });
        }
        Ok(Mode::Query { expires })
    }

    /// The signing key for a scope, from the cache.
    pub fn signing_key(
        &self,
        credentials: &Credentials,
        date: &str,
        region: &Region,
        service: &Service,
    ) -> Arc<SigningKey> {
        self.keys.get(credentials, date, region, service)
    }

    pub(crate) fn sign_inner(
        &self,
        request: &SignableRequest<'_>,
        payload: PayloadHash<'_>,
        params: &SigningParams<'_>,
        mode: Mode,
        scheme: &Scheme<'_>,
    ) -> Result<SigningOutput, SigningError> {
        let algorithm = scheme.algorithm;
        let method = request.method();
        if method.is_empty() || !method.bytes().all(is_tchar) {
            return Err(SigningError::InvalidMethod(method.to_owned()));
        }
        let creds = params.credentials;
        let akid = creds.access_key_id();
        if akid.is_empty() || akid.bytes().any(|b| b == b'/' || b <= b' ' || b == 0x7f) {
            return Err(SigningError::InvalidAccessKeyId);
        }
        let settings = params.settings;
        let time = &params.time;

        let body_hash;
        let payload_hash: &str = match payload {
            PayloadHash::Body([]) => EMPTY_SHA256,
            PayloadHash::Body(b) => {
                body_hash = sha256_hex(b);
                std::str::from_utf8(&body_hash).unwrap_or_default()
            }
            PayloadHash::Precomputed(h) => {
                if h.len() != 64
                    || !h
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                {
                    return Err(SigningError::InvalidPayloadHash(
                        h.chars().take(80).collect(),
                    ));
                }
                h
            }
            PayloadHash::Unsigned => UNSIGNED_PAYLOAD,
            PayloadHash::StreamingSigned => STREAMING_SIGNED_PAYLOAD,
            PayloadHash::StreamingSignedTrailer => STREAMING_SIGNED_PAYLOAD_TRAILER,
            PayloadHash::StreamingUnsignedTrailer => STREAMING_UNSIGNED_PAYLOAD_TRAILER,
        };

        let is_query = matches!(mode, Mode::Query { .. });
        let token = creds.session_token();
        let token_signed =
            token.is_some() && settings.session_token == SessionTokenPlacement::Signed;
        let add_content_sha = !is_query && settings.content_sha256_header;

        // Headers that enter the canonical request.
        let mut headers = HeaderList::new();
        let mut has_host = false;
        let mut error = None;
        request.for_each_header(|name, value| {
            if error.is_some() {
                return;
            }
            if name.is_empty() || !name.bytes().all(is_tchar) {
                error = Some(SigningError::InvalidHeaderName(name.to_owned()));
                return;
            }
            if let Err(e) = check_header_value(name, value) {
                error = Some(e);
                return;
            }
            if settings.is_excluded(name) {
                return;
            }
            if !is_query
                && (name.eq_ignore_ascii_case("x-amz-date")
                    || (scheme.region_set.is_some()
                        && name.eq_ignore_ascii_case("x-amz-region-set"))
                    || (token.is_some() && name.eq_ignore_ascii_case("x-amz-security-token"))
                    || (add_content_sha && name.eq_ignore_ascii_case("x-amz-content-sha256")))
            {
                // Replaced by the value we add.
                return;
            }
            let h = CanonicalHeader::new(name, value);
            has_host |= h.name == "host";
            headers.push(h);
        });
        if let Some(e) = error {
            return Err(e);
        }
        let authority_host;
        if !has_host {
            authority_host = request.authority_host().ok_or(SigningError::MissingHost)?;
            headers.push(CanonicalHeader {
                name: Cow::Borrowed("host"),
                value: authority_host.as_bytes(),
            });
        }
        if !is_query {
            headers.push(CanonicalHeader {
                name: Cow::Borrowed("x-amz-date"),
                value: time.as_str().as_bytes(),
            });
            if let Some(rs) = scheme.region_set {
                headers.push(CanonicalHeader {
                    name: Cow::Borrowed("x-amz-region-set"),
                    value: rs.as_bytes(),
                });
            }
            if let (Some(t), true) = (token, token_signed) {
                headers.push(CanonicalHeader {
                    name: Cow::Borrowed("x-amz-security-token"),
                    value: t.as_bytes(),
                });
            }
            if add_content_sha {
                headers.push(CanonicalHeader {
                    name: Cow::Borrowed("x-amz-content-sha256"),
                    value: payload_hash.as_bytes(),
                });
            }
        }
        let headers = headers.as_mut_slice();
        CanonicalRequest::sort_headers(headers);

        // The credential scope, then the pieces that depend on it.
        let region = params.region.as_str();
        let service = params.service.as_str();
        let mut scope_buf = ScopeBuf::new();
        scope_buf.push(time.date());
        scope_buf.push("/");
        if scheme.region_set.is_none() {
            scope_buf.push(region);
            scope_buf.push("/");
        }
        scope_buf.push(service);
        scope_buf.push("/aws4_request");
        let scope = scope_buf.as_str();

        // One buffer, sized for the whole canonical request up front.
        let mut canonical = take_scratch(canonical_capacity(
            request,
            headers,
            &mode,
            token.map_or(0, str::len),
        ));
        let mut cr = CanonicalRequest {
            method,
            path: request.path(),
            query: request.query(),
            extra_query: &[],
            skip_query_key: None,
            headers,
            payload_hash,
            uri_encoding: settings.uri_encoding,
            normalize_path: settings.normalize_path,
        };
        let query_parts = match mode {
            Mode::Headers => None,
            Mode::Query { expires } => {
                let mut sh = Vec::with_capacity(64);
                cr.write_signed_headers(&mut sh);
                let mut c = Vec::with_capacity(akid.len() + scope.len() + 8);
                uri_encode_into(&mut c, akid.as_bytes(), false);
                uri_encode_into(&mut c, b"/", false);
                uri_encode_into(&mut c, scope.as_bytes(), false);
                let mut s = Vec::with_capacity(sh.len() + 16);
                uri_encode_into(&mut s, &sh, false);
                Some(QueryParts {
                    region_set: scheme.region_set.map(|rs| {
                        let mut v = Vec::with_capacity(rs.len() + 8);
                        uri_encode_into(&mut v, rs.as_bytes(), false);
                        into_string(v)
                    }),
                    credential: into_string(c),
                    signed_headers: into_string(s),
                    expires: expires.to_string(),
                    token: self.keys.encoded_token(
                        creds,
                        time.date(),
                        params.region,
                        params.service,
                    ),
                })
            }
        };
        let extra: Vec<(&str, &str)>;
        if let Some(q) = &query_parts {
            let mut e = vec![
                ("X-Amz-Algorithm", algorithm),
                ("X-Amz-Credential", q.credential.as_str()),
                ("X-Amz-Date", time.as_str()),
                ("X-Amz-Expires", q.expires.as_str()),
                ("X-Amz-SignedHeaders", q.signed_headers.as_str()),
            ];
            if let (Some(t), true) = (&q.token, token_signed) {
                e.push(("X-Amz-Security-Token", t.as_str()));
            }
            if let Some(rs) = &q.region_set {
                e.push(("X-Amz-Region-Set", rs.as_str()));
            }
            extra = e;
            cr.extra_query = &extra;
        }
        let sh_range = cr.write(&mut canonical);
        let signed_headers = into_string(canonical[sh_range].to_vec());

        let canonical_hash = hash_canonical_request(&canonical);
        // The string to sign reuses the canonical request's buffer unless
        // the canonical request is kept for debugging.
        let mut sts = if params.debug {
            Vec::with_capacity(algorithm.len() + 18 + scope.len() + 66)
        } else {
            let mut b = std::mem::take(&mut canonical);
            b.clear();
            b
        };
        write_string_to_sign(&mut sts, algorithm, time, scope.as_bytes(), &canonical_hash);
        let signature = if let Some(sign) = scheme.sign {
            sign(&sts)
        } else {
            let sig = self
                .keys
                .sign_hex(creds, time.date(), params.region, params.service, &sts);
            into_string(sig.to_vec())
        };

        let mut out_params: Vec<(&'static str, String)> = Vec::with_capacity(7);
        match query_parts {
            None => {
                if let Some(t) = token {
                    out_params.push(("X-Amz-Security-Token", t.to_owned()));
                }
                out_params.push(("X-Amz-Date", time.as_str().to_owned()));
                if let Some(rs) = scheme.region_set {
                    out_params.push(("X-Amz-Region-Set", rs.to_owned()));
                }
                if add_content_sha {
                    out_params.push(("x-amz-content-sha256", payload_hash.to_owned()));
                }
                let mut auth = String::with_capacity(
                    algorithm.len() + akid.len() + scope.len() + signed_headers.len() + 144,
                );
                auth.push_str(algorithm);
                auth.push_str(" Credential=");
                auth.push_str(akid);
                auth.push('/');
                auth.push_str(scope);
                auth.push_str(", SignedHeaders=");
                auth.push_str(&signed_headers);
                auth.push_str(", Signature=");
                auth.push_str(&signature);
                out_params.push(("Authorization", auth));
            }
            Some(q) => {
                out_params.push(("X-Amz-Algorithm", algorithm.to_owned()));
                out_params.push(("X-Amz-Credential", q.credential));
                out_params.push(("X-Amz-Date", time.as_str().to_owned()));
                out_params.push(("X-Amz-SignedHeaders", q.signed_headers));
                out_params.push(("X-Amz-Expires", q.expires));
                if let Some(t) = q.token {
                    out_params.push(("X-Amz-Security-Token", t));
                }
                if let Some(rs) = q.region_set {
                    out_params.push(("X-Amz-Region-Set", rs));
                }
                out_params.push(("X-Amz-Signature", signature.clone()));
            }
        }
        let debug = if params.debug {
            Some(Box::new(DebugOutput {
                canonical_request: canonical,
                string_to_sign: into_string(sts),
                credential_scope: scope.to_owned(),
            }))
        } else {
            return_scratch(sts);
            None
        };
        Ok(SigningOutput {
            location: if is_query {
                SignatureLocation::QueryParams
            } else {
                SignatureLocation::Headers
            },
            params: out_params,
            signature,
            signed_headers,
            debug,
        })
    }
}

thread_local! {
    /// A buffer for the canonical request and string to sign, kept per
    /// thread so that signing does not allocate one each time.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The largest scratch buffer kept for the next signature.
const SCRATCH_KEEP: usize = 64 * 1024;

/// The thread's scratch buffer (empty, with room for `capacity` bytes); a
/// nested call finds none and gets a new one.
fn take_scratch(capacity: usize) -> Vec<u8> {
    let mut v = SCRATCH.try_with(Cell::take).unwrap_or_default();
    v.clear();
    v.reserve(capacity);
    v
}

fn return_scratch(v: Vec<u8>) {
    if v.capacity() <= SCRATCH_KEEP {
        // Fails only while the thread is being torn down: then drop it.
        let _ = SCRATCH.try_with(|s| s.set(v));
    }
}

/// The headers that enter the canonical request: inline up to
/// [`HeaderList::INLINE`], so that common requests need no allocation.
struct HeaderList<'a> {
    inline: [CanonicalHeader<'a>; HeaderList::INLINE],
    len: usize,
    spilled: Vec<CanonicalHeader<'a>>,
}

impl<'a> HeaderList<'a> {
    const INLINE: usize = 16;
    const EMPTY: CanonicalHeader<'static> = CanonicalHeader {
        name: Cow::Borrowed(""),
        value: b"",
    };

    fn new() -> Self {
        Self {
            inline: [Self::EMPTY; Self::INLINE],
            len: 0,
            spilled: Vec::new(),
        }
    }

    fn push(&mut self, h: CanonicalHeader<'a>) {
        if self.spilled.is_empty() && self.len < Self::INLINE {
            self.inline[self.len] = h;
            self.len += 1;
            return;
        }
        if self.spilled.is_empty() {
            self.spilled.reserve(2 * Self::INLINE);
            let inline = &mut self.inline[..self.len];
            self.spilled
                .extend(inline.iter_mut().map(|h| std::mem::replace(h, Self::EMPTY)));
        }
        self.spilled.push(h);
    }

    fn as_mut_slice(&mut self) -> &mut [CanonicalHeader<'a>] {
        if self.spilled.is_empty() {
            &mut self.inline[..self.len]
        } else {
            &mut self.spilled
        }
    }
}

/// The credential scope, on the stack: region and service names are at most
/// 128 bytes each, so `date/region/service/aws4_request` fits in 288.
struct ScopeBuf {
    buf: [u8; 288],
    len: usize,
}

impl ScopeBuf {
    fn new() -> Self {
        Self {
            buf: [0; 288],
            len: 0,
        }
    }

    fn push(&mut self, s: &str) {
        // Region and service are checked to be at most 128 bytes at
        // construction; `min` keeps a longer one from panicking anyway.
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are pushed, and truncation never happens for
        // checked names; fall back to the valid prefix otherwise.
        match std::str::from_utf8(&self.buf[..self.len]) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&self.buf[..e.valid_up_to()]).unwrap_or_default(),
        }
    }
}

/// An upper bound, in the common case, of the canonical request's length,
/// so that writing it never reallocates.
fn canonical_capacity(
    request: &SignableRequest<'_>,
    headers: &[CanonicalHeader<'_>],
    mode: &Mode,
    token_len: usize,
) -> usize {
    let headers_len: usize = headers
        .iter()
        .map(|h| 2 * h.name.len() + h.value.len() + 2)
        .sum();
    let query_extra = match mode {
        Mode::Headers => 0,
        // The X-Amz-* pairs: the signed header names, the encoded token.
        Mode::Query { .. } => 384 + headers_len + 3 * token_len,
    };
    // Path and query may grow by percent-encoding; leave room for some.
    request.method().len()
        + 2 * request.path().len()
        + 2 * request.query().len()
        + headers_len
        + query_extra
        + 128
}

fn into_string(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Signs with headers, deriving the key afresh (use a [`Signer`] to cache keys).
pub fn sign(
    request: &SignableRequest<'_>,
    payload: PayloadHash<'_>,
    params: &SigningParams<'_>,
) -> Result<SigningOutput, SigningError> {
    Signer::with_key_capacity(1).sign(request, payload, params)
}

/// Presigns, deriving the key afresh (use a [`Signer`] to cache keys).
pub fn presign(
    request: &SignableRequest<'_>,
    payload: PayloadHash<'_>,
    params: &SigningParams<'_>,
    expires_in: Duration,
) -> Result<SigningOutput, SigningError> {
    Signer::with_key_capacity(1).presign(request, payload, params, expires_in)
}

impl Signer {
    /// A signer whose key cache holds at most `capacity` keys.
    pub fn with_key_capacity(capacity: usize) -> Self {
        Self {
            keys: SigningKeyCache::with_capacity(capacity),
        }
    }
}
