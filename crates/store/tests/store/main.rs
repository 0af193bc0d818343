//! balai-store against real SQLite files in temporary directories.

mod audit;
mod cipher;
mod leases;
mod migrations;
mod pull;
mod register;

use balai_store::Store;
use std::path::PathBuf;

pub fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("office.sqlite");
    (dir, path)
}

/// The key of every test database (tests of the key itself use others).
pub const TEST_KEY: [u8; 32] = [7; 32];

pub fn open(path: &std::path::Path) -> Store {
    Store::open(path, &TEST_KEY).unwrap()
}

/// A raw connection to a database encrypted with `key`, beneath the store.
pub fn keyed(path: &std::path::Path, key: &[u8; 32]) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(&balai_store::cipher::key_pragma(key)).unwrap();
    conn
}

pub fn ctx() -> balai_store::WriteCtx {
    balai_store::WriteCtx { now_ms: 1_782_892_800_000, user_id: "u-test".into() }
}
