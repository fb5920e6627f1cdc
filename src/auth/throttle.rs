//! Brute-force brake for password checks (`/v3/drf-token-auth/`, the admin login, HTTP Basic): failed
//! attempts (HTTP Basic included) are counted per client address and per username in a fixed
//! window; past the limit the request answers 429 with `Retry-After` until the window ends. The
//! per-username limit brakes only clients that have failed themselves, so others' failures never
//! lock the real user out. Counts live in memory (per instance) and the map is bounded.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures from one client address allowed per window.
const PER_CLIENT: u32 = 10;
/// Failures against one username allowed per window.
const PER_USERNAME: u32 = 20;
/// The window.
const WINDOW: Duration = Duration::from_secs(300);
/// Failures answered at once before the slowdown starts.
const FREE_FAILURES: u32 = 3;
/// Extra delay per failure after those.
const SLOWDOWN_STEP: Duration = Duration::from_millis(100);
/// Entries kept before expired ones are swept.
const MAX_ENTRIES: usize = 100_000;

/// Failure counts.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// `Err(seconds to wait)` while this client is over its limit, or the username is and this
    /// client has failed against something in the window too (a client with a clean record, such
    /// as the real user's, is never braked by others' failures).
    pub fn check(&self, client: &str, username: &str) -> Result<(), u64> {
        let now = Instant::now();
        let failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let live = |key: &str| {
            failures
                .get(key)
                .filter(|(_, started)| now.duration_since(*started) < WINDOW)
                .copied()
        };
        let client_record = live(&format!("client:{client}"));
        let over = |record: Option<(u32, Instant)>, limit: u32| {
            record.filter(|(count, _)| *count >= limit)
        };
        let braked = over(client_record, PER_CLIENT)
            .or_else(|| client_record.and(over(live(&format!("user:{username}")), PER_USERNAME)));
        match braked {
            Some((_, started)) => Err((started + WINDOW)
                .saturating_duration_since(now)
                .as_secs()
                .max(1)),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt. A success resets nothing: failures age out with the window.
    /// Returns how long to hold the failed answer back: nothing for the first few failures of a
    /// client, then 100 ms more for each one, so guessing slows down before the brake stops it.
    pub fn failed(&self, client: &str, username: &str) -> Duration {
        let now = Instant::now();
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if failures.len() >= MAX_ENTRIES {
            failures.retain(|_, (_, started)| now.duration_since(*started) < WINDOW);
        }
        let [client_failures, _] =
            [format!("client:{client}"), format!("user:{username}")].map(|key| {
                let entry = failures.entry(key).or_insert((0, now));
                if now.duration_since(entry.1) >= WINDOW {
                    *entry = (0, now);
                }
                entry.0 += 1;
                entry.0
            });
        SLOWDOWN_STEP * client_failures.saturating_sub(FREE_FAILURES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_client_then_per_username_for_clients_that_failed() {
        let throttle = Throttle::default();
        for _ in 0..PER_CLIENT {
            assert!(throttle.check("1.1.1.1", "alice").is_ok());
            throttle.failed("1.1.1.1", "alice");
        }
        let wait = throttle.check("1.1.1.1", "bob").unwrap_err();
        assert!(wait > 0 && wait <= WINDOW.as_secs());
        let mut delays = Vec::new();
        for _ in PER_CLIENT..PER_USERNAME {
            delays.push(throttle.failed("2.2.2.2", "alice"));
        }
        assert_eq!(
            delays[0],
            Duration::ZERO,
            "the first failures are answered at once"
        );
        assert_eq!(
            delays[9],
            Duration::from_millis(700),
            "then each waits longer"
        );
        assert!(
            throttle.check("2.2.2.2", "alice").is_err(),
            "a failing client is braked for alice"
        );
        assert!(
            throttle.check("3.3.3.3", "alice").is_ok(),
            "a clean client (the real alice) is not"
        );
    }
}
