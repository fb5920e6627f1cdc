//! Password hashing (Argon2id, PHC strings) and Django's password validators: minimum length,
//! similarity to the username/email, common passwords and all-numeric passwords.
//!
//! Hashing is deliberately slow, so the async helpers run it on the blocking thread pool.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use zxcvbn::matching::patterns::MatchPattern;

/// Django's `MinimumLengthValidator` default.
pub const MIN_LENGTH: usize = 8;

/// A PHC string for a password nobody can match, verified against when the user does not exist,
/// so that a wrong username takes as long as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Q8v1GQkqn6lIf1ZGm1RZo3XoSKCqaj4jXtwgrbvgrpI";

/// Hashes a password with Argon2id and a random salt.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 with default parameters and a generated salt cannot fail")
        .to_string()
}

/// Whether `password` matches the stored hash; `None` (unusable password) never matches, but costs
/// the same time as a real check.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let (phc, usable) = match stored {
        Some(phc) => (phc, true),
        None => (DUMMY_HASH, false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
        && usable
}

/// `hash` on the blocking pool.
pub async fn hash_async(password: String) -> String {
    run_gated(move || hash(&password)).await
}

/// `verify` on the blocking pool.
pub async fn verify_async(password: String, stored: Option<String>) -> bool {
    run_gated(move || verify(&password, stored.as_deref())).await
}

/// How many Argon2 computations may run at once. Each takes ~19 MiB and a core for tens of
/// milliseconds; without a bound, a burst of Basic requests or login posts (for unknown users
/// too) would start hundreds at once and exhaust memory. Further ones wait their turn.
const CONCURRENT_HASHES: usize = 4;

/// A process-wide resource limit, like the blocking pool it guards (not configuration).
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_HASHES);

async fn run_gated<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let _permit = HASHING
        .acquire()
        .await
        .expect("the hashing semaphore is never closed");
    tokio::task::spawn_blocking(work)
        .await
        .expect("password hashing does not panic")
}

/// Django's validators; returns every message that applies (empty: acceptable).
pub fn validate(password: &str, username: &str, email: &str) -> Vec<&'static str> {
    let mut problems = Vec::new();
    if password.chars().count() < MIN_LENGTH {
        problems.push("This password is too short. It must contain at least 8 characters.");
    }
    if is_similar_to_attributes(password, &[username, email]) {
        problems.push("The password is too similar to the username or email.");
    }
    if is_common(password) {
        problems.push("This password is too common.");
    }
    if !password.is_empty() && password.chars().all(|character| character.is_ascii_digit()) {
        problems.push("This password is entirely numeric.");
    }
    problems
}

/// Django's `UserAttributeSimilarityValidator` in spirit: the password is mostly one of the
/// attribute's words (or the attribute holds the whole password).
fn is_similar_to_attributes(password: &str, attributes: &[&str]) -> bool {
    let password = password.to_lowercase();
    if password.chars().count() < 3 {
        return false;
    }
    attributes
        .iter()
        .map(|attribute| attribute.to_lowercase())
        .any(|attribute| {
            attribute.contains(&password)
                || std::iter::once(attribute.as_str())
                    .chain(attribute.split(|character: char| !character.is_alphanumeric()))
                    .filter(|part| part.chars().count() >= 3)
                    .any(|part| {
                        password.contains(part)
                            && part.chars().count() * 10 >= password.chars().count() * 7
                    })
        })
}

/// Django's `CommonPasswordValidator`: the whole password is a word of zxcvbn's common-password
/// list (as typed: not reversed, no l33t substitutions).
fn is_common(password: &str) -> bool {
    let length = password.chars().count();
    if length == 0 {
        return false;
    }
    zxcvbn::zxcvbn(password, &[])
        .sequence()
        .iter()
        .any(|found| match &found.pattern {
            // zxcvbn does not export its dictionary names; its default dictionary is "passwords".
            MatchPattern::Dictionary(word) => {
                found.i == 0
                    && found.j + 1 == length
                    && !word.reversed
                    && !word.l33t
                    && word.dictionary_name == Default::default()
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_is_a_valid_phc_string() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[tokio::test]
    async fn at_most_a_few_hashes_run_at_once() {
        let held = HASHING
            .acquire_many(CONCURRENT_HASHES as u32)
            .await
            .unwrap();
        let blocked = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            verify_async("x".into(), None),
        )
        .await;
        assert!(
            blocked.is_err(),
            "a verification waits while every permit is taken"
        );
        drop(held);
        let done = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            verify_async("x".into(), None),
        )
        .await;
        assert_eq!(done.ok(), Some(false));
    }

    #[test]
    fn hash_then_verify() {
        let stored = hash("correct horse battery");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", Some(&stored)));
        assert!(!verify("wrong", Some(&stored)));
        assert!(!verify("anything", None));
        assert!(!verify("anything", Some("not a hash")));
    }

    #[test]
    fn django_validators() {
        assert_eq!(
            validate("", "u", ""),
            vec!["This password is too short. It must contain at least 8 characters."]
        );
        assert!(validate("password", "u", "").contains(&"This password is too common."));
        assert!(validate("12345678901", "u", "").contains(&"This password is entirely numeric."));
        assert!(
            validate("alice-admin", "alice-admin", "")
                .contains(&"The password is too similar to the username or email.")
        );
        assert!(validate("Kettle-Orbit-Walrus-77", "alice", "alice@example.org").is_empty());
    }
}
