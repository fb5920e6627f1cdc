//! `POST /v3/drf-token-auth/` (DRF's `obtain_auth_token`): username and password, as JSON or a
//! form, in exchange for the user's non-expiring token. No authentication and no CSRF, as in
//! DRF; failed attempts are braked per client and per username (429 with `Retry-After`).

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::drf_token;
use crate::store::StoreError;
use crate::web::AppState;
use crate::web::error::ApiError;
use crate::web::extract::RequestBody;

/// A serializer field as DRF's `CharField` reads it: present, not null, a string (numbers are
/// taken as text), not blank; trimmed unless `trim` is off (DRF keeps passwords as typed).
fn field(
    data: &Map<String, Value>,
    name: &str,
    trim: bool,
    errors: &mut Map<String, Value>,
) -> String {
    let problem = match data.get(name) {
        None => "This field is required.",
        Some(Value::Null) => "This field may not be null.",
        Some(Value::String(text)) if text.trim().is_empty() => "This field may not be blank.",
        Some(Value::String(text)) if trim => return text.trim().to_owned(),
        Some(Value::String(text)) => return text.clone(),
        Some(Value::Number(number)) => return number.to_string(),
        Some(_) => "Not a valid string.",
    };
    errors.insert(name.to_owned(), json!([problem]));
    String::new()
}

fn bad_request(body: Value) -> Response {
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// `POST /v3/drf-token-auth/`.
pub async fn obtain_token(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    body: RequestBody,
) -> Result<Response, ApiError> {
    let data = match body.value()? {
        Value::Object(data) => data,
        other => {
            let kind = match other {
                Value::Array(_) => "list",
                Value::String(_) => "str",
                Value::Number(number) if number.is_f64() => "float",
                Value::Number(_) => "int",
                Value::Bool(_) => "bool",
                _ => "NoneType",
            };
            return Ok(bad_request(
                json!({ "non_field_errors": [format!("Invalid data. Expected a dictionary, but got {kind}.")] }),
            ));
        }
    };
    let mut errors = Map::new();
    let username = field(&data, "username", true, &mut errors);
    let password = field(&data, "password", false, &mut errors);
    if !errors.is_empty() {
        return Ok(bad_request(Value::Object(errors)));
    }
    let client = client.ip().to_string();
    let refused = || {
        bad_request(json!({ "non_field_errors": ["Unable to log in with provided credentials."] }))
    };
    let Some(user) = state
        .auth
        .check_password_braked(&client, &username, &password)
        .await?
    else {
        return Ok(refused());
    };
    match state
        .store
        .ensure_drf_token(user.id, &drf_token::new_key(), state.clock.now())
        .await
    {
        Ok(token) => Ok(Json(json!({ "token": token })).into_response()),
        // The user was deleted since their password was checked.
        Err(StoreError::NotFound) => Ok(refused()),
        Err(error) => Err(error.into()),
    }
}
