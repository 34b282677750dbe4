//! Loop status views kept in memory, trusted only while the database agrees.
//!
//! `GET /loops/{id}` is the hottest read: the interviews, who holds them,
//! their feedback's *state* (never its content), progress and decision. It
//! took nine statements to build. A kept copy is keyed by two numbers the
//! database owns and its own triggers move — the loop's `version`, moved by
//! every write to the loop row, its interviews and their competencies, its
//! required competencies, its feedback rows and quick votes, and the
//! generation of the names a view shows, moved whenever a person, candidate
//! or competency is renamed, erased or deleted — and is
//! used only after one statement ([`db::loops::view_key`]) reads both and
//! finds them equal. So a write through any code path, or through another
//! server process on the same PostgreSQL database, is seen by the next read;
//! nothing is ever invalidated by a message that could be lost.
//!
//! What a kept view holds is the same for every reader: no feedback content,
//! no quick vote, nothing the visibility policy decides per reader. Who may
//! see the loop at all is decided per request from the loop's audience kept
//! beside it ([`views::Audience`]). A kept view is kept serialized, the JSON
//! answer itself: a hit copies no string and serializes nothing. The only
//! part that changes with the clock, an interview's `overdue`, turns true
//! at the interview's `due_at` and never back while the key holds, so the
//! kept JSON says until when it is right and is rendered again from the
//! kept view the first time it is asked for after that.
//!
//! A key read before the loop is loaded can only be older than what is then
//! loaded: a copy kept under a key the database has since moved past is
//! never used again, so a view that raced a write is never served as current.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::web::Bytes;
use chrono::{DateTime, NaiveDateTime, Utc};

use crate::db::LoopId;
use crate::db::loops::LoopBundle;
use crate::domain::progress::InterviewFacts;
use crate::workflows::views::{self, Audience, Loop};

/// Views kept unless `BAR_RAISER_VIEW_CACHE` says otherwise: about 3 KB
/// each with six interviews.
pub const DEFAULT_VIEW_CACHE: usize = 4096;

/// The loop's `version` and the names' generation, as the database holds
/// them.
pub type ViewKey = (i32, i64);

/// One kept view.
pub struct Kept {
    key: ViewKey,
    pub audience: Audience,
    view: Loop,
    facts: Vec<InterviewFacts>,
    updated_at: NaiveDateTime,
    json: Mutex<Rendered>,
}

/// The view's JSON as of some moment, and until when it stays right.
struct Rendered {
    body: Bytes,
    /// After this instant an interview `body` says is not overdue is
    /// (the earliest such `due_at`); `None` when none will be while the
    /// key holds.
    stale_after: Option<DateTime<Utc>>,
}

impl Kept {
    pub fn new(key: ViewKey, b: &LoopBundle, view: Loop) -> Kept {
        let facts = views::all_facts(b);
        let json = Mutex::new(render(&view, &facts, crate::db::now()));
        Kept {
            key,
            audience: Audience::of(b),
            facts,
            updated_at: b.row.updated_at,
            view,
            json,
        }
    }

    /// The view's JSON as of now, and when its loop last changed.
    pub fn answer(&self) -> (NaiveDateTime, Bytes) {
        let now = crate::db::now();
        // Held only to clone a `Bytes` (a reference count) or, once per
        // interview falling due, to render again.
        let mut json = self.json.lock().unwrap_or_else(|e| e.into_inner());
        if json.stale_after.is_some_and(|at| now > at) {
            *json = render(&self.view, &self.facts, now);
        }
        (self.updated_at, json.body.clone())
    }
}

/// `view` as JSON at `now`, each interview's `overdue` computed for `now`.
fn render(view: &Loop, facts: &[InterviewFacts], now: DateTime<Utc>) -> Rendered {
    let (hours, state) = (view.feedback_due_hours, view.state);
    let mut view = view.clone();
    let mut stale_after: Option<DateTime<Utc>> = None;
    for (i, f) in view.interviews.iter_mut().zip(facts) {
        i.overdue = f.overdue(hours, state, now);
        if let Some(due) = f.late_after(hours, state).filter(|_| !i.overdue) {
            stale_after = Some(stale_after.map_or(due, |at| at.min(due)));
        }
    }
    let body = serde_json::to_vec(&view).expect("a loop view serializes");
    Rendered {
        body: Bytes::from(body),
        stale_after,
    }
}

/// The kept views of this process, at most `capacity`.
pub struct ViewCache {
    capacity: usize,
    kept: Mutex<HashMap<LoopId, Arc<Kept>>>,
}

impl ViewCache {
    pub fn new(capacity: usize) -> ViewCache {
        ViewCache {
            capacity,
            kept: Mutex::new(HashMap::new()),
        }
    }

    /// The view kept for `id`, if it was kept under `key`.
    pub fn get(&self, id: LoopId, key: ViewKey) -> Option<Arc<Kept>> {
        let found = self
            .lock()
            .get(&id)
            .filter(|k| k.key == key)
            .map(Arc::clone);
        crate::metrics::view_cache(if found.is_some() { "hit" } else { "miss" });
        found
    }

    /// Keeps `kept` for `id` unless a copy under a newer key is already
    /// there. When full, an arbitrary other view makes room (the hash map's
    /// order is random per process): no bookkeeping on the read path.
    pub fn keep(&self, id: LoopId, kept: Kept) {
        if self.capacity == 0 {
            return;
        }
        let mut map = self.lock();
        if map.get(&id).is_some_and(|old| old.key > kept.key) {
            return;
        }
        if map.len() >= self.capacity
            && !map.contains_key(&id)
            && let Some(victim) = map.keys().next().copied()
        {
            map.remove(&victim);
        }
        map.insert(id, Arc::new(kept));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<LoopId, Arc<Kept>>> {
        // A panic while holding the lock leaves nothing half-written: every
        // change is one insert or remove.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}
