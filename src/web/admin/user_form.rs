//! A user's pages in the admin panel (Django admin's change, add, password and delete views):
//! `/v3/admin/users/{id}/`, `.../password/`, `.../delete/` and `/v3/admin/users/add/`.
//! Staff may look; only superusers may change. Forms re-render with the errors (200), as Django's.

use askama::Template;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Admin;
use crate::accounts::{self, Role, clean_username, validate_email};
use crate::auth::{drf_token, password};
use crate::store::{StoreError, User, UserChanges};
use crate::web::extract::CsrfForm;
use crate::web::html::{Chrome, HtmlError, Page};
use crate::web::{AppState, found};

#[derive(Template)]
#[template(path = "admin/user_change.html")]
struct ChangePage {
    chrome: Chrome,
    user: User,
    groups: String,
    can_change: bool,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/user_add.html")]
struct AddPage {
    chrome: Chrome,
    username: String,
    email: String,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/user_password.html")]
struct PasswordPage {
    chrome: Chrome,
    user: User,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin/user_delete.html")]
struct DeletePage {
    chrome: Chrome,
    user: User,
}

/// The posted change form; an absent checkbox is unchecked.
#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    is_active: Option<String>,
    is_staff: Option<String>,
    is_superuser: Option<String>,
    #[serde(default)]
    groups: String,
    #[serde(default)]
    fairdata_username: String,
    #[serde(default)]
    organization: String,
    #[serde(default)]
    admin_organizations: String,
    #[serde(default)]
    csc_projects: String,
}

/// The posted add form.
#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password1: String,
    #[serde(default)]
    password2: String,
}

/// The posted password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password1: String,
    #[serde(default)]
    password2: String,
}

/// An empty form (the delete confirmation).
#[derive(Deserialize)]
pub struct EmptyForm {}

/// The `{id}` of a user page; anything but a user id is a 404 page, as Django's URL patterns.
pub struct UserId(i64);

impl FromRequestParts<AppState> for UserId {
    type Rejection = HtmlError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| HtmlError::NotFound)?;
        id.parse().map(UserId).map_err(|_| HtmlError::NotFound)
    }
}

/// A superuser on a page that changes the user `{id}` (loaded; a 404 page when there is none).
pub struct ChangeUser {
    /// The superuser.
    pub admin: Admin,
    /// The user to change.
    pub user: User,
}

impl FromRequestParts<AppState> for ChangeUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let admin = Admin::from_request_parts(parts, state).await?;
        admin
            .require_superuser()
            .map_err(IntoResponse::into_response)?;
        let UserId(id) = UserId::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let user = load(state, id).await.map_err(IntoResponse::into_response)?;
        Ok(ChangeUser { admin, user })
    }
}

/// Comma-separated text as a list, blanks dropped.
fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Optional text: blank is `None`.
fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|text| !text.is_empty())
}

async fn load(state: &AppState, id: i64) -> Result<User, HtmlError> {
    match state.store.user_by_id(id).await {
        Ok(user) => Ok(user),
        Err(StoreError::NotFound) => Err(HtmlError::NotFound),
        Err(error) => Err(error.into()),
    }
}

/// Two password fields: equal, and acceptable to Django's validators; `Ok(None)` when both blank.
fn new_password(
    first: &str,
    second: &str,
    username: &str,
    email: &str,
) -> Result<Option<String>, Vec<String>> {
    if first.is_empty() && second.is_empty() {
        return Ok(None);
    }
    if first != second {
        return Err(vec!["The two password fields didn't match.".to_owned()]);
    }
    let problems = password::validate(first, username, email);
    if problems.is_empty() {
        Ok(Some(first.to_owned()))
    } else {
        Err(problems.into_iter().map(str::to_owned).collect())
    }
}

async fn change_page(
    state: &AppState,
    admin: Admin,
    user: User,
    errors: Vec<String>,
) -> Result<Response, HtmlError> {
    let groups = state.store.user_groups(user.id).await?.join(", ");
    let can_change = admin.caller.user.is_superuser;
    Ok(Page(
        StatusCode::OK,
        ChangePage {
            chrome: admin.chrome,
            user,
            groups,
            can_change,
            errors,
        },
    )
    .into_response())
}

/// `GET /v3/admin/users/{id}/`.
pub async fn show_user(
    State(state): State<AppState>,
    admin: Admin,
    UserId(id): UserId,
) -> Result<Response, HtmlError> {
    let user = load(&state, id).await?;
    change_page(&state, admin, user, Vec::new()).await
}

/// `POST /v3/admin/users/{id}/`: saves the change form.
pub async fn change_user(
    State(state): State<AppState>,
    ChangeUser { admin, user }: ChangeUser,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> Result<Response, HtmlError> {
    let email = form.email.trim().to_owned();
    if let Err(message) = validate_email(&email) {
        return change_page(
            &state,
            admin,
            user,
            vec![format!("Email address: {message}")],
        )
        .await;
    }
    let changes = UserChanges {
        email,
        first_name: form.first_name.trim().to_owned(),
        last_name: form.last_name.trim().to_owned(),
        is_active: form.is_active.is_some(),
        is_staff: form.is_staff.is_some() || form.is_superuser.is_some(),
        is_superuser: form.is_superuser.is_some(),
        fairdata_username: optional(&form.fairdata_username),
        organization: optional(&form.organization),
        admin_organizations: list(&form.admin_organizations),
        csc_projects: list(&form.csc_projects),
        groups: list(&form.groups),
    };
    state.store.update_user(user.id, &changes).await?;
    drf_token::on_user_saved(
        &*state.store,
        state.config.enable_drf_token_auth,
        user.id,
        state.clock.now(),
    )
    .await?;
    tracing::info!(admin = %admin.caller.user.username, user = %user.username, "user changed in the admin panel");
    Ok(found("/v3/admin/users/").into_response())
}

/// `GET /v3/admin/users/add/`.
pub async fn show_add(admin: Admin) -> Result<Response, HtmlError> {
    admin.require_superuser()?;
    Ok(Page(
        StatusCode::OK,
        AddPage {
            chrome: admin.chrome,
            username: String::new(),
            email: String::new(),
            errors: Vec::new(),
        },
    )
    .into_response())
}

/// `POST /v3/admin/users/add/`: creates the user and opens their page.
pub async fn add_user(
    State(state): State<AppState>,
    admin: Admin,
    CsrfForm(form): CsrfForm<AddForm>,
) -> Result<Response, HtmlError> {
    admin.require_superuser()?;
    let email = form.email.trim().to_owned();
    let mut errors: Vec<String> = Vec::new();
    let username = clean_username(form.username.trim()).unwrap_or_else(|message| {
        errors.push(format!("Username: {message}"));
        form.username.trim().to_owned()
    });
    if let Err(message) = validate_email(&email) {
        errors.push(format!("Email address: {message}"));
    }
    let password = new_password(&form.password1, &form.password2, &username, &email)
        .unwrap_or_else(|problems| {
            errors.extend(problems);
            None
        });
    if errors.is_empty() {
        match accounts::create(
            &*state.store,
            &username,
            &email,
            password,
            Role::User,
            state.clock.now(),
        )
        .await
        {
            Ok(user) => {
                drf_token::on_user_saved(
                    &*state.store,
                    state.config.enable_drf_token_auth,
                    user.id,
                    state.clock.now(),
                )
                .await?;
                return Ok(found(&format!("/v3/admin/users/{}/", user.id)).into_response());
            }
            Err(StoreError::Conflict { .. }) => {
                errors.push("A user with that username already exists.".to_owned())
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Page(
        StatusCode::OK,
        AddPage {
            chrome: admin.chrome,
            username,
            email,
            errors,
        },
    )
    .into_response())
}

/// `GET /v3/admin/users/{id}/password/`.
pub async fn show_password(ChangeUser { admin, user }: ChangeUser) -> Result<Response, HtmlError> {
    Ok(Page(
        StatusCode::OK,
        PasswordPage {
            chrome: admin.chrome,
            user,
            errors: Vec::new(),
        },
    )
    .into_response())
}

/// `POST /v3/admin/users/{id}/password/`: sets a new password (both fields blank: none).
pub async fn set_password(
    State(state): State<AppState>,
    ChangeUser { admin, user }: ChangeUser,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Result<Response, HtmlError> {
    match new_password(
        &form.password1,
        &form.password2,
        &user.username,
        &user.email,
    ) {
        Ok(password) => {
            let hash = match password {
                Some(password) => Some(password::hash_async(password).await),
                None => None,
            };
            state.store.set_password(user.id, hash.as_deref()).await?;
            drf_token::on_user_saved(
                &*state.store,
                state.config.enable_drf_token_auth,
                user.id,
                state.clock.now(),
            )
            .await?;
            Ok(found(&format!("/v3/admin/users/{}/", user.id)).into_response())
        }
        Err(errors) => Ok(Page(
            StatusCode::OK,
            PasswordPage {
                chrome: admin.chrome,
                user,
                errors,
            },
        )
        .into_response()),
    }
}

/// `GET /v3/admin/users/{id}/delete/`: the confirmation.
pub async fn show_delete(ChangeUser { admin, user }: ChangeUser) -> Result<Response, HtmlError> {
    Ok(Page(
        StatusCode::OK,
        DeletePage {
            chrome: admin.chrome,
            user,
        },
    )
    .into_response())
}

/// `POST /v3/admin/users/{id}/delete/`: deletes the user with their tokens and sessions.
pub async fn delete_user(
    State(state): State<AppState>,
    ChangeUser { admin, user }: ChangeUser,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Result<Response, HtmlError> {
    if user.id == admin.caller.user.id
        || admin
            .caller
            .impersonator
            .as_ref()
            .is_some_and(|impersonator| impersonator.id == user.id)
    {
        return Err(HtmlError::Forbidden(
            "You cannot delete yourself.".to_owned(),
        ));
    }
    state.store.delete_user(user.id).await?;
    tracing::info!(admin = %admin.caller.user.username, user = %user.username, "user deleted in the admin panel");
    Ok(found("/v3/admin/users/").into_response())
}
