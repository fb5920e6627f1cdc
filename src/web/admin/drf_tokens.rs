//! `/v3/admin/authtoken/tokens/`: the "Tokens" table under "Auth Token" (DRF's `TokenAdmin`),
//! while `ENABLE_DRF_TOKEN_AUTH` is on: key, user and creation time per row, search, add (for a
//! username), regenerate and delete. Superusers only: the keys are credentials.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::users::Pager;
use super::{Admin, PAGE_SIZE};
use crate::auth::drf_token;
use crate::store::{DrfToken, StoreError};
use crate::web::extract::{CsrfForm, QueryParams};
use crate::web::html::{Chrome, HtmlError, Page};
use crate::web::{AppState, found};

/// Where the table lives.
const TOKENS_PATH: &str = "/v3/admin/authtoken/tokens/";

#[derive(Template)]
#[template(path = "admin/drf_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<DrfToken>,
    search: String,
    pager: Pager,
    can_change: bool,
    error: Option<String>,
}

/// The posted form: `action` is `add` (with `username`), `regenerate` or `delete` (with `user_id`).
#[derive(Deserialize)]
pub struct TokenForm {
    action: String,
    username: Option<String>,
    user_id: Option<String>,
}

fn require_enabled(state: &AppState) -> Result<(), HtmlError> {
    if state.config.enable_drf_token_auth {
        Ok(())
    } else {
        Err(HtmlError::NotFound)
    }
}

async fn page(
    state: &AppState,
    admin: Admin,
    query: &QueryParams,
    error: Option<String>,
) -> Result<Response, HtmlError> {
    let search = query.get("q").unwrap_or_default().trim().to_owned();
    let (page, offset) = Pager::requested(query.get("page"));
    let (tokens, total) = state
        .store
        .list_drf_tokens(&search, offset, PAGE_SIZE)
        .await?;
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let can_change = admin.caller.user.is_superuser;
    Ok(Page(
        status,
        TokensPage {
            chrome: admin.chrome,
            tokens,
            pager: Pager::new(page, total, &search),
            search,
            can_change,
            error,
        },
    )
    .into_response())
}

/// `GET /v3/admin/authtoken/tokens/`.
pub async fn list_tokens(
    State(state): State<AppState>,
    admin: Admin,
    query: QueryParams,
) -> Result<Response, HtmlError> {
    require_enabled(&state)?;
    // The keys are credentials: staff who are not superusers could act as any user with them.
    admin.require_superuser()?;
    page(&state, admin, &query, None).await
}

/// `POST /v3/admin/authtoken/tokens/`: add, regenerate or delete a user's token.
pub async fn change_tokens(
    State(state): State<AppState>,
    admin: Admin,
    query: QueryParams,
    CsrfForm(form): CsrfForm<TokenForm>,
) -> Result<Response, HtmlError> {
    require_enabled(&state)?;
    admin.require_superuser()?;
    let now = state.clock.now();
    let user_id = match (
        form.action.as_str(),
        form.username.as_deref(),
        form.user_id.as_deref(),
    ) {
        ("add", Some(username), _) => match state.store.user_by_username(username.trim()).await {
            Ok(user) => user.id,
            Err(StoreError::NotFound) => {
                return page(
                    &state,
                    admin,
                    &query,
                    Some(format!("No user is called {:?}.", username.trim())),
                )
                .await;
            }
            Err(error) => return Err(error.into()),
        },
        ("regenerate" | "delete", _, Some(user_id)) => {
            let user_id = user_id
                .parse()
                .map_err(|_| HtmlError::BadRequest("user_id must be a user id.".to_owned()))?;
            match state.store.user_by_id(user_id).await {
                Ok(user) => user.id,
                Err(StoreError::NotFound) => return Err(HtmlError::NotFound),
                Err(error) => return Err(error.into()),
            }
        }
        _ => return Err(HtmlError::BadRequest("Unknown action.".to_owned())),
    };
    match form.action.as_str() {
        "add" => state
            .store
            .ensure_drf_token(user_id, &drf_token::new_key(), now)
            .await
            .map(drop)?,
        "regenerate" => {
            state
                .store
                .reset_drf_token(user_id, &drf_token::new_key(), now)
                .await?
        }
        _ => state.store.delete_drf_token(user_id).await?,
    }
    tracing::info!(admin = %admin.caller.user.username, action = %form.action, user_id, "DRF token changed in the admin panel");
    Ok(found(TOKENS_PATH).into_response())
}
