//! The test harness: `TestServer` runs the real service in-process on `127.0.0.1:0` against a
//! fresh database of the binary's backend, and `Browser` is an HTTP client with a cookie jar,
//! like a person's browser or a script.

pub mod database;

pub use database::{Backend, Database};

use std::collections::HashMap;
use std::sync::Arc;

use metax_auth::accounts::{self, Role};
use metax_auth::clock::Clock;
use metax_auth::config::Config;
use metax_auth::store::{self, Store, User, UserChanges};
use metax_auth::web::{self, AppState};
use reqwest::cookie::CookieStore;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

/// Password every test user gets unless a test says otherwise.
pub const PASSWORD: &str = "Kettle-Orbit-Walrus-77";

/// A running server and what a test needs to reach inside it.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The store the server uses.
    pub store: Arc<dyn Store>,
    /// The server's clock (tests advance it instead of waiting).
    pub clock: Clock,
    /// The database; kept for restarts.
    pub database: Arc<Database>,
    settings: HashMap<String, String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// A server with default settings on a fresh database.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A server with these settings (environment-variable names) on a fresh database.
    pub async fn start_with(settings: &[(&str, &str)]) -> Self {
        let database = Arc::new(Database::fresh());
        let settings = settings
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        Self::launch(database, settings, Clock::default(), true).await
    }

    /// Stops this server and starts another on the same database with changed settings.
    pub async fn restart_with(mut self, settings: &[(&str, &str)]) -> Self {
        self.stop().await;
        let mut merged = self.settings.clone();
        merged.extend(
            settings
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string())),
        );
        Self::launch(self.database.clone(), merged, self.clock.clone(), false).await
    }

    async fn launch(
        database: Arc<Database>,
        mut settings: HashMap<String, String>,
        clock: Clock,
        migrate: bool,
    ) -> Self {
        settings
            .entry("DATABASE_URL".into())
            .or_insert_with(|| database.url().to_owned());
        settings
            .entry("SECRET_KEY".into())
            .or_insert_with(|| "test-secret-key-that-is-long-enough-0123".into());
        let config = Config::from_lookup(|name| settings.get(name).cloned())
            .expect("test settings are valid");
        let store = store::open(&config.database, migrate)
            .await
            .expect("open store");
        if migrate {
            store.migrate().await.expect("migrate");
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let state = AppState::new(config, store.clone(), clock.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            web::serve(listener, state, async move {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
        });
        TestServer {
            base,
            store,
            clock,
            database,
            settings,
            stop: Some(stop),
            task: Some(task),
        }
    }

    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Creates a user with `PASSWORD`.
    pub async fn user(&self, username: &str, role: Role) -> User {
        accounts::create(
            &*self.store,
            username,
            "",
            Some(PASSWORD.to_owned()),
            role,
            self.clock.now(),
        )
        .await
        .expect("create user")
    }

    /// Creates a staff user who is not a superuser.
    pub async fn staff_user(&self, username: &str) -> User {
        let user = self.user(username, Role::User).await;
        let changes = UserChanges {
            is_active: true,
            is_staff: true,
            ..UserChanges::default()
        };
        self.store
            .update_user(user.id, &changes)
            .await
            .expect("make staff");
        self.store.user_by_id(user.id).await.expect("reload")
    }

    /// Takes superuser away from a user (still active staff).
    pub async fn demote(&self, user: &User) {
        let changes = UserChanges {
            is_active: true,
            is_staff: true,
            ..UserChanges::default()
        };
        self.store
            .update_user(user.id, &changes)
            .await
            .expect("demote");
    }

    /// A fresh browser (own cookie jar) pointed at this server.
    pub fn browser(&self) -> Browser {
        Browser::new(&self.base)
    }

    /// A browser logged in to the admin panel as `username` through the login form.
    pub async fn admin_browser(&self, username: &str) -> Browser {
        let browser = self.browser();
        let response = browser.log_in(username, PASSWORD).await;
        assert_eq!(
            response.status,
            StatusCode::FOUND,
            "login of {username}: {}",
            response.text
        );
        browser
    }

    /// Creates a bearer token for a user through the API (Basic authentication) and returns it.
    pub async fn bearer_token(&self, username: &str) -> String {
        self.bearer_token_with(username, PASSWORD).await
    }

    /// Same, for a user with another password.
    pub async fn bearer_token_with(&self, username: &str, password: &str) -> String {
        let response = self
            .browser()
            .send(
                Method::POST,
                "/v3/auth/tokens",
                Request::new().basic(username, password),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text);
        response.json()["token"]
            .as_str()
            .expect("token in response")
            .to_owned()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What to send besides method and path.
#[derive(Default)]
pub struct Request {
    headers: Vec<(String, Vec<u8>)>,
    form: Option<Vec<(String, String)>>,
    json: Option<Value>,
}

impl Request {
    /// Nothing extra.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a header (raw bytes, so tests can send what real clients should not).
    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.headers
            .push((name.to_owned(), value.as_ref().to_vec()));
        self
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", format!("Bearer {token}"))
    }

    /// `Authorization: Basic ...`.
    pub fn basic(self, username: &str, password: &str) -> Self {
        use base64::Engine;
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        self.header("Authorization", format!("Basic {encoded}"))
    }

    /// `Accept: text/html`, as a browser.
    pub fn html(self) -> Self {
        self.header(
            "Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )
    }

    /// A urlencoded form body.
    pub fn form(mut self, fields: &[(&str, &str)]) -> Self {
        self.form = Some(
            fields
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect(),
        );
        self
    }

    /// A JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.json = Some(body);
        self
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body as text.
    pub text: String,
}

impl Response {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.text))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// The value a `Set-Cookie` line gives the cookie `name`.
    pub fn cookie_value(&self, name: &str) -> Option<String> {
        let line = self.set_cookie(name)?;
        Some(
            line.split(';')
                .next()?
                .trim_start_matches(&format!("{name}="))
                .to_owned(),
        )
    }

    /// Every `Set-Cookie` line for `name`.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|line| line.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value of a hidden input in an HTML page (`name="..." value="..."`).
    pub fn hidden_input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.text.find(&marker)? + marker.len();
        let end = self.text[start..].find('"')? + start;
        Some(self.text[start..end].to_owned())
    }
}

/// An HTTP client with a cookie jar that does not follow redirects.
pub struct Browser {
    base: String,
    jar: Arc<reqwest::cookie::Jar>,
    client: reqwest::Client,
}

impl Browser {
    /// A browser for `base`.
    pub fn new(base: &str) -> Self {
        Self::from_address(base, std::net::Ipv4Addr::LOCALHOST)
    }

    /// A browser whose connections come from another loopback address (another "client").
    pub fn from_address(base: &str, address: std::net::Ipv4Addr) -> Self {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .local_address(std::net::IpAddr::V4(address))
            .build()
            .expect("client");
        Browser {
            base: base.to_owned(),
            jar,
            client,
        }
    }

    /// The same browser (cookie jar and all) talking to another server, as when a load
    /// balancer sends its next request to another instance.
    pub fn at(&self, base: &str) -> Browser {
        Browser {
            base: base.to_owned(),
            jar: self.jar.clone(),
            client: self.client.clone(),
        }
    }

    /// Sends a request.
    pub async fn send(&self, method: Method, path: &str, request: Request) -> Response {
        let mut builder = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in request.headers {
            builder = builder.header(
                name,
                reqwest::header::HeaderValue::from_bytes(&value).expect("header bytes"),
            );
        }
        if let Some(form) = request.form {
            builder = builder.form(&form);
        }
        if let Some(json) = request.json {
            builder = builder.json(&json);
        }
        let response = builder.send().await.expect("request reaches the server");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Response {
            status,
            headers,
            text,
        }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, Request::new()).await
    }

    /// The value of a cookie the browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let url = self.base.parse().expect("base url");
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split("; ")
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    }

    /// Drops a cookie from the jar.
    pub fn forget_cookie(&self, name: &str) {
        let url = self.base.parse().expect("base url");
        self.jar
            .add_cookie_str(&format!("{name}=; Max-Age=0; Path=/"), &url);
    }

    /// Fills in and posts the admin login form, as a person would.
    pub async fn log_in(&self, username: &str, password: &str) -> Response {
        let page = self.get("/v3/admin/login/?next=/v3/admin/").await;
        let csrf = page
            .hidden_input("csrfmiddlewaretoken")
            .expect("login form has a CSRF field");
        self.send(
            Method::POST,
            "/v3/admin/login/",
            Request::new().form(&[
                ("username", username),
                ("password", password),
                ("csrfmiddlewaretoken", &csrf),
                ("next", "/v3/admin/"),
            ]),
        )
        .await
    }

    /// Posts a form with the CSRF cookie's value in `csrfmiddlewaretoken`, as an admin page's
    /// form does.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = self
            .cookie("csrftoken")
            .expect("browser holds a csrftoken cookie");
        let mut fields = fields.to_vec();
        fields.push(("csrfmiddlewaretoken", &csrf));
        self.send(Method::POST, path, Request::new().form(&fields))
            .await
    }

    /// A request with the CSRF cookie's value in `X-CSRFToken`, as a script would send it.
    pub fn with_csrf(&self, request: Request) -> Request {
        let token = self
            .cookie("csrftoken")
            .expect("browser holds a csrftoken cookie");
        request.header("X-CSRFToken", token)
    }
}

/// Runs every future as its own task (in parallel on the runtime) and returns their outputs in
/// order.
pub async fn join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await.expect("task"));
    }
    outputs
}
