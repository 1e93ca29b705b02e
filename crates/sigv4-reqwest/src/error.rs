//! [`SigV4Error`]: why a request could not be signed.

use sigv4_credentials::CredentialsError;
use sigv4_sign::SigningError;

/// Why the middleware could not sign a request.
///
/// The middleware returns it inside `reqwest_middleware::Error::Middleware`;
/// get it back with [`SigV4Error::from_middleware`]. No variant ever holds a
/// secret, a session token or a signature.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigV4Error {
    /// The credentials provider failed.
    #[error("cannot sign {method} {url}: no AWS credentials: {source}")]
    Credentials {
        /// The request method.
        method: String,
        /// The request URL without its query string.
        url: String,
        /// What the provider said.
        #[source]
        source: CredentialsError,
    },
    /// Neither the configuration nor the host name gives the signing region.
    #[error(
        "cannot sign a request to `{host}`: the signing region is unknown (the host names none); \
         set it with `SigV4Middleware::builder().region(..)`, `--region`, or AWS_REGION"
    )]
    UnknownRegion {
        /// The request's host.
        host: String,
    },
    /// Neither the configuration nor the host name gives the service.
    #[error(
        "cannot sign a request to `{host}`: the signing service is unknown (the host names none); \
         set it with `SigV4Middleware::builder().service(..)` or `--service` (for example `s3`)"
    )]
    UnknownService {
        /// The request's host.
        host: String,
    },
    /// Reading the region from the environment or profile failed.
    #[error("cannot sign a request to `{host}`: reading the region from the environment or profile failed: {source}")]
    Region {
        /// The request's host.
        host: String,
        /// What went wrong.
        #[source]
        source: CredentialsError,
    },
    /// The URL has no host (such as `file:` or `data:` URLs).
    #[error("cannot sign {url}: the URL has no host")]
    NoHost {
        /// The URL.
        url: String,
    },
    /// The signer rejected the request (bad header, method, region name...).
    #[error("cannot sign the request: {0}")]
    Signing(#[from] SigningError),
}

impl SigV4Error {
    /// The signing error inside a middleware error, if that is what it is.
    ///
    /// ```
    /// use sigv4_reqwest::SigV4Error;
    /// let e = reqwest_middleware::Error::middleware(SigV4Error::UnknownService { host: "x".into() });
    /// assert!(matches!(SigV4Error::from_middleware(&e), Some(SigV4Error::UnknownService { .. })));
    /// ```
    pub fn from_middleware(err: &reqwest_middleware::Error) -> Option<&SigV4Error> {
        match err {
            reqwest_middleware::Error::Middleware(e) => e.downcast_ref(),
            _ => None,
        }
    }
}
