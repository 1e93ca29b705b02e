//! SigV4a (`AWS4-ECDSA-P256-SHA256`): one signature valid in a set of
//! regions, made with an ECDSA P-256 key derived from the secret access key
//! (feature `sigv4a`).
//!
//! The canonical request is the SigV4 one (same writer), with the region
//! set signed as `X-Amz-Region-Set` and a credential scope without a region
//! (`date/service/aws4_request`). The string to sign is hashed with
//! SHA-256 and signed with ECDSA; the signature is the hex of its DER form.
//!
//! The key is derived with the NIST SP 800-108 counter-mode KDF
//! (HMAC-SHA256) keyed with `"AWS4A" + secret`, label
//! `AWS4-ECDSA-P256-SHA256`, context `access key id + counter byte`; a
//! candidate above `n - 2` is dropped and the counter incremented; the
//! private key is `candidate + 1`. Derivation is costly: [`SigV4aSigner`]
//! caches keys.
//!
//! ```
//! use sigv4_sign::sigv4a::{RegionSet, SigV4aSigner};
//! use sigv4_sign::{AmzDate, Credentials, PayloadHash, Region, Service, SignableRequest, SigningParams};
//!
//! let signer = SigV4aSigner::new();
//! let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None);
//! let (region, s3) = (Region::new("us-east-1")?, Service::new("s3")?);
//! let params = SigningParams::new(&creds, &region, &s3, AmzDate::parse("20240101T000000Z")?);
//! let regions = RegionSet::parse("us-east-1,us-west-2")?;
//! let req = SignableRequest::new("GET", "https://mrap.accesspoint.s3-global.amazonaws.com/key", &[])?;
//! let out = signer.sign(&req, PayloadHash::Unsigned, &params, &regions)?;
//! assert_eq!(out.param("X-Amz-Region-Set"), Some("us-east-1,us-west-2"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{DerSignature, Signature, SigningKey as EcdsaKey, VerifyingKey};
use zeroize::Zeroizing;

use crate::key::hmac_sha256;
use crate::sign::{Mode, Scheme};
use crate::{
    Credentials, PayloadHash, Region, SignableRequest, Signer, SigningError, SigningOutput,
    SigningParams,
};

/// The SigV4a algorithm name.
pub const ALGORITHM: &str = "AWS4-ECDSA-P256-SHA256";

/// `n - 2`, where `n` is the order of the P-256 group, big-endian.
const N_MINUS_2: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x4f,
];

/// Why a SigV4a key could not be derived or a request signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigV4aError {
    /// Every counter value 1..=255 gave a candidate above `n - 2` (never
    /// happens in practice: each try fails with probability about 2^-32).
    #[error("SigV4a key derivation found no valid P-256 key in 255 tries")]
    KeyDerivationExhausted,
    /// The region set is empty or holds an invalid region name.
    #[error("invalid SigV4a region set {0:?}: expected comma-separated regions such as us-east-1,us-west-2 (or *)")]
    InvalidRegionSet(String),
    /// The request could not be signed.
    #[error(transparent)]
    Signing(#[from] SigningError),
}

/// A derived SigV4a ECDSA P-256 private key. Zeroized on drop; `Debug` redacts.
#[derive(Clone)]
pub struct SigV4aKey {
    key: EcdsaKey,
}

impl fmt::Debug for SigV4aKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigV4aKey(** redacted **)")
    }
}

/// Derives the SigV4a private key of an access key pair (see the module docs).
pub fn derive_signing_key(access_key_id: &str, secret: &str) -> Result<SigV4aKey, SigV4aError> {
    let mut input_key = Zeroizing::new(Vec::with_capacity(5 + secret.len()));
    input_key.extend_from_slice(b"AWS4A");
    input_key.extend_from_slice(secret.as_bytes());

    // SP 800-108 counter mode, one block (L = 256 bits):
    // [i]_32 || label || 0x00 || context || [L]_32, with i = 1.
    let mut fixed = Zeroizing::new(Vec::with_capacity(
        4 + ALGORITHM.len() + 1 + access_key_id.len() + 1 + 4,
    ));
    for counter in 1u8..=255 {
        fixed.clear();
        fixed.extend_from_slice(&1u32.to_be_bytes());
        fixed.extend_from_slice(ALGORITHM.as_bytes());
        fixed.push(0);
        fixed.extend_from_slice(access_key_id.as_bytes());
        fixed.push(counter);
        fixed.extend_from_slice(&256u32.to_be_bytes());
        let mut candidate = Zeroizing::new(hmac_sha256(&input_key, &fixed));
        // Big-endian byte arrays compare like the numbers they hold.
        if *candidate > N_MINUS_2 {
            continue;
        }
        add_one(&mut candidate);
        // 1 <= candidate <= n - 1: a valid scalar.
        if let Ok(key) = EcdsaKey::from_slice(&candidate[..]) {
            return Ok(SigV4aKey { key });
        }
    }
    Err(SigV4aError::KeyDerivationExhausted)
}

fn add_one(n: &mut [u8; 32]) {
    for b in n.iter_mut().rev() {
        let (v, carry) = b.overflowing_add(1);
        *b = v;
        if !carry {
            return;
        }
    }
}

impl SigV4aKey {
    /// The public key, SEC1 uncompressed (`0x04 || X || Y`, 65 bytes).
    pub fn public_key_sec1(&self) -> Vec<u8> {
        self.key
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec()
    }

    /// The public key's affine coordinates X and Y, big-endian.
    pub fn public_key_xy(&self) -> ([u8; 32], [u8; 32]) {
        let sec1 = self.public_key_sec1();
        let mut x = [0u8; 32];
        let mut y = [0u8; 32];
        // An uncompressed P-256 point is 1 + 32 + 32 bytes.
        if sec1.len() == 65 {
            x.copy_from_slice(&sec1[1..33]);
            y.copy_from_slice(&sec1[33..65]);
        }
        (x, y)
    }

    /// Signs a string to sign: ECDSA P-256 over its SHA-256, as the hex of
    /// the DER signature.
    pub fn sign_string(&self, string_to_sign: &[u8]) -> String {
        let sig: Signature = self.key.sign(string_to_sign);
        let der: DerSignature = sig.to_der();
        hex::encode(der.as_bytes())
    }
}

/// Whether `sig_hex` (hex of a DER ECDSA signature) is a valid signature of
/// `string_to_sign` under `public_key` (SEC1, compressed or uncompressed).
/// Malformed input is simply not valid.
pub fn verify(public_key: &[u8], string_to_sign: &[u8], sig_hex: &str) -> bool {
    let Ok(vk) = VerifyingKey::from_sec1_bytes(public_key) else {
        return false;
    };
    let Ok(der) = hex::decode(sig_hex) else {
        return false;
    };
    let Ok(sig) = Signature::from_der(&der) else {
        return false;
    };
    vk.verify(string_to_sign, &sig).is_ok()
}

/// The regions a SigV4a signature is valid in: `us-east-1,us-west-2`, `*`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegionSet(String);

impl RegionSet {
    /// Parses a comma-separated list of region names (spaces around names are dropped).
    pub fn parse(s: &str) -> Result<Self, SigV4aError> {
        let mut out = String::with_capacity(s.len());
        for part in s.split(',') {
            let part = part.trim();
            if Region::new(part.to_owned()).is_err() {
                return Err(SigV4aError::InvalidRegionSet(s.to_owned()));
            }
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(part);
        }
        Ok(Self(out))
    }

    /// A set of these regions.
    pub fn from_regions(regions: &[Region]) -> Result<Self, SigV4aError> {
        if regions.is_empty() {
            return Err(SigV4aError::InvalidRegionSet(String::new()));
        }
        let names: Vec<&str> = regions.iter().map(Region::as_str).collect();
        Ok(Self(names.join(",")))
    }

    /// The value of `X-Amz-Region-Set`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RegionSet {
    type Err = SigV4aError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Signs and presigns with SigV4a, caching each derived key per access key.
///
/// The region of [`SigningParams`] is not used: the signature covers the
/// [`RegionSet`] instead. Keep one for the life of the process.
pub struct SigV4aSigner {
    base: Signer,
    keys: RwLock<Vec<(Credentials, Arc<SigV4aKey>)>>,
    capacity: usize,
}

impl Default for SigV4aSigner {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SigV4aSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.keys.read().map_or(0, |k| k.len());
        f.debug_struct("SigV4aSigner")
            .field("cached_keys", &len)
            .finish()
    }
}

impl SigV4aSigner {
    /// A signer caching up to 16 keys.
    pub fn new() -> Self {
        Self {
            base: Signer::with_key_capacity(1),
            keys: RwLock::new(Vec::new()),
            capacity: 16,
        }
    }

    /// The derived key of `credentials`, from the cache.
    pub fn key(&self, credentials: &Credentials) -> Result<Arc<SigV4aKey>, SigV4aError> {
        if let Ok(keys) = self.keys.read() {
            if let Some((_, k)) = keys.iter().find(|(c, _)| c.same_key_as(credentials)) {
                return Ok(Arc::clone(k));
            }
        }
        let key = Arc::new(derive_signing_key(
            credentials.access_key_id(),
            credentials.secret_access_key(),
        )?);
        // A poisoned lock only means another thread panicked mid-insert.
        let mut keys = self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if keys.len() >= self.capacity {
            keys.remove(0);
        }
        keys.push((credentials.clone(), Arc::clone(&key)));
        Ok(key)
    }

    /// Signs with headers: `Authorization`, `X-Amz-Date`, `X-Amz-Region-Set`
    /// and, as the settings and credentials say, `X-Amz-Security-Token` and
    /// `x-amz-content-sha256`.
    pub fn sign(
        &self,
        request: &SignableRequest<'_>,
        payload: PayloadHash<'_>,
        params: &SigningParams<'_>,
        region_set: &RegionSet,
    ) -> Result<SigningOutput, SigV4aError> {
        self.sign_mode(request, payload, params, region_set, Mode::Headers)
    }

    /// Presigns: the `X-Amz-*` query parameters (with `X-Amz-Region-Set`)
    /// of a URL valid for `expires_in` (1 s ..= 7 days).
    pub fn presign(
        &self,
        request: &SignableRequest<'_>,
        payload: PayloadHash<'_>,
        params: &SigningParams<'_>,
        region_set: &RegionSet,
        expires_in: Duration,
    ) -> Result<SigningOutput, SigV4aError> {
        let mode = Signer::presign_mode(expires_in)?;
        self.sign_mode(request, payload, params, region_set, mode)
    }

    fn sign_mode(
        &self,
        request: &SignableRequest<'_>,
        payload: PayloadHash<'_>,
        params: &SigningParams<'_>,
        region_set: &RegionSet,
        mode: Mode,
    ) -> Result<SigningOutput, SigV4aError> {
        let key = self.key(params.credentials)?;
        let sign = |sts: &[u8]| key.sign_string(sts);
        let scheme = Scheme {
            algorithm: ALGORITHM,
            region_set: Some(region_set.as_str()),
            sign: Some(&sign),
        };
        Ok(self
            .base
            .sign_inner(request, payload, params, mode, &scheme)?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn add_one_carries() {
        let mut n = [0xffu8; 32];
        n[0] = 0;
        add_one(&mut n);
        assert_eq!(n[0], 1);
        assert!(n[1..].iter().all(|&b| b == 0));
    }

    #[test]
    fn region_sets() {
        assert_eq!(
            RegionSet::parse("us-east-1, us-west-2").unwrap().as_str(),
            "us-east-1,us-west-2"
        );
        assert_eq!(RegionSet::parse("*").unwrap().as_str(), "*");
        assert!(RegionSet::parse("").is_err());
        assert!(RegionSet::parse("us-east-1,").is_err());
        assert!(RegionSet::parse("us east").is_err());
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        let k = derive_signing_key("AKIDEXAMPLE", "secret").unwrap();
        let pk = k.public_key_sec1();
        let sig = k.sign_string(b"hello");
        assert!(verify(&pk, b"hello", &sig));
        assert!(!verify(&pk, b"hellO", &sig));
        assert!(!verify(&pk, b"hello", "zz"));
        assert!(!verify(&pk[..10], b"hello", &sig));
        assert_eq!(format!("{k:?}"), "SigV4aKey(** redacted **)");
    }
}
