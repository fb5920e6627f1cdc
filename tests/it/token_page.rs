//! The token page as a browser sees it: HTML for `Accept: text/html`, a create button whose
//! answer shows the token once, a row per token with its prefix, delete by form, and escaping.

use metax_auth::accounts::Role;
use reqwest::{Method, StatusCode};

use crate::support::{Request, TestServer};

/// The text of every `<td>` in the page.
fn cells(html: &str) -> Vec<String> {
    html.split("<td>")
        .skip(1)
        .filter_map(|rest| rest.split("</td>").next())
        .map(|cell| cell.trim().to_owned())
        .collect()
}

#[tokio::test]
async fn browser_creates_sees_once_lists_and_deletes_a_token() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let browser = server.admin_browser("admin").await;

    let page = browser
        .send(Method::GET, "/v3/auth/tokens", Request::new().html())
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert!(page.header("cache-control").contains("no-store"));
    assert!(page.text.contains("Create new API token"));
    assert!(
        page.text
            .contains("You have not created any API tokens yet.")
    );
    let csrf = page
        .hidden_input("csrfmiddlewaretoken")
        .expect("create form carries a CSRF token");

    let created = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new()
                .html()
                .form(&[("csrfmiddlewaretoken", &csrf)]),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text);
    let token = created
        .text
        .split("id=\"new-token\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("token shown")
        .to_owned();
    assert_eq!(token.len(), 64);
    assert!(created.text.contains("cannot be recovered"));
    let me = server
        .browser()
        .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
        .await;
    assert_eq!(
        me.json()["username"],
        "admin",
        "the token read from the page works"
    );

    let list = browser
        .send(Method::GET, "/v3/auth/tokens", Request::new().html())
        .await;
    assert!(
        cells(&list.text).contains(&token[..15].to_owned()),
        "a cell that is exactly the prefix"
    );
    assert!(
        !list.text.contains(&token),
        "the list never shows the token"
    );

    let csrf = list.hidden_input("csrfmiddlewaretoken").unwrap();
    let deleted = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new().html().form(&[
                ("csrfmiddlewaretoken", &csrf),
                ("_method", "DELETE"),
                ("prefix", &token[..15]),
            ]),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(deleted.header("location"), "/v3/auth/tokens");
    let gone = server
        .browser()
        .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
        .await;
    assert_eq!(gone.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn anonymous_browser_gets_a_page_with_a_login_link() {
    let server = TestServer::start().await;
    let page = server
        .browser()
        .send(Method::GET, "/v3/auth/tokens", Request::new().html())
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert!(
        page.text
            .contains("Authentication credentials were not provided.")
    );
    assert!(page.text.contains("/v3/admin/login/?next=/v3/auth/tokens"));
}

#[tokio::test]
async fn over_the_limit_the_page_says_so() {
    let server = TestServer::start_with(&[("BEARER_TOKEN_LIMIT_PER_USER", "0")]).await;
    server.user("admin", Role::Superuser).await;
    let browser = server.admin_browser("admin").await;
    let csrf = browser.cookie("csrftoken").unwrap();
    let refused = browser
        .send(
            Method::POST,
            "/v3/auth/tokens",
            Request::new()
                .html()
                .form(&[("csrfmiddlewaretoken", &csrf)]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .text
            .contains("Maximum amount of tokens allowed per user exceeded.")
    );
}

#[tokio::test]
async fn usernames_are_escaped_in_pages() {
    let server = TestServer::start().await;
    // Django's username rules forbid '<', but pages must not rely on that.
    let hostile = "<script>alert(1)</script>";
    metax_auth::accounts::create(
        &*server.store,
        hostile,
        "",
        Some(crate::support::PASSWORD.into()),
        Role::Superuser,
        server.clock.now(),
    )
    .await
    .unwrap();
    let browser = server.admin_browser(hostile).await;
    for path in ["/", "/v3/admin/", "/v3/auth/tokens"] {
        let page = browser.send(Method::GET, path, Request::new().html()).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(!page.text.contains(hostile), "{path} shows raw markup");
        assert!(
            page.text
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path} shows the name as text"
        );
    }
}

#[tokio::test]
async fn html_pages_forbid_framing_and_scripts() {
    let server = TestServer::start().await;
    let page = server.browser().get("/v3/admin/login/").await;
    assert_eq!(page.header("x-frame-options"), "DENY");
    assert!(
        page.header("content-security-policy")
            .contains("frame-ancestors 'none'")
    );
}
