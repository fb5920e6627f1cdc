//! DRF tokens (`rest_framework.authtoken`), on when `ENABLE_DRF_TOKEN_AUTH` is: one
//! non-expiring 40-hex key per user, given to every user when they are saved, sent as
//! `Authorization: Token <key>`.

use chrono::{DateTime, Utc};
use rand::RngCore;

use crate::store::{Store, StoreError};

/// A new key: 20 random bytes as 40 lowercase hex characters (DRF's `secrets.token_hex(20)`).
pub fn new_key() -> String {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Whether a presented key can be one (so no lookup is spent on anything else).
pub fn is_plausible(key: &[u8]) -> bool {
    key.len() == 40 && key.iter().all(|byte| byte.is_ascii_hexdigit())
}

/// DRF's "token on save": gives the user a token unless they have one, when the feature is on.
pub async fn on_user_saved(
    store: &dyn Store,
    enabled: bool,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if enabled {
        store.ensure_drf_token(user_id, &new_key(), now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_look_like_drfs() {
        let key = new_key();
        assert_eq!(key.len(), 40);
        assert!(
            key.bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
        );
        assert!(is_plausible(key.as_bytes()));
        assert!(!is_plausible(b"short"));
    }
}
