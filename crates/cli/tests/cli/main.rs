//! The `balai` binary as scripts use it: real processes, real database files.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod backup;
mod commands;
mod contest;
mod crashes;
mod faults;
mod hostile;
mod keys;
mod letters;
mod privacy;
mod register;
mod serve;
mod storage;
mod sync;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
    pub fn error_json(&self) -> Value {
        serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}): {}", self.stderr))
    }
}

/// `balai`, keeping database keys in this test run's own key files (the operating system's key
/// store is tested in balai-keys, and the desktop suite runs on it).
pub fn balai() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_balai"));
    c.env("BALAI_KEY_STORE", format!("file:{}", key_dir().display()));
    c
}

pub fn key_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// A raw SQLite connection to an office database the CLI made (with the key it kept), to look
/// beneath the app; `None` while the key or the file is not there yet.
pub fn try_office_db(db: &Path) -> Option<rusqlite::Connection> {
    let key = balai_app::KeyStore::files(key_dir().to_path_buf()).load(db).ok()??;
    let conn = rusqlite::Connection::open(db).ok()?;
    conn.execute_batch(&balai_store::cipher::key_pragma(key.bytes())).ok()?;
    Some(conn)
}

pub fn office_db(db: &Path) -> rusqlite::Connection {
    try_office_db(db).unwrap_or_else(|| panic!("no key kept for {}", db.display()))
}

pub fn run(db: &Path, args: &[&str]) -> Run {
    run_with_stdin(db, args, "")
}

pub fn run_with_stdin(db: &Path, args: &[&str], stdin: &str) -> Run {
    run_in(db, args, stdin, &[])
}

/// `balai --db DB ARGS…` with extra environment variables (e.g. `CUPS_SERVER`).
pub fn run_in(db: &Path, args: &[&str], stdin: &str, env: &[(&str, &std::ffi::OsStr)]) -> Run {
    use std::io::Write;
    let mut child = balai()
        .arg("--db")
        .arg(db)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("BALAI_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    Run {
        status: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

pub fn demo_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("office.sqlite");
    let r = run(&db, &["demo", "seed"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    (dir, db)
}
