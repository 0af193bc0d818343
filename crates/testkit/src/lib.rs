//! balai-testkit: what tests need and production never does.
//!
//! What it does: a [`FixedClock`] tests can move, and [`TestApp`] (a real [`balai_app::App`]
//! on a real SQLite file in a temporary directory) with one `call` helper that goes through the
//! same dispatch as the UI; [`cups::PrivateCups`], a real CUPS scheduler of the test's own for
//! print tests; [`kota::Kota`], a real Balai Kota process on loopback for sync tests, on SQLite
//! or on a database of [`pg`]'s throwaway PostgreSQL cluster.
//!
//! What it does not do: no mocks of the store or the app; it is a dev-dependency only.

#[cfg(unix)]
pub mod cups;
pub mod kota;
#[cfg(unix)]
pub mod pg;

use balai_app::{dispatch, ApiError, App, Caller, Clock};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn at(t: DateTime<Utc>) -> Arc<FixedClock> {
        Arc::new(FixedClock(Mutex::new(t)))
    }
    /// 2026-07-01 08:00 UTC, a working day.
    pub fn default_start() -> Arc<FixedClock> {
        Self::at(Utc.with_ymd_and_hms(2026, 7, 1, 8, 0, 0).single().expect("valid date"))
    }
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().expect("clock lock");
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().expect("clock lock")
    }
}

/// A real app on a temporary database file.
pub struct TestApp {
    pub app: App,
    pub clock: Arc<FixedClock>,
    pub dir: tempfile::TempDir,
    /// The database's key (a new random one: every test database is encrypted).
    pub key: balai_app::DbKey,
}

impl TestApp {
    /// An empty database.
    pub fn empty() -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let clock = FixedClock::default_start();
        let key = balai_app::DbKey::generate();
        let app =
            App::open(&dir.path().join("balai.sqlite"), &key, clock.clone()).expect("open app");
        TestApp { app, clock, dir, key }
    }

    /// The demo office (profile, signatories, one user per role; see balai_app demo).
    pub fn demo() -> TestApp {
        let t = TestApp::empty();
        t.operator("demo.seed", json!({})).expect("demo seed");
        t
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("balai.sqlite")
    }

    /// The statement that gives a raw SQLite connection this database's key (for tests that
    /// look at the file beneath the app).
    pub fn key_pragma(&self) -> String {
        key_pragma(&self.key)
    }

    /// Runs a command as the CLI operator.
    pub fn operator(&self, command: &str, args: Value) -> Result<Value, ApiError> {
        dispatch(&self.app, &Caller::Operator("test".into()), command, args)
    }

    /// Runs a command with a session token (or none), as the UI does.
    pub fn call(&self, token: Option<&str>, command: &str, args: Value) -> Result<Value, ApiError> {
        dispatch(&self.app, &Caller::Session(token.map(str::to_string)), command, args)
    }

    /// Logs in and returns the session token.
    pub fn login(&self, username: &str, password: &str) -> String {
        let out = self
            .call(None, "auth.login", json!({"username": username, "password": password}))
            .expect("login");
        out["token"].as_str().expect("token").to_string()
    }
}

/// `PRAGMA key` for a raw connection to a database encrypted with `key`.
pub fn key_pragma(key: &balai_app::DbKey) -> String {
    format!("PRAGMA key = \"x'{}'\";", hex_of(key.bytes()))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
