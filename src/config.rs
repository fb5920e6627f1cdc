//! Typed settings, read once at start from the environment (and `./.env`, loaded by the CLI).
//!
//! Mirrors Metax's `settings.py` + django-environ: the variable names are Metax's where Metax has
//! one. A malformed value is an error naming the variable and what it expects; secrets never
//! appear in `Debug` output or in error messages.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The SQLite file used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://metax-auth.sqlite3";

/// All settings of the service and its commands.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where the data lives (`DATABASE_URL`).
    pub database: DatabaseUrl,
    /// Key for keyed hashes of session ids (`SECRET_KEY`); random per process when unset.
    pub secret_key: Secret,
    /// Whether `SECRET_KEY` was set (a random one ends sessions at every restart).
    pub secret_key_is_set: bool,
    /// Lifetime of new bearer tokens (`BEARER_TOKEN_TTL`, knox `TOKEN_TTL`).
    pub bearer_token_ttl: Duration,
    /// Live bearer tokens a user may hold (`BEARER_TOKEN_LIMIT_PER_USER`, knox `TOKEN_LIMIT_PER_USER`).
    pub bearer_token_limit_per_user: u32,
    /// Mark the session cookie `Secure` (`SESSION_COOKIE_SECURE`, as in Django).
    pub session_cookie_secure: bool,
    /// Mark the CSRF cookie `Secure` (`CSRF_COOKIE_SECURE`, as in Django).
    pub csrf_cookie_secure: bool,
    /// Lifetime of an admin login session (`SESSION_COOKIE_AGE`, seconds or e.g. `2weeks`).
    pub session_cookie_age: Duration,
    /// Origins besides the service's own that may send unsafe requests (`CSRF_TRUSTED_ORIGINS`,
    /// comma-separated, with scheme: `https://metax.example.org`).
    pub csrf_trusted_origins: Vec<String>,
    /// DRF's non-expiring tokens: `/v3/drf-token-auth/`, `Authorization: Token`, a token for
    /// every saved user (`ENABLE_DRF_TOKEN_AUTH`).
    pub enable_drf_token_auth: bool,
    /// Fairdata SSO (`ENABLE_SSO_AUTH` and the `SSO_*` settings).
    pub sso: SsoConfig,
    /// Whether superusers may impersonate other superusers (`HIJACK_ALLOW_SUPERUSERS`).
    pub hijack_allow_superusers: bool,
    /// Longest time a client may take to send a request's headers, its body, or for the whole
    /// request; also how long shutdown waits for requests in flight (`REQUEST_TIMEOUT`).
    pub request_timeout: Duration,
}

/// Fairdata SSO settings, Metax's names. Missing values while enabled are not a start-up error:
/// as in Metax, every API request then answers "SSO configuration error." until they are set.
#[derive(Clone, Debug, Default)]
pub struct SsoConfig {
    /// `ENABLE_SSO_AUTH`.
    pub enabled: bool,
    /// `SSO_HOST`: the SSO's base URL, e.g. `https://sso.fairdata.fi`.
    pub host: Option<String>,
    /// `SSO_SESSION_COOKIE`: the cookie holding the session JWT.
    pub session_cookie: Option<String>,
    /// `SSO_SECRET_KEY`: the HS256 key of the session JWT.
    pub secret_key: Option<Secret>,
    /// `SSO_METAX_SERVICE_NAME`: our name at the SSO (`service=` in its URLs).
    pub service_name: Option<String>,
    /// `SSO_TRUSTED_SERVICE_TOKEN`: credential for the SSO's `user_status`.
    pub trusted_service_token: Option<Secret>,
}

impl SsoConfig {
    /// Whether everything needed for cookie authentication is set (Metax's
    /// `is_configuration_valid`).
    pub fn is_complete(&self) -> bool {
        self.host.is_some()
            && self.session_cookie.is_some()
            && self.secret_key.is_some()
            && self.service_name.is_some()
    }
}

/// A setting that could not be used, with the variable's name.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    /// The environment variable.
    pub name: &'static str,
    /// What was wrong and what is expected.
    pub message: String,
}

/// Which database backend and where.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (may hold a password).
    Postgres(String),
}

/// A secret value whose `Debug` shows nothing of it.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// The secret bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("Secret(..)")
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{self}")
    }
}

impl fmt::Display for DatabaseUrl {
    /// Shows the URL with any password replaced by `***`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(formatter, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    // set_password only fails for URLs that cannot have one, and this one has one.
                    let _ = parsed.set_password(Some("***"));
                    write!(formatter, "{parsed}")
                }
                _ => formatter.write_str(url),
            },
        }
    }
}

impl DatabaseUrl {
    /// Parses `sqlite://relative.sqlite3`, `sqlite:///abs/path.sqlite3` or `postgres://...`.
    pub fn parse(value: &str) -> Result<Self, String> {
        const EXPECTED: &str =
            "expected sqlite://FILE, sqlite:///ABSOLUTE/FILE or postgres://USER@HOST/DB";
        if let Some(path) = value.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() || path == "/" {
                return Err(format!("{EXPECTED}; the SQLite file name is missing"));
            }
            if path == ":memory:" {
                return Err(
                    "an in-memory SQLite database would lose everything at exit; name a file"
                        .into(),
                );
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if value.starts_with("postgres://") || value.starts_with("postgresql://") {
            let url = url::Url::parse(value)
                .map_err(|error| format!("{EXPECTED}; not a URL ({error})"))?;
            // Without one, PostgreSQL picks a database named after the user: never the
            // intended one.
            let names_database = url.path().len() > 1
                || url
                    .query_pairs()
                    .any(|(key, value)| key == "dbname" && !value.is_empty());
            if !names_database {
                return Err(format!("{EXPECTED}; the database name (/DB) is missing"));
            }
            Ok(DatabaseUrl::Postgres(value.to_owned()))
        } else {
            let scheme = value.split("://").next().filter(|_| value.contains("://"));
            Err(match scheme {
                Some(scheme) => format!("{EXPECTED}; unsupported scheme {scheme:?}"),
                None => EXPECTED.to_owned(),
            })
        }
    }
}

impl Config {
    /// Reads every setting through `lookup` (the process environment in production).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let setting = Setting { lookup: &lookup };
        let database = setting
            .parse("DATABASE_URL", DatabaseUrl::parse)?
            .unwrap_or_else(|| {
                DatabaseUrl::Sqlite(PathBuf::from(&DEFAULT_DATABASE_URL["sqlite://".len()..]))
            });
        let secret = setting.parse("SECRET_KEY", |value| {
            if value.chars().count() < 32 {
                Err("expected at least 32 characters (for example the output of `openssl rand -hex 32`)".to_owned())
            } else {
                Ok(Secret(value.as_bytes().to_vec()))
            }
        })?;
        let secret_key_is_set = secret.is_some();
        let secret_key = secret.unwrap_or_else(|| {
            let mut bytes = vec![0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            Secret(bytes)
        });
        Ok(Config {
            database,
            secret_key,
            secret_key_is_set,
            bearer_token_ttl: setting
                .parse("BEARER_TOKEN_TTL", parse_duration)?
                .unwrap_or(Duration::from_secs(8 * 7 * 24 * 3600)),
            bearer_token_limit_per_user: setting
                .parse("BEARER_TOKEN_LIMIT_PER_USER", |value| {
                    value
                        .parse::<u32>()
                        .map_err(|_| "expected a whole number, 0 or more (default 5)".to_owned())
                })?
                .unwrap_or(5),
            session_cookie_secure: setting
                .parse("SESSION_COOKIE_SECURE", parse_bool)?
                .unwrap_or(false),
            csrf_cookie_secure: setting
                .parse("CSRF_COOKIE_SECURE", parse_bool)?
                .unwrap_or(false),
            session_cookie_age: setting
                .parse("SESSION_COOKIE_AGE", parse_duration)?
                .unwrap_or(Duration::from_secs(14 * 24 * 3600)),
            csrf_trusted_origins: setting
                .parse("CSRF_TRUSTED_ORIGINS", parse_origins)?
                .unwrap_or_default(),
            enable_drf_token_auth: setting
                .parse("ENABLE_DRF_TOKEN_AUTH", parse_bool)?
                .unwrap_or(false),
            sso: SsoConfig {
                enabled: setting
                    .parse("ENABLE_SSO_AUTH", parse_bool)?
                    .unwrap_or(false),
                host: setting.parse("SSO_HOST", |value| {
                    Ok(value.trim_end_matches('/').to_owned())
                })?,
                session_cookie: setting
                    .parse("SSO_SESSION_COOKIE", |value| Ok(value.to_owned()))?,
                secret_key: setting.parse("SSO_SECRET_KEY", |value| {
                    Ok(Secret(value.as_bytes().to_vec()))
                })?,
                service_name: setting
                    .parse("SSO_METAX_SERVICE_NAME", |value| Ok(value.to_owned()))?,
                trusted_service_token: setting.parse("SSO_TRUSTED_SERVICE_TOKEN", |value| {
                    Ok(Secret(value.as_bytes().to_vec()))
                })?,
            },
            hijack_allow_superusers: setting
                .parse("HIJACK_ALLOW_SUPERUSERS", parse_bool)?
                .unwrap_or(false),
            request_timeout: setting
                .parse("REQUEST_TIMEOUT", parse_duration)?
                .unwrap_or(Duration::from_secs(30)),
        })
    }

    /// Reads every setting from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// One place that looks a variable up and attaches its name to a parse error.
struct Setting<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Setting<'_> {
    /// `Ok(None)` when unset or empty; the parse error names the variable otherwise.
    fn parse<T>(
        &self,
        name: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match (self.lookup)(name) {
            None => Ok(None),
            Some(value) if value.trim().is_empty() => Ok(None),
            Some(value) => parse(value.trim())
                .map(Some)
                .map_err(|message| ConfigError { name, message }),
        }
    }
}

/// django-environ's accepted spellings of a boolean; anything else is an error.
pub fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "on" | "ok" | "y" | "yes" | "1" => Ok(true),
        "false" | "off" | "n" | "no" | "0" => Ok(false),
        _ => Err(format!(
            "expected True or False (also yes/no, on/off, 1/0), got {value:?}"
        )),
    }
}

/// Comma-separated origins, each with its scheme (Django 4+ requires one).
fn parse_origins(value: &str) -> Result<Vec<String>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| match url::Url::parse(origin) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
                Ok(origin.trim_end_matches('/').to_owned())
            }
            _ => Err(format!(
                "expected origins with a scheme, such as https://metax.example.org, got {origin:?}"
            )),
        })
        .collect()
}

/// Seconds (`3600`) or a duration with units (`8weeks`, `90m`, `10s`); must be positive.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    const EXPECTED: &str =
        "expected a positive duration such as 8weeks, 12h, 90m, 10s or a number of seconds";
    let duration = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            humantime::parse_duration(value).map_err(|_| format!("{EXPECTED}, got {value:?}"))?
        }
    };
    // Far-future expiries overflow date arithmetic; a century is more than anyone needs.
    if duration.is_zero() || duration > Duration::from_secs(100 * 366 * 24 * 3600) {
        return Err(format!("{EXPECTED} (at most 100 years), got {value:?}"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_match_metax_knox_settings() {
        let config = config(&[]).unwrap();
        assert_eq!(config.bearer_token_ttl, Duration::from_secs(8 * 7 * 86400));
        assert_eq!(config.bearer_token_limit_per_user, 5);
        assert_eq!(
            config.database,
            DatabaseUrl::Sqlite("metax-auth.sqlite3".into())
        );
        assert!(!config.secret_key_is_set);
    }

    #[test]
    fn malformed_values_name_the_variable() {
        for (name, value) in [
            ("BEARER_TOKEN_TTL", "soon"),
            ("BEARER_TOKEN_TTL", "0"),
            ("BEARER_TOKEN_LIMIT_PER_USER", "-1"),
            ("BEARER_TOKEN_LIMIT_PER_USER", "five"),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_URL", "sqlite://"),
            ("SECRET_KEY", "short"),
            ("SESSION_COOKIE_SECURE", "maybe"),
        ] {
            let error = config(&[(name, value)]).unwrap_err();
            assert_eq!(error.name, name, "{value}");
            assert!(
                error.to_string().starts_with(&format!("{name}: expected"))
                    || error.to_string().contains("expected"),
                "{error}"
            );
        }
    }

    #[test]
    fn secret_key_is_never_shown() {
        let error = config(&[("SECRET_KEY", "hunter2")]).unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
        let config = config(&[("SECRET_KEY", "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t")]).unwrap();
        assert!(!format!("{config:?}").contains("s3cr3t"));
    }

    #[test]
    fn postgres_password_is_redacted() {
        let url = DatabaseUrl::parse("postgres://metax:pa55word@db.example/metax").unwrap();
        assert_eq!(url.to_string(), "postgres://metax:***@db.example/metax");
        assert!(!format!("{url:?}").contains("pa55word"));
    }

    #[test]
    fn postgres_urls_name_a_database() {
        assert!(DatabaseUrl::parse("postgres://u@h/metax").is_ok());
        assert!(DatabaseUrl::parse("postgres://u@h?dbname=metax").is_ok());
        for nameless in [
            "postgres://u@h",
            "postgres://u@h/",
            "postgres://",
            "postgres://u@h?dbname=",
        ] {
            let error = DatabaseUrl::parse(nameless).unwrap_err();
            assert!(
                error.ends_with("the database name (/DB) is missing"),
                "{nameless}: {error}"
            );
        }
    }

    #[test]
    fn sqlite_urls_absolute_and_relative() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/a.sqlite3").unwrap(),
            DatabaseUrl::Sqlite("/tmp/a.sqlite3".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://a.sqlite3").unwrap(),
            DatabaseUrl::Sqlite("a.sqlite3".into())
        );
    }

    #[test]
    fn durations_accept_seconds_and_units() {
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(
            parse_duration("8weeks").unwrap(),
            Duration::from_secs(8 * 7 * 86400)
        );
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
    }
}
