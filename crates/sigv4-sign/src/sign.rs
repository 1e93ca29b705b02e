//! Header signing and presigning: [`Signer`], [`SigningParams`], [`SigningOutput`].

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use crate::canonical::{
    hash_canonical_request, is_plain_value, signed_header_names, sort_prefix, string_to_sign_head,
    string_to_sign_tail, write_string_to_sign, CanonicalHeader, CanonicalRequest, Sink, SliceSink,
    ALGORITHM,
};
use crate::encode::uri_encode_str_into;
use crate::key::{
    hex64, sha256_hex, sha256_of_padded, Block, ScopeKey, ScopeText, SigningKey, SigningKeyCache,
};
use crate::request::{check_header_value, is_tchar, TCHAR_TABLE};
use crate::settings::{
    PayloadHash, SessionTokenPlacement, Settings, EMPTY_SHA256, STREAMING_SIGNED_PAYLOAD,
    STREAMING_SIGNED_PAYLOAD_TRAILER, STREAMING_UNSIGNED_PAYLOAD_TRAILER, UNSIGNED_PAYLOAD,
};
use crate::{AmzDate, Credentials, Region, Service, SignableRequest, SigningError};
use zeroize::Zeroizing;

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

/// The most output parameters one signature gives (presigning with SigV4a
/// and an unsigned session token: 8).
const MAX_PARAMS: usize = 8;

/// The result of signing: what to add to the request, and the signature.
///
/// All values live in one string, built once while signing; the accessors
/// borrow from it.
#[derive(Clone)]
pub struct SigningOutput {
    location: SignatureLocation,
    /// The values back to back; presigning: the query string comes first.
    text: String,
    /// The session token (the `X-Amz-Security-Token` value), shared, not
    /// copied into `text`.
    token: Option<SharedToken>,
    /// Presigning with a session token: where its value belongs in `text`
    /// (right after `&X-Amz-Security-Token=`).
    token_at: u32,
    /// Presigning with a session token: the query string with the token in
    /// place, joined on the first call to [`SigningOutput::query`].
    joined_query: OnceLock<String>,
    /// Each parameter: its name (an index into [`PARAM_NAMES`]) and the
    /// range of its value in `text` ([`TOKEN`] for the session token).
    entries: [Entry; MAX_PARAMS],
    len: u8,
    /// Presigning: where the query string ends in `text`.
    query_end: u32,
    signature: Entry,
    signed_headers: Entry,
    /// [`SigningOutput::params`], made on first use.
    owned: OnceLock<Vec<(&'static str, String)>>,
    debug: Option<Box<DebugOutput>>,
}

/// A session token held by a [`SigningOutput`].
#[derive(Clone)]
enum SharedToken {
    /// Header signing: the token as the credentials hold it.
    Raw(Arc<Zeroizing<String>>),
    /// Presigning: the token URI-encoded, as the key cache holds it.
    Encoded(Arc<str>),
}

impl SharedToken {
    fn as_str(&self) -> &str {
        match self {
            Self::Raw(t) => t.as_str(),
            Self::Encoded(t) => t,
        }
    }
}

/// A parameter: name index, start and end of the value in the text (all
/// `u32`: with no padding, a table of them is set and moved in whole words).
type Entry = (u32, u32, u32);

/// The range of an entry whose value is the session token.
const TOKEN: u32 = u32::MAX;

/// The output parameter names, indexed by [`Entry`].
const PARAM_NAMES: [&str; 10] = [
    "X-Amz-Security-Token",
    "X-Amz-Date",
    "X-Amz-Region-Set",
    "x-amz-content-sha256",
    "Authorization",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
    "X-Amz-Signature",
];
/// `&name=` for each of [`PARAM_NAMES`]: one append per query key.
const QUERY_KEYS: [&str; 10] = [
    "&X-Amz-Security-Token=",
    "&X-Amz-Date=",
    "&X-Amz-Region-Set=",
    "&x-amz-content-sha256=",
    "&Authorization=",
    "&X-Amz-Algorithm=",
    "&X-Amz-Credential=",
    "&X-Amz-SignedHeaders=",
    "&X-Amz-Expires=",
    "&X-Amz-Signature=",
];
const P_TOKEN: u32 = 0;
const P_DATE: u32 = 1;
const P_REGION_SET: u32 = 2;
const P_CONTENT_SHA: u32 = 3;
const P_AUTHORIZATION: u32 = 4;
const P_ALGORITHM: u32 = 5;
const P_CREDENTIAL: u32 = 6;
const P_SIGNED_HEADERS: u32 = 7;
const P_EXPIRES: u32 = 8;
const P_SIGNATURE: u32 = 9;

impl SigningOutput {
    /// Headers or query parameters.
    pub fn location(&self) -> SignatureLocation {
        self.location
    }

    fn value(&self, (_, start, end): Entry) -> &str {
        if start == TOKEN {
            return self.token.as_ref().map_or("", SharedToken::as_str);
        }
        self.text
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// The headers to set (header signing) or the query parameters to
    /// append, in order, with values already percent-encoded (presigning),
    /// borrowed: nothing is allocated.
    ///
    /// Header signing gives, in this order: `X-Amz-Security-Token` (with
    /// temporary credentials), `X-Amz-Date`, `x-amz-content-sha256` (when
    /// the settings add it) and `Authorization`. Presigning gives the
    /// `X-Amz-*` parameters in canonical order, then `X-Amz-Signature`.
    pub fn param_pairs(&self) -> impl ExactSizeIterator<Item = (&'static str, &str)> + '_ {
        self.entries[..usize::from(self.len)].iter().map(|&e| {
            (
                PARAM_NAMES.get(e.0 as usize).copied().unwrap_or_default(),
                self.value(e),
            )
        })
    }

    /// The same as [`SigningOutput::param_pairs`], as owned strings (made
    /// on the first call, then kept).
    pub fn params(&self) -> &[(&'static str, String)] {
        self.owned
            .get_or_init(|| self.param_pairs().map(|(n, v)| (n, v.to_owned())).collect())
    }

    /// The value of one output parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.param_pairs()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The signature, 64 lowercase hex digits.
    pub fn signature(&self) -> &str {
        self.value(self.signature)
    }

    /// `host;x-amz-date;...`.
    pub fn signed_headers(&self) -> &str {
        self.value(self.signed_headers)
    }

    /// The canonical request and string to sign, when asked for with
    /// [`SigningParams::with_debug`].
    pub fn debug(&self) -> Option<&DebugOutput> {
        self.debug.as_deref()
    }

    /// The query string to append to a URL (presigning):
    /// `X-Amz-Algorithm=...&...`, borrowed. Empty for header signing.
    ///
    /// Signing does not copy a session token into the output; with one,
    /// the first call joins the query string (and keeps it).
    pub fn query(&self) -> &str {
        let text = self.text.get(..self.query_end as usize).unwrap_or_default();
        let Some(SharedToken::Encoded(token)) = &self.token else {
            return text;
        };
        self.joined_query.get_or_init(|| {
            // `token_at` follows the `=` of the token's key: a boundary.
            let at = self.token_at as usize;
            let (head, tail) = (
                text.get(..at).unwrap_or_default(),
                text.get(at..).unwrap_or_default(),
            );
            let mut q = String::with_capacity(text.len() + token.len());
            q.push_str(head);
            q.push_str(token);
            q.push_str(tail);
            q
        })
    }

    /// The query string to append to a URL (presigning): `X-Amz-Algorithm=...&...`.
    pub fn query_string(&self) -> String {
        self.query().to_owned()
    }

    /// Adds the output to an `http::Request`: sets the headers, or appends
    /// the query parameters to its URI.
    #[cfg(feature = "http")]
    pub fn apply_to<B>(&self, req: &mut http::Request<B>) -> Result<(), SigningError> {
        match self.location {
            SignatureLocation::Headers => {
                for (name, value) in self.param_pairs() {
                    let name = http::HeaderName::from_bytes(name.as_bytes())
                        .map_err(|_| SigningError::InvalidHeaderName(name.to_owned()))?;
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
                let mut pq = String::with_capacity(path.len() + 2 + self.query().len());
                pq.push_str(if path.is_empty() { "/" } else { path });
                pq.push('?');
                if let Some(q) = query.filter(|q| !q.is_empty()) {
                    pq.push_str(q);
                    pq.push('&');
                }
                pq.push_str(self.query());
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

/// `Debug` shows the session token as `** redacted **`.
impl fmt::Debug for SigningOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Params<'a>(&'a SigningOutput);
        impl fmt::Debug for Params<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.param_pairs().map(|(n, v)| {
                        if n.eq_ignore_ascii_case("X-Amz-Security-Token") {
                            (n, "** redacted **")
                        } else {
                            (n, v)
                        }
                    }))
                    .finish()
            }
        }
        f.debug_struct("SigningOutput")
            .field("location", &self.location)
            .field("params", &Params(self))
            .field("signature", &self.signature())
            .field("signed_headers", &self.signed_headers())
            .field("debug", &self.debug)
            .finish()
    }
}

/// Builds a [`SigningOutput`]'s text and parameter table.
struct OutputBuilder {
    text: String,
    entries: [Entry; MAX_PARAMS],
    len: u8,
}

/// A text offset as stored in an [`Entry`] (texts never reach 4 GiB).
fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX - 1)
}

impl OutputBuilder {
    fn new(capacity: usize) -> Self {
        Self {
            text: String::with_capacity(capacity),
            entries: [(0, 0, 0); MAX_PARAMS],
            len: 0,
        }
    }

    /// Records the text written since `start` as the value of parameter `name`.
    fn entry(&mut self, name: u32, start: usize) -> Entry {
        let e = (name, offset(start), offset(self.text.len()));
        self.push(e);
        e
    }

    fn push(&mut self, e: Entry) {
        if let Some(slot) = self.entries.get_mut(usize::from(self.len)) {
            *slot = e;
            self.len += 1;
        }
    }

    /// Appends a header value.
    fn header(&mut self, name: u32, value: &str) {
        let start = self.text.len();
        self.text.push_str(value);
        self.entry(name, start);
    }

    /// Appends `&name=` (no `&` first) and returns where the value starts.
    fn query_key(&mut self, name: u32) -> usize {
        let key = QUERY_KEYS.get(name as usize).copied().unwrap_or("&");
        let key = if self.text.is_empty() {
            key.get(1..).unwrap_or_default()
        } else {
            key
        };
        self.text.push_str(key);
        self.text.len()
    }

    /// Appends `&name=value`, the value written as it is.
    fn query_pair(&mut self, name: u32, value: &str) -> Entry {
        let start = self.query_key(name);
        self.text.push_str(value);
        self.entry(name, start)
    }

    /// The text of an entry.
    fn value(&self, (_, start, end): Entry) -> &str {
        self.text
            .get(start as usize..end as usize)
            .unwrap_or_default()
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
        let method = request.method();
        if method.is_empty() || !method.bytes().all(is_tchar) {
            return Err(SigningError::InvalidMethod(method.to_owned()));
        }
        let creds = params.credentials;
        let akid = creds.access_key_id();
        if !creds.access_key_id_is_valid() {
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

        // Headers that enter the canonical request. They are pushed close
        // to their sorted order, so the sort below has little to move: the
        // host from the URI first (a `Host` header given takes its place),
        // the caller's headers, then ours, in sorted order.
        let uri_host = request.authority_host();
        let mut inline_headers = [HeaderList::EMPTY; HeaderList::INLINE];
        let mut headers = HeaderList::new(&mut inline_headers);
        if let Some(host) = &uri_host {
            headers.push(CanonicalHeader {
                name: Cow::Borrowed("host"),
                value: host.as_bytes(),
                canonical: request.authority_host_is_plain(),
            });
        }
        let mut has_host = false;
        for (name, value) in request.headers() {
            let Some(lower) = header_name_case(name) else {
                return Err(SigningError::InvalidHeaderName(name.to_owned()));
            };
            // One pass: a plain value is valid and canonical as it is.
            let plain = is_plain_value(value);
            if !plain {
                check_header_value(name, value)?;
            }
            if settings.is_excluded(name) {
                continue;
            }
            if !is_query && replaced_by_ours(name, scheme, token.is_some(), add_content_sha) {
                // Replaced by the value we add.
                continue;
            }
            let name = if lower {
                Cow::Borrowed(name)
            } else {
                Cow::Owned(name.to_ascii_lowercase())
            };
            let header = CanonicalHeader {
                name,
                value,
                canonical: plain,
            };
            if header.name == "host" {
                if !has_host && uri_host.is_some() {
                    // The first `Host` header replaces the URI's host.
                    headers.set_first(header);
                    has_host = true;
                    continue;
                }
                has_host = true;
            }
            headers.push(header);
        }
        if !has_host && uri_host.is_none() {
            return Err(SigningError::MissingHost);
        }
        let date = time.as_str();
        if !is_query {
            if add_content_sha {
                headers.push(CanonicalHeader {
                    name: Cow::Borrowed("x-amz-content-sha256"),
                    value: payload_hash.as_bytes(),
                    canonical: true,
                });
            }
            headers.push(CanonicalHeader {
                name: Cow::Borrowed("x-amz-date"),
                value: date.as_bytes(),
                canonical: true,
            });
            if let Some(rs) = scheme.region_set {
                headers.push(CanonicalHeader {
                    name: Cow::Borrowed("x-amz-region-set"),
                    value: rs.as_bytes(),
                    canonical: false,
                });
            }
            if let (Some(t), true) = (token, token_signed) {
                headers.push(CanonicalHeader {
                    name: Cow::Borrowed("x-amz-security-token"),
                    value: t.as_bytes(),
                    canonical: creds.session_token_is_canonical(),
                });
            }
        }
        let names_len = headers.names_len;
        let headers = headers.as_mut_slice();
        sort_headers(headers);

        let day = date.get(..8).unwrap_or(date);
        let signing = Signing {
            request,
            params,
            mode,
            scheme,
            headers,
            names_len,
            payload_hash,
            date,
            token_signed,
            add_content_sha,
        };
        // SigV4 without debug output: the key and the scope's strings are
        // borrowed from the key cache, under its read lock.
        if scheme.sign.is_none() && !params.debug {
            return self.keys.with_scope(
                creds,
                day,
                params.region,
                params.service,
                is_query,
                |k| signing.finish(self, k),
            );
        }
        // SigV4a's scope has no region.
        let region = scheme.region_set.is_none().then(|| params.region.as_str());
        let text = ScopeText::new(scheme.algorithm, akid, day, region, params.service.as_str());
        let encoded_token = if is_query {
            self.keys
                .encoded_token(creds, day, params.region, params.service)
        } else {
            None
        };
        signing.finish(
            self,
            &ScopeKey {
                pads: None,
                text: &text,
                encoded_token: encoded_token.as_ref(),
                head: None,
            },
        )
    }
}

/// A request ready to sign: checked, with its canonical headers collected
/// and sorted.
struct Signing<'r> {
    request: &'r SignableRequest<'r>,
    params: &'r SigningParams<'r>,
    mode: Mode,
    scheme: &'r Scheme<'r>,
    headers: &'r [CanonicalHeader<'r>],
    /// Each header name's length plus one, summed.
    names_len: usize,
    payload_hash: &'r str,
    /// The signing time, `YYYYMMDDTHHMMSSZ`.
    date: &'r str,
    token_signed: bool,
    add_content_sha: bool,
}

impl Signing<'_> {
    /// Writes the output and signs, with the key and scope strings of `k`.
    fn finish(&self, signer: &Signer, k: &ScopeKey<'_>) -> Result<SigningOutput, SigningError> {
        let Self {
            request,
            params,
            scheme,
            headers,
            names_len,
            payload_hash,
            date,
            token_signed,
            add_content_sha,
            ..
        } = *self;
        let algorithm = scheme.algorithm;
        let creds = params.credentials;
        let time = &params.time;
        let is_query = matches!(self.mode, Mode::Query { .. });
        // The session token is shared with the output, not copied into it.
        // Taken first: a reference count is an atomic operation, cheapest
        // before the canonical request's stores are under way.
        let shared_token = if is_query {
            k.encoded_token.map(|t| SharedToken::Encoded(Arc::clone(t)))
        } else {
            creds.shared_session_token().map(SharedToken::Raw)
        };
        let cr_capacity = if params.debug {
            canonical_capacity(
                request,
                headers,
                &self.mode,
                creds.session_token().map_or(0, str::len),
            )
        } else {
            0
        };
        let mut cr = CanonicalRequest {
            method: request.method(),
            path: request.path(),
            query: request.query(),
            extra_query: &[],
            skip_query_key: None,
            headers,
            payload_hash,
            uri_encoding: params.settings.uri_encoding,
            normalize_path: params.settings.normalize_path,
        };
        // SigV4a's DER signature is at most 72 bytes: 144 hex digits.
        let sig_len = if scheme.sign.is_some() { 144 } else { 64 };

        let mut out;
        let canonical_hash;
        let debug_cr;
        let mut token_at = 0;
        let signed_headers;
        let sig_start;
        let auth_start;
        match self.mode {
            Mode::Headers => {
                out = OutputBuilder::new(
                    date.len()
                        + scheme.region_set.map_or(0, str::len)
                        + if add_content_sha {
                            payload_hash.len()
                        } else {
                            0
                        }
                        + k.text.auth_prefix().len()
                        + names_len
                        + 12
                        + sig_len,
                );
                // The token is not copied: the output shares the credentials'.
                if shared_token.is_some() {
                    out.push((P_TOKEN, TOKEN, TOKEN));
                }
                out.header(P_DATE, date);
                if let Some(rs) = scheme.region_set {
                    out.header(P_REGION_SET, rs);
                }
                if add_content_sha {
                    out.header(P_CONTENT_SHA, payload_hash);
                }
                auth_start = out.text.len();
                let t = &mut out.text;
                t.push_str(k.text.auth_prefix());
                let sh_start = t.len();
                // The signed headers are copied from the canonical request.
                (canonical_hash, debug_cr) =
                    hash_canonical(&cr, params.debug, cr_capacity, Some(&mut *t));
                signed_headers = (0, offset(sh_start), offset(t.len()));
                t.push_str(", Signature=");
                sig_start = t.len();
            }
            Mode::Query { expires } => {
                let encoded_token = k.encoded_token;
                out = OutputBuilder::new(
                    160 + k.text.query_prefix().len()
                        + 3 * scheme.region_set.map_or(0, str::len)
                        + 2 * names_len
                        + 2 * headers.len()
                        + sig_len,
                );
                // The X-Amz-* pairs in the order of the AWS test suite's
                // presigned URLs.
                let prefix = k.text.query_prefix();
                out.text.push_str(prefix);
                let at = k.text.query_algorithm();
                let algorithm_e = (P_ALGORITHM, offset(at.start), offset(at.end));
                out.push(algorithm_e);
                let credential = (
                    P_CREDENTIAL,
                    offset(k.text.query_credential()),
                    offset(prefix.len()),
                );
                out.push(credential);
                let date_e = out.query_pair(P_DATE, date);
                let start = out.query_key(P_SIGNED_HEADERS);
                write_signed_headers(&mut out.text, headers, true);
                let sh = out.entry(P_SIGNED_HEADERS, start);
                let mut digits = [0u8; 20];
                let expires = out.query_pair(P_EXPIRES, format_u64(expires, &mut digits));
                // Signed or appended after signing, it goes here; the
                // output shares it (it is not copied into the text).
                let token_e = encoded_token.map(|_| {
                    token_at = offset(out.query_key(P_TOKEN));
                    let e = (P_TOKEN, TOKEN, TOKEN);
                    out.push(e);
                    e
                });
                let token_str = encoded_token.map_or("", |t| &**t);
                let region_set = scheme.region_set.map(|rs| {
                    let start = out.query_key(P_REGION_SET);
                    uri_encode_str_into(&mut out.text, rs);
                    out.entry(P_REGION_SET, start)
                });

                // The pairs that are signed, in canonical (sorted) order.
                let signed = [
                    Some(algorithm_e),
                    Some(credential),
                    Some(date_e),
                    Some(expires),
                    region_set,
                    token_e.filter(|_| token_signed),
                    Some(sh),
                ];
                let mut extra = [("", ""); 7];
                let mut n = 0;
                let name_of = |e: Entry| PARAM_NAMES.get(e.0 as usize).copied();
                if cr.query.is_empty() && region_set.is_none() {
                    // Nothing to sort in: the canonical query is runs of the
                    // text just written (algorithm to date; expires; the
                    // signed headers) and the token, each run handed to the
                    // writer as one "pair" whose value holds the pairs that
                    // follow it: the same bytes in 4 pieces instead of 18.
                    let run = |first: Entry, last: Entry| {
                        (
                            name_of(first).unwrap_or_default(),
                            out.value((first.0, first.1, last.2)),
                        )
                    };
                    extra[0] = run(algorithm_e, date_e);
                    extra[1] = run(expires, expires);
                    n = 2;
                    if let Some(e) = token_e.filter(|_| token_signed) {
                        extra[2] = (name_of(e).unwrap_or_default(), token_str);
                        n = 3;
                    }
                    extra[n] = run(sh, sh);
                    n += 1;
                } else {
                    for (slot, e) in extra.iter_mut().zip(signed.into_iter().flatten()) {
                        let value = if e.1 == TOKEN {
                            token_str
                        } else {
                            out.value(e)
                        };
                        *slot = (name_of(e).unwrap_or_default(), value);
                        n += 1;
                    }
                }
                cr.extra_query = &extra[..n];
                (canonical_hash, debug_cr) = hash_canonical(&cr, params.debug, cr_capacity, None);
                sig_start = out.query_key(P_SIGNATURE);
                auth_start = sig_start;
                signed_headers = (0, 0, 0);
            }
        }

        // The string to sign, on the stack when it fits (it nearly always
        // does), and its signature. Its head (algorithm, time, scope) is the
        // same for every request signed in the same second: the head's whole
        // blocks are hashed once (see `HeadMemo`).
        let mut sts_blocks: [Block; 3] = [[0; 64]; 3];
        let sts_buf = sts_blocks.as_flattened_mut();
        let mut sink = SliceSink::new(sts_buf);
        string_to_sign_head(&mut sink, algorithm, time);
        sink.put(k.text.scope().as_bytes());
        let head_len = sink.written();
        string_to_sign_tail(&mut sink, &canonical_hash);
        let sts_len = sink.written();
        let head_blocks = head_len - head_len % 64;
        let fits = sts_len <= sts_buf.len();
        let mut sts_debug = None;
        match (k.pads, fits) {
            (Some(pads), true) if !params.debug => {
                let done = head_blocks.min(sts_len);
                let head = sts_blocks.as_flattened().get(..done).unwrap_or_default();
                let state = match k.head.and_then(|m| m.get(time.unix(), done)) {
                    Some(state) => state,
                    None => {
                        let state = pads.inner_after(head);
                        if let Some(m) = k.head {
                            m.set(time.unix(), done, &state);
                        }
                        state
                    }
                };
                let mac = match pad_in_place(&mut sts_blocks, done, sts_len) {
                    // The rest is hashed where it was written.
                    Some(blocks) => pads.mac_padded(state, blocks),
                    None => {
                        let rest = sts_blocks.as_flattened().get(done..sts_len);
                        pads.mac_resume(state, done, rest.unwrap_or_default())
                    }
                };
                out.text.push_str(ascii_str(&hex64(&mac)));
            }
            (pads, _) => {
                let on_stack = sts_blocks.as_flattened().get(..sts_len);
                let sts = match on_stack {
                    Some(sts) => sts.to_vec(),
                    None => {
                        let mut v = Vec::with_capacity(sts_len);
                        write_string_to_sign(
                            &mut v,
                            algorithm,
                            time,
                            k.text.scope().as_bytes(),
                            &canonical_hash,
                        );
                        v
                    }
                };
                if let Some(sign) = scheme.sign {
                    out.text.push_str(&sign(&sts));
                } else if let Some(pads) = pads {
                    out.text.push_str(ascii_str(&hex64(&pads.mac(&sts))));
                } else {
                    let sig = signer.keys.sign_hex(
                        creds,
                        time.date(),
                        params.region,
                        params.service,
                        &sts,
                    );
                    out.text.push_str(ascii_str(&sig));
                }
                sts_debug = Some(sts);
            }
        }
        let signature = (0, offset(sig_start), offset(out.text.len()));

        let (signed_headers, query_end) = if is_query {
            out.entry(P_SIGNATURE, sig_start);
            let query_end = out.text.len();
            // The signed headers as they are (the query holds them encoded).
            write_signed_headers(&mut out.text, headers, false);
            (
                (0, offset(query_end), offset(out.text.len())),
                offset(query_end),
            )
        } else {
            out.entry(P_AUTHORIZATION, auth_start);
            (signed_headers, 0)
        };

        let debug = match (debug_cr, sts_debug) {
            (Some(canonical_request), Some(sts)) if params.debug => Some(Box::new(DebugOutput {
                canonical_request,
                string_to_sign: into_string(sts),
                credential_scope: k.text.scope().to_owned(),
            })),
            _ => None,
        };
        Ok(SigningOutput {
            location: if is_query {
                SignatureLocation::QueryParams
            } else {
                SignatureLocation::Headers
            },
            text: out.text,
            token: shared_token,
            token_at,
            joined_query: OnceLock::new(),
            entries: out.entries,
            len: out.len,
            query_end,
            signature,
            signed_headers,
            owned: OnceLock::new(),
            debug,
        })
    }
}

/// Pads, in place, an HMAC message of `len` bytes written from the start
/// of zeroed `blocks` (the inner ipad block before them) and returns the
/// blocks after the first `done` bytes (whole blocks, already hashed):
/// `None` when the padding does not fit.
fn pad_in_place(blocks: &mut [Block], done: usize, len: usize) -> Option<&[Block]> {
    let first = done / 64;
    let end = (len + 9).div_ceil(64);
    let flat = blocks.get_mut(..end)?.as_flattened_mut();
    *flat.get_mut(len)? = 0x80;
    let bits = (64 + len as u64).wrapping_mul(8).to_be_bytes();
    flat.get_mut(end * 64 - 8..)?.copy_from_slice(&bits);
    blocks.get(first..end)
}

/// The most memory the per-thread canonical-request buffer keeps.
const MAX_SCRATCH: usize = 16 * 1024;

thread_local! {
    /// The buffer canonical requests are written into before hashing, in
    /// SHA-256 blocks; its size is kept from one signature to the next.
    static SCRATCH: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The SHA-256 (hex) of a canonical request, and with `debug` the request
/// itself. Without `debug` it is written into a reusable per-thread buffer
/// (zeroed after use: it holds the session token) and hashed in one pass:
/// one call over whole blocks is cheaper than hashing piece by piece, or
/// than splitting the hash around the token to hash it where it is.
///
/// With `signed_headers`, the signed-headers list (`host;x-amz-date`) is
/// appended to it, copied from the canonical request in one piece.
fn hash_canonical(
    cr: &CanonicalRequest<'_>,
    debug: bool,
    capacity: usize,
    mut signed_headers: Option<&mut String>,
) -> ([u8; 64], Option<Vec<u8>>) {
    // The list is lower-case header names (tokens) and `;`: ASCII.
    let mut copy_list = |written: &[u8], range: std::ops::Range<usize>| {
        if let Some(out) = signed_headers.as_deref_mut() {
            out.push_str(ascii_str(written.get(range).unwrap_or_default()));
        }
    };
    if debug {
        let mut v = Vec::with_capacity(capacity);
        let range = cr.write(&mut v);
        copy_list(&v, range);
        return (hash_canonical_request(&v), Some(v));
    }
    let hashed = SCRATCH.try_with(|s| {
        let mut v = s.try_borrow_mut().ok()?;
        // The buffer is kept zeroed at its full length between uses, so the
        // SHA-256 padding is a 0x80 byte and the length: the request is
        // hashed where it was written, in one call over its blocks.
        let mut sink = SliceSink::new(v.as_flattened_mut());
        let mut range = cr.write_to(&mut sink);
        let n = sink.written();
        let blocks = (n + 9).div_ceil(64);
        if blocks > v.len() {
            // What did fit may hold part of the token.
            v.fill([0; 64]);
            if blocks * 64 > MAX_SCRATCH {
                return None;
            }
            v.resize(
                blocks.next_power_of_two().clamp(16, MAX_SCRATCH / 64),
                [0; 64],
            );
            range = cr.write_to(&mut SliceSink::new(v.as_flattened_mut()));
        }
        let used = v.get_mut(..blocks)?;
        let flat = used.as_flattened_mut();
        copy_list(flat.get(..n)?, range);
        *flat.get_mut(n)? = 0x80;
        let bits = (n as u64).wrapping_mul(8).to_be_bytes();
        flat.get_mut(blocks * 64 - 8..)?.copy_from_slice(&bits);
        let hash = hex64(&sha256_of_padded(used));
        // It holds the session token: not kept past this signature.
        used.as_flattened_mut().fill(0);
        Some(hash)
    });
    match hashed {
        Ok(Some(h)) => (h, None),
        _ => {
            // Longer than the per-thread buffer keeps (or no buffer): a
            // buffer of its own, wiped when dropped (it holds the token).
            let mut v = Zeroizing::new(Vec::new());
            let range = cr.write(&mut v);
            copy_list(&v, range);
            (hash_canonical_request(&v), None)
        }
    }
}

/// The headers that enter the canonical request: in a caller's array up to
/// [`HeaderList::INLINE`], so that common requests need no allocation (and
/// the array is never moved).
struct HeaderList<'s, 'a> {
    inline: &'s mut [CanonicalHeader<'a>; HeaderList::INLINE],
    len: usize,
    spilled: Vec<CanonicalHeader<'a>>,
    /// The length of the signed-headers list as if no name repeated (each
    /// name and a separator), kept as headers come: it sizes the output.
    names_len: usize,
}

impl<'s, 'a> HeaderList<'s, 'a> {
    const INLINE: usize = 10;
    const EMPTY: CanonicalHeader<'static> = CanonicalHeader {
        name: Cow::Borrowed(""),
        value: b"",
        canonical: false,
    };

    fn new(inline: &'s mut [CanonicalHeader<'a>; HeaderList::INLINE]) -> Self {
        Self {
            inline,
            len: 0,
            spilled: Vec::new(),
            names_len: 0,
        }
    }

    /// Inlined: a header built by the caller is stored field by field
    /// (moving it through memory in whole 16-byte words right after it was
    /// written in 8-byte ones stalls on store forwarding).
    #[inline(always)]
    fn push(&mut self, h: CanonicalHeader<'a>) {
        self.names_len += h.name.len() + 1;
        if self.spilled.is_empty() {
            if let Some(slot) = self.inline.get_mut(self.len) {
                *slot = h;
                self.len += 1;
                return;
            }
        }
        self.spill(h);
    }

    /// Replaces the first header (the list is not empty).
    fn set_first(&mut self, h: CanonicalHeader<'a>) {
        let added = h.name.len();
        if let Some(slot) = self.as_mut_slice().first_mut() {
            let removed = slot.name.len();
            *slot = h;
            self.names_len = self.names_len + added - removed;
        }
    }

    #[cold]
    fn spill(&mut self, h: CanonicalHeader<'a>) {
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

/// Appends the signed-headers list (`host;x-amz-date`), or with `encoded`
/// its URI-encoded form for `X-Amz-SignedHeaders` (`host%3Bx-amz-date`).
fn write_signed_headers(out: &mut String, headers: &[CanonicalHeader<'_>], encoded: bool) {
    for (i, name) in signed_header_names(headers).enumerate() {
        match (i > 0, encoded) {
            (true, false) => out.push(';'),
            (true, true) => out.push_str("%3B"),
            (false, _) => {}
        }
        if encoded {
            uri_encode_str_into(out, name);
        } else {
            out.push_str(name);
        }
    }
}

/// `n` in decimal, written into `buf`.
fn format_u64(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        // n % 10 < 10: the cast cannot truncate.
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    ascii_str(&buf[i..])
}

/// Bytes known to be ASCII (hex digits, header names) as a `&str`.
fn ascii_str(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

/// Whether a header name is a valid token (`None` if not), and if so
/// whether it is already lower-case: one pass over its bytes.
#[inline]
fn header_name_case(name: &str) -> Option<bool> {
    if is_lower_token(name.as_bytes()) {
        return Some(true);
    }
    let mut all = NAME_TCHAR;
    let mut any = 0;
    for &b in name.as_bytes() {
        let c = NAME_CLASS[usize::from(b)];
        all &= c;
        any |= c;
    }
    if name.is_empty() || all & NAME_TCHAR == 0 {
        return None;
    }
    Some(any & NAME_UPPER == 0)
}

/// Whether `b` (4 bytes or more) is only `a-z`, `0-9` and `-`, as most
/// header names are sent: such a name is a valid, lower-case token. Eight
/// bytes per step (SWAR): with every high bit clear, `x + (0x80 - lo)` sets
/// a byte's high bit exactly when it is at least `lo`, with no carry into
/// the next byte.
#[inline]
fn is_lower_token(b: &[u8]) -> bool {
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let word_ok = |x: u64| {
        let at_least = |lo: u8| x.wrapping_add(u64::from_ne_bytes([0x80 - lo; 8]));
        let within = |lo: u8, hi: u8| at_least(lo) & !at_least(hi + 1);
        let kept = within(b'a', b'z') | within(b'0', b'9') | within(b'-', b'-');
        (x & HIGH == 0) & (kept & HIGH == HIGH)
    };
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_ne_bytes(w)
    };
    let n = b.len();
    if n >= 8 {
        // The last word overlaps the one before (a byte checked twice).
        b.chunks_exact(8).fold(true, |ok, c| ok & word_ok(word(c))) & word_ok(word(&b[n - 8..]))
    } else if let (Some(lo), Some(hi)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        word_ok(u64::from(u32::from_ne_bytes(*lo)) | (u64::from(u32::from_ne_bytes(*hi)) << 32))
    } else {
        false
    }
}

const NAME_TCHAR: u8 = 1;
const NAME_UPPER: u8 = 2;

/// Per byte: [`NAME_TCHAR`] for token bytes, [`NAME_UPPER`] for `A-Z`.
const NAME_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        // i < 256: the cast cannot truncate.
        let b = i as u8;
        if TCHAR_TABLE[i] {
            t[i] |= NAME_TCHAR;
        }
        if b.is_ascii_uppercase() {
            t[i] |= NAME_UPPER;
        }
        i += 1;
    }
    t
};

/// Whether a sent header is one the signer sets itself (and so leaves out).
#[inline]
fn replaced_by_ours(
    name: &str,
    scheme: &Scheme<'_>,
    has_token: bool,
    add_content_sha: bool,
) -> bool {
    match name.len() {
        10 => name.eq_ignore_ascii_case("x-amz-date"),
        16 => scheme.region_set.is_some() && name.eq_ignore_ascii_case("x-amz-region-set"),
        20 => {
            (has_token && name.eq_ignore_ascii_case("x-amz-security-token"))
                || (add_content_sha && name.eq_ignore_ascii_case("x-amz-content-sha256"))
        }
        _ => false,
    }
}

/// A stable insertion sort by name: header lists are short and nearly
/// sorted (see `sign_inner`). Compares an 8-byte prefix first; a header
/// already after the one before it costs one comparison.
fn sort_headers(headers: &mut [CanonicalHeader<'_>]) {
    let mut keys = [0u64; HeaderList::INLINE];
    if headers.len() > keys.len() {
        CanonicalRequest::sort_headers(headers);
        return;
    }
    for (k, h) in keys.iter_mut().zip(headers.iter()) {
        *k = sort_prefix(h.name.as_bytes());
    }
    let mut prev = keys[0];
    for i in 1..headers.len() {
        let key = keys[i];
        if key <= prev {
            insert_header(headers, &mut keys, i);
        }
        prev = keys[i];
    }
}

/// Moves header `i` back to its place among the sorted headers before it.
#[inline(never)]
fn insert_header(headers: &mut [CanonicalHeader<'_>], keys: &mut [u64], i: usize) {
    let mut j = i;
    while j > 0 {
        let less = match keys[j].cmp(&keys[j - 1]) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Greater => false,
            std::cmp::Ordering::Equal => headers[j].name < headers[j - 1].name,
        };
        if !less {
            break;
        }
        keys.swap(j, j - 1);
        // Field by field: the headers were just written that way, and
        // whole 16-byte moves of them would stall on store forwarding.
        let (lo, hi) = headers.split_at_mut(j);
        if let (Some(a), Some(b)) = (lo.last_mut(), hi.first_mut()) {
            std::mem::swap(&mut a.name, &mut b.name);
            std::mem::swap(&mut a.value, &mut b.value);
            std::mem::swap(&mut a.canonical, &mut b.canonical);
        }
        j -= 1;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The per-thread buffer: canonical requests shorter and longer than
    /// its first size, than any size it kept, and than `MAX_SCRATCH`, in an
    /// order that grows it, reuses it and bypasses it, hash as the debug
    /// path (its own buffer) does; and it holds only zeros afterwards.
    #[test]
    fn the_scratch_buffer_grows_and_is_wiped() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("TOKEN-TOKEN".into()));
        let region = Region::new("us-east-1").unwrap();
        let service = Service::new("service").unwrap();
        let time = AmzDate::from_unix(1_440_938_160).unwrap();
        let params = SigningParams::new(&creds, &region, &service, time);
        let debug = params.clone().with_debug(true);
        let signer = Signer::new();
        for len in [
            0, 700, 1_000, 1_100, 5_000, 100, 16_000, 16_384, 20_000, 70_000, 10,
        ] {
            let value = "v".repeat(len);
            let headers = [("x-long", value.as_str())];
            let req = SignableRequest::new("GET", "https://example.com/a?b=c", &headers).unwrap();
            for presign in [false, true] {
                let (fast, slow) = if presign {
                    let d = Duration::from_secs(60);
                    (
                        signer.presign(&req, PayloadHash::Unsigned, &params, d),
                        signer.presign(&req, PayloadHash::Unsigned, &debug, d),
                    )
                } else {
                    (
                        signer.sign(&req, PayloadHash::Body(b"x"), &params),
                        signer.sign(&req, PayloadHash::Body(b"x"), &debug),
                    )
                };
                let (fast, slow) = (fast.unwrap(), slow.unwrap());
                let cr = &slow.debug().unwrap().canonical_request;
                assert!(cr.len() > len, "{len}");
                assert_eq!(fast.signature(), slow.signature(), "{len} {presign}");
                SCRATCH.with(|s| {
                    let s = s.borrow();
                    assert!(s.len() * 64 <= MAX_SCRATCH, "{len}");
                    let bytes = s.as_flattened();
                    assert!(bytes.iter().all(|&b| b == 0), "{len}: scratch not wiped");
                });
            }
        }
    }

    /// The string-to-sign head state kept per key is only reused for the
    /// second it was made for: signing in an order that changes the time,
    /// the day and the region back and forth gives the signatures of the
    /// debug path, which never uses it, and of a fresh signer.
    #[test]
    fn the_head_state_is_reused_only_within_its_second() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("TOKEN".into()));
        let service = Service::new("s3").unwrap();
        let east = Region::new("us-east-1").unwrap();
        let west = Region::new("eu-west-3").unwrap();
        let t0 = 1_440_938_160;
        let signer = Signer::new();
        let headers = [("range", "bytes=0-9")];
        let req = SignableRequest::new("GET", "https://example.com/a%20b?x=1", &headers).unwrap();
        let mut seen = std::collections::HashSet::new();
        for (dt, region) in [
            (0, &east),
            (0, &east),
            (1, &east),
            (0, &east),
            (0, &west),
            (0, &east),
            (86_400, &east),
            (1, &east),
            (1, &east),
        ] {
            let time = AmzDate::from_unix(t0 + dt).unwrap();
            let params = SigningParams::new(&creds, region, &service, time);
            let debug = params.clone().with_debug(true);
            let d = Duration::from_secs(60);
            let fast = signer.sign(&req, PayloadHash::Unsigned, &params).unwrap();
            let slow = signer.sign(&req, PayloadHash::Unsigned, &debug).unwrap();
            let fresh = Signer::new()
                .sign(&req, PayloadHash::Unsigned, &params)
                .unwrap();
            assert_eq!(fast.signature(), slow.signature(), "{dt} {region:?}");
            assert_eq!(fast.signature(), fresh.signature(), "{dt} {region:?}");
            assert_eq!(
                fast.param_pairs().collect::<Vec<_>>(),
                slow.param_pairs().collect::<Vec<_>>()
            );
            let fast = signer
                .presign(&req, PayloadHash::Unsigned, &params, d)
                .unwrap();
            let slow = signer
                .presign(&req, PayloadHash::Unsigned, &debug, d)
                .unwrap();
            assert_eq!(fast.signature(), slow.signature(), "{dt} {region:?}");
            assert_eq!(fast.query(), slow.query());
            seen.insert((dt, region.as_str(), fast.signature().to_owned()));
        }
        // Different times and regions did give different signatures.
        let distinct: std::collections::HashSet<_> = seen.iter().map(|s| &s.2).collect();
        assert_eq!(distinct.len(), seen.len());
        assert_eq!(seen.len(), 4);
    }

    /// Threads sharing one signer, each flipping between two signing
    /// times, race on the kept head state: every signature must still be
    /// the one the debug path (which never uses it) gives.
    #[test]
    fn the_head_state_holds_under_threads() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None);
        let region = Region::new("us-east-1").unwrap();
        let service = Service::new("s3").unwrap();
        let req = SignableRequest::new("GET", "https://example.com/k", &[]).unwrap();
        let times: Vec<AmzDate> = (0..2)
            .map(|i| AmzDate::from_unix(1_440_938_160 + i).unwrap())
            .collect();
        let want: Vec<String> = times
            .iter()
            .map(|&t| {
                let p = SigningParams::new(&creds, &region, &service, t).with_debug(true);
                Signer::new()
                    .sign(&req, PayloadHash::Unsigned, &p)
                    .unwrap()
                    .signature()
                    .to_owned()
            })
            .collect();
        assert_ne!(want[0], want[1]);
        let signer = Signer::new();
        std::thread::scope(|s| {
            for k in 0..4usize {
                let (signer, times, want) = (&signer, &times, &want);
                let (creds, region, service) = (&creds, &region, &service);
                s.spawn(move || {
                    for i in 0..2_000usize {
                        let j = (i + k) % 2;
                        let p = SigningParams::new(creds, region, service, times[j]);
                        let out = signer.sign(&req, PayloadHash::Unsigned, &p).unwrap();
                        assert_eq!(out.signature(), want[j], "thread {k}, call {i}");
                    }
                });
            }
        });
    }

    #[test]
    fn query_keys_are_the_param_names() {
        for (key, name) in QUERY_KEYS.iter().zip(PARAM_NAMES) {
            assert_eq!(*key, format!("&{name}="));
        }
    }

    /// A presigned query holds the session token (shared by the output, not
    /// copied into its text) percent-encoded between `X-Amz-Expires` and
    /// `X-Amz-Signature`, signed or appended after signing, with or without
    /// a query of the request's own.
    #[test]
    fn a_presigned_query_holds_the_encoded_token() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("ab+/=".into()));
        let region = Region::new("us-east-1").unwrap();
        let service = Service::new("service").unwrap();
        let time = AmzDate::from_unix(1_440_938_160).unwrap();
        let signer = Signer::new();
        for after in [false, true] {
            let mut settings = Settings::default();
            if after {
                settings.session_token = SessionTokenPlacement::AppendAfterSigning;
            }
            let params =
                SigningParams::new(&creds, &region, &service, time).with_settings(&settings);
            for uri in ["https://example.com/", "https://example.com/?b=c&a"] {
                let req = SignableRequest::new("GET", uri, &[]).unwrap();
                let d = Duration::from_secs(60);
                let out = signer
                    .presign(&req, PayloadHash::Unsigned, &params, d)
                    .unwrap();
                let q = out.query();
                assert!(
                    q.contains(
                        "&X-Amz-Expires=60&X-Amz-Security-Token=ab%2B%2F%3D&X-Amz-Signature="
                    ),
                    "{q}"
                );
                assert_eq!(out.param("X-Amz-Security-Token"), Some("ab%2B%2F%3D"));
                let joined: Vec<String> =
                    out.param_pairs().map(|(k, v)| format!("{k}={v}")).collect();
                assert_eq!(q, joined.join("&"));
                assert_eq!(out.clone().query(), q);
                assert_eq!(out.query_string(), q);
                let debug = params.clone().with_debug(true);
                let slow = signer
                    .presign(&req, PayloadHash::Unsigned, &debug, d)
                    .unwrap();
                assert_eq!(slow.query(), q);
                let cr = &slow.debug().unwrap().canonical_request;
                let cr = String::from_utf8_lossy(cr);
                assert_eq!(
                    cr.contains("&X-Amz-Security-Token=ab%2B%2F%3D&"),
                    !after,
                    "{cr}"
                );
            }
        }
    }

    /// Tokens with spaces or tabs are trimmed and folded like any header
    /// value (only clean ones skip the scan).
    /// `req` signed (unsigned payload) without and with debug output: the
    /// fast path and the one that writes everything out.
    fn signed_both_ways(
        signer: &Signer,
        req: &SignableRequest<'_>,
        params: &SigningParams<'_>,
    ) -> (SigningOutput, SigningOutput) {
        let fast = signer.sign(req, PayloadHash::Unsigned, params).unwrap();
        let debug = params.clone().with_debug(true);
        let slow = signer.sign(req, PayloadHash::Unsigned, &debug).unwrap();
        (fast, slow)
    }

    #[test]
    fn a_token_with_whitespace_is_folded() {
        for (token, line) in [
            ("  a \t b  ", "x-amz-security-token:a b\n"),
            ("ab+/=", "x-amz-security-token:ab+/=\n"),
        ] {
            let creds = Credentials::new("AKIDEXAMPLE", "secret", Some(token.into()));
            let region = Region::new("us-east-1").unwrap();
            let service = Service::new("service").unwrap();
            let time = AmzDate::from_unix(1_440_938_160).unwrap();
            let params = SigningParams::new(&creds, &region, &service, time);
            let req = SignableRequest::new("GET", "https://example.com/", &[]).unwrap();
            let (fast, slow) = signed_both_ways(&Signer::new(), &req, &params);
            let cr = String::from_utf8(slow.debug().unwrap().canonical_request.clone()).unwrap();
            assert!(cr.contains(line), "{cr}");
            assert_eq!(fast.signature(), slow.signature());
        }
    }

    /// The host comes from the URI unless a `Host` header is given (the
    /// first one takes its place; a second is joined to it), and a host
    /// with spaces is folded like any header value.
    #[test]
    fn the_host_header_and_the_uri_host_agree() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", None);
        let region = Region::new("us-east-1").unwrap();
        let service = Service::new("service").unwrap();
        let time = AmzDate::from_unix(1_440_938_160).unwrap();
        let params = SigningParams::new(&creds, &region, &service, time).with_debug(true);
        let signer = Signer::new();
        let canonical = |uri: &str, headers: &[(&str, &str)]| {
            let req = SignableRequest::new("GET", uri, headers).unwrap();
            let out = signer.sign(&req, PayloadHash::Unsigned, &params).unwrap();
            let cr = out.debug().unwrap().canonical_request.clone();
            (String::from_utf8(cr).unwrap(), out.signature().to_owned())
        };
        let (cr, sig) = canonical("https://a  b.example/x", &[("X-A", "1")]);
        assert!(cr.contains("\nhost:a b.example\nx-a:1\n"), "{cr}");
        assert_eq!(
            (cr, sig),
            canonical("/x", &[("X-A", "1"), ("Host", "a  b.example")])
        );

        let (cr, _) = canonical("https://uri.example/x", &[("x-a", "1"), ("HOST", "given")]);
        assert!(cr.contains("\nhost:given\nx-a:1\n"), "{cr}");
        let (cr, _) = canonical("https://uri.example/x", &[("host", "one"), ("Host", "two")]);
        assert!(cr.contains("\nhost:one,two\n"), "{cr}");
        assert!(!cr.contains("uri.example"), "{cr}");
        let (cr, _) = canonical("https://uri.example:443/x", &[]);
        assert!(cr.contains("\nhost:uri.example\n"), "{cr}");
    }

    /// A string to sign too long to be padded in the stack buffer, or to
    /// fit it at all (a long region and service), is signed the same way
    /// (the string to sign is 123 bytes plus twice `n` here: 183 still
    /// pads in place, 185 to 192 are copied to be padded, above 192 it is
    /// written on the heap).
    #[test]
    fn a_long_scope_signs_like_the_debug_path() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()));
        let signer = Signer::new();
        for n in [1, 30, 31, 32, 34, 35, 60, 127] {
            let region = Region::new(format!("r{}", "e".repeat(n))).unwrap();
            let service = Service::new("s".repeat(n)).unwrap();
            let time = AmzDate::from_unix(1_440_938_160).unwrap();
            let params = SigningParams::new(&creds, &region, &service, time);
            let req = SignableRequest::new("GET", "https://example.com/", &[]).unwrap();
            let (fast, slow) = signed_both_ways(&signer, &req, &params);
            let again = signer.sign(&req, PayloadHash::Unsigned, &params).unwrap();
            assert_eq!(fast.signature(), slow.signature(), "{n}");
            assert_eq!(again.signature(), slow.signature(), "{n}");
            let sts = &slow.debug().unwrap().string_to_sign;
            assert!(sts.contains(&"s".repeat(n)), "{n}");
        }
    }

    /// The 8-bytes-at-a-time test for `a-z0-9-` names agrees with the
    /// byte table for every byte at every position.
    #[test]
    fn header_names_are_classified_like_the_table() {
        let by_table = |name: &[u8]| {
            let valid = !name.is_empty() && name.iter().all(|&b| is_tchar(b));
            valid.then(|| !name.iter().any(u8::is_ascii_uppercase))
        };
        for len in 1..=17 {
            let base: Vec<u8> = b"x-amz-0123456789z".iter().copied().take(len).collect();
            for pos in 0..len {
                for b in 0..=255u8 {
                    let mut name = base.clone();
                    name[pos] = b;
                    let want = by_table(&name);
                    if let Ok(s) = std::str::from_utf8(&name) {
                        assert_eq!(header_name_case(s), want, "{name:?}");
                    }
                    let fast = is_lower_token(&name);
                    let plain = name.len() >= 4
                        && name
                            .iter()
                            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
                    assert_eq!(fast, plain, "{name:?}");
                }
            }
        }
    }

    /// The header sort is a stable sort by name, for every list of up to
    /// six names drawn from a set with shared 8-byte prefixes and repeats.
    #[test]
    fn headers_sort_like_a_stable_sort_by_name() {
        let names = ["x-amz-meta-b", "host", "x-amz-meta-a", "a", "x-amz-date"];
        for len in 0..=6u32 {
            for code in 0..5usize.pow(len) {
                let mut c = code;
                let mut list: Vec<CanonicalHeader<'_>> = (0..len)
                    .map(|i| {
                        let name = names[c % 5];
                        c /= 5;
                        CanonicalHeader {
                            name: Cow::Borrowed(name),
                            value: &[],
                            canonical: i % 2 == 0,
                        }
                    })
                    .collect();
                let mut want: Vec<(String, bool)> = list
                    .iter()
                    .map(|h| (h.name.to_string(), h.canonical))
                    .collect();
                want.sort_by(|a, b| a.0.cmp(&b.0));
                sort_headers(&mut list);
                let got: Vec<(String, bool)> = list
                    .iter()
                    .map(|h| (h.name.to_string(), h.canonical))
                    .collect();
                assert_eq!(got, want, "{code}");
            }
        }
    }
}
