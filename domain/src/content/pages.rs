//! Pages of a team's questions as last read, each with the team's content version it was read
//! at. A request looks the team's version up and is given the stored page only when the
//! versions are equal, so a page is never served after a write has committed: the store saves
//! reading and building the rows, not the check. Where the version comes from depends on who
//! may write (`Versions`); where it is read from the database, requests waiting at the same
//! time share reads (`VersionReads`).

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use sea_orm::DbErr;

use super::model::{Page, Question};

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
enum Versions {
    /// `teams.content_version`, raised in the transaction of every question created, edited
    /// or deleted, and read for every request (one primary-key read, shared with the requests
    /// that arrived before it started: `VersionReads`): right whichever process wrote. For
    /// PostgreSQL, where any number of processes may share the database.
    Database(VersionReads),
    /// Counted by this process, raised after each of its writes commits: no read at all. Only
    /// right while no other process writes questions, which `patdesk serve` makes sure of on
    /// SQLite by holding the database's serve lock (`domain::db::ServeLock`).
    CountedHere(Mutex<HashMap<i64, i64>>),
}

/// Reads of one team's version under way at once. More than one, so that a read that is slow
/// to come back (its connection's turn on a busy machine) does not stall every request for
/// the team behind it.
const READS_AT_ONCE: usize = 2;

/// Teams' content versions read from the database, at most `READS_AT_ONCE` reads at a time
/// per team. A request takes the first read to finish of those that started after it came,
/// never one already under way when it came, which could miss a write that committed just
/// before; when none has started and all the places are taken, it waits for a place. So under
/// load the requests for one team share a few primary-key reads instead of making one each,
/// and one slow read holds up nobody: the next one, in the other place,
/// serves them.
#[derive(Default)]
struct VersionReads {
    teams: Mutex<HashMap<i64, Arc<TeamVersionReads>>>,
}

impl VersionReads {
    fn team(&self, team_id: i64) -> Arc<TeamVersionReads> {
        let mut teams = self.teams.lock().unwrap_or_else(|e| e.into_inner());
        teams.entry(team_id).or_default().clone()
    }
}

#[derive(Default)]
struct TeamVersionReads {
    /// How many reads have started. A request that saw `n` here takes only a read numbered
    /// above `n`: one that started after it came.
    started: AtomicU64,
    state: Mutex<ReadState>,
    /// Wakes every waiting request at once when a read ends (no hand-off from one request to
    /// the next, which made a convoy: one slow wake-up held up all that queued behind it).
    ended: tokio::sync::Notify,
}

#[derive(Default)]
struct ReadState {
    /// How many reads are under way.
    reading: usize,
    /// Of the reads that have finished, the one that started last: its number and what it
    /// found, or how it failed (a request that waited for it fails with it, rather than
    /// queueing for a read of its own while the database is away).
    finished: Option<(u64, Result<Option<i64>, DbErr>)>,
}

impl TeamVersionReads {
    async fn read<F, Fut>(&self, read: F) -> Result<Option<i64>, DbErr>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<i64>, DbErr>>,
    {
        let came_after = self.started.load(Ordering::SeqCst);
        loop {
            let ended = {
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((number, found)) = &state.finished
                    && *number > came_after
                {
                    return found.clone();
                }
                if state.reading < READS_AT_ONCE {
                    state.reading += 1;
                    break;
                }
                // Made while the state is locked, so the end of a read under way cannot come
                // between looking and waiting.
                self.ended.notified()
            };
            ended.await;
        }
        // Numbered before the query is sent, so that a request that sees this number came
        // before the read started.
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let mut reading = Reading {
            reads: self,
            finished: None,
        };
        let found = read().await;
        reading.finished = Some((number, found.clone()));
        found
    }
}

/// A read under way. Ends it when dropped, also when its request went away mid-read (then
/// with nothing found, and the next request in line reads again).
struct Reading<'a> {
    reads: &'a TeamVersionReads,
    finished: Option<(u64, Result<Option<i64>, DbErr>)>,
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        {
            let mut state = self.reads.state.lock().unwrap_or_else(|e| e.into_inner());
            state.reading -= 1;
            if let Some((number, found)) = self.finished.take()
                && state
                    .finished
                    .as_ref()
                    .is_none_or(|(last, _)| number > *last)
            {
                state.finished = Some((number, found));
            }
        }
        self.reads.ended.notify_waiters();
    }
}

/// One per process, shared by the API's requests.
pub struct QuestionPages {
    inner: Mutex<Pages>,
    versions: Versions,
}

impl Default for QuestionPages {
    fn default() -> Self {
        Self::checked_in_database()
    }
}

impl QuestionPages {
    /// Pages checked against `teams.content_version` for every request.
    pub fn checked_in_database() -> Self {
        Self {
            inner: Mutex::default(),
            versions: Versions::Database(VersionReads::default()),
        }
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
            Versions::Database(_) => None,
            Versions::CountedHere(counts) => {
                let counts = counts.lock().unwrap_or_else(|e| e.into_inner());
                Some(counts.get(&team_id).copied().unwrap_or(0))
            }
        }
    }

    /// The team's version from `teams.content_version` (`read` reads it), as of a moment after
    /// this call began: a write that committed before the request came is always seen. The
    /// read may be one that another request started, once this one was waiting
    /// (`VersionReads`).
    pub async fn read_version<F, Fut>(&self, team_id: i64, read: F) -> Result<Option<i64>, DbErr>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<i64>, DbErr>>,
    {
        match &self.versions {
            Versions::Database(reads) => reads.team(team_id).read(read).await,
            Versions::CountedHere(_) => read().await,
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

    #[tokio::test]
    async fn requests_share_a_version_read_only_if_it_started_after_they_came() {
        use std::sync::atomic::AtomicI64;
        use tokio::sync::oneshot;

        let pages = Arc::new(QuestionPages::checked_in_database());
        // What the database holds, and how many reads were made.
        let stored = Arc::new(AtomicI64::new(1));
        let reads = Arc::new(AtomicU64::new(0));
        let read = |release: Option<oneshot::Receiver<()>>| {
            let (stored, reads) = (stored.clone(), reads.clone());
            move || async move {
                reads.fetch_add(1, Ordering::SeqCst);
                // The query's snapshot is taken when it is sent...
                let seen = stored.load(Ordering::SeqCst);
                // ...and its answer may take a while.
                if let Some(release) = release {
                    release.await.unwrap();
                }
                Ok(Some(seen))
            }
        };

        // As many reads as may run at once are under way (they saw version 1)...
        let mut under_way = Vec::new();
        for n in 1..=READS_AT_ONCE {
            let (release, held) = oneshot::channel();
            let task = tokio::spawn({
                let (pages, read) = (pages.clone(), read(Some(held)));
                async move { pages.read_version(KEY.team_id, read).await }
            });
            while reads.load(Ordering::SeqCst) < n as u64 {
                tokio::task::yield_now().await;
            }
            under_way.push((release, task));
        }
        // ...when a write commits, and then three requests come.
        stored.store(2, Ordering::SeqCst);
        let later: Vec<_> = (0..3)
            .map(|_| {
                let (pages, read) = (pages.clone(), read(None));
                tokio::spawn(async move { pages.read_version(KEY.team_id, read).await })
            })
            .collect();
        tokio::task::yield_now().await;
        // The last to start ends first: it started before the three came, so they do not take it.
        for (release, task) in under_way.into_iter().rev() {
            release.send(()).unwrap();
            assert_eq!(task.await.unwrap(), Ok(Some(1)));
        }
        for request in later {
            assert_eq!(
                request.await.unwrap(),
                Ok(Some(2)),
                "a request never takes a read that was under way when it came"
            );
        }
        assert_eq!(
            reads.load(Ordering::SeqCst),
            READS_AT_ONCE as u64 + 1,
            "the three later requests shared one read"
        );
        // Alone, a request reads for itself.
        stored.store(3, Ordering::SeqCst);
        assert_eq!(
            pages.read_version(KEY.team_id, read(None)).await,
            Ok(Some(3))
        );
    }

    /// A request whose read of the version has begun and answers `found` once released.
    async fn read_held_open(
        pages: &Arc<QuestionPages>,
        found: i64,
    ) -> (
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<Result<Option<i64>, DbErr>>,
    ) {
        let (started, read_started) = tokio::sync::oneshot::channel::<()>();
        let (release, held) = tokio::sync::oneshot::channel::<()>();
        let request = tokio::spawn({
            let pages = pages.clone();
            async move {
                pages
                    .read_version(KEY.team_id, || async move {
                        started.send(()).unwrap();
                        let _ = held.await;
                        Ok(Some(found))
                    })
                    .await
            }
        });
        read_started.await.unwrap();
        (release, request)
    }

    #[tokio::test]
    async fn a_failed_version_read_fails_the_requests_that_waited_for_it_and_no_later_one() {
        let pages = Arc::new(QuestionPages::checked_in_database());
        let lost = || DbErr::Custom("connection lost".into());
        // Every place is taken by a read under way when two requests come...
        let under_way: Vec<_> = {
            let mut v = Vec::new();
            for found in 1..=READS_AT_ONCE as i64 {
                v.push(read_held_open(&pages, found).await);
            }
            v
        };
        let failing_reads = Arc::new(AtomicU64::new(0));
        let waiting: Vec<_> = (0..2)
            .map(|_| {
                let (pages, failing_reads) = (pages.clone(), failing_reads.clone());
                tokio::spawn(async move {
                    pages
                        .read_version(KEY.team_id, || async move {
                            failing_reads.fetch_add(1, Ordering::SeqCst);
                            Err(lost())
                        })
                        .await
                })
            })
            .collect();
        tokio::task::yield_now().await;
        // ...and when a place frees, the read one of them starts fails: the other, which
        // waited for the same read, fails with it instead of reading again.
        for (release, request) in under_way.into_iter().rev() {
            release.send(()).unwrap();
            request.await.unwrap().unwrap();
        }
        for request in waiting {
            assert_eq!(request.await.unwrap(), Err(lost()));
        }
        assert_eq!(failing_reads.load(Ordering::SeqCst), 1);
        // A request that comes after the failure reads again.
        let next = pages
            .read_version(KEY.team_id, || async { Ok(Some(4)) })
            .await;
        assert_eq!(next, Ok(Some(4)));
    }

    #[tokio::test]
    async fn a_read_whose_request_went_away_holds_up_no_one() {
        let pages = Arc::new(QuestionPages::checked_in_database());
        let mut abandoned = Vec::new();
        for found in 1..=READS_AT_ONCE as i64 {
            let (release, request) = read_held_open(&pages, found).await;
            request.abort();
            abandoned.push(release);
        }
        let next = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            pages.read_version(KEY.team_id, || async { Ok(Some(5)) }),
        )
        .await
        .expect("the next request reads instead of waiting for ever");
        assert_eq!(next, Ok(Some(5)));
    }

    #[tokio::test]
    async fn a_slow_read_holds_up_no_one_who_came_after_it() {
        let pages = Arc::new(QuestionPages::checked_in_database());
        let (release, slow) = read_held_open(&pages, 1).await;
        let next = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            pages.read_version(KEY.team_id, || async { Ok(Some(2)) }),
        )
        .await
        .expect("a request that came during a slow read gets another read");
        assert_eq!(next, Ok(Some(2)));
        release.send(()).unwrap();
        assert_eq!(slow.await.unwrap(), Ok(Some(1)));
        assert_eq!(
            pages
                .read_version(KEY.team_id, || async { Ok(Some(3)) })
                .await,
            Ok(Some(3)),
            "the slow read, ending last, does not pass for a newer one"
        );
    }
}
