//! Crashes: a `balai` process killed with SIGKILL at a random moment while it imports a
//! register, while it issues a letter, and while it migrates (and encrypts) a database of an
//! earlier build — many times each. After every kill the database passes `PRAGMA
//! integrity_check` and opens in the app; an import is there whole or not at all; every letter a
//! process reported as issued is there, and no letter is half-written; a migration leaves the
//! old file or the new one, with all its content.
//!
//! Rounds per case: `BALAI_CRASH_ROUNDS` (default 25; `cargo xtask soak` runs 300). The seed of
//! the kill moments is printed; `BALAI_CRASH_SEED` replays one.

use crate::{balai, office_db, run};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn rounds() -> usize {
    std::env::var("BALAI_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(25)
}

/// Kill moments: xorshift from a printed seed.
struct Moments(u64);

impl Moments {
    fn new(case: &str) -> Moments {
        let seed = std::env::var("BALAI_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::UNIX_EPOCH
                    .elapsed()
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
                    | 1
            });
        eprintln!("crashes/{case}: seed {seed} (BALAI_CRASH_SEED={seed} replays it)");
        Moments(seed)
    }
    /// A moment in `0..=1.3 × window`: most fall inside the work, some after it (so some
    /// processes finish and report).
    fn next(&mut self, window: Duration) -> Duration {
        let within = window.mul_f64(1.3);
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        within.mul_f64((self.0 % 10_001) as f64 / 10_000.0)
    }
}

/// Runs `child` until `at`, then kills it (SIGKILL) unless it finished: whether it finished,
/// with its stdout.
fn kill_at(mut child: Child, at: Duration) -> (bool, String) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
            return (status.success(), out);
        }
        if started.elapsed() >= at {
            child.kill().unwrap();
            child.wait().unwrap();
            return (false, String::new());
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

fn spawn(db: &Path, args: &[&str]) -> Child {
    balai()
        .arg("--db")
        .arg(db)
        .args(args)
        .env("BALAI_PASSWORD", "demo-lurah")
        .env_remove("BALAI_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// How long `args` takes when left alone (the window kill moments are drawn from).
fn duration_of(db: &Path, args: &[&str]) -> Duration {
    let t = Instant::now();
    let (ok, _) = kill_at(spawn(db, args), Duration::from_secs(120));
    assert!(ok, "balai {args:?} did not succeed when left alone");
    t.elapsed()
}

fn integrity(db: &Path) -> String {
    office_db(db).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    office_db(db).query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Puts `template`'s bytes back at `db` (its WAL and shared memory gone, as after a clean close).
fn reset(template: &Path, db: &Path) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::copy(template, db).unwrap();
}

#[test]
fn an_import_killed_at_any_moment_is_there_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.sqlite");
    assert_eq!(run(&source, &["demo", "seed", "--residents", "8000", "--seed", "3"]).status, 0);
    let csv = dir.path().join("register.csv");
    let r = run(&source, &["residents", "export", csv.to_str().unwrap(), "--full"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let db = dir.path().join("office.sqlite");
    assert_eq!(run(&db, &["demo", "seed", "--residents", "0"]).status, 0);
    let template = dir.path().join("template.sqlite");
    std::fs::copy(&db, &template).unwrap();
    let import = ["residents", "import", csv.to_str().unwrap()];
    let window = duration_of(&db, &import);
    assert_eq!(count(&db, "SELECT count(*) FROM residents"), 8000);

    let mut moments = Moments::new("import");
    let (mut whole, mut none, mut killed) = (0, 0, 0);
    for round in 0..rounds() {
        reset(&template, &db);
        let (finished, _) = kill_at(spawn(&db, &import), moments.next(window));
        killed += usize::from(!finished);
        assert_eq!(integrity(&db), "ok", "round {round}");
        let n = count(&db, "SELECT count(*) FROM residents");
        match n {
            8000 => whole += 1,
            0 => none += 1,
            _ => panic!("round {round}: {n} of 8000 residents after a kill"),
        }
        if finished {
            assert_eq!(n, 8000, "round {round}: reported done");
        }
        // The name index holds exactly the register (FTS5's own check, with the rows), and the
        // app opens it.
        balai_store::register::check_name_index(&office_db(&db))
            .unwrap_or_else(|e| panic!("round {round}: name index: {e}"));
        let r = run(&db, &["--json", "residents", "search", "a", "--limit", "1"]);
        assert_eq!(r.status, 0, "round {round}: {}", r.stderr);
    }
    eprintln!(
        "crashes/import: {} runs, {killed} killed: {whole} whole, {none} not at all",
        rounds()
    );
}

#[test]
fn a_letter_reported_issued_survives_any_kill_and_none_is_half_written() {
    let (_dir, db) = crate::letters::office_with_one_resident();
    let issue = crate::letters::ISSUE_DOMISILI;
    let window = duration_of(&db, &issue);
    let mut reported = vec![];
    let mut moments = Moments::new("letters");
    for round in 0..rounds() {
        let (finished, out) = kill_at(spawn(&db, &issue), moments.next(window));
        if finished {
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            reported.push(v["number"].as_str().unwrap().to_string());
        }
        assert_eq!(integrity(&db), "ok", "round {round}");
    }
    let conn = office_db(&db);
    let mut st = conn.prepare("SELECT number FROM letters WHERE number IS NOT NULL").unwrap();
    let stored: Vec<String> = st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    for n in &reported {
        assert!(stored.contains(n), "{n} was reported issued and is not there");
    }
    let half: i64 = conn
        .query_row(
            "SELECT count(*) FROM letters WHERE status IN ('terbit', 'diambil')
             AND (pdf IS NULL OR payload IS NULL OR content IS NULL OR signer IS NULL)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(half, 0, "letters issued without their PDF, QR text or signer");
    // The audit trail (written in each letter's transaction) is whole.
    let verify = run(&db, &["--json", "audit", "verify"]);
    assert_eq!(verify.status, 0, "{}", verify.stdout);
    eprintln!(
        "crashes/letters: {} runs, {} killed; {} letters reported issued, {} stored",
        rounds(),
        rounds() - reported.len(),
        reported.len(),
        stored.len()
    );
}

#[test]
fn a_migration_killed_at_any_moment_leaves_the_old_file_or_the_new_with_all_of_it() {
    const ROWS: i64 = 40_000;
    let dir = tempfile::tempdir().unwrap();
    // A plain database of an earlier build, two schema versions back, with content.
    let template = dir.path().join("template.sqlite");
    {
        let conn = rusqlite::Connection::open(&template).unwrap();
        balai_store::migrations::apply(&conn, 0, balai_store::migrations::LATEST - 2).unwrap();
        conn.execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
             INSERT INTO settings (key, value) SELECT 'lama-' || i, hex(randomblob(120)) FROM n;"
        ))
        .unwrap();
    }
    let db = dir.path().join("office.sqlite");
    reset(&template, &db);
    let open = ["--json", "call", "app.info"];
    let window = duration_of(&db, &open);
    let mut moments = Moments::new("migration");
    let (mut old, mut new, mut killed) = (0, 0, 0);
    for round in 0..rounds() {
        reset(&template, &db);
        let (finished, _) = kill_at(spawn(&db, &open), moments.next(window));
        killed += usize::from(!finished);
        if balai_store::cipher::is_plain(&db).unwrap() {
            assert!(!finished, "round {round}: reported done, still plain");
            let plain = rusqlite::Connection::open(&db).unwrap();
            let check: String =
                plain.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
            assert_eq!(check, "ok", "round {round}");
            old += 1;
        } else {
            assert_eq!(integrity(&db), "ok", "round {round}");
            new += 1;
        }
        // Opened again, it is whole and current, with everything it held.
        let info = run(&db, &open);
        assert_eq!(info.status, 0, "round {round}: {}", info.stderr);
        assert_eq!(info.json()["schema_version"], balai_store::migrations::LATEST);
        assert_eq!(count(&db, "SELECT count(*) FROM settings WHERE key LIKE 'lama-%'"), ROWS);
    }
    eprintln!(
        "crashes/migration: {} runs, {killed} killed: {old} left plain and old, {new} encrypted",
        rounds()
    );
}
