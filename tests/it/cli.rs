//! The command line, run as the built binary: migrate, createsuperuser, createuser,
//! changepassword, serve, and their error cases.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::support::{Browser, Database, PASSWORD, Request};

pub const BINARY: &str = env!("CARGO_BIN_EXE_metax-auth");

/// The binary, in the database's folder, with a clean environment that names the database.
fn command(database: &Database) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(database.dir())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", database.url());
    command
}

/// Runs the binary on `database` with `env` added, feeding `input` to stdin.
pub fn run(database: &Database, args: &[&str], env: &[(&str, &str)], input: &str) -> Output {
    let mut child = command(database)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().expect("binary finishes")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn migrated() -> Database {
    let dir = Database::fresh();
    let output = run(&dir, &["migrate"], &[], "");
    assert!(output.status.success(), "{}", stderr(&output));
    dir
}

#[test]
fn commands_on_an_unmigrated_database_say_to_migrate() {
    let dir = Database::fresh();
    for args in [
        vec!["serve", "--bind", "127.0.0.1:0"],
        vec!["createsuperuser", "--username", "x", "--noinput"],
    ] {
        let output = run(&dir, &args, &[], "");
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert!(
            stderr(&output).contains("metax-auth migrate"),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn malformed_settings_stop_with_one_line_naming_the_variable() {
    let dir = migrated();
    for (name, value) in [
        ("BEARER_TOKEN_TTL", "soon"),
        ("BEARER_TOKEN_LIMIT_PER_USER", "many"),
        ("DATABASE_URL", "mysql://db/x"),
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432"),
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"),
        ("SECRET_KEY", "short"),
    ] {
        let output = run(
            &dir,
            &["serve", "--bind", "127.0.0.1:0"],
            &[(name, value)],
            "",
        );
        assert_eq!(output.status.code(), Some(1), "{name}");
        let message = stderr(&output);
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(
            message.starts_with(&format!("error: {name}: expected")),
            "{message}"
        );
        assert!(!message.contains("panicked"));
    }
    let bad_log = run(&dir, &["migrate"], &[("RUST_LOG", "nonsense[[[")], "");
    assert!(
        stderr(&bad_log).starts_with("error: RUST_LOG: expected"),
        "{}",
        stderr(&bad_log)
    );
    std::fs::write(dir.dir().join(".env"), "this is not a setting\n").unwrap();
    let help = run(&dir, &["--help"], &[], "");
    assert!(help.status.success(), "--help works whatever .env holds");
    let broken = run(&dir, &["migrate"], &[], "");
    assert!(
        stderr(&broken).starts_with("error: could not read .env"),
        "{}",
        stderr(&broken)
    );
    std::fs::write(dir.dir().join(".env"), "BEARER_TOKEN_LIMIT_PER_USER=lots\n").unwrap();
    let output = run(&dir, &["serve", "--bind", "127.0.0.1:0"], &[], "");
    assert!(
        stderr(&output).starts_with("error: BEARER_TOKEN_LIMIT_PER_USER:"),
        ".env is read: {}",
        stderr(&output)
    );
}

#[test]
fn bad_arguments_exit_2_with_usage() {
    let dir = Database::fresh();
    for args in [
        vec!["serve", "--bind", "not-an-address"],
        vec!["frobnicate"],
        vec!["createuser", "--bogus"],
    ] {
        let output = run(&dir, &args, &[], "");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains("error:"), "{args:?}");
    }
    let help = run(&dir, &["createsuperuser", "--help"], &[], "");
    assert!(help.status.success() && stdout(&help).contains("--noinput"));
}

#[test]
fn createsuperuser_noinput_and_its_errors() {
    let dir = migrated();
    let env = [("METAX_AUTH_SUPERUSER_PASSWORD", PASSWORD)];
    let output = run(
        &dir,
        &[
            "createsuperuser",
            "--username",
            "admin",
            "--email",
            "admin@example.org",
            "--noinput",
        ],
        &env,
        "",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "Superuser created successfully.");

    let again = run(
        &dir,
        &["createsuperuser", "--username", "admin", "--noinput"],
        &env,
        "",
    );
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again).trim(),
        "error: That username is already taken."
    );
    let no_name = run(&dir, &["createsuperuser", "--noinput"], &env, "");
    assert_eq!(
        stderr(&no_name).trim(),
        "error: You must use --username with --noinput."
    );
    let bad_name = run(
        &dir,
        &["createsuperuser", "--username", "bad name", "--noinput"],
        &env,
        "",
    );
    assert!(stderr(&bad_name).contains("Enter a valid username."));
    let lookalike = run(
        &dir,
        &["createsuperuser", "--username", "ａｄｍｉｎ", "--noinput"],
        &env,
        "",
    );
    assert_eq!(
        stderr(&lookalike).trim(),
        "error: That username is already taken.",
        "NFKC-normalized like Django"
    );
    let bad_email = run(
        &dir,
        &[
            "createsuperuser",
            "--username",
            "x",
            "--email",
            "nope",
            "--noinput",
        ],
        &env,
        "",
    );
    assert!(stderr(&bad_email).contains("Enter a valid email address."));
}

#[test]
fn createsuperuser_asks_and_refuses_mismatched_blank_and_weak_passwords() {
    let dir = migrated();
    let answers = [
        "bad name",          // invalid username
        "admin",             // good
        "not-an-email",      // invalid email
        "admin@example.org", // good
        "one-Password-1",
        "other-Password-2", // mismatch
        "",
        "", // blank
        "password",
        "password",
        "n", // too common, refuse bypass
        PASSWORD,
        PASSWORD,
    ];
    let output = run(
        &dir,
        &["createsuperuser"],
        &[("USER", "root")],
        &(answers.join("\n") + "\n"),
    );
    let out = stdout(&output);
    assert!(output.status.success(), "{out}\n{}", stderr(&output));
    for expected in [
        "Username (leave blank to use 'root'): ",
        "Error: Enter a valid username.",
        "Error: Enter a valid email address.",
        "Error: Your passwords didn't match.",
        "Error: Blank passwords aren't allowed.",
        "This password is too common.",
        "Bypass password validation and create user anyway? [y/N]: ",
        "Superuser created successfully.",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    let taken = run(&dir, &["createsuperuser"], &[], "admin\n");
    assert!(stdout(&taken).contains("Error: That username is already taken."));
    assert_eq!(
        taken.status.code(),
        Some(1),
        "input ended: {}",
        stderr(&taken)
    );
    assert!(stderr(&taken).starts_with("error: input ended"));
}

#[tokio::test]
async fn created_users_log_in_and_createuser_without_password_cannot() {
    let dir = migrated();
    let ok = run(
        &dir,
        &["createsuperuser", "--username", "admin", "--noinput"],
        &[("METAX_AUTH_SUPERUSER_PASSWORD", PASSWORD)],
        "",
    );
    assert!(ok.status.success());
    let ok = run(
        &dir,
        &["createuser", "--username", "teppo", "--noinput"],
        &[("METAX_AUTH_USER_PASSWORD", PASSWORD)],
        "",
    );
    assert!(ok.status.success(), "{}", stderr(&ok));
    let ok = run(
        &dir,
        &["createuser", "--username", "sso-user", "--noinput"],
        &[],
        "",
    );
    assert!(ok.status.success());
    assert_eq!(stdout(&ok).trim(), "User created successfully.");

    let server = ServedBinary::start(&dir);
    let browser = Browser::new(&server.base);
    assert_eq!(
        browser.log_in("admin", PASSWORD).await.status,
        reqwest::StatusCode::FOUND
    );
    assert_eq!(
        Browser::new(&server.base)
            .log_in("teppo", PASSWORD)
            .await
            .status,
        reqwest::StatusCode::OK,
        "not staff: the form again"
    );
    let client = Browser::new(&server.base);
    let teppo = client
        .send(
            reqwest::Method::GET,
            "/v3/auth/user",
            Request::new().basic("teppo", PASSWORD),
        )
        .await;
    assert_eq!(teppo.status, reqwest::StatusCode::OK);
    let sso = client
        .send(
            reqwest::Method::GET,
            "/v3/auth/user",
            Request::new().basic("sso-user", ""),
        )
        .await;
    assert_eq!(
        sso.status,
        reqwest::StatusCode::FORBIDDEN,
        "no usable password"
    );
}

#[tokio::test]
async fn changepassword_asks_twice_and_gives_up_after_three_attempts() {
    let dir = migrated();
    run(
        &dir,
        &["createuser", "--username", "teppo", "--noinput"],
        &[("METAX_AUTH_USER_PASSWORD", PASSWORD)],
        "",
    );
    let failed = run(
        &dir,
        &["changepassword", "teppo"],
        &[],
        "aaaa-Bbbb-1\nx\naaaa-Bbbb-1\ny\naaaa-Bbbb-1\nz\n",
    );
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(
        stderr(&failed).trim(),
        "error: Aborting password change for user 'teppo' after 3 attempts"
    );
    let weak = run(
        &dir,
        &["changepassword", "teppo"],
        &[],
        "password\npassword\n1234\n1234\nteppo\nteppo\n",
    );
    assert_eq!(
        stderr(&weak).trim(),
        "error: Aborting password change for user 'teppo' after 3 attempts"
    );
    assert!(
        stdout(&weak).contains("This password is too common.") && !stdout(&weak).contains("Bypass"),
        "{}",
        stdout(&weak)
    );
    let unknown = run(&dir, &["changepassword", "nobody"], &[], "");
    assert_eq!(
        stderr(&unknown).trim(),
        "error: user 'nobody' does not exist"
    );
    let new_password = "Granite-Lamp-Harbor-31";
    let changed = run(
        &dir,
        &["changepassword", "teppo"],
        &[],
        &format!("{new_password}\n{new_password}\n"),
    );
    assert!(changed.status.success(), "{}", stderr(&changed));
    assert!(stdout(&changed).contains("Password changed successfully for user 'teppo'"));

    let server = ServedBinary::start(&dir);
    let client = Browser::new(&server.base);
    let old = client
        .send(
            reqwest::Method::GET,
            "/v3/auth/user",
            Request::new().basic("teppo", PASSWORD),
        )
        .await;
    assert_eq!(old.status, reqwest::StatusCode::FORBIDDEN);
    let new = client
        .send(
            reqwest::Method::GET,
            "/v3/auth/user",
            Request::new().basic("teppo", new_password),
        )
        .await;
    assert_eq!(new.status, reqwest::StatusCode::OK);
}

/// `metax-auth serve` as a child process on a free loopback port; SIGTERM on drop.
pub struct ServedBinary {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    child: std::process::Child,
}

impl ServedBinary {
    fn start(database: &Database) -> Self {
        Self::start_with(database, &[])
    }

    pub fn start_with(database: &Database, env: &[(&str, &str)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let bind = format!("127.0.0.1:{port}");
        let child = command(database)
            .args(["serve", "--bind", &bind])
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&bind).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "serve did not listen on {bind}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        ServedBinary {
            base: format!("http://{bind}"),
            child,
        }
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("serve exits")
    }
}

impl Drop for ServedBinary {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.terminate();
        }
    }
}

#[test]
fn serve_stops_cleanly_on_sigterm_even_with_a_stalled_client() {
    use std::io::Write as _;
    let dir = migrated();
    let mut server = ServedBinary::start_with(&dir, &[("REQUEST_TIMEOUT", "2s")]);
    let mut stalled =
        std::net::TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stalled
        .write_all(b"POST /v3/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let started = std::time::Instant::now();
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "shutdown waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn drf_create_token_prints_the_users_key_and_resets_it() {
    let dir = migrated();
    let on = [
        ("ENABLE_DRF_TOKEN_AUTH", "yes"),
        ("METAX_AUTH_SUPERUSER_PASSWORD", PASSWORD),
    ];
    assert!(
        run(
            &dir,
            &["createsuperuser", "--username", "admin", "--noinput"],
            &on,
            ""
        )
        .status
        .success()
    );
    let printed = run(&dir, &["drf-create-token", "admin"], &on, "");
    let line = stdout(&printed);
    let key = line
        .trim()
        .strip_prefix("Generated token ")
        .and_then(|rest| rest.strip_suffix(" for user admin"))
        .expect("DRF's line");
    assert_eq!(key.len(), 40, "{line}");
    let same = run(&dir, &["drf-create-token", "admin"], &on, "");
    assert!(
        stdout(&same).contains(key),
        "the token created on save is kept"
    );
    let reset = run(&dir, &["drf-create-token", "--reset", "admin"], &on, "");
    assert!(!stdout(&reset).contains(key), "--reset makes a new one");
    let unknown = run(&dir, &["drf-create-token", "nobody"], &on, "");
    assert_eq!(
        stderr(&unknown).trim(),
        "error: Cannot create the Token: user nobody does not exist"
    );
    let off = run(&dir, &["drf-create-token", "admin"], &[], "");
    assert!(
        stderr(&off).starts_with("error: DRF tokens are off: set ENABLE_DRF_TOKEN_AUTH=True"),
        "{}",
        stderr(&off)
    );
    let bad_flag = run(
        &dir,
        &["drf-create-token", "admin"],
        &[("ENABLE_DRF_TOKEN_AUTH", "maybe")],
        "",
    );
    assert!(stderr(&bad_flag).starts_with("error: ENABLE_DRF_TOKEN_AUTH: expected True or False"));

    std::fs::write(dir.dir().join(".env"), "ENABLE_DRF_TOKEN_AUTH=True\n").unwrap();
    let server = ServedBinary::start(&dir);
    let client = Browser::new(&server.base);
    let key = stdout(&reset).trim().split(' ').nth(2).unwrap().to_owned();
    let me = client
        .send(
            reqwest::Method::GET,
            "/v3/auth/user",
            Request::new().header("Authorization", format!("Token {key}")),
        )
        .await;
    assert_eq!(
        me.json()["username"],
        "admin",
        "ENABLE_DRF_TOKEN_AUTH=True in .env turns the scheme on"
    );
}

#[test]
fn serve_refuses_a_database_without_the_drf_tables_until_migrate() {
    let dir = migrated();
    // An older database: the DRF migration never ran.
    dir.execute("DROP TABLE drf_tokens; DELETE FROM _sqlx_migrations WHERE version = 3");
    let refused = run(
        &dir,
        &["serve", "--bind", "127.0.0.1:0"],
        &[("ENABLE_DRF_TOKEN_AUTH", "True")],
        "",
    );
    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("run `metax-auth migrate`"), "{message}");
    assert!(run(&dir, &["migrate"], &[], "").status.success());
    let mut server = ServedBinary::start_with(&dir, &[("ENABLE_DRF_TOKEN_AUTH", "True")]);
    assert!(server.terminate().success());
}

#[tokio::test]
async fn sso_session_prints_a_cookie_the_service_accepts() {
    let dir = migrated();
    let sso = [
        ("ENABLE_SSO_AUTH", "True"),
        ("SSO_HOST", "https://sso.example.org"),
        ("SSO_SESSION_COOKIE", "fd_sso"),
        ("SSO_SECRET_KEY", "local-test-secret"),
        ("SSO_METAX_SERVICE_NAME", "METAX"),
    ];
    let printed = run(
        &dir,
        &["sso-session", "teppo", "--project", "project_x"],
        &sso,
        "",
    );
    assert!(printed.status.success(), "{}", stderr(&printed));
    let cookie = stdout(&printed).trim().to_owned();
    let server = ServedBinary::start_with(&dir, &sso);
    let me = Browser::new(&server.base)
        .send(
            reqwest::Method::GET,
            "/v3/auth/user",
            Request::new().header("Cookie", format!("fd_sso={cookie}")),
        )
        .await;
    assert_eq!(me.json()["username"], "teppo");
    assert_eq!(me.json()["csc_projects"], serde_json::json!(["project_x"]));
    let unsigned = run(&dir, &["sso-session", "teppo"], &[], "");
    assert!(
        stderr(&unsigned).starts_with("error: SSO_SECRET_KEY:"),
        "{}",
        stderr(&unsigned)
    );
}
