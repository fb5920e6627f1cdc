//! Parses an `Authorization` header the way DRF does: split on ASCII whitespace, first part is the
//! scheme (compared case-insensitively), exactly one credentials part must follow. Works on bytes,
//! so a header that is not UTF-8 is parsed, not a crash (DRF answers 500 to some of those).

/// What is wrong with the credentials part of a header whose scheme matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialsProblem {
    /// Only the scheme was sent (`Bearer`, `Bearer   `).
    Missing,
    /// More than one word followed the scheme (`Bearer a b`).
    ContainsSpaces,
}

/// Whitespace as Python's `bytes.split()` sees it.
fn is_python_whitespace(byte: &u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// The credentials for `scheme`, or `None` when the header is empty or names another scheme.
pub fn credentials_for<'a>(
    header: &'a [u8],
    scheme: &str,
) -> Option<Result<&'a [u8], CredentialsProblem>> {
    let mut words = header
        .split(is_python_whitespace)
        .filter(|word| !word.is_empty());
    let first = words.next()?;
    if !first.eq_ignore_ascii_case(scheme.as_bytes()) {
        return None;
    }
    Some(match (words.next(), words.next()) {
        (None, _) => Err(CredentialsProblem::Missing),
        (Some(credentials), None) => Ok(credentials),
        (Some(_), Some(_)) => Err(CredentialsProblem::ContainsSpaces),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_drf() {
        assert_eq!(
            credentials_for(b"Bearer abc", "bearer"),
            Some(Ok(&b"abc"[..]))
        );
        assert_eq!(
            credentials_for(b"bEaReR \t abc  ", "Bearer"),
            Some(Ok(&b"abc"[..]))
        );
        assert_eq!(
            credentials_for(b"Bearer", "Bearer"),
            Some(Err(CredentialsProblem::Missing))
        );
        assert_eq!(
            credentials_for(b"Bearer    ", "Bearer"),
            Some(Err(CredentialsProblem::Missing))
        );
        assert_eq!(
            credentials_for(b"Bearer a b", "Bearer"),
            Some(Err(CredentialsProblem::ContainsSpaces))
        );
        assert_eq!(credentials_for(b"Token abc", "Bearer"), None);
        assert_eq!(credentials_for(b"", "Bearer"), None);
        assert_eq!(credentials_for(b"   ", "Bearer"), None);
        assert_eq!(
            credentials_for(b"Bearer \xff\xfe", "Bearer"),
            Some(Ok(&b"\xff\xfe"[..]))
        );
    }
}
