//! Bearer tokens (django-rest-knox): random, shown once, stored as the first 15 characters
//! (`token_key`, the lookup index) plus the SHA-512 hex digest of the whole token, which is what
//! knox 5 stores, so tokens knox minted can be imported and keep working.

use std::fmt;

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use crate::store::{BearerTokenMatch, NewBearerToken};

/// Characters of the token used as its lookup key and shown as its `prefix` (knox `TOKEN_KEY_LENGTH`).
pub const TOKEN_KEY_LENGTH: usize = 15;

/// A freshly generated token. `Debug` shows only the key.
pub struct IssuedToken {
    /// The token to hand to the user once.
    pub token: String,
    /// What the store keeps.
    pub record: NewBearerToken,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("IssuedToken")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// Makes a new token for `user_id` (created by `impersonator_id` while impersonating): 32 random
/// bytes as 64 hex characters, knox's own format.
pub fn issue(
    user_id: i64,
    impersonator_id: Option<i64>,
    created: DateTime<Utc>,
    expiry: DateTime<Utc>,
) -> IssuedToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let record = NewBearerToken {
        digest: hex::encode(Sha512::digest(token.as_bytes())),
        token_key: token[..TOKEN_KEY_LENGTH].to_owned(),
        user_id,
        created,
        expiry,
        impersonator_id,
    };
    IssuedToken { token, record }
}

/// The lookup key of a presented token, or `None` when it cannot be a token we issued or
/// imported (32–255 characters of `[A-Za-z0-9_-]`), so that no query is spent on it.
pub fn token_key(presented: &[u8]) -> Option<&str> {
    let plausible = (32..=255).contains(&presented.len())
        && presented
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-'));
    // All bytes are ASCII here, so the slice is valid UTF-8 and on a character boundary.
    plausible
        .then(|| std::str::from_utf8(&presented[..TOKEN_KEY_LENGTH]).ok())
        .flatten()
}

/// The match whose digest equals the presented token's, compared in constant time.
/// Allocates nothing: the digest is hex-encoded into a stack buffer.
pub fn owner_of(presented: &[u8], matches: Vec<BearerTokenMatch>) -> Option<BearerTokenMatch> {
    let mut digest_hex = [0u8; 128];
    hex::encode_to_slice(Sha512::digest(presented), &mut digest_hex)
        .expect("a SHA-512 digest is 64 bytes, 128 hex digits");
    matches
        .into_iter()
        .find(|candidate| bool::from(candidate.digest.as_bytes().ct_eq(&digest_hex)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_token_is_knox_shaped_and_digest_matches() {
        let now = Utc::now();
        let issued = issue(7, None, now, now);
        assert_eq!(issued.token.len(), 64);
        assert!(issued.token.bytes().all(|byte| byte.is_ascii_hexdigit()));
        assert_eq!(issued.record.token_key, &issued.token[..15]);
        assert_eq!(
            token_key(issued.token.as_bytes()),
            Some(&issued.token[..15])
        );
        assert!(!format!("{issued:?}").contains(&issued.token));
    }

    #[test]
    fn digest_is_sha512_of_the_token_text_like_knox_5() {
        // knox 5.0: sha512(token.encode()) — checked against Python's hashlib for this input.
        let issued_digest = hex::encode(Sha512::digest(b"abc"));
        assert!(issued_digest.starts_with("ddaf35a193617aba"));
    }

    #[test]
    fn implausible_tokens_are_rejected_before_any_lookup() {
        assert_eq!(token_key(b"short"), None);
        assert_eq!(token_key("é".repeat(40).as_bytes()), None);
        assert_eq!(token_key(&[b'a'; 256]), None);
        assert_eq!(token_key(b"abc!defghijklmnopqrstuvwxyz0123456789"), None);
    }
}
