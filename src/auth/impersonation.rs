//! Who may impersonate whom (django-hijack's `superusers_only` permission, made stricter): only
//! active superusers, never themselves, never an inactive user, never another superuser unless
//! allowed by `HIJACK_ALLOW_SUPERUSERS`, and never while already impersonating.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use crate::store::{ImpersonationEvent, Store, StoreError, User};

/// Why an impersonation is refused; the text is shown to the admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The actor is not an active superuser.
    #[error("Only active superusers may impersonate other users.")]
    NotSuperuser,
    /// A second impersonation on top of the first.
    #[error("You are already impersonating a user. Stop impersonating first.")]
    AlreadyImpersonating,
    /// Impersonating oneself.
    #[error("You cannot impersonate yourself.")]
    Themselves,
    /// The target cannot log in.
    #[error("Inactive users cannot be impersonated.")]
    InactiveTarget,
    /// The target is a superuser and the setting does not allow it.
    #[error("Superusers cannot be impersonated.")]
    SuperuserTarget,
}

/// Whether `actor` (not currently impersonating when `impersonating` is false) may impersonate
/// `target`.
pub fn check(
    actor: &User,
    impersonating: bool,
    target: &User,
    allow_superusers: bool,
) -> Result<(), Refusal> {
    if impersonating {
        return Err(Refusal::AlreadyImpersonating);
    }
    if !may_keep_impersonating(actor) {
        return Err(Refusal::NotSuperuser);
    }
    if actor.id == target.id {
        return Err(Refusal::Themselves);
    }
    if !target.is_active {
        return Err(Refusal::InactiveTarget);
    }
    if target.is_superuser && !allow_superusers {
        return Err(Refusal::SuperuserTarget);
    }
    Ok(())
}

/// Whether an impersonator still has the right (checked on every request while impersonating).
pub fn may_keep_impersonating(impersonator: &User) -> bool {
    impersonator.is_active && impersonator.is_superuser
}

/// Records a start or end of an impersonation in the audit log (and the service log).
pub async fn audit(
    store: &dyn Store,
    at: DateTime<Utc>,
    action: &str,
    impersonator: &User,
    target: &User,
    client: Option<IpAddr>,
) -> Result<(), StoreError> {
    let client_address = client
        .map(|address| address.to_string())
        .unwrap_or_default();
    tracing::info!(action, impersonator = %impersonator.username, target_user = %target.username, client = %client_address, "impersonation");
    store
        .record_impersonation(&ImpersonationEvent {
            at,
            action: action.to_owned(),
            impersonator: impersonator.username.clone(),
            target: target.username.clone(),
            client_address,
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64, superuser: bool, active: bool) -> User {
        User {
            id,
            username: format!("user{id}"),
            password: None,
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            is_staff: superuser,
            is_superuser: superuser,
            is_active: active,
            date_joined: chrono::Utc::now(),
            last_login: None,
            fairdata_username: None,
            organization: None,
            admin_organizations: Vec::new(),
            csc_projects: Vec::new(),
            synced: None,
        }
    }

    #[test]
    fn rules() {
        let admin = user(1, true, true);
        let bob = user(2, false, true);
        assert_eq!(check(&admin, false, &bob, false), Ok(()));
        assert_eq!(
            check(&admin, true, &bob, false),
            Err(Refusal::AlreadyImpersonating)
        );
        assert_eq!(check(&bob, false, &admin, true), Err(Refusal::NotSuperuser));
        assert_eq!(
            check(&user(3, true, false), false, &bob, false),
            Err(Refusal::NotSuperuser)
        );
        assert_eq!(check(&admin, false, &admin, true), Err(Refusal::Themselves));
        assert_eq!(
            check(&admin, false, &user(4, false, false), false),
            Err(Refusal::InactiveTarget)
        );
        assert_eq!(
            check(&admin, false, &user(5, true, true), false),
            Err(Refusal::SuperuserTarget)
        );
        assert_eq!(check(&admin, false, &user(5, true, true), true), Ok(()));
    }
}
