//! Metax's `SSOSyncMixin`: a Fairdata user who authenticates by Basic, session or bearer token
//! and was last synced more than 8 hours ago is re-checked against the SSO's `user_status`
//! (projects, email, locked). The SSO being down, slow (bounded by a timeout) or answering
//! nonsense never fails the request: the user is taken as stored.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::SsoConfig;
use crate::store::{Store, StoreError, User, UserStatus};

/// How stale a sync may be before the next request re-checks the user (Metax's 8 hours).
const SYNC_INTERVAL: chrono::Duration = chrono::Duration::hours(8);
/// How long one `user_status` call may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// A client for the SSO's `user_status`, when SSO is on and the host and token are set. No
/// `Debug`: it holds the trusted service token.
#[derive(Clone)]
pub struct SsoSync {
    client: reqwest::Client,
    url: String,
    token: String,
}

impl SsoSync {
    /// The sync for these settings, or `None` when it is off (as Metax's `SSOClient`).
    pub fn new(settings: &SsoConfig) -> Option<Self> {
        let (true, Some(host), Some(token)) = (
            settings.enabled,
            settings.host.as_ref(),
            settings.trusted_service_token.as_ref(),
        ) else {
            return None;
        };
        let client = reqwest::Client::builder().timeout(TIMEOUT).build().ok()?;
        Some(SsoSync {
            client,
            url: format!("{host}/user_status"),
            token: String::from_utf8_lossy(token.expose()).into_owned(),
        })
    }

    /// The user after a re-check when one is due (Fairdata users only).
    pub async fn refresh(
        &self,
        store: &dyn Store,
        user: User,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        let due = user.fairdata_username.is_some()
            && (!user.is_active
                || user
                    .synced
                    .is_none_or(|synced| now - synced >= SYNC_INTERVAL));
        if !due {
            return Ok(user);
        }
        match self.user_status(&user.username).await {
            Some(status) => store.record_user_status(user.id, &status, now).await,
            None => Ok(user),
        }
    }

    async fn user_status(&self, username: &str) -> Option<UserStatus> {
        let response = self
            .client
            .post(&self.url)
            .form(&[("id", username), ("token", self.token.as_str())])
            .send()
            .await;
        match response {
            Ok(response) if response.status().is_success() => {
                match response.json::<UserStatus>().await {
                    Ok(status) => Some(status),
                    Err(error) => {
                        tracing::warn!(%error, "SSO user_status answered something unexpected");
                        None
                    }
                }
            }
            Ok(response) => {
                tracing::warn!(status = %response.status(), "SSO user_status refused");
                None
            }
            Err(error) => {
                tracing::warn!(error = %error.without_url(), "SSO user_status unreachable");
                None
            }
        }
    }
}
