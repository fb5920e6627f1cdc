//! Django's CSRF model: a 32-character secret in the `csrftoken` cookie; forms and scripts send
//! either that secret or a masked form of it (64 characters: a random mask followed by the secret
//! shifted by the mask), in `csrfmiddlewaretoken` or `X-CSRFToken`. Masking makes the page's token
//! differ on every response (BREACH); comparison is constant-time. Failure texts are Django's.

use rand::Rng;
use subtle::ConstantTimeEq;

/// Length of a CSRF secret (Django's `CSRF_SECRET_LENGTH`).
pub const SECRET_LENGTH: usize = 32;
const ALPHABET: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Where the submitted token came from; Django names it in its failure texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// The `csrfmiddlewaretoken` form field.
    Form,
    /// The `X-CSRFToken` header.
    Header,
}

impl TokenSource {
    fn describe(self) -> &'static str {
        match self {
            TokenSource::Form => "POST",
            TokenSource::Header => "the 'X-Csrftoken' HTTP header",
        }
    }
}

/// A new random secret for the cookie.
pub fn new_secret() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..SECRET_LENGTH)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn index(byte: u8) -> Option<usize> {
    ALPHABET.iter().position(|&candidate| candidate == byte)
}

/// The 64-character masked form of a secret (a fresh mask each call).
pub fn mask(secret: &str) -> String {
    let mask = new_secret();
    let cipher: String = secret
        .bytes()
        .zip(mask.bytes())
        .map(|(secret_byte, mask_byte)| {
            ALPHABET
                [(index(secret_byte).unwrap_or(0) + index(mask_byte).unwrap_or(0)) % ALPHABET.len()]
                as char
        })
        .collect();
    mask + &cipher
}

/// The secret inside a 32- or 64-character token; the error is Django's reason text tail.
fn secret_of(token: &str) -> Result<[u8; SECRET_LENGTH], &'static str> {
    if token.len() != SECRET_LENGTH && token.len() != 2 * SECRET_LENGTH {
        return Err("has incorrect length");
    }
    if !token.bytes().all(|byte| index(byte).is_some()) {
        return Err("has invalid characters");
    }
    let bytes = token.as_bytes();
    let mut secret = [0u8; SECRET_LENGTH];
    if bytes.len() == SECRET_LENGTH {
        secret.copy_from_slice(bytes);
    } else {
        let (mask, cipher) = bytes.split_at(SECRET_LENGTH);
        for (slot, (cipher_byte, mask_byte)) in secret.iter_mut().zip(cipher.iter().zip(mask)) {
            let shifted =
                index(*cipher_byte).unwrap_or(0) + ALPHABET.len() - index(*mask_byte).unwrap_or(0);
            *slot = ALPHABET[shifted % ALPHABET.len()];
        }
    }
    Ok(secret)
}

/// The cookie's secret in its 32-character form (a legacy masked cookie is unmasked).
pub fn cookie_secret(cookie: &str) -> Option<String> {
    secret_of(cookie)
        .ok()
        .map(|secret| secret.iter().map(|&byte| byte as char).collect())
}

/// Checks a submitted token against the cookie. `Err` is the reason after `CSRF Failed: `
/// (API) or in the 403 page (forms).
pub fn check(cookie: Option<&str>, submitted: Option<(&str, TokenSource)>) -> Result<(), String> {
    let Some(cookie) = cookie else {
        return Err("CSRF cookie not set.".to_owned());
    };
    let expected = secret_of(cookie).map_err(|reason| format!("CSRF cookie {reason}."))?;
    let Some((token, source)) = submitted.filter(|(token, _)| !token.is_empty()) else {
        return Err("CSRF token missing.".to_owned());
    };
    let presented = secret_of(token)
        .map_err(|reason| format!("CSRF token from {} {reason}.", source.describe()))?;
    if bool::from(expected.ct_eq(&presented)) {
        Ok(())
    } else {
        Err(format!("CSRF token from {} incorrect.", source.describe()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_and_plain_tokens_are_accepted() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let masked = mask(&secret);
        assert_eq!(masked.len(), 64);
        assert_ne!(mask(&secret), masked, "a fresh mask each time");
        assert_eq!(
            check(Some(&secret), Some((&masked, TokenSource::Form))),
            Ok(())
        );
        assert_eq!(
            check(Some(&secret), Some((&secret, TokenSource::Header))),
            Ok(())
        );
        assert_eq!(
            check(Some(&masked), Some((&secret, TokenSource::Header))),
            Ok(()),
            "legacy masked cookie"
        );
    }

    #[test]
    fn failures_use_django_texts() {
        let secret = new_secret();
        let other = new_secret();
        assert_eq!(
            check(None, Some((&secret, TokenSource::Form))).unwrap_err(),
            "CSRF cookie not set."
        );
        assert_eq!(
            check(Some(&secret), None).unwrap_err(),
            "CSRF token missing."
        );
        assert_eq!(
            check(Some(&secret), Some(("", TokenSource::Form))).unwrap_err(),
            "CSRF token missing."
        );
        assert_eq!(
            check(Some("short"), Some((&secret, TokenSource::Form))).unwrap_err(),
            "CSRF cookie has incorrect length."
        );
        assert_eq!(
            check(Some(&secret), Some(("x", TokenSource::Header))).unwrap_err(),
            "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."
        );
        assert_eq!(
            check(Some(&secret), Some((&"!".repeat(32), TokenSource::Form))).unwrap_err(),
            "CSRF token from POST has invalid characters."
        );
        assert_eq!(
            check(Some(&secret), Some((&other, TokenSource::Form))).unwrap_err(),
            "CSRF token from POST incorrect."
        );
    }
}
