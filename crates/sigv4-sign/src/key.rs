//! Signing-key derivation (kDate -> kRegion -> kService -> kSigning) and its cache.

use std::fmt;
use std::sync::{Arc, OnceLock, RwLock};

use hmac::{Hmac, Mac};
use sha2::digest::generic_array::GenericArray;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::encode::uri_encode_str_into;
use crate::{Credentials, Region, Service};

type HmacSha256 = Hmac<Sha256>;

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// SHA-256 of `data`, as 64 lowercase hex digits.
pub fn sha256_hex(data: &[u8]) -> [u8; 64] {
    hex64(&Sha256::digest(data).into())
}

/// 32 bytes as 64 lowercase hex digits. Written as two plain loops over
/// fixed-size arrays, which the compiler turns into a few vector
/// instructions (nibble split, compare, add, interleave): about 4x faster
/// here than eight 64-bit SWAR steps.
pub(crate) fn hex64(bytes: &[u8; 32]) -> [u8; 64] {
    let digit = |n: u8| if n > 9 { n + (b'a' - 10) } else { n + b'0' };
    let mut high = [0u8; 32];
    let mut low = [0u8; 32];
    for ((h, l), &b) in high.iter_mut().zip(&mut low).zip(bytes) {
        *h = digit(b >> 4);
        *l = digit(b & 0x0f);
    }
    let mut out = [0u8; 64];
    for ((pair, &h), &l) in out.chunks_exact_mut(2).zip(&high).zip(&low) {
        pair[0] = h;
        pair[1] = l;
    }
    out
}

/// A session token URI-encoded (for the `X-Amz-Security-Token` query parameter).
fn encode_token(token: &str) -> Arc<str> {
    let mut v = String::with_capacity(token.len() + 64);
    uri_encode_str_into(&mut v, token);
    Arc::from(v)
}

/// A derived SigV4 signing key for one (secret, date, region, service).
///
/// Holds the key and the HMAC states keyed with it (SHA-256 after the
/// inner and outer padded key blocks), so signing a string costs only the
/// hashing of that string. Zeroized on drop; `Debug` redacts.
#[derive(Clone)]
pub struct SigningKey {
    key: Zeroizing<[u8; 32]>,
    pads: HmacPads,
}

/// HMAC-SHA256 keyed state: SHA-256 after the `key ^ ipad` block and after
/// the `key ^ opad` block. Zeroized on drop.
#[derive(Clone)]
pub(crate) struct HmacPads {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl Drop for HmacPads {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.inner.zeroize();
        self.outer.zeroize();
    }
}

impl HmacPads {
    /// The states for a key of at most 64 bytes.
    fn new(key: &[u8; 32]) -> Self {
        let mut block = Zeroizing::new([0u8; 64]);
        let mut state = |pad: u8| {
            block.fill(pad);
            for (b, k) in block.iter_mut().zip(key) {
                *b ^= k;
            }
            let mut state = SHA256_INITIAL;
            compress_blocks(&mut state, &block[..]);
            state
        };
        Self {
            inner: state(0x36),
            outer: state(0x5c),
        }
    }

    /// HMAC-SHA256 of `msg`: its whole blocks are hashed where they are,
    /// the rest and the padding from one stack block (two at most), then
    /// the outer hash is one block. No buffering state is moved around.
    pub(crate) fn mac(&self, msg: &[u8]) -> [u8; 32] {
        let mut inner = self.inner;
        let whole = msg.len() - msg.len() % 64;
        let (blocks, rest) = msg.split_at(whole);
        compress_blocks(&mut inner, blocks);
        // The ipad block comes first: 64 more bytes.
        let bits = (64 + msg.len() as u64).wrapping_mul(8);
        let mut tail = [0u8; 128];
        tail[..rest.len()].copy_from_slice(rest);
        tail[rest.len()] = 0x80;
        let end = if rest.len() < 56 { 64 } else { 128 };
        tail[end - 8..end].copy_from_slice(&bits.to_be_bytes());
        compress_blocks(&mut inner, &tail[..end]);
        let mut block = [0u8; 64];
        for (out, word) in block.chunks_exact_mut(4).zip(inner) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        block[32] = 0x80;
        block[56..].copy_from_slice(&((64u64 + 32) * 8).to_be_bytes());
        let mut outer = self.outer;
        compress_blocks(&mut outer, &block);
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(outer) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        digest
    }
}

/// The SHA-256 initial state (FIPS 180-4, 5.3.3).
const SHA256_INITIAL: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// SHA-256 compression over whole 64-byte blocks.
fn compress_blocks(state: &mut [u32; 8], blocks: &[u8]) {
    for block in blocks.chunks_exact(64) {
        sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
    }
}

impl SigningKey {
    /// Derives the key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
    pub fn derive(secret: &str, date: &str, region: &str, service: &str) -> Self {
        let mut k_secret = Zeroizing::new(Vec::with_capacity(4 + secret.len()));
        k_secret.extend_from_slice(b"AWS4");
        k_secret.extend_from_slice(secret.as_bytes());
        let k_date = Zeroizing::new(hmac_sha256(&k_secret, date.as_bytes()));
        let k_region = Zeroizing::new(hmac_sha256(&*k_date, region.as_bytes()));
        let k_service = Zeroizing::new(hmac_sha256(&*k_region, service.as_bytes()));
        Self::from_bytes(hmac_sha256(&*k_service, b"aws4_request"))
    }

    /// A key from its 32 raw bytes (for example a key derived elsewhere).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let pads = HmacPads::new(&bytes);
        Self {
            key: Zeroizing::new(bytes),
            pads,
        }
    }

    /// HMAC-SHA256 of `data` under this key.
    pub fn sign(&self, data: &[u8]) -> [u8; 32] {
        self.pads.mac(data)
    }

    /// The keyed HMAC states.
    pub(crate) fn pads(&self) -> &HmacPads {
        &self.pads
    }

    /// HMAC-SHA256 of `data` under this key, as 64 lowercase hex digits.
    pub fn sign_hex(&self, data: &[u8]) -> [u8; 64] {
        hex64(&self.sign(data))
    }

    /// The raw key bytes. Secret: never log them.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.key
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(** redacted **)")
    }
}

struct Entry {
    credentials: Credentials,
    date: [u8; 8],
    region: Region,
    service: Service,
    key: Arc<SigningKey>,
    /// `access-key-id/scope` then the same URI-encoded, back to back (see
    /// [`ScopeKey`]): written once here instead of piece by piece for
    /// every signature.
    strings: Box<str>,
    /// Where the plain credential ends in `strings`.
    credential_end: usize,
    /// The session token, URI-encoded for presigned URLs, made on first use.
    encoded_token: OnceLock<Arc<str>>,
}

/// What a SigV4 signature needs from the key cache for one scope, borrowed
/// from a cache entry (under the cache's read lock).
pub(crate) struct ScopeKey<'e> {
    /// The signing key's HMAC states; `None` when signing another way.
    pub(crate) pads: Option<&'e HmacPads>,
    /// `date/region/service/aws4_request`.
    pub(crate) scope: &'e str,
    /// `access-key-id/date/region/service/aws4_request` (`Credential=`).
    pub(crate) credential: &'e str,
    /// The credential URI-encoded (`X-Amz-Credential`).
    pub(crate) credential_encoded: &'e str,
    /// The session token URI-encoded (`X-Amz-Security-Token`), when asked for.
    pub(crate) encoded_token: Option<&'e str>,
}

/// `scope` (`date/region/service/aws4_request`, no region when `None`), the
/// credential (`access-key-id/scope`) and the credential URI-encoded, back
/// to back; and where the scope starts and the credential ends.
pub(crate) fn scope_strings(
    access_key_id: &str,
    date: &str,
    region: Option<&str>,
    service: &str,
) -> (String, usize, usize) {
    let mut s = String::with_capacity(4 * (access_key_id.len() + date.len() + service.len()) + 64);
    s.push_str(access_key_id);
    s.push('/');
    let scope_start = s.len();
    for part in [date]
        .into_iter()
        .chain(region)
        .chain([service, "aws4_request"])
    {
        s.push_str(part);
        s.push('/');
    }
    s.pop();
    let credential_end = s.len();
    uri_encode_str_into(&mut s, access_key_id);
    for part in [date]
        .into_iter()
        .chain(region)
        .chain([service, "aws4_request"])
    {
        s.push_str("%2F");
        uri_encode_str_into(&mut s, part);
    }
    (s, scope_start, credential_end)
}

impl Entry {
    /// An entry for the scope date `day` (matched again only when it is
    /// 8 bytes long, as scope dates are).
    fn new(
        credentials: &Credentials,
        day: &str,
        region: &Region,
        service: &Service,
        key: Arc<SigningKey>,
    ) -> Self {
        let mut date = [0u8; 8];
        for (d, b) in date.iter_mut().zip(day.bytes()) {
            *d = b;
        }
        let (strings, _, credential_end) = scope_strings(
            credentials.access_key_id(),
            day,
            Some(region.as_str()),
            service.as_str(),
        );
        Self {
            credentials: credentials.clone(),
            date,
            region: region.clone(),
            service: service.clone(),
            key,
            strings: strings.into_boxed_str(),
            credential_end,
            encoded_token: OnceLock::new(),
        }
    }

    /// Calls `f` with what this entry holds for `credentials` (its encoded
    /// session token with `want_token`).
    fn with_view<R>(
        &self,
        credentials: &Credentials,
        want_token: bool,
        f: impl FnOnce(&ScopeKey<'_>) -> R,
    ) -> R {
        let fresh;
        let encoded_token = match credentials.session_token() {
            Some(t) if want_token && self.credentials.same_token_as(credentials) => {
                Some(&**self.encoded_token.get_or_init(|| encode_token(t)))
            }
            Some(t) if want_token => {
                fresh = encode_token(t);
                Some(&*fresh)
            }
            _ => None,
        };
        let credential = self.strings.get(..self.credential_end).unwrap_or_default();
        let scope_start = self.credentials.access_key_id().len() + 1;
        f(&ScopeKey {
            pads: Some(self.key.pads()),
            scope: credential.get(scope_start..).unwrap_or_default(),
            credential,
            credential_encoded: self.strings.get(self.credential_end..).unwrap_or_default(),
            encoded_token,
        })
    }

    /// Whether this is the key of these credentials for this scope.
    fn is_for(
        &self,
        credentials: &Credentials,
        date: &str,
        region: &Region,
        service: &Service,
    ) -> bool {
        self.date == date.as_bytes()
            && self.region == *region
            && self.service == *service
            && self.credentials.same_key_as(credentials)
    }
}

/// A small cache of signing keys keyed by (access key, date, region, service),
/// so a process signing many requests derives each key once a day per scope.
///
/// Bounded: it holds at most `capacity` keys and evicts the oldest first.
pub struct SigningKeyCache {
    entries: RwLock<Vec<Entry>>,
    capacity: usize,
}

impl Default for SigningKeyCache {
    fn default() -> Self {
        Self::with_capacity(32)
    }
}

impl fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.entries.read().map_or(0, |e| e.len());
        f.debug_struct("SigningKeyCache")
            .field("len", &len)
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl SigningKeyCache {
    /// A cache holding at most `capacity` keys (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: RwLock::new(Vec::new()),
            capacity: capacity.max(1),
        }
    }

    /// The key for this scope, derived on first use.
    pub fn get(
        &self,
        credentials: &Credentials,
        date: &str,
        region: &Region,
        service: &Service,
    ) -> Arc<SigningKey> {
        let matches = |e: &Entry| e.is_for(credentials, date, region, service);
        if let Ok(entries) = self.entries.read() {
            if let Some(e) = entries.iter().find(|e| matches(e)) {
                return Arc::clone(&e.key);
            }
        }
        let key = Arc::new(SigningKey::derive(
            credentials.secret_access_key(),
            date,
            region.as_str(),
            service.as_str(),
        ));
        if date.len() != 8 {
            // Not a scope date: don't cache what cannot be matched again.
            return key;
        }
        // A poisoned lock only means another thread panicked mid-insert; the
        // vector is still valid, so keep using it.
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(e) = entries.iter().find(|e| matches(e)) {
            return Arc::clone(&e.key);
        }
        if entries.len() >= self.capacity {
            entries.remove(0);
        }
        entries.push(Entry::new(
            credentials,
            date,
            region,
            service,
            Arc::clone(&key),
        ));
        key
    }

    /// Calls `f`, under the cache's read lock, with the key and strings of
    /// this scope (derived on first use), and with `want_token` the
    /// URI-encoded session token: the hot path of a [`crate::Signer`].
    pub(crate) fn with_scope<R>(
        &self,
        credentials: &Credentials,
        date: &str,
        region: &Region,
        service: &Service,
        want_token: bool,
        f: impl FnOnce(&ScopeKey<'_>) -> R,
    ) -> R {
        let find = || {
            let entries = self.entries.read().ok()?;
            let i = entries
                .iter()
                .position(|e| e.is_for(credentials, date, region, service))?;
            Some((entries, i))
        };
        let found = find().or_else(|| {
            let _ = self.get(credentials, date, region, service);
            find()
        });
        if let Some((entries, i)) = found {
            if let Some(e) = entries.get(i) {
                return e.with_view(credentials, want_token, f);
            }
        }
        // Not cached (a date that is not a scope date): an entry of its own.
        let key = Arc::new(SigningKey::derive(
            credentials.secret_access_key(),
            date,
            region.as_str(),
            service.as_str(),
        ));
        Entry::new(credentials, date, region, service, key).with_view(credentials, want_token, f)
    }

    /// HMAC-SHA256 of `data` as hex under the key for this scope, derived on
    /// first use. Signs under the cache's read lock, without touching the
    /// key's reference count: the hot path of a [`crate::Signer`].
    pub(crate) fn sign_hex(
        &self,
        credentials: &Credentials,
        date: &str,
        region: &Region,
        service: &Service,
        data: &[u8],
    ) -> [u8; 64] {
        if let Ok(entries) = self.entries.read() {
            if let Some(e) = entries
                .iter()
                .find(|e| e.is_for(credentials, date, region, service))
            {
                return e.key.sign_hex(data);
            }
        }
        self.get(credentials, date, region, service).sign_hex(data)
    }

    /// The session token of `credentials`, URI-encoded (for the
    /// `X-Amz-Security-Token` query parameter), encoded once per cached scope.
    pub(crate) fn encoded_token(
        &self,
        credentials: &Credentials,
        date: &str,
        region: &Region,
        service: &Service,
    ) -> Option<Arc<str>> {
        let token = credentials.session_token()?;
        let encode = encode_token;
        if let Ok(entries) = self.entries.read() {
            if let Some(e) = entries.iter().find(|e| {
                e.is_for(credentials, date, region, service)
                    && e.credentials.same_token_as(credentials)
            }) {
                return Some(Arc::clone(e.encoded_token.get_or_init(|| encode(token))));
            }
        }
        Some(encode(token))
    }

    /// How many keys are cached.
    pub fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.len())
    }

    /// Whether no key is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn derives_the_documented_key() {
        // From the AWS General Reference "Examples of how to derive a signing key":
        // secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215, us-east-1, iam.
        let k = SigningKey::derive(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(k.as_bytes()),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
        assert_eq!(format!("{k:?}"), "SigningKey(** redacted **)");
        assert_eq!(hex64(k.as_bytes()), *hex::encode(k.as_bytes()).as_bytes());
        let all: Vec<u8> = (0..=255).collect();
        for c in all.chunks(32) {
            let b: [u8; 32] = c.try_into().unwrap();
            assert_eq!(hex64(&b), *hex::encode(b).as_bytes());
        }
    }

    #[test]
    fn hmac_matches_the_hmac_crate() {
        let key = SigningKey::from_bytes(*b"0123456789abcdef0123456789abcdef");
        for len in [0, 1, 55, 56, 63, 64, 65, 119, 120, 200] {
            let data: Vec<u8> = (0..len).map(|i| (i * 13 % 256) as u8).collect();
            assert_eq!(key.sign(&data), hmac_sha256(key.as_bytes(), &data), "{len}");
        }
        // RFC 4231 test case 2 needs a short key; this key is 32 bytes, so
        // check one published vector for a 32-byte key instead: the AWS
        // `get-vanilla` signature is covered by the v4 suite.
    }

    #[test]
    fn cache_reuses_and_separates_scopes() {
        let cache = SigningKeyCache::with_capacity(2);
        let c = Credentials::new("AKID", "secret", None);
        let r = Region::new("us-east-1").unwrap();
        let s = Service::new("s3").unwrap();
        let a = cache.get(&c, "20240101", &r, &s);
        let b = cache.get(&c, "20240101", &r, &s);
        assert!(Arc::ptr_eq(&a, &b));
        let other_secret = Credentials::new("AKID", "other", None);
        let d = cache.get(&other_secret, "20240101", &r, &s);
        assert_ne!(a.as_bytes(), d.as_bytes());
        let _ = cache.get(&c, "20240102", &r, &s);
        assert_eq!(cache.len(), 2);
    }
}
