//! `sigv4 presign`: print a presigned URL.
//!
//! The URL is normalized first (spaces and non-ASCII characters in the path
//! percent-encoded, as any HTTP client sends them; for S3 the whole path in
//! canonical encoding, `+` as `%2B`), then signed exactly as printed. S3 URLs sign `UNSIGNED-PAYLOAD`, other services the empty body.
//! Exit codes: 0, 1 when credentials cannot be loaded, 2 for bad input.

use std::time::Duration;

use clap::Args;
use sigv4_credentials::{
    resolve_region, CredentialsCache, DefaultChain, ProvideCredentials, ProviderConfig,
};
use sigv4_reqwest::infer_scope;
use sigv4_sign::encode::{canonicalize_encoded_into, is_canonical_encoded};
use sigv4_sign::{
    Credentials, PayloadHash, Region, Service, SignableRequest, Signer, SigningParams,
};

/// Arguments of `sigv4 presign`.
#[derive(Args, Debug)]
pub struct PresignArgs {
    /// Instead of a URL, print an S3 browser-upload POST form (URL and fields
    /// as JSON); its options: `sigv4 presign --post --help`.
    #[arg(long)]
    pub post: bool,
    /// The URL to presign, e.g. https://my-bucket.s3.us-west-2.amazonaws.com/key.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The HTTP method the URL is for.
    #[arg(short = 'X', long, value_name = "M", default_value = "GET")]
    pub method: String,
    /// Lifetime in seconds (1..=604800, 7 days).
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    pub expires: u64,
    /// The signing region (default: from the host, else AWS_REGION / AWS_DEFAULT_REGION / profile).
    #[arg(long)]
    pub region: Option<String>,
    /// The service signing name (default: from the host).
    #[arg(long)]
    pub service: Option<String>,
    /// The signing time: 2015-08-30T12:36:00Z or 20150830T123600Z (default: now).
    #[arg(long, value_name = "T")]
    pub time: Option<String>,
    #[command(flatten)]
    pub keys: crate::common::KeyArgs,
}

struct Fail {
    code: u8,
    msg: String,
}

fn input(msg: impl Into<String>) -> Fail {
    Fail {
        code: 2,
        msg: msg.into(),
    }
}

/// Runs `sigv4 presign`; returns the exit code.
pub fn run(args: &PresignArgs) -> u8 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sigv4 presign: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(presign(args)) {
        Ok(url) => {
            println!("{url}");
            0
        }
        Err(Fail { code, msg }) => {
            eprintln!("sigv4 presign: {msg}");
            code
        }
    }
}

async fn presign(args: &PresignArgs) -> Result<String, Fail> {
    let mut url = reqwest::Url::parse(&args.url).map_err(|e| {
        input(format!(
            "invalid URL {:?}: {e} (give an absolute http:// or https:// URL)",
            args.url
        ))
    })?;
    url.set_fragment(None);
    if !matches!(url.scheme(), "http" | "https") {
        return Err(input(format!(
            "URL {:?}: only http:// and https:// can be presigned",
            args.url
        )));
    }
    let host = url
        .host_str()
        .ok_or_else(|| input(format!("URL {:?} has no host", args.url)))?
        .to_owned();
    let config = ProviderConfig::from_process();
    let inferred = infer_scope(&host);
    let service = match &args.service {
        Some(s) => Service::new(s.clone()).map_err(|e| input(e.to_string()))?,
        None => inferred.service.ok_or_else(|| {
            input(format!(
                "the service of `{host}` is unknown (the host names none): pass --service, for example --service s3"
            ))
        })?,
    };
    let region = match (&args.region, inferred.region) {
        (Some(r), _) => Region::new(r.clone()).map_err(|e| input(e.to_string()))?,
        (None, Some(r)) => r,
        (None, None) => match resolve_region(&config).await {
            Ok(Some(r)) => Region::new(r.region).map_err(|e| input(e.to_string()))?,
            Ok(None) => {
                return Err(input(format!(
                    "the region of `{host}` is unknown (the host names none): pass --region or set AWS_REGION"
                )))
            }
            Err(e) => return Err(input(format!("cannot read the region: {e}"))),
        },
    };
    let time = crate::common::signing_time(args.time.as_deref()).map_err(input)?;
    let creds = credentials(args, &config).await?;

    if service.is_s3() {
        // Send the path as S3 signs it (`+` as `%2B`, `=` as `%3D`), as the SDKs do.
        let path = url.path();
        if !is_canonical_encoded(path.as_bytes(), true) {
            let mut out = Vec::with_capacity(path.len() + 16);
            canonicalize_encoded_into(&mut out, path.as_bytes(), true);
            url.set_path(&String::from_utf8_lossy(&out));
        }
    }
    let payload = if service.is_s3() {
        PayloadHash::Unsigned
    } else {
        PayloadHash::Body(b"")
    };
    let signable =
        SignableRequest::new(&args.method, url.as_str(), &[]).map_err(|e| input(e.to_string()))?;
    let params = SigningParams::new(&creds, &region, &service, time);
    let out = Signer::new()
        .presign(
            &signable,
            payload,
            &params,
            Duration::from_secs(args.expires),
        )
        .map_err(|e| input(e.to_string()))?;
    let mut presigned = url.as_str().to_owned();
    match url.query() {
        Some("") => {}
        Some(_) => presigned.push('&'),
        None => presigned.push('?'),
    }
    presigned.push_str(&out.query_string());
    Ok(presigned)
}

async fn credentials(args: &PresignArgs, config: &ProviderConfig) -> Result<Credentials, Fail> {
    if let Some(creds) = args.keys.explicit() {
        return Ok(creds);
    }
    CredentialsCache::new(DefaultChain::new(config))
        .provide_credentials()
        .await
        .map_err(|e| Fail {
            code: 1,
            msg: format!("no AWS credentials: {e} (or pass --access-key and --secret-key)"),
        })
}
