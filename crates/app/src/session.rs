//! Who is calling: signed-in users' sessions (in memory, never on disk) and the CLI operator.

use crate::error::{ApiError, ErrorCode};
use balai_domain::Role;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// The identity a command runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `None` for the command-line operator.
    pub user_id: Option<Uuid>,
    /// Login name, or `cli:<os user>`.
    pub name: String,
    pub role: Role,
}

impl Actor {
    /// Whoever runs the `balai` command on the machine holding the database file. They can
    /// read and write the file anyway, so they act as admin; every action is still audited
    /// under `cli:<os user>` (docs/adr/0002).
    pub fn operator(os_user: &str) -> Actor {
        Actor { user_id: None, name: format!("cli:{os_user}"), role: Role::Admin }
    }

    pub(crate) fn audit_id(&self) -> String {
        self.user_id.map(|u| u.to_string()).unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
struct Session {
    actor: Actor,
    last_active: DateTime<Utc>,
    locked: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.by_token.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn start(&self, token: String, actor: Actor, now: DateTime<Utc>) {
        self.map().insert(token, Session { actor, last_active: now, locked: false });
    }

    /// Resolves a token to its actor and marks the session active. A session idle longer than
    /// `idle` locks and stays locked until [`Sessions::unlock`].
    pub(crate) fn touch(
        &self,
        token: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Actor, ApiError> {
        let mut map = self.map();
        let s = map.get_mut(token).ok_or_else(ApiError::unauthenticated)?;
        if !s.locked && now - s.last_active > idle {
            s.locked = true;
        }
        if s.locked {
            return Err(ApiError::new(
                ErrorCode::SessionLocked,
                "Sesi terkunci karena tidak ada aktivitas. Masukkan kata sandi untuk melanjutkan.",
            ));
        }
        s.last_active = now;
        Ok(s.actor.clone())
    }

    /// The actor of a session whether or not it is locked (for unlocking).
    pub(crate) fn actor_of(&self, token: &str) -> Option<Actor> {
        self.map().get(token).map(|s| s.actor.clone())
    }

    pub(crate) fn unlock(&self, token: &str, now: DateTime<Utc>) {
        if let Some(s) = self.map().get_mut(token) {
            s.locked = false;
            s.last_active = now;
        }
    }

    /// Ends every session (the database was replaced by a backup: its users may differ).
    pub(crate) fn end_every(&self) {
        self.map().clear();
    }

    pub(crate) fn end(&self, token: &str) {
        self.map().remove(token);
    }

    /// Ends every session of a user (disabled, or password changed by an admin).
    pub(crate) fn end_all_of(&self, user_id: Uuid) {
        self.map().retain(|_, s| s.actor.user_id != Some(user_id));
    }
}
