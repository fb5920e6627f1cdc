//! The "Metax users" table and user pages: the sidebar, rows per user, search beyond the first
//! page among 10,000 users, paging, the change form's checkboxes, add, password and delete,
//! and that staff who are not superusers may look but not change.

use metax_auth::accounts::Role;
use metax_auth::store::NewUser;
use reqwest::{Method, StatusCode};

use crate::support::{PASSWORD, Request, TestServer, join_all};

/// Cells of the first row whose first cell links to `username`.
fn row_of<'a>(html: &'a str, username: &str) -> Option<&'a str> {
    html.split("<tr>")
        .find(|row| row.contains(&format!(">{username}</a></td>")))
}

#[tokio::test]
async fn index_lists_users_under_users_and_the_table_has_a_row_per_user() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let bob = server.user("bob", Role::User).await;
    let browser = server.admin_browser("admin").await;
    let index = browser.get("/v3/admin/").await;
    let users_label = index.text.find(">Users<").expect("a Users label");
    let link = index
        .text
        .find(">Metax users</a>")
        .expect("a Metax users link");
    assert!(users_label < link, "Metax users sits under Users");

    let table = browser.get("/v3/admin/users/").await;
    assert_eq!(table.status, StatusCode::OK);
    let row = row_of(&table.text, "bob").expect("bob's row");
    assert!(row.contains(&format!("href=\"/v3/admin/users/{}/\"", bob.id)));
    assert!(
        row.contains("action=\"/v3/hijack/acquire/\"") && row.contains(">Impersonate</button>")
    );
    assert!(
        row.contains(&format!("name=\"user_pk\" value=\"{}\"", bob.id))
            && row.contains("name=\"csrfmiddlewaretoken\"")
    );
    assert!(row_of(&table.text, "admin").is_some());
}

#[tokio::test]
async fn search_finds_users_beyond_the_first_page_of_ten_thousand() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    for index in 0..10_000 {
        let user = NewUser {
            username: format!("user{index:05}"),
            email: format!("person{index}@example.org"),
            ..NewUser::default()
        };
        server
            .store
            .create_user(&user, server.clock.now())
            .await
            .unwrap();
    }
    let browser = server.admin_browser("admin").await;
    let first = browser.get("/v3/admin/users/").await;
    assert!(
        first.text.contains("10001 total · page 1 of 101"),
        "page header"
    );
    assert!(
        row_of(&first.text, "user09876").is_none(),
        "not on the first page"
    );
    assert_eq!(
        first.text.matches("<tr>").count(),
        101,
        "100 rows and a header"
    );

    let started = std::time::Instant::now();
    let found = browser.get("/v3/admin/users/?q=user09876").await;
    let took = started.elapsed();
    assert!(row_of(&found.text, "user09876").is_some());
    assert!(found.text.contains("1 total"));
    let by_email = browser.get("/v3/admin/users/?q=PERSON9876%40").await;
    assert!(
        row_of(&by_email.text, "user09876").is_some(),
        "email, case-insensitive"
    );
    let literal = browser.get("/v3/admin/users/?q=%25").await;
    assert!(
        literal.text.contains("No users match."),
        "% is taken literally"
    );
    let last = browser.get("/v3/admin/users/?page=101").await;
    assert!(row_of(&last.text, "user09999").is_some());
    let beyond = browser.get("/v3/admin/users/?page=abc").await;
    assert_eq!(beyond.status, StatusCode::OK);
    eprintln!("search among 10,001 users took {took:?}");
}

#[tokio::test]
async fn superuser_edits_a_user_with_checkboxes_and_save() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let bob = server.user("bob", Role::User).await;
    let browser = server.admin_browser("admin").await;
    let page = browser.get(&format!("/v3/admin/users/{}/", bob.id)).await;
    for label in [
        ">Active</label>",
        ">Superuser</label>",
        ">Staff</label>",
        ">Save</button>",
    ] {
        assert!(page.text.contains(label), "{label}");
    }
    let path = format!("/v3/admin/users/{}/", bob.id);
    let saved = browser
        .post_form(
            &path,
            &[
                ("email", "bob@example.org"),
                ("first_name", "Bob"),
                ("is_active", "on"),
                ("is_staff", "on"),
                ("groups", "fairdata_users, testers"),
                ("csc_projects", "project_x, project_y"),
                ("organization", "csc.fi"),
                ("admin_organizations", "csc.fi"),
                ("fairdata_username", "bob_fd"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::FOUND, "{}", saved.text);
    let bob = server.store.user_by_id(bob.id).await.unwrap();
    assert!(bob.is_staff && bob.is_active && !bob.is_superuser);
    assert_eq!(bob.csc_projects, ["project_x", "project_y"]);
    let me = server
        .browser()
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().basic("bob", PASSWORD),
        )
        .await
        .json();
    assert_eq!(
        me["groups"],
        serde_json::json!(["fairdata_users", "testers"])
    );
    assert_eq!(me["organization"], "csc.fi");

    let bad = browser
        .post_form(&path, &[("email", "not an email"), ("is_active", "on")])
        .await;
    assert_eq!(bad.status, StatusCode::OK);
    assert!(bad.text.contains("Enter a valid email address."));
    assert_eq!(
        server.store.user_by_id(bob.id).await.unwrap().email,
        "bob@example.org",
        "nothing saved"
    );

    let deactivated = browser
        .post_form(&path, &[("email", "bob@example.org")])
        .await;
    assert_eq!(deactivated.status, StatusCode::FOUND);
    let refused = server
        .browser()
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().basic("bob", PASSWORD),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "an inactive user cannot authenticate"
    );
}

#[tokio::test]
async fn superuser_adds_sets_password_and_deletes_a_user() {
    let server = TestServer::start().await;
    let admin = server.user("admin", Role::Superuser).await;
    let browser = server.admin_browser("admin").await;
    let mismatch = browser
        .post_form(
            "/v3/admin/users/add/",
            &[
                ("username", "carol"),
                ("password1", "Aa-123456789"),
                ("password2", "x"),
            ],
        )
        .await;
    assert!(
        mismatch
            .text
            .contains("The two password fields didn&#39;t match.")
            || mismatch.text.contains("match."),
        "{}",
        mismatch.text
    );
    let taken = browser
        .post_form("/v3/admin/users/add/", &[("username", "admin")])
        .await;
    assert!(
        taken
            .text
            .contains("A user with that username already exists.")
    );
    let added = browser
        .post_form(
            "/v3/admin/users/add/",
            &[
                ("username", "carol"),
                ("email", "carol@example.org"),
                ("password1", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::FOUND);
    let carol = server.store.user_by_username("carol").await.unwrap();
    assert_eq!(
        added.header("location"),
        format!("/v3/admin/users/{}/", carol.id)
    );

    let new_password = "Granite-Lamp-Harbor-31";
    let weak = browser
        .post_form(
            &format!("/v3/admin/users/{}/password/", carol.id),
            &[("password1", "123"), ("password2", "123")],
        )
        .await;
    assert!(weak.text.contains("This password is too short."));
    let set = browser
        .post_form(
            &format!("/v3/admin/users/{}/password/", carol.id),
            &[("password1", new_password), ("password2", new_password)],
        )
        .await;
    assert_eq!(set.status, StatusCode::FOUND);
    let me = server
        .browser()
        .send(
            Method::GET,
            "/v3/auth/user",
            Request::new().basic("carol", new_password),
        )
        .await;
    assert_eq!(me.status, StatusCode::OK);

    let token = server.bearer_token_with("carol", new_password).await;
    let self_delete = browser
        .post_form(&format!("/v3/admin/users/{}/delete/", admin.id), &[])
        .await;
    assert_eq!(self_delete.status, StatusCode::FORBIDDEN);
    let confirm = browser
        .get(&format!("/v3/admin/users/{}/delete/", carol.id))
        .await;
    assert!(confirm.text.contains("Yes, I&#39;m sure") || confirm.text.contains("Yes, I'm sure"));
    let deleted = browser
        .post_form(&format!("/v3/admin/users/{}/delete/", carol.id), &[])
        .await;
    assert_eq!(deleted.status, StatusCode::FOUND);
    let gone = server
        .browser()
        .send(Method::GET, "/v3/auth/user", Request::new().bearer(&token))
        .await;
    assert_eq!(
        gone.status,
        StatusCode::FORBIDDEN,
        "the deleted user's tokens went with them"
    );
    assert_eq!(
        browser
            .get(&format!("/v3/admin/users/{}/", carol.id))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn staff_may_look_but_not_change_and_others_are_sent_to_login() {
    let server = TestServer::start().await;
    server.staff_user("staffer").await;
    let bob = server.user("bob", Role::User).await;
    let browser = server.admin_browser("staffer").await;
    let table = browser.get("/v3/admin/users/").await;
    assert_eq!(table.status, StatusCode::OK);
    assert!(
        !table.text.contains(">Impersonate</button>"),
        "no impersonate buttons for staff"
    );
    let page = browser.get(&format!("/v3/admin/users/{}/", bob.id)).await;
    assert!(page.text.contains("disabled") && !page.text.contains(">Save</button>"));
    let change = browser
        .post_form(
            &format!("/v3/admin/users/{}/", bob.id),
            &[("is_superuser", "on"), ("is_active", "on")],
        )
        .await;
    assert_eq!(change.status, StatusCode::FORBIDDEN);
    assert!(!server.store.user_by_id(bob.id).await.unwrap().is_superuser);
    for path in ["/v3/admin/users/add/", "/v3/admin/impersonations/"] {
        assert_eq!(
            browser.get(path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let anonymous = server.browser();
    let redirected = anonymous.get("/v3/admin/users/?q=bob").await;
    assert_eq!(redirected.status, StatusCode::FOUND);
    assert_eq!(
        redirected.header("location"),
        "/v3/admin/login/?next=%2Fv3%2Fadmin%2Fusers%2F%3Fq%3Dbob"
    );
}

#[tokio::test]
async fn a_new_password_ends_the_users_sessions() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let victim = server.user("root2", Role::Superuser).await;
    let stolen = server.admin_browser("root2").await;
    assert_eq!(stolen.get("/v3/auth/user").await.status, StatusCode::OK);
    let browser = server.admin_browser("admin").await;
    let new_password = "Granite-Lamp-Harbor-31";
    let set = browser
        .post_form(
            &format!("/v3/admin/users/{}/password/", victim.id),
            &[("password1", new_password), ("password2", new_password)],
        )
        .await;
    assert_eq!(set.status, StatusCode::FOUND);
    assert_eq!(
        stolen.get("/v3/auth/user").await.status,
        StatusCode::FORBIDDEN,
        "the old session died with the old password"
    );
    assert_eq!(
        browser.get("/v3/auth/user").await.status,
        StatusCode::OK,
        "other users' sessions live on"
    );
}

#[tokio::test]
async fn user_pages_for_odd_ids_are_html_404s() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let browser = server.admin_browser("admin").await;
    for id in ["abc", "1.0", "99999999999999999999", "424242"] {
        let page = browser.get(&format!("/v3/admin/users/{id}/")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    }
}

/// PostgreSQL text cannot hold a NUL character: on both backends, writes refuse it with
/// Django's text (400, nothing saved) and lookups for it find nothing, never a 500.
#[tokio::test]
async fn nul_characters_are_refused_in_writes_and_match_nothing_in_lookups() {
    let server = TestServer::start_with(&[("ENABLE_DRF_TOKEN_AUTH", "True")]).await;
    server.user("admin", Role::Superuser).await;
    let bob = server.user("bob", Role::User).await;
    let browser = server.admin_browser("admin").await;

    let path = format!("/v3/admin/users/{}/", bob.id);
    for field in ["first_name", "last_name", "organization", "groups"] {
        let edit = browser
            .post_form(
                &path,
                &[
                    ("email", "bob@example.org"),
                    ("is_active", "on"),
                    (field, "a\0b"),
                ],
            )
            .await;
        assert_eq!(
            edit.status,
            StatusCode::BAD_REQUEST,
            "{field}: {}",
            edit.text
        );
        assert!(
            edit.text.contains("Null characters are not allowed."),
            "{field}"
        );
    }
    assert_eq!(
        server.store.user_by_id(bob.id).await.unwrap().email,
        "",
        "nothing saved"
    );
    let add = browser
        .post_form(
            "/v3/admin/users/add/",
            &[
                ("username", "eve\0"),
                ("password1", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(add.status, StatusCode::OK, "the form again, with its error");
    assert!(add.text.contains("Enter a valid username."));
    assert!(server.store.user_by_username("eve\0").await.is_err());

    for search in [
        "/v3/admin/users/?q=%00",
        "/v3/admin/authtoken/tokens/?q=b%00",
    ] {
        let page = browser.get(search).await;
        assert_eq!(page.status, StatusCode::OK, "{search}");
        assert!(!page.text.contains(">bob<"), "{search} finds nobody");
    }
    let login = server.browser().log_in("bob\0", PASSWORD).await;
    assert_eq!(
        login.status,
        StatusCode::OK,
        "the form again, with its error"
    );
    let drf = server
        .browser()
        .send(
            Method::POST,
            "/v3/drf-token-auth/",
            Request::new().json(serde_json::json!({"username": "bob\u{0}", "password": PASSWORD})),
        )
        .await;
    assert_eq!(drf.status, StatusCode::BAD_REQUEST, "{}", drf.text);
    assert_eq!(
        drf.json()["non_field_errors"][0],
        "Unable to log in with provided credentials."
    );
}

/// Metax's and Django's `max_length`s hold on both backends (PostgreSQL would otherwise
/// refuse to index a long email or group name with a 500): one character over is a 400 with
/// Django's text and nothing saved, the limit itself is saved.
#[tokio::test]
async fn values_over_their_maximum_length_are_refused_on_both_backends() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let bob = server.user("bob", Role::User).await;
    let browser = server.admin_browser("admin").await;
    let path = format!("/v3/admin/users/{}/", bob.id);
    for (field, max) in [
        ("first_name", 150),
        ("last_name", 150),
        ("fairdata_username", 64),
        ("organization", 512),
        ("admin_organizations", 512),
        ("csc_projects", 256),
        ("groups", 150),
    ] {
        for (length, expected) in [(max + 1, StatusCode::BAD_REQUEST), (max, StatusCode::FOUND)] {
            let value = "ä".repeat(length);
            let edit = browser
                .post_form(&path, &[("is_active", "on"), (field, &value)])
                .await;
            assert_eq!(edit.status, expected, "{field} of {length}: {}", edit.text);
            if expected == StatusCode::BAD_REQUEST {
                assert!(
                    edit.text.contains(&format!(
                        "Ensure this value has at most {max} characters (it has {length})."
                    )),
                    "{field}: {}",
                    edit.text
                );
            }
        }
    }
    let long_email = format!("{}@example.org", "a".repeat(3000));
    let edit = browser
        .post_form(&path, &[("is_active", "on"), ("email", &long_email)])
        .await;
    assert!(
        edit.text
            .contains("Email address: Ensure this value has at most 254 characters."),
        "{}",
        edit.text
    );
    let add = browser
        .post_form(
            "/v3/admin/users/add/",
            &[
                ("username", "longmail"),
                ("email", &long_email),
                ("password1", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(add.status, StatusCode::OK, "the form again, with its error");
    assert!(
        add.text
            .contains("Ensure this value has at most 254 characters.")
    );
    assert!(server.store.user_by_username("longmail").await.is_err());
    assert_eq!(server.store.user_by_id(bob.id).await.unwrap().email, "");
}

/// Two saves that add the same new groups in opposite orders, many times at once: none fails
/// (on PostgreSQL, unsorted inserts deadlock).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_saves_adding_the_same_groups_all_succeed() {
    let server = TestServer::start().await;
    server.user("admin", Role::Superuser).await;
    let alice = server.user("alice", Role::User).await;
    let bob = server.user("bob", Role::User).await;
    let browser = server.admin_browser("admin").await;
    for round in 0..10 {
        let names: Vec<String> = (0..40).map(|n| format!("r{round}g{n}")).collect();
        let forward = names.join(",");
        let backward = names.iter().rev().cloned().collect::<Vec<_>>().join(",");
        let saves = [(alice.id, forward), (bob.id, backward)].map(|(id, groups)| {
            let browser = browser.at(&server.base);
            async move {
                browser
                    .post_form(
                        &format!("/v3/admin/users/{id}/"),
                        &[("is_active", "on"), ("groups", &groups)],
                    )
                    .await
            }
        });
        for saved in join_all(saves.into_iter()).await {
            assert_eq!(
                saved.status,
                StatusCode::FOUND,
                "round {round}: {}",
                saved.text
            );
        }
    }
    assert_eq!(server.store.user_groups(alice.id).await.unwrap().len(), 40);
}
