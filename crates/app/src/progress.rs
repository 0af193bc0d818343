//! How far a long command has got (an import of a whole register), for a UI that asks while
//! the command runs: the command is called with a `progress_id` the caller picks, and
//! `progress.get` with that id answers `{phase, done, total}` from another request.
//!
//! Progress lives in memory only (it describes a running request, not the office's data) and
//! is visible to the user who started the task alone. The last [`KEPT`] tasks are kept after
//! they finish, so a poll that arrives after the end still reads `done`.

use crate::error::ApiError;
use crate::session::Actor;
use crate::{App, Ctx};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

/// Finished tasks remembered (a UI polls a few times a second, so a handful is plenty).
const KEPT: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// `reading` (the file), `rows` (checking and writing rows), `indexing` (rebuilding the
    /// search indexes after a bulk write), `saving` (the commit), `done` or `failed`.
    pub phase: String,
    /// Rows handled so far in `rows`; equal to `total` from `indexing` on.
    pub done: u64,
    pub total: u64,
}

#[derive(Debug)]
struct Task {
    id: String,
    /// Who started it: only they may read it.
    owner: String,
    step: Step,
}

#[derive(Debug, Default)]
pub(crate) struct Progress {
    tasks: Mutex<VecDeque<Task>>,
}

impl Progress {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Task>> {
        // A panic while holding this lock leaves only a progress figure behind: keep going.
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts tracking task `id` for `actor`; with no id, the returned tracker records nothing.
    pub(crate) fn start(&self, id: Option<&str>, actor: &Actor) -> Tracker<'_> {
        let id = id.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(id) = &id {
            let mut tasks = self.lock();
            tasks.retain(|t| t.id != *id);
            tasks.push_back(Task {
                id: id.clone(),
                owner: owner_of(actor),
                step: Step { phase: "reading".into(), done: 0, total: 0 },
            });
            while tasks.len() > KEPT {
                tasks.pop_front();
            }
        }
        Tracker { progress: self, id, finished: false }
    }
}

fn owner_of(actor: &Actor) -> String {
    actor.user_id.map(|u| u.to_string()).unwrap_or_else(|| actor.name.clone())
}

/// Updates one task; when dropped before [`Tracker::finish`] (an error), the task reads `failed`.
pub(crate) struct Tracker<'a> {
    progress: &'a Progress,
    id: Option<String>,
    finished: bool,
}

impl Tracker<'_> {
    fn update(&self, f: impl FnOnce(&mut Step)) {
        let Some(id) = &self.id else { return };
        if let Some(t) = self.progress.lock().iter_mut().find(|t| t.id == *id) {
            f(&mut t.step);
        }
    }

    pub(crate) fn set(&self, phase: &str, done: u64, total: u64) {
        self.update(|step| *step = Step { phase: phase.into(), done, total });
    }

    pub(crate) fn finish(mut self, total: u64) {
        self.set("done", total, total);
        self.finished = true;
    }
}

impl Drop for Tracker<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.update(|step| step.phase = "failed".into());
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GetArgs {
    pub id: String,
}

/// `progress.get`: the last step of the caller's task `id`.
pub fn get(app: &App, ctx: &Ctx, a: GetArgs) -> Result<Step, ApiError> {
    let owner = owner_of(ctx.actor()?);
    app.progress
        .lock()
        .iter()
        .find(|t| t.id == a.id && t.owner == owner)
        .map(|t| t.step.clone())
        .ok_or_else(|| ApiError::not_found("Tugas itu"))
}
