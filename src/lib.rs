//! # sigv4
//!
//! AWS Signature Version 4 end to end. This facade re-exports the workspace crates:
//!
//! - [`sign`]: sans-IO signing (canonical requests, header and presigned signing).
//! - [`credentials`]: credential providers, the cache and the default chain.
//! - [`verify`]: server-side verification.
//! - [`reqwest`]: reqwest-middleware integration.

pub use sigv4_credentials as credentials;
pub use sigv4_reqwest as reqwest;
pub use sigv4_sign as sign;
pub use sigv4_verify as verify;
