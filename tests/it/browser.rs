//! The seed's impersonation paragraph, click by click, in real headless Chromium (Debian's
//! `chromium` and `chromium-driver`, driven over WebDriver): admin login → Metax users →
//! Impersonate → /v3/auth/tokens → Create new API token → the token works as that user →
//! Stop impersonating → back as the admin. A screenshot of each step goes to
//! `test-output/browser/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use metax_auth::accounts::Role;
use reqwest::Method;

use crate::support::{PASSWORD, Request, TestServer};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process on a free loopback port, killed on drop.
struct ChromeDriver {
    url: String,
    child: Child,
}

impl ChromeDriver {
    fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "browser tests need Debian's chromium and chromium-driver: apt-get install chromium chromium-driver (.ci/run does)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        ChromeDriver {
            url: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    async fn session(&self, profile: &std::path::Path) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--window-size=1280,900", format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("a Chromium session")
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Saves a numbered screenshot of the current page.
async fn snap(client: &Client, name: &str) {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test-output/browser");
    std::fs::create_dir_all(&folder).unwrap();
    let png = client.screenshot().await.expect("screenshot");
    std::fs::write(folder.join(format!("{name}.png")), png).unwrap();
}

/// The element, once the page shows it (pages load asynchronously after a click).
async fn find(
    client: &Client,
    locator: Locator<'_>,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(locator)
        .await
}

async fn click_button(client: &Client, text: &str) {
    find(
        client,
        Locator::XPath(&format!("//button[normalize-space()='{text}']")),
    )
    .await
    .unwrap_or_else(|_| panic!("a button {text:?}"))
    .click()
    .await
    .unwrap();
}

/// Waits until the browser shows `path` (a click's navigation completes asynchronously).
async fn wait_for_path(client: &Client, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let current = client.current_url().await.unwrap();
        if current.path() == path {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected {path}, the browser shows {current}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn body_text(client: &Client) -> String {
    find(client, Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn admin_impersonates_a_user_creates_their_token_and_stops() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    server.user("bob", Role::User).await;
    let driver = ChromeDriver::start();
    let profile = tempfile::tempdir().unwrap();
    let client = driver.session(profile.path()).await;

    client
        .goto(&format!("{}/v3/admin/", server.base))
        .await
        .unwrap();
    wait_for_path(&client, "/v3/admin/login/").await;
    find(&client, Locator::Id("id_username"))
        .await
        .unwrap()
        .send_keys("admin")
        .await
        .unwrap();
    find(&client, Locator::Id("id_password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    snap(&client, "01-admin-login").await;
    click_button(&client, "Log in").await;
    wait_for_path(&client, "/v3/admin/").await;
    snap(&client, "02-admin-index").await;

    find(&client, Locator::LinkText("Metax users"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&client, "/v3/admin/users/").await;
    snap(&client, "03-metax-users").await;
    find(
        &client,
        Locator::XPath(
            "//tr[td/a[normalize-space()='bob']]//button[normalize-space()='Impersonate']",
        ),
    )
    .await
    .expect("an Impersonate button on bob's row")
    .click()
    .await
    .unwrap();
    wait_for_path(&client, "/").await;
    let front = body_text(&client).await;
    assert!(front.contains("You are logged in as bob"), "{front}");
    assert!(front.contains("You are impersonating bob"), "{front}");
    snap(&client, "04-front-page-as-bob").await;

    client
        .goto(&format!("{}/v3/auth/tokens", server.base))
        .await
        .unwrap();
    click_button(&client, "Create new API token").await;
    let token = find(&client, Locator::Id("new-token"))
        .await
        .expect("the new token on the page")
        .text()
        .await
        .unwrap();
    snap(&client, "05-token-created").await;
    assert_eq!(token.len(), 64, "{token:?}");
    let me = server
        .browser()
        .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
        .await;
    assert_eq!(
        me.json()["username"],
        "bob",
        "the token from the page authenticates as bob"
    );

    click_button(&client, "Stop impersonating").await;
    wait_for_path(&client, "/v3/admin/users/").await;
    let after = body_text(&client).await;
    assert!(after.contains("Logged in as admin"), "{after}");
    assert!(!after.contains("You are impersonating"));
    snap(&client, "06-back-as-admin").await;

    client.close().await.unwrap();
}
