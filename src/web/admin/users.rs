//! `GET /v3/admin/users/`: the "Metax users" table (Django admin's changelist): search by
//! username or email, 100 rows a page, and an Impersonate button on each row for superusers.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::{Admin, PAGE_SIZE};
use crate::store::User;
use crate::web::AppState;
use crate::web::extract::QueryParams;
use crate::web::html::{Chrome, HtmlError, Page};

/// One page of a table and its links.
pub struct Pager {
    /// 1-based page number.
    pub page: i64,
    /// Pages in all (at least 1).
    pub pages: i64,
    /// Rows in all.
    pub total: i64,
    /// The search text, urlencoded for the links.
    pub query: String,
}

impl Pager {
    /// The page asked for (clamped to at least 1) and the row offset it starts at.
    pub fn requested(page: Option<&str>) -> (i64, i64) {
        let page = page
            .and_then(|page| page.parse::<i64>().ok())
            .unwrap_or(1)
            .clamp(1, i64::MAX / PAGE_SIZE);
        (page, (page - 1) * PAGE_SIZE)
    }

    /// The pager for `total` rows.
    pub fn new(page: i64, total: i64, search: &str) -> Self {
        Pager {
            page,
            pages: ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1),
            total,
            query: form_urlencoded::byte_serialize(search.as_bytes()).collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<User>,
    search: String,
    pager: Pager,
    can_impersonate: bool,
    can_change: bool,
    self_id: i64,
}

/// `GET /v3/admin/users/`.
pub async fn list_users(
    State(state): State<AppState>,
    admin: Admin,
    query: QueryParams,
) -> Result<Response, HtmlError> {
    let search = query.get("q").unwrap_or_default().trim().to_owned();
    let (page, offset) = Pager::requested(query.get("page"));
    let (users, total) = state.store.list_users(&search, offset, PAGE_SIZE).await?;
    let page = UsersPage {
        can_impersonate: admin.caller.user.is_superuser && admin.caller.impersonator.is_none(),
        can_change: admin.caller.user.is_superuser,
        self_id: admin.caller.user.id,
        chrome: admin.chrome,
        users,
        pager: Pager::new(page, total, &search),
        search,
    };
    Ok(Page(StatusCode::OK, page).into_response())
}
