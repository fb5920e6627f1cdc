//! User-account rules shared by the commands and the pages: Django's username and email
//! validators, and creating a user with a hashed password.

use chrono::{DateTime, Utc};

use crate::auth::password;
use crate::store::{NewUser, Store, StoreError, User};

/// Django's `username` max length.
const USERNAME_MAX_LENGTH: usize = 150;

/// Django's `EmailField` max length.
const EMAIL_MAX_LENGTH: usize = 254;

/// A username as stored: NFKC-normalized (Django's `normalize_username`, so look-alikes such as
/// fullwidth `ｂｏｂ` become `bob` and collide), then validated.
pub fn clean_username(raw: &str) -> Result<String, &'static str> {
    use unicode_normalization::UnicodeNormalization;
    let username: String = raw.nfkc().collect();
    validate_username(&username)?;
    Ok(username)
}

/// Django's `UnicodeUsernameValidator` and length limit.
fn validate_username(username: &str) -> Result<(), &'static str> {
    if username.is_empty() {
        return Err("This field cannot be blank.");
    }
    if username.chars().count() > USERNAME_MAX_LENGTH {
        return Err("Ensure this value has at most 150 characters.");
    }
    if !username.chars().all(|character| {
        character.is_alphanumeric() || matches!(character, '@' | '.' | '+' | '-' | '_')
    }) {
        return Err(
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
        );
    }
    Ok(())
}

/// A plausible email address (blank is allowed: the field is optional).
pub fn validate_email(email: &str) -> Result<(), &'static str> {
    if email.is_empty() {
        return Ok(());
    }
    if email.chars().count() > EMAIL_MAX_LENGTH {
        return Err("Ensure this value has at most 254 characters.");
    }
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
    }) && !email
        .chars()
        .any(|character| character.is_whitespace() || character.is_control());
    if valid {
        Ok(())
    } else {
        Err("Enter a valid email address.")
    }
}

/// What a new account is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Staff and superuser.
    Superuser,
    /// Neither.
    User,
}

/// Creates a user; the password (if any) is hashed here. `Conflict` when the name is taken.
pub async fn create(
    store: &dyn Store,
    username: &str,
    email: &str,
    password: Option<String>,
    role: Role,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    let password = match password {
        Some(password) => Some(password::hash_async(password).await),
        None => None,
    };
    let admin = role == Role::Superuser;
    let user = NewUser {
        username: username.to_owned(),
        password,
        email: email.to_owned(),
        is_staff: admin,
        is_superuser: admin,
    };
    store.create_user(&user, now).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalized_before_validation() {
        assert_eq!(clean_username("ｂｏｂ"), Ok("bob".to_owned()));
        assert!(clean_username("bad name").is_err());
    }

    #[test]
    fn usernames_follow_django() {
        assert!(validate_username("alice.o'hara").is_err());
        assert!(validate_username("alice.ohara+metax@csc").is_ok());
        assert!(validate_username("äijä").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username(&"a".repeat(151)).is_err());
        assert!(validate_username("<script>").is_err());
    }

    #[test]
    fn emails() {
        assert!(validate_email("").is_ok());
        assert!(validate_email("a@b.fi").is_ok());
        let long = format!("{}@example.org", "a".repeat(243));
        assert!(validate_email(&long[1..]).is_ok());
        assert!(validate_email(&long).is_err());
        for bad in ["a", "a@", "@b.fi", "a@b", "a b@c.fi", "a@b@c.fi"] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }
}
