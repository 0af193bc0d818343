//! balai-store against real SQLite files in temporary directories.

mod audit;
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

pub fn open(path: &std::path::Path) -> Store {
    Store::open(path).unwrap()
}

pub fn ctx() -> balai_store::WriteCtx {
    balai_store::WriteCtx { now_ms: 1_782_892_800_000, user_id: "u-test".into() }
}
