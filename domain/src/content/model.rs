//! What team content is, apart from how it is stored: questions, answers, pages of them and
//! the limits on each.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

pub const MAX_PER_PAGE: u64 = 100;
pub const DEFAULT_PER_PAGE: u64 = 20;
/// Beyond any real team's content; keeps the SQL offset far inside an `i64` (a larger page
/// once made the database driver panic — found by the API fuzzer).
pub const MAX_PAGE: u64 = 1_000_000;
pub const MAX_TITLE: usize = 200;
pub const MAX_BODY: usize = 20_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

/// Page numbers start at 1; `per_page` is 1–100.
pub fn page_params(page: Option<u64>, per_page: Option<u64>) -> Result<(u64, u64)> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
    if page == 0 || page > MAX_PAGE {
        return Err(Error::invalid("page", format!("page is 1 to {MAX_PAGE}.")));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(Error::invalid(
            "per_page",
            format!("per_page is 1 to {MAX_PER_PAGE}."),
        ));
    }
    Ok((page, per_page))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub id: i64,
    pub question_id: i64,
    pub body: String,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
