//! [`SigV4Middleware`] and its [`Builder`].

use std::fmt;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};
use sigv4_credentials::{
    resolve_region, CredentialsCache, DefaultChain, ProvideCredentials, ProviderConfig,
    SystemTimeSource, TimeSource,
};
use sigv4_sign::encode::{canonicalize_encoded_into, is_canonical_encoded};
use sigv4_sign::{
    AmzDate, PayloadHash, Region, Service, Settings, SignableRequest, Signer, SigningError,
    SigningParams, UriEncoding,
};
use tokio::sync::OnceCell;

use crate::host::infer_scope;
use crate::SigV4Error;

/// A `reqwest_middleware::Middleware` that signs every request it sees with
/// AWS Signature Version 4.
///
/// It signs inside [`Middleware::handle`], just before passing the request
/// on, so each attempt of a retried request is signed afresh (new
/// `X-Amz-Date`, current credentials) **when this middleware comes after
/// the retry middleware** in the chain:
///
/// ```no_run
/// # use sigv4_reqwest::SigV4Middleware;
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     // .with(reqwest_retry::RetryTransientMiddleware::new_with_policy(policy)) // first: retries
///     .with(SigV4Middleware::from_default_chain()) // last: signs each attempt
///     .build();
/// ```
///
/// Placed before the retry middleware it would sign once, and a retry would
/// resend the first attempt's signature (fine within S3's 15 minute window,
/// but with stale temporary credentials after a refresh).
///
/// What is signed:
/// - the region: the one given to [`Builder::region`], else the one the
///   host names ([`infer_scope`]), else `AWS_REGION` / `AWS_DEFAULT_REGION` /
///   the profile's `region`, else [`Builder::default_region`];
/// - the service: [`Builder::service`], else the host's, else
///   [`Builder::default_service`];
/// - the body: a buffered body is hashed; a streaming body is sent as
///   `UNSIGNED-PAYLOAD` (which S3 accepts; most other services want a
///   buffered body);
/// - the path: for S3 it is sent in canonical percent-encoding (`+` as
///   `%2B`, `=` as `%3D`; `%XX` escapes kept), the form the AWS SDKs send,
///   so servers that read the path as received and servers that decode it
///   agree with the signature;
/// - every header present when the middleware runs, except those the
///   [`Settings`] leave out (`user-agent`, `expect`, hop-by-hop ones).
///   Headers the client adds later (`accept`, `content-length`) are not
///   signed, which servers accept.
///
/// Cheap to clone; clones share the credentials cache and the key cache.
#[derive(Clone)]
pub struct SigV4Middleware {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Arc<dyn ProvideCredentials>,
    region: Option<Region>,
    service: Option<Service>,
    default_region: Option<Region>,
    default_service: Option<Service>,
    config: ProviderConfig,
    config_region: OnceCell<Option<Region>>,
    settings: Option<Settings>,
    unsigned_payload: bool,
    time: Arc<dyn TimeSource>,
    signer: Signer,
}

impl fmt::Debug for SigV4Middleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("SigV4Middleware")
            .field("provider", &i.provider)
            .field("region", &i.region)
            .field("service", &i.service)
            .field("default_region", &i.default_region)
            .field("default_service", &i.default_service)
            .field("unsigned_payload", &i.unsigned_payload)
            .finish_non_exhaustive()
    }
}

impl SigV4Middleware {
    /// Signs with credentials from `provider` (wrap it in a
    /// [`CredentialsCache`] unless it caches itself), region and service
    /// from the host.
    pub fn new(provider: impl ProvideCredentials + 'static) -> Self {
        Self::builder().credentials(provider).build()
    }

    /// Signs with the cached default chain (environment, then profile files)
    /// of the real process environment; region and service from the host,
    /// else the region from `AWS_REGION` / `AWS_DEFAULT_REGION` / the profile.
    pub fn from_default_chain() -> Self {
        Self::builder().build()
    }

    /// A builder, to set the region, service, credentials and settings.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Signs `req` in place: sets `Authorization`, `X-Amz-Date`, and as needed
    /// `X-Amz-Security-Token` and `x-amz-content-sha256`. This is what
    /// [`Middleware::handle`] does before passing the request on; call it
    /// directly to sign a plain `reqwest::Request`.
    pub async fn sign(&self, req: &mut Request) -> Result<(), SigV4Error> {
        let i = &*self.inner;
        let host = req
            .url()
            .host_str()
            .ok_or_else(|| SigV4Error::NoHost {
                url: req.url().as_str().to_owned(),
            })?
            .to_owned();
        let (region, service) = self.scope(&host).await?;
        let creds =
            i.provider
                .provide_credentials()
                .await
                .map_err(|source| SigV4Error::Credentials {
                    method: req.method().to_string(),
                    url: without_query(req.url()),
                    source,
                })?;
        let time = AmzDate::from_system_time(i.time.now())?;
        let settings = i
            .settings
            .as_ref()
            .unwrap_or_else(|| Settings::for_service(&service));
        let debug = tracing::enabled!(tracing::Level::DEBUG);
        if settings.uri_encoding == UriEncoding::Single {
            canonicalize_path(req.url_mut());
        }

        let out = {
            let payload = match req.body() {
                _ if i.unsigned_payload => PayloadHash::Unsigned,
                None => PayloadHash::Body(&[]),
                Some(body) => body
                    .as_bytes()
                    .map_or(PayloadHash::Unsigned, PayloadHash::Body),
            };
            let headers: Vec<(&str, &[u8])> = req
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_bytes()))
                .collect();
            let signable = SignableRequest::with_byte_headers(
                req.method().as_str(),
                req.url().as_str(),
                &headers,
            )?;
            let params = SigningParams::new(&creds, &region, &service, time)
                .with_settings(settings)
                .with_debug(debug);
            i.signer.sign(&signable, payload, &params)?
        };

        if let Some(d) = out.debug() {
            tracing::debug!(
                method = %req.method(),
                url = %without_query(req.url()),
                access_key_id = creds.access_key_id(),
                credentials_from = %creds.provider_name(),
                scope = %d.credential_scope,
                signed_headers = out.signed_headers(),
                "sigv4: signed request\n--- canonical request ---\n{}\n--- string to sign ---\n{}",
                redact_canonical(&String::from_utf8_lossy(&d.canonical_request)),
                d.string_to_sign,
            );
        }

        let headers = req.headers_mut();
        for (name, value) in out.params() {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| SigningError::InvalidHeaderName((*name).to_owned()))?;
            let mut value =
                HeaderValue::from_str(value).map_err(|_| SigningError::InvalidHeaderValue {
                    name: (*name).to_owned(),
                    reason: "it cannot be sent as an HTTP header value",
                })?;
            if header == http::header::AUTHORIZATION || header.as_str() == "x-amz-security-token" {
                value.set_sensitive(true);
            }
            headers.insert(header, value);
        }
        Ok(())
    }

    /// The region and service to sign a request to `host` for.
    async fn scope(&self, host: &str) -> Result<(Region, Service), SigV4Error> {
        let i = &*self.inner;
        let inferred = match (&i.region, &i.service) {
            (Some(_), Some(_)) => Default::default(),
            _ => infer_scope(host),
        };
        let service = i
            .service
            .clone()
            .or(inferred.service)
            .or_else(|| i.default_service.clone())
            .ok_or_else(|| SigV4Error::UnknownService {
                host: host.to_owned(),
            })?;
        let region = match i.region.clone().or(inferred.region) {
            Some(r) => r,
            None => self
                .fallback_region(host)
                .await?
                .ok_or_else(|| SigV4Error::UnknownRegion {
                    host: host.to_owned(),
                })?,
        };
        Ok((region, service))
    }

    async fn fallback_region(&self, host: &str) -> Result<Option<Region>, SigV4Error> {
        let i = &*self.inner;
        let region = i
            .config_region
            .get_or_try_init(|| async {
                let resolved =
                    resolve_region(&i.config)
                        .await
                        .map_err(|source| SigV4Error::Region {
                            host: host.to_owned(),
                            source,
                        })?;
                match resolved {
                    None => Ok(None),
                    Some(r) => Region::new(r.region).map(Some).map_err(SigV4Error::Signing),
                }
            })
            .await?;
        Ok(region.clone().or_else(|| i.default_region.clone()))
    }
}

#[async_trait::async_trait]
impl Middleware for SigV4Middleware {
    async fn handle(
        &self,
        mut req: Request,
        extensions: &mut http::Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        self.sign(&mut req)
            .await
            .map_err(reqwest_middleware::Error::middleware)?;
        next.run(req, extensions).await
    }
}

/// Builds a [`SigV4Middleware`].
///
/// ```
/// use sigv4_reqwest::SigV4Middleware;
/// use sigv4_sign::{Credentials, Region, Service};
/// let mw = SigV4Middleware::builder()
///     .credentials(Credentials::new("AKIDEXAMPLE", "secret", None))
///     .region(Region::new("eu-west-1").unwrap())
///     .service(Service::new("s3").unwrap())
///     .build();
/// ```
#[derive(Default)]
pub struct Builder {
    provider: Option<Arc<dyn ProvideCredentials>>,
    region: Option<Region>,
    service: Option<Service>,
    default_region: Option<Region>,
    default_service: Option<Service>,
    config: Option<ProviderConfig>,
    settings: Option<Settings>,
    unsigned_payload: bool,
    time: Option<Arc<dyn TimeSource>>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("provider", &self.provider)
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// Where credentials come from (default: the default chain, cached).
    /// Give a cached provider: the middleware asks it once per request.
    #[must_use]
    pub fn credentials(mut self, provider: impl ProvideCredentials + 'static) -> Self {
        self.provider = Some(Arc::new(provider));
        self
    }

    /// Credentials from a shared provider.
    #[must_use]
    pub fn shared_credentials(mut self, provider: Arc<dyn ProvideCredentials>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Always sign for this region, whatever the host says.
    #[must_use]
    pub fn region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }

    /// Always sign for this service, whatever the host says.
    #[must_use]
    pub fn service(mut self, service: Service) -> Self {
        self.service = Some(service);
        self
    }

    /// The region for hosts that name none (custom endpoints) when the
    /// environment and profile set none either (`AWS_REGION`,
    /// `AWS_DEFAULT_REGION` and the profile's `region` come first).
    #[must_use]
    pub fn default_region(mut self, region: Region) -> Self {
        self.default_region = Some(region);
        self
    }

    /// The service for hosts that name none (custom endpoints).
    #[must_use]
    pub fn default_service(mut self, service: Service) -> Self {
        self.default_service = Some(service);
        self
    }

    /// The environment and files the default chain and the region fallback
    /// read (default: the real process environment and home).
    #[must_use]
    pub fn provider_config(mut self, config: ProviderConfig) -> Self {
        self.config = Some(config);
        self
    }

    /// Sign with these settings instead of the service's preset
    /// ([`Settings::for_service`]: S3 rules for S3, generic otherwise).
    #[must_use]
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Send every body as `UNSIGNED-PAYLOAD`, buffered ones too (S3 only;
    /// saves hashing large uploads over TLS).
    #[must_use]
    pub fn unsigned_payload(mut self, on: bool) -> Self {
        self.unsigned_payload = on;
        self
    }

    /// The clock that dates signatures (default: the system clock).
    #[must_use]
    pub fn time_source(mut self, time: Arc<dyn TimeSource>) -> Self {
        self.time = Some(time);
        self
    }

    /// The middleware.
    pub fn build(self) -> SigV4Middleware {
        let config = self.config.unwrap_or_else(ProviderConfig::from_process);
        let provider = self
            .provider
            .unwrap_or_else(|| Arc::new(CredentialsCache::new(DefaultChain::new(&config))));
        SigV4Middleware {
            inner: Arc::new(Inner {
                provider,
                region: self.region,
                service: self.service,
                default_region: self.default_region,
                default_service: self.default_service,
                config,
                config_region: OnceCell::new(),
                settings: self.settings,
                unsigned_payload: self.unsigned_payload,
                time: self.time.unwrap_or_else(|| Arc::new(SystemTimeSource)),
                signer: Signer::new(),
            }),
        }
    }
}

/// S3 signs the path as sent, brought to canonical percent-encoding; send
/// it in that form (`+` as `%2B`, `=` as `%3D`, `%7E` as `~`), as the AWS
/// SDKs do, so that a server that reads the path as received (botocore,
/// moto) and one that decodes it (S3) both see what was signed.
fn canonicalize_path(url: &mut reqwest::Url) {
    let path = url.path();
    if is_canonical_encoded(path.as_bytes(), true) {
        return;
    }
    let mut out = Vec::with_capacity(path.len() + 16);
    canonicalize_encoded_into(&mut out, path.as_bytes(), true);
    // Only ASCII comes out of the encoder.
    if let Ok(p) = String::from_utf8(out) {
        url.set_path(&p);
    }
}

fn without_query(url: &reqwest::Url) -> String {
    let s = url.as_str();
    s.split_once('?').map_or(s, |(u, _)| u).to_owned()
}

/// The canonical request with session tokens blanked out, for logging.
pub(crate) fn redact_canonical(canonical: &str) -> String {
    const REDACTED: &str = "** redacted **";
    let mut out = String::with_capacity(canonical.len());
    for (n, line) in canonical.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        if n == 2 {
            // The canonical query string.
            for (k, pair) in line.split('&').enumerate() {
                if k > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("X-Amz-Security-Token") => {
                        out.push_str(key);
                        out.push('=');
                        out.push_str(REDACTED);
                    }
                    _ => out.push_str(pair),
                }
            }
        } else if line.starts_with("x-amz-security-token:") {
            out.push_str("x-amz-security-token:");
            out.push_str(REDACTED);
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_tokens() {
        let c = "GET\n/\nX-Amz-Security-Token=TOKEN123&a=b\nhost:h\nx-amz-security-token:TOKEN123\n\nhost;x-amz-security-token\nUNSIGNED-PAYLOAD";
        let r = redact_canonical(c);
        assert!(!r.contains("TOKEN123"), "{r}");
        assert!(r.contains("a=b") && r.contains("host:h") && r.ends_with("UNSIGNED-PAYLOAD"));
        assert_eq!(r.lines().count(), c.lines().count());
    }
}
