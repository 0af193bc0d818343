//! `balai sync …` against a real Balai Kota process on 127.0.0.1:0.

use crate::letters::office_with_one_resident;
use crate::run;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The `balai-kota` binary next to `balai`, built (or found fresh) by cargo.
fn kota_bin() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let ok = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "-q", "-p", "balai-kota"])
        .status()
        .unwrap();
    assert!(ok.success(), "cargo build -p balai-kota");
    Path::new(env!("CARGO_BIN_EXE_balai")).with_file_name("balai-kota")
}

struct Kota {
    _dir: tempfile::TempDir,
    db: PathBuf,
    child: Child,
    url: String,
}

impl Kota {
    fn start() -> Kota {
        let bin = kota_bin();
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kota.sqlite");
        let ok = Command::new(&bin)
            .arg("--db")
            .arg(&db)
            .args(["kelurahan", "add", "--code", "18.72.04.1004", "--name", "Yosorejo"])
            .status()
            .unwrap();
        assert!(ok.success());
        let mut child = Command::new(&bin)
            .arg("--db")
            .arg(&db)
            .args(["--json", "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url =
            serde_json::from_str::<Value>(&line).unwrap()["address"].as_str().unwrap().to_string();
        Kota { _dir: dir, db, child, url }
    }

    fn code(&self) -> String {
        let out = Command::new(kota_bin())
            .arg("--db")
            .arg(&self.db)
            .args(["--json", "enrol", "--kelurahan", "18.72.04.1004"])
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["code"].as_str().unwrap().to_string()
    }

    /// (rows the server holds for the kelurahan, feed entries).
    fn counts(&self) -> (i64, i64) {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        let rows = c
            .query_row("SELECT count(DISTINCT row_id) FROM row_groups WHERE kelurahan_code = '18.72.04.1004'", [], |r| r.get(0))
            .unwrap();
        let feed = c.query_row("SELECT count(*) FROM feed", [], |r| r.get(0)).unwrap();
        (rows, feed)
    }
}

impl Drop for Kota {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_office_enrols_with_the_citys_code_and_pushes_its_register_once() {
    let kota = Kota::start();
    let (_dir, db) = office_with_one_resident();
    let status = run(&db, &["--json", "sync", "status"]).json();
    assert_eq!(status["enrolled"], false);
    let pending = status["pending"].as_u64().unwrap();
    assert!(pending >= 1, "{status}");
    let not_yet = run(&db, &["--json", "sync", "now"]);
    assert_eq!(not_yet.error_json()["error"]["code"], "not_initialized", "{}", not_yet.stderr);

    let wrong =
        run(&db, &["--json", "sync", "enrol", "--server", &kota.url, "--code", "AAAAA-BBBBB"]);
    assert_eq!(
        wrong.error_json()["error"]["fields"][0]["code"],
        "code_invalid",
        "{}",
        wrong.stderr
    );
    let enrolled =
        run(&db, &["--json", "sync", "enrol", "--server", &kota.url, "--code", &kota.code()]);
    assert_eq!(enrolled.status, 0, "{}", enrolled.stderr);
    assert_eq!(enrolled.json()["kelurahan_code"], "18.72.04.1004");
    // From now on this PC's changes carry the id the city gave it, the earlier ones too.
    let device = enrolled.json()["device_id"].as_str().unwrap().to_string();
    let ids = |db: &Path| -> Vec<String> {
        let c = rusqlite::Connection::open(db).unwrap();
        let mut st = c
            .prepare("SELECT DISTINCT device_id FROM _sync_outbox UNION SELECT DISTINCT device_id FROM _sync_clock")
            .unwrap();
        let rows = st.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert_eq!(ids(&db), [device.clone()]);
    let again =
        run(&db, &["--json", "sync", "enrol", "--server", &kota.url, "--code", &kota.code()]);
    assert_eq!(again.error_json()["error"]["code"], "conflict", "enrolled once");

    let report = run(&db, &["--json", "sync", "now"]);
    assert_eq!(report.status, 0, "{}", report.stderr);
    let report = report.json();
    assert_eq!(
        (report["pushed"].as_u64(), report["rejected"].as_u64()),
        (Some(pending), Some(0)),
        "{report}"
    );
    assert_eq!(report["pending"], 0);
    let (rows, feed) = kota.counts();
    assert!(rows >= 2, "the resident and the family reached the city: {rows}");

    // A change after the push goes on the next round, alone.
    let moved = run(
        &db,
        &[
            "residents",
            "event",
            "1872040101800002",
            "--type",
            "pindah_keluar",
            "--date",
            "01-11-2026",
        ],
    );
    assert_eq!(moved.status, 0, "{}", moved.stderr);
    let report = run(&db, &["--json", "sync", "now"]).json();
    assert!(report["pushed"].as_u64().unwrap() >= 1, "{report}");
    let (_, feed_after) = kota.counts();
    assert!(feed_after > feed);
    assert_eq!(ids(&db), [device.clone()], "a change made after enrolment carries the city's id");

    // The PC forgets what the server acknowledged (its answers were lost): pushing again
    // changes nothing on the server.
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute("UPDATE _sync_state SET value = '0' WHERE key = 'pushed_through'", []).unwrap();
    drop(c);
    let report = run(&db, &["--json", "sync", "now"]).json();
    assert_eq!(report["pending"], 0, "{report}");
    assert_eq!(kota.counts().1, feed_after, "repeats add nothing to the feed");
    let status = run(&db, &["--json", "sync", "status"]).json();
    assert_eq!(
        (status["enrolled"].as_bool(), status["pending"].as_u64()),
        (Some(true), Some(0)),
        "{status}"
    );
    assert!(status["last_push_ms"].as_u64().is_some());
}

#[test]
fn with_the_server_gone_changes_wait_and_the_clerk_is_told() {
    let mut kota = Kota::start();
    let (_dir, db) = office_with_one_resident();
    let enrolled =
        run(&db, &["--json", "sync", "enrol", "--server", &kota.url, "--code", &kota.code()]);
    assert_eq!(enrolled.status, 0, "{}", enrolled.stderr);
    let _ = kota.child.kill();
    let _ = kota.child.wait();
    let pending = run(&db, &["--json", "sync", "status"]).json()["pending"].as_u64().unwrap();
    let down = run(&db, &["--json", "sync", "now"]);
    assert_eq!(down.error_json()["error"]["code"], "not_available", "{}", down.stderr);
    assert!(down.stderr.contains("tidak terjangkau"), "{}", down.stderr);
    assert_eq!(run(&db, &["--json", "sync", "status"]).json()["pending"].as_u64(), Some(pending));
}
