//! Fairdata SSO sessions (Metax's `SSOAuthentication`): the SSO's session cookie holds an HS256
//! JWT signed with `SSO_SECRET_KEY`. A valid, unexpired one names the user; everything is
//! checked before anything is written, so a refused session changes nothing.

use chrono::{DateTime, NaiveDateTime, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::AuthError;
use crate::store::SsoProfile;

/// A checked session: who, their details, and when they logged in at the SSO.
#[derive(Clone, Debug)]
pub struct SsoSession {
    /// `authenticated_user.id`: the Metax username.
    pub username: String,
    /// Details to sync.
    pub profile: SsoProfile,
    /// `initiated`: the SSO login time (a newer one is a new login).
    pub initiated: DateTime<Utc>,
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |value, key| value.get(key))?
        .as_str()
        .filter(|text| !text.is_empty())
}

fn strings(value: &Value, path: &[&str]) -> Vec<String> {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `initiated` as the SSO writes it (`2023-05-29T06:31:18Z`, or any RFC 3339 time).
fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .map(|time| time.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S")
                .ok()
                .map(|time| time.and_utc())
        })
}

/// Checks the cookie's JWT and its content. `Ok(None)`: expired, so the request is anonymous
/// (as in Metax). Errors carry PyJWT's and Metax's texts; none of them is a crash.
pub fn parse(token: &str, key: &[u8], now: DateTime<Utc>) -> Result<Option<SsoSession>, AuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp"]);
    let key = DecodingKey::from_secret(key).map_err(|_| AuthError::SsoConfiguration)?;
    let claims = match jsonwebtoken::decode::<Value>(token, &key, &validation) {
        Ok(data) => data.claims,
        Err(error) => {
            let message = match error.kind() {
                ErrorKind::ExpiredSignature => return Ok(None),
                ErrorKind::InvalidSignature => "Signature verification failed".to_owned(),
                ErrorKind::ImmatureSignature => "The token is not yet valid (nbf)".to_owned(),
                ErrorKind::MissingRequiredClaim(claim) => {
                    format!("Token is missing the \"{claim}\" claim")
                }
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    "The specified alg value is not allowed".to_owned()
                }
                _ => "Invalid token".to_owned(),
            };
            return Err(AuthError::SsoToken(message));
        }
    };
    // jsonwebtoken does not look at `iat`; PyJWT insists on a number.
    if claims.get("iat").is_some_and(|iat| !iat.is_number()) {
        return Err(AuthError::SsoToken(
            "Issued At claim (iat) must be an integer.".to_owned(),
        ));
    }
    if claims
        .get("exp")
        .and_then(Value::as_f64)
        .is_some_and(|exp| exp <= now.timestamp() as f64)
    {
        return Ok(None);
    }
    let fairdata_username =
        text(&claims, &["fairdata_user", "id"]).ok_or(AuthError::SsoMissingUser)?;
    let username = text(&claims, &["authenticated_user", "id"]).ok_or(AuthError::SsoMissingUser)?;
    let organization = text(&claims, &["authenticated_user", "organization", "id"])
        .ok_or(AuthError::SsoMissingOrganization)?;
    let locked = claims
        .get("fairdata_user")
        .and_then(|user| user.get("locked"))
        .and_then(Value::as_bool)
        .unwrap_or(true);
    if locked {
        return Err(AuthError::UserLocked);
    }
    let initiated = text(&claims, &["initiated"])
        .and_then(parse_time)
        .ok_or_else(|| {
            AuthError::SsoToken("The session has no valid \"initiated\" time".to_owned())
        })?;
    let profile = SsoProfile {
        first_name: text(&claims, &["authenticated_user", "firstname"])
            .unwrap_or_default()
            .to_owned(),
        last_name: text(&claims, &["authenticated_user", "lastname"])
            .unwrap_or_default()
            .to_owned(),
        email: text(&claims, &["authenticated_user", "email"])
            .unwrap_or_default()
            .to_owned(),
        organization: organization.to_owned(),
        fairdata_username: fairdata_username.to_owned(),
        csc_projects: strings(&claims, &["services", "IDA", "projects"]),
        admin_organizations: strings(&claims, &["services", "QVAIN", "admin_organizations"]),
    };
    Ok(Some(SsoSession {
        username: username.to_owned(),
        profile,
        initiated,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const KEY: &[u8] = b"sso-test-secret";

    fn session(overrides: impl FnOnce(&mut Value)) -> String {
        let now = Utc::now().timestamp();
        let mut claims = json!({
            "authenticated_user": { "id": "fd_teppo3", "firstname": "Teppo", "lastname": "Testaaja", "email": "teppo@example.org",
                                    "organization": { "id": "csc.fi" } },
            "fairdata_user": { "id": "fd_teppo3", "locked": false },
            "initiated": "2026-12-01T08:00:00Z",
            "exp": now + 3600,
            "services": { "IDA": { "projects": ["project_x"] }, "QVAIN": { "admin_organizations": ["csc.fi"] } },
        });
        overrides(&mut claims);
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(KEY).unwrap(),
        )
        .unwrap()
    }

    fn detail(token: &str) -> String {
        parse(token, KEY, Utc::now())
            .map(|_| "ok".to_owned())
            .unwrap_or_else(|error| error.to_string())
    }

    #[test]
    fn a_valid_session_names_the_user_and_details() {
        let parsed = parse(&session(|_| {}), KEY, Utc::now()).unwrap().unwrap();
        assert_eq!(parsed.username, "fd_teppo3");
        assert_eq!(parsed.profile.csc_projects, ["project_x"]);
        assert_eq!(parsed.profile.organization, "csc.fi");
    }

    #[test]
    fn refusals_and_expiry() {
        assert!(
            parse(
                &session(|claims| claims["exp"] = json!(Utc::now().timestamp() - 10)),
                KEY,
                Utc::now()
            )
            .unwrap()
            .is_none()
        );
        assert_eq!(
            parse(&session(|_| {}), b"wrong", Utc::now())
                .unwrap_err()
                .to_string(),
            "Signature verification failed"
        );
        assert_eq!(
            detail(&session(
                |claims| claims["fairdata_user"]["id"] = Value::Null
            )),
            "Missing user identifier."
        );
        assert_eq!(
            detail(&session(
                |claims| claims["authenticated_user"]["organization"] = json!({})
            )),
            "Missing organization identifier."
        );
        assert_eq!(
            detail(&session(
                |claims| claims["fairdata_user"]["locked"] = json!(true)
            )),
            "User account has been deactivated."
        );
        assert_eq!(
            detail(&session(|claims| {
                claims["fairdata_user"]
                    .as_object_mut()
                    .unwrap()
                    .remove("locked");
            })),
            "User account has been deactivated."
        );
        assert_eq!(
            detail(&session(|claims| {
                claims.as_object_mut().unwrap().remove("exp");
            })),
            "Token is missing the \"exp\" claim"
        );
        assert_eq!(
            detail(&session(
                |claims| claims["nbf"] = json!(Utc::now().timestamp() + 3600)
            )),
            "The token is not yet valid (nbf)"
        );
        assert_eq!(
            detail(&session(|claims| claims["iat"] = json!("yesterday"))),
            "Issued At claim (iat) must be an integer."
        );
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &json!({ "exp": Utc::now().timestamp() + 60 }),
            &EncodingKey::from_secret(KEY).unwrap(),
        )
        .unwrap();
        assert_eq!(detail(&hs512), "The specified alg value is not allowed");
        use base64::Engine;
        let none_alg = format!(
            "{}.{}.",
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(r#"{"alg":"none","typ":"JWT"}"#),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"exp":9999999999}"#)
        );
        assert_ne!(detail(&none_alg), "ok");
        assert_eq!(detail("not.a.jwt"), "Invalid token");
    }
}
