//! Brute-force brake for the password endpoints (`/v3/drf-token-auth/`, the admin login): failed
//! attempts are counted per client address and per username in a fixed window; past the limit
//! the endpoint answers 429 with `Retry-After` until the window ends. The per-username limit is
//! higher than the per-client one, so an attacker elsewhere delays the real user at most one
//! window, never for good. Counts live in memory (per instance) and the map is bounded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures from one client address allowed per window.
const PER_CLIENT: u32 = 10;
/// Failures against one username allowed per window.
const PER_USERNAME: u32 = 20;
/// The window.
const WINDOW: Duration = Duration::from_secs(300);
/// Entries kept before expired ones are swept.
const MAX_ENTRIES: usize = 100_000;

/// Failure counts.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    fn keys(client: &str, username: &str) -> [(String, u32); 2] {
        [
            (format!("client:{client}"), PER_CLIENT),
            (format!("user:{username}"), PER_USERNAME),
        ]
    }

    /// `Err(seconds to wait)` while this client or username is over its limit.
    pub fn check(&self, client: &str, username: &str) -> Result<(), u64> {
        let now = Instant::now();
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let wait = Self::keys(client, username)
            .iter()
            .filter_map(|(key, limit)| failures.get(key).filter(|(count, _)| count >= limit))
            .filter_map(|(_, started)| (*started + WINDOW).checked_duration_since(now))
            .max();
        match wait {
            Some(wait) => Err(wait.as_secs().max(1)),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt.
    pub fn failed(&self, client: &str, username: &str) {
        let now = Instant::now();
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() >= MAX_ENTRIES {
            failures.retain(|_, (_, started)| now.duration_since(*started) < WINDOW);
        }
        for (key, _) in Self::keys(client, username) {
            let entry = failures.entry(key).or_insert((0, now));
            if now.duration_since(entry.1) >= WINDOW {
                *entry = (0, now);
            }
            entry.0 += 1;
        }
    }

    /// Forgets the client's failures after a success.
    pub fn succeeded(&self, client: &str) {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        failures.remove(&format!("client:{client}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_client_then_per_username() {
        let throttle = Throttle::default();
        for _ in 0..PER_CLIENT {
            assert!(throttle.check("1.1.1.1", "alice").is_ok());
            throttle.failed("1.1.1.1", "alice");
        }
        let wait = throttle.check("1.1.1.1", "bob").unwrap_err();
        assert!(wait > 0 && wait <= WINDOW.as_secs());
        assert!(
            throttle.check("2.2.2.2", "alice").is_ok(),
            "another client may still try alice"
        );
        for _ in PER_CLIENT..PER_USERNAME {
            throttle.failed("2.2.2.2", "alice");
        }
        assert!(
            throttle.check("3.3.3.3", "alice").is_err(),
            "alice is now braked everywhere"
        );
        throttle.succeeded("1.1.1.1");
        assert!(throttle.check("1.1.1.1", "bob").is_ok());
    }
}
