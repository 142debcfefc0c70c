//! Pages of a team's questions as last read, each with the team's content version it was read
//! at. A request looks the team's version up and is given the stored page only when the
//! versions are equal, so a page is never served after a write has committed: the store saves
//! reading and building the rows, not the check. Where the version comes from depends on who
//! may write (`Versions`). Measured in bench/README.md.

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

/// Where a team's content version comes from.
#[derive(Default)]
enum Versions {
    /// `teams.content_version`, raised in the transaction of every question created, edited
    /// or deleted, and read on every request (one primary-key read): right whichever process
    /// wrote. For PostgreSQL, where any number of processes may share the database.
    #[default]
    Database,
    /// Counted by this process, raised after each of its writes commits: no read at all. Only
    /// right while no other process writes questions, which `patdesk serve` makes sure of on
    /// SQLite by holding the database's serve lock (`domain::db::ServeLock`).
    CountedHere(Mutex<HashMap<i64, i64>>),
}

/// One per process, shared by the API's requests.
#[derive(Default)]
pub struct QuestionPages {
    inner: Mutex<Pages>,
    versions: Versions,
}

impl QuestionPages {
    /// Pages checked against `teams.content_version` on every request.
    pub fn checked_in_database() -> Self {
        Self::default()
    }

    /// Pages checked against versions this process counts itself. Only for a process that
    /// is the database's one writer of questions (`domain::db::ServeLock`).
    pub fn counted_here(_sole_writer: &crate::db::ServeLock) -> Self {
        Self {
            inner: Mutex::default(),
            versions: Versions::CountedHere(Mutex::default()),
        }
    }

    /// The team's version as this process counts it, or `None` when it must be read from
    /// `teams.content_version`.
    pub fn counted_version(&self, team_id: i64) -> Option<i64> {
        match &self.versions {
            Versions::Database => None,
            Versions::CountedHere(counts) => {
                let counts = counts.lock().unwrap_or_else(|e| e.into_inner());
                Some(counts.get(&team_id).copied().unwrap_or(0))
            }
        }
    }

    /// Called after a write to the team's questions has committed (or failed to: raising the
    /// version only costs a read). Raising it before the commit would let a request read the
    /// old rows and keep them at the new version.
    pub fn written(&self, team_id: i64) {
        if let Versions::CountedHere(counts) = &self.versions {
            let mut counts = counts.lock().unwrap_or_else(|e| e.into_inner());
            *counts.entry(team_id).or_insert(0) += 1;
        }
    }

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
    fn counted_here_a_page_read_before_a_write_commits_is_never_served_after_it() {
        let lock_dir = tempfile::tempdir().unwrap();
        let lock = crate::db::ServeLock::take(&lock_dir.path().join("p.db")).unwrap();
        let pages = QuestionPages::counted_here(&lock);
        let before = pages.counted_version(KEY.team_id).unwrap();
        // A write commits while a request is reading the old rows...
        pages.written(KEY.team_id);
        // ...which it keeps at the version it looked up first.
        pages.put(KEY, before, page("old rows"));
        let now = pages.counted_version(KEY.team_id).unwrap();
        assert_ne!(now, before);
        assert!(pages.get(KEY, now).is_none(), "the old rows are not served");
        pages.put(KEY, now, page("new rows"));
        assert_eq!(pages.get(KEY, now).unwrap().items[0].title, "new rows");
        assert_eq!(
            pages.counted_version(8),
            Some(0),
            "other teams are untouched"
        );
    }

    #[test]
    fn checked_in_database_counts_nothing() {
        let pages = QuestionPages::checked_in_database();
        pages.written(KEY.team_id);
        assert_eq!(pages.counted_version(KEY.team_id), None);
    }

    #[test]
    fn a_slow_reader_does_not_replace_a_newer_page() {
        let pages = QuestionPages::default();
        pages.put(KEY, 5, page("at five"));
        pages.put(KEY, 4, page("at four"));
        assert_eq!(pages.get(KEY, 5).unwrap().items[0].title, "at five");
    }
}
