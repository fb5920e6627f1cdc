//! `/v3/auth/tokens` (Metax's `APITokenListView`, a knox `LoginView`): list, create and delete
//! the caller's bearer tokens, as JSON for clients and as a page for browsers.
//!
//! Browsers cannot send `DELETE` from a form, so the page's Delete buttons post
//! `_method=DELETE` with the prefix (DRF's browsable-API convention).

use askama::Template;
use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::TIME_FORMAT;
use crate::auth::csrf;
use crate::auth::{AuthError, Authenticated, bearer};
use crate::store::{BearerToken, StoreError};
use crate::web::error::ApiError;
use crate::web::extract::{ApiCaller, ApiSubmission, CsrfCookie, CsrfRotation, QueryParams};
use crate::web::html::{Chrome, Page};
use crate::web::{AppState, negotiate, see_other};

/// Where the token list lives (the target of every delete's 303).
const TOKENS_PATH: &str = "/v3/auth/tokens";

/// A token as listed: never the token itself.
#[derive(Serialize)]
struct ListedToken {
    created: String,
    expiry: String,
    prefix: String,
    /// The admin who created it while impersonating the owner (an addition to Metax's fields).
    impersonator: Option<String>,
}

impl From<&BearerToken> for ListedToken {
    fn from(token: &BearerToken) -> Self {
        ListedToken {
            created: token.created.format(TIME_FORMAT).to_string(),
            expiry: token.expiry.format(TIME_FORMAT).to_string(),
            prefix: token.token_key.clone(),
            impersonator: token.impersonator.clone(),
        }
    }
}

/// The answer to a create: the only time the token is shown.
#[derive(Serialize)]
struct CreatedToken {
    created: String,
    expiry: String,
    token: String,
    prefix: String,
}

/// The token page.
#[derive(Template)]
#[template(path = "auth/tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<ListedToken>,
    created: Option<CreatedToken>,
    error: Option<String>,
}

/// Renders the outcome as the client prefers: JSON, or the token page.
struct Outcome<'a> {
    state: &'a AppState,
    html: bool,
    csrf: CsrfCookie,
    /// A secret rotated while authenticating (a new SSO login) replaces the cookie's in the
    /// page's forms, so they match the cookie the response sets.
    rotation: CsrfRotation,
}

impl Outcome<'_> {
    async fn page(
        &self,
        caller: Option<&Authenticated>,
        status: StatusCode,
        created: Option<CreatedToken>,
        error: Option<String>,
    ) -> Result<Response, ApiError> {
        let tokens = match caller {
            Some(caller) => {
                self.state
                    .store
                    .list_bearer_tokens(caller.user.id, self.state.clock.now())
                    .await?
            }
            None => Vec::new(),
        };
        let page = TokensPage {
            chrome: Chrome::for_caller(
                caller,
                csrf::mask(
                    &self
                        .rotation
                        .rotated()
                        .unwrap_or_else(|| self.csrf.secret.clone()),
                ),
            )
            .configured(&self.state.config),
            tokens: tokens.iter().map(ListedToken::from).collect(),
            created,
            error,
        };
        let response = Page(status, page).into_response();
        Ok(response)
    }

    /// JSON errors stay JSON; a browser gets the page with the message.
    async fn error(&self, caller: Option<&Authenticated>, error: ApiError) -> Response {
        if !self.html {
            return error.into_response();
        }
        let status = error.status();
        match self.page(caller, status, None, Some(error.message())).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        }
    }
}

/// `GET /v3/auth/tokens`.
pub async fn list_tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
    csrf: CsrfCookie,
    Extension(rotation): Extension<CsrfRotation>,
    caller: Result<ApiCaller, ApiError>,
) -> Response {
    let outcome = Outcome {
        state: &state,
        html: negotiate::wants_html(&headers),
        csrf,
        rotation,
    };
    let caller = match caller.and_then(ApiCaller::required) {
        Ok(caller) => caller,
        Err(error) => return outcome.error(None, error).await,
    };
    let result = if outcome.html {
        outcome
            .page(Some(&caller), StatusCode::OK, None, None)
            .await
    } else {
        state
            .store
            .list_bearer_tokens(caller.user.id, state.clock.now())
            .await
            .map(|tokens| {
                Json(tokens.iter().map(ListedToken::from).collect::<Vec<_>>()).into_response()
            })
            .map_err(ApiError::from)
    };
    match result {
        Ok(response) => response,
        Err(error) => outcome.error(Some(&caller), error).await,
    }
}

/// `POST /v3/auth/tokens`: creates a token (or, from the page's Delete button, deletes one).
pub async fn create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    csrf: CsrfCookie,
    Extension(rotation): Extension<CsrfRotation>,
    submission: Result<ApiSubmission, ApiError>,
) -> Response {
    let outcome = Outcome {
        state: &state,
        html: negotiate::wants_html(&headers),
        csrf,
        rotation,
    };
    let (caller, submission) = match submission.and_then(|submission| {
        Ok((
            submission
                .caller
                .0
                .clone()
                .ok_or(ApiError::NotAuthenticated)?,
            submission,
        ))
    }) {
        Ok(pair) => pair,
        Err(error) => return outcome.error(None, error).await,
    };
    if submission
        .body
        .field("_method")
        .is_some_and(|method| method.eq_ignore_ascii_case("DELETE"))
    {
        return match remove(&state, &caller, submission.body.field("prefix")).await {
            Ok(response) => response,
            Err(error) => outcome.error(Some(&caller), error).await,
        };
    }
    let now = state.clock.now();
    let impersonator_id = caller
        .impersonator
        .as_ref()
        .map(|impersonator| impersonator.id);
    let issued = bearer::issue(
        caller.user.id,
        impersonator_id,
        now,
        now + state.config.bearer_token_ttl,
    );
    let stored = match state
        .store
        .create_bearer_token(&issued.record, state.config.bearer_token_limit_per_user)
        .await
    {
        Ok(stored) => stored,
        // The caller was deleted meanwhile: answered as their next request would be.
        Err(StoreError::NotFound) => {
            let gone = ApiError::Auth(AuthError::UserInactive);
            return outcome.error(Some(&caller), gone).await;
        }
        Err(error) => return outcome.error(Some(&caller), error.into()).await,
    };
    // knox sends `user_logged_in` on create, which updates `last_login`; a failure here must not
    // lose the token the user already holds.
    if let Err(error) = state.store.record_login(caller.user.id, now).await {
        tracing::warn!(%error, "could not record last_login after token creation");
    }
    let listed = ListedToken::from(&stored);
    let created = CreatedToken {
        created: listed.created,
        expiry: listed.expiry,
        token: issued.token,
        prefix: listed.prefix,
    };
    if outcome.html {
        outcome
            .page(Some(&caller), StatusCode::OK, Some(created), None)
            .await
            .unwrap_or_else(IntoResponse::into_response)
    } else {
        Json(created).into_response()
    }
}

/// `DELETE /v3/auth/tokens?prefix=P`: deletes the caller's token with that prefix; always 303.
pub async fn delete_token(
    State(state): State<AppState>,
    query: QueryParams,
    submission: ApiSubmission,
) -> Result<Response, ApiError> {
    let caller = submission.caller.required()?;
    remove(&state, &caller, query.get("prefix")).await
}

async fn remove(
    state: &AppState,
    caller: &Authenticated,
    prefix: Option<&str>,
) -> Result<Response, ApiError> {
    if let Some(prefix) = prefix.filter(|prefix| !prefix.is_empty()) {
        state
            .store
            .delete_bearer_token(caller.user.id, prefix)
            .await?;
    }
    Ok(see_other(TOKENS_PATH).into_response())
}
