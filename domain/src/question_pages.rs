//! Pages of a team's questions as last read, each with the team's content version it was read
//! at (`teams.content_version`, raised in the transaction of every question created, edited or
//! deleted). A request reads the team's version (one primary-key read) and is given the stored
//! page only when the versions are equal, so a page is never served after a write has
//! committed, whichever process made it: the cache saves reading and building the rows, not
//! the check. Measured in bench/README.md.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use crate::content::{Page, Question};

/// What the stored pages may hold in titles, bodies and names together before they are all
/// dropped (a page of 100 questions at the longest body is 2 MB).
const MAX_TEXT_BYTES: usize = 32 << 20;

/// Which page of which team's questions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PageKey {
    pub team_id: i64,
    pub page: u64,
    pub per_page: u64,
}

struct Stored {
    version: i64,
    page: Arc<Page<Question>>,
    text_bytes: usize,
}

#[derive(Default)]
struct Pages {
    pages: HashMap<PageKey, Stored>,
    text_bytes: usize,
}

impl Pages {
    fn remove(&mut self, key: &PageKey) {
        if let Some(old) = self.pages.remove(key) {
            self.text_bytes -= old.text_bytes;
        }
    }
}

/// One per process, shared by the API's requests.
#[derive(Default)]
pub struct QuestionPages {
    inner: Mutex<Pages>,
}

impl QuestionPages {
    /// The page read at `version`, if that is what is stored. A page of an older version is
    /// dropped: versions only rise, so it can never be served again.
    pub fn get(&self, key: PageKey, version: i64) -> Option<Arc<Page<Question>>> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match inner.pages.get(&key) {
            Some(stored) if stored.version == version => Some(stored.page.clone()),
            Some(stored) if stored.version < version => {
                inner.remove(&key);
                None
            }
            _ => None,
        }
    }

    /// Stores a page read at `version` (unless a newer one is stored already) and hands it back.
    pub fn put(&self, key: PageKey, version: i64, page: Page<Question>) -> Arc<Page<Question>> {
        let page = Arc::new(page);
        let text_bytes = page
            .items
            .iter()
            .map(|q| q.title.len() + q.body.len() + q.author.len())
            .sum();
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.pages.get(&key).is_some_and(|s| s.version > version) {
            return page;
        }
        inner.remove(&key);
        if inner.text_bytes + text_bytes > MAX_TEXT_BYTES {
            inner.pages.clear();
            inner.text_bytes = 0;
        }
        inner.text_bytes += text_bytes;
        inner.pages.insert(
            key,
            Stored {
                version,
                page: page.clone(),
                text_bytes,
            },
        );
        page
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn page(title: &str) -> Page<Question> {
        let now = Utc::now();
        Page {
            items: vec![Question {
                id: 1,
                title: title.into(),
                body: "body".into(),
                author: "ann".into(),
                created_at: now,
                updated_at: now,
            }],
            page: 1,
            per_page: 20,
            total: 1,
        }
    }

    const KEY: PageKey = PageKey {
        team_id: 7,
        page: 1,
        per_page: 20,
    };

    #[test]
    fn a_page_is_served_only_at_the_version_it_was_read_at() {
        let pages = QuestionPages::default();
        pages.put(KEY, 3, page("at three"));
        assert_eq!(pages.get(KEY, 3).unwrap().items[0].title, "at three");
        assert!(pages.get(KEY, 4).is_none(), "a write happened since");
        assert!(pages.get(KEY, 3).is_none(), "the older page was dropped");
        let other_team = PageKey { team_id: 8, ..KEY };
        assert!(pages.get(other_team, 3).is_none());
    }

    #[test]
    fn a_slow_reader_does_not_replace_a_newer_page() {
        let pages = QuestionPages::default();
        pages.put(KEY, 5, page("at five"));
        pages.put(KEY, 4, page("at four"));
        assert_eq!(pages.get(KEY, 5).unwrap().items[0].title, "at five");
    }
}
