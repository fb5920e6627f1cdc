//! Login sessions (Django's `sessionid`): a random 32-character id in the cookie, only its keyed
//! hash (HMAC-SHA256 with `SECRET_KEY`) in the database, so a copy of the database holds no
//! usable session.

use hmac::{Hmac, Mac};
use rand::distributions::{Alphanumeric, DistString};
use sha2::Sha256;

/// Length of a session id, as Django's session keys.
pub const SESSION_ID_LENGTH: usize = 32;

/// Hashes session ids with the service's secret key.
#[derive(Clone)]
pub struct SessionKeys {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SessionKeys(..)")
    }
}

impl SessionKeys {
    /// Keys derived from `SECRET_KEY`.
    pub fn new(secret: &[u8]) -> Self {
        SessionKeys {
            mac: Hmac::new_from_slice(secret).expect("HMAC accepts keys of any length"),
        }
    }

    /// A new random session id for the cookie.
    pub fn new_session_id() -> String {
        Alphanumeric.sample_string(&mut rand::rngs::OsRng, SESSION_ID_LENGTH)
    }

    /// The stored form of a session id, or `None` when the cookie cannot be one of ours.
    pub fn key_hash(&self, session_id: &str) -> Option<String> {
        if session_id.len() != SESSION_ID_LENGTH
            || !session_id.bytes().all(|byte| byte.is_ascii_alphanumeric())
        {
            return None;
        }
        let mut mac = self.mac.clone();
        mac.update(session_id.as_bytes());
        Some(hex::encode(mac.finalize().into_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_depends_on_key_and_rejects_malformed_ids() {
        let id = SessionKeys::new_session_id();
        let one = SessionKeys::new(b"one");
        assert_eq!(one.key_hash(&id), one.key_hash(&id));
        assert_ne!(one.key_hash(&id), SessionKeys::new(b"two").key_hash(&id));
        assert_eq!(one.key_hash("short"), None);
        assert_eq!(one.key_hash(&"é".repeat(16)), None);
    }
}
