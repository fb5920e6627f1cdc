//! django-hijack's views: `POST /v3/hijack/acquire/` (impersonate `user_pk`) and
//! `POST /v3/hijack/release/` (back to yourself). POST only, CSRF-checked, every start and end
//! audited with the client's address; the session id and CSRF secret are rotated each time.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::impersonation;
use crate::store::StoreError;
use crate::web::extract::{CsrfForm, SessionUser};
use crate::web::html::HtmlError;
use crate::web::{AppState, found, safe_next, sessions};

/// The acquire form (django-hijack's field names).
#[derive(Deserialize)]
pub struct AcquireForm {
    user_pk: Option<String>,
    next: Option<String>,
}

/// The release form.
#[derive(Deserialize)]
pub struct ReleaseForm {
    next: Option<String>,
}

fn redirect_with_cookies(location: &str, cookies: [axum::http::HeaderValue; 2]) -> Response {
    let mut response = found(location).into_response();
    for cookie in cookies {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// `POST /v3/hijack/acquire/`.
pub async fn acquire(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    SessionUser(caller): SessionUser,
    CsrfForm(form): CsrfForm<AcquireForm>,
) -> Result<Response, HtmlError> {
    let Some(caller) = caller else {
        return Err(HtmlError::Forbidden(
            impersonation::Refusal::NotSuperuser.to_string(),
        ));
    };
    if caller.impersonator.is_none() && !impersonation::may_keep_impersonating(&caller.user) {
        return Err(HtmlError::Forbidden(
            impersonation::Refusal::NotSuperuser.to_string(),
        ));
    }
    let Some(user_pk) = form.user_pk.filter(|value| !value.trim().is_empty()) else {
        return Err(HtmlError::BadRequest("user_pk is required.".to_owned()));
    };
    let Ok(user_pk) = user_pk.trim().parse::<i64>() else {
        return Err(HtmlError::BadRequest(
            "user_pk must be a user id.".to_owned(),
        ));
    };
    let target = match state.store.user_by_id(user_pk).await {
        Ok(user) => user,
        Err(StoreError::NotFound) => return Err(HtmlError::NotFound),
        Err(error) => return Err(error.into()),
    };
    impersonation::check(
        &caller.user,
        caller.impersonator.is_some(),
        &target,
        state.config.hijack_allow_superusers,
    )
    .map_err(|refusal| HtmlError::Forbidden(refusal.to_string()))?;
    let cookies = sessions::start(&state, &headers, target.id, Some(caller.user.id)).await?;
    impersonation::audit(
        &*state.store,
        state.clock.now(),
        "acquire",
        &caller.user,
        &target,
        Some(client.ip()),
    )
    .await?;
    Ok(redirect_with_cookies(
        safe_next(form.next.as_deref(), "/"),
        cookies,
    ))
}

/// `POST /v3/hijack/release/`.
pub async fn release(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    SessionUser(caller): SessionUser,
    CsrfForm(form): CsrfForm<ReleaseForm>,
) -> Result<Response, HtmlError> {
    let Some((target, impersonator)) =
        caller.and_then(|caller| Some((caller.user, caller.impersonator?)))
    else {
        return Err(HtmlError::Forbidden(
            "You are not impersonating anyone.".to_owned(),
        ));
    };
    let cookies = sessions::start(&state, &headers, impersonator.id, None).await?;
    impersonation::audit(
        &*state.store,
        state.clock.now(),
        "release",
        &impersonator,
        &target,
        Some(client.ip()),
    )
    .await?;
    Ok(redirect_with_cookies(
        safe_next(form.next.as_deref(), "/v3/admin/users/"),
        cookies,
    ))
}
