//! HTTP Basic credentials, decoded as DRF's `BasicAuthentication` does: base64 of
//! `username:password`, UTF-8 with a Latin-1 fallback.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Username and password from a Basic header's credentials, or `None` when they are not base64
/// of `user:password` (DRF's "not correctly base64 encoded").
pub fn decode(credentials: &[u8]) -> Option<(String, String)> {
    let decoded = STANDARD.decode(credentials).ok()?;
    let text = match String::from_utf8(decoded) {
        Ok(text) => text,
        Err(error) => error
            .into_bytes()
            .iter()
            .map(|&byte| byte as char)
            .collect(),
    };
    let (username, password) = text.split_once(':')?;
    Some((username.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_user_and_password() {
        assert_eq!(
            decode(b"YWxpY2U6czNjcjN0OnRvbw=="),
            Some(("alice".into(), "s3cr3t:too".into()))
        );
        assert_eq!(decode(b"not base64!"), None);
        assert_eq!(decode(STANDARD.encode("nocolon").as_bytes()), None);
        assert_eq!(
            decode(STANDARD.encode(b"caf\xe9:pw").as_bytes()),
            Some(("café".into(), "pw".into()))
        );
    }
}
