//! Resolve credentials with the default chain (through the cache), then
//! prove they work: call STS `GetCallerIdentity` signed with them.
//!
//! Everything comes from the real environment and shared files, as for any
//! program: `AWS_PROFILE`, `AWS_CONFIG_FILE`, `AWS_ENDPOINT_URL_STS`,
//! `AWS_EC2_METADATA_SERVICE_ENDPOINT`, ... Prints `provider:`,
//! `access_key_id:`, `expiration:` and `caller_arn:` lines (never the
//! secret); on failure the diagnostic on stderr and exit status 1.
//!
//! ```text
//! AWS_PROFILE=dev AWS_ENDPOINT_URL_STS=http://127.0.0.1:5000 \
//!     cargo run -p sigv4-credentials --example resolve
//! ```

use std::process::ExitCode;

use sigv4_credentials::sts::StsEndpoint;
use sigv4_credentials::{
    CredentialsCache, DefaultChain, HttpSettings, ProvideCredentials, ProviderConfig, StsClient,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let config = ProviderConfig::from_process();
    let provider = CredentialsCache::new(DefaultChain::new(&config));
    let creds = match provider.provide_credentials().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("resolve: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("provider: {}", creds.provider_name());
    println!("access_key_id: {}", creds.access_key_id());
    println!(
        "expiration: {}",
        creds
            .expiry()
            .map_or("none".into(), sigv4_credentials::rfc3339)
    );
    let endpoint = StsEndpoint::resolve(config.env(), None);
    let sts = match StsClient::new(&endpoint, config.time_source().clone(), HttpSettings::sts()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("resolve: {e}");
            return ExitCode::FAILURE;
        }
    };
    match sts.get_caller_identity(&creds).await {
        Ok(id) => {
            println!("caller_arn: {}", id.arn);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("resolve: GetCallerIdentity with these credentials: {e}");
            ExitCode::FAILURE
        }
    }
}
