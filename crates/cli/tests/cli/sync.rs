//! `balai sync …` against a real Balai Kota process on 127.0.0.1:0.

use crate::letters::office_with_one_resident;
use crate::run;
use balai_testkit::kota::Kota;
use serde_json::Value;
use std::path::Path;

/// What these tests ask of the city server beyond starting and stopping it.
trait CityServer {
    /// Enrols the office database `db` with a fresh code; the `sync enrol` answer.
    fn enrol(&self, db: &Path) -> Value;
    /// (rows the server holds for the kelurahan, feed entries).
    fn counts(&self) -> (i64, i64);
}

impl CityServer for Kota {
    fn enrol(&self, db: &Path) -> Value {
        let r =
            run(db, &["--json", "sync", "enrol", "--server", &self.url, "--code", &self.code()]);
        assert_eq!(r.status, 0, "{}", r.stderr);
        r.json()
    }

    fn counts(&self) -> (i64, i64) {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        let rows = c
            .query_row("SELECT count(DISTINCT row_id) FROM row_groups WHERE kelurahan_code = '18.72.04.1004'", [], |r| r.get(0))
            .unwrap();
        let feed = c.query_row("SELECT count(*) FROM feed", [], |r| r.get(0)).unwrap();
        (rows, feed)
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
        let c = crate::office_db(db);
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
    // Everything that waited, the office's letter types for the city's request form, and its
    // signing key (made when the office was set up).
    assert_eq!(
        (report["pushed"].as_u64(), report["rejected"].as_u64()),
        (Some(pending + 2), Some(0)),
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
    let c = crate::office_db(&db);
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
    kota.stop();
    let pending = run(&db, &["--json", "sync", "status"]).json()["pending"].as_u64().unwrap();
    let down = run(&db, &["--json", "sync", "now"]);
    assert_eq!(down.error_json()["error"]["code"], "not_available", "{}", down.stderr);
    assert!(down.stderr.contains("tidak terjangkau"), "{}", down.stderr);
    assert_eq!(run(&db, &["--json", "sync", "status"]).json()["pending"].as_u64(), Some(pending));
}

/// Every synced table's rows (all columns but the local write times), to compare two PCs.
fn register_dump(db: &Path) -> String {
    let c = crate::office_db(db);
    let mut out = String::new();
    for table in ["families", "residents", "resident_events"] {
        let mut st = c.prepare(&format!("SELECT * FROM {table} ORDER BY id")).unwrap();
        let names: Vec<String> = st.column_names().map(|s| s.to_string()).collect();
        let mut rows = st.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            out.push_str(table);
            for (i, n) in names.iter().enumerate() {
                if n != "created_at" && n != "updated_at" {
                    let v: rusqlite::types::Value = r.get(i).unwrap();
                    out.push_str(&format!(" {n}={v:?}"));
                }
            }
            out.push('\n');
        }
    }
    out
}

fn sync_now(db: &Path) -> Value {
    let r = run(db, &["--json", "sync", "now"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    r.json()
}

const RESIDENT: &str = "1872040101800002";

/// PC A (one resident) and an empty PC B of the same office, both enrolled with `kota` and
/// synced once (A first: B has A's register only if A syncs again before it; the tests that
/// need it sync on).
fn two_offices_synced(
    kota: &Kota,
) -> ((tempfile::TempDir, std::path::PathBuf), (tempfile::TempDir, std::path::PathBuf)) {
    let a = office_with_one_resident();
    let b = crate::demo_db();
    for db in [&a.1, &b.1] {
        kota.enrol(db);
        sync_now(db);
    }
    (a, b)
}

/// A city from before the first-sync snapshot, as a PC sees it: a relay to today's city that
/// answers `GET /v1/snapshot` as an unknown route (404, no body, as axum does) and passes every
/// other request on, one request per connection (closed after its answer).
struct CityWithoutSnapshot {
    url: String,
    refused: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl CityWithoutSnapshot {
    fn start(upstream: &str) -> CityWithoutSnapshot {
        use std::io::{Read, Write};
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let refused = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = refused.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(mut client) = client else { return };
                let (upstream, counter) = (upstream.clone(), counter.clone());
                std::thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") {
                        if client.read(&mut byte).unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let mut lines: Vec<&str> = head.trim_end().split("\r\n").collect();
                    let length: usize = lines
                        .iter()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    let mut body = vec![0u8; length];
                    if client.read_exact(&mut body).is_err() {
                        return;
                    }
                    if lines[0].starts_with("GET /v1/snapshot") {
                        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let _ = client.write_all(
                            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        );
                        return;
                    }
                    lines.retain(|l| !l.to_ascii_lowercase().starts_with("connection:"));
                    lines.insert(1, "connection: close");
                    let Ok(mut server) = std::net::TcpStream::connect(&upstream) else { return };
                    let request = format!("{}\r\n\r\n", lines.join("\r\n"));
                    if server
                        .write_all(request.as_bytes())
                        .and_then(|_| server.write_all(&body))
                        .is_ok()
                    {
                        let _ = std::io::copy(&mut server, &mut client);
                    }
                    let _ = client.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        CityWithoutSnapshot { url, refused }
    }
}

#[test]
fn a_new_pc_of_a_city_older_than_the_snapshot_takes_its_first_sync_from_the_whole_feed() {
    let kota = Kota::start();
    let (_a_dir, a) = office_with_one_resident();
    let (_b_dir, b) = crate::demo_db();
    kota.enrol(&a);
    sync_now(&a);
    let old = CityWithoutSnapshot::start(&kota.url);
    let r = run(&b, &["--json", "sync", "enrol", "--server", &old.url, "--code", &kota.code()]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let first = sync_now(&b);
    assert!(old.refused.load(std::sync::atomic::Ordering::SeqCst) > 0, "B asked for a snapshot");
    assert!(first["pulled"].as_u64().unwrap() >= 2, "the family and the resident: {first}");
    assert_eq!(register_dump(&a), register_dump(&b), "B has A's register");
    let status = run(&b, &["--json", "sync", "status"]).json();
    assert_eq!(status["first_sync_rows"], Value::Null, "{status}");
    let again = sync_now(&b);
    assert_eq!(again["pulled"], 0, "the feed is followed from where it stopped: {again}");
}

#[test]
fn two_pcs_of_one_office_converge_through_the_city_and_the_later_edit_wins_on_both() {
    let kota = Kota::start();
    let (_a_dir, a) = office_with_one_resident();
    let (_b_dir, b) = crate::demo_db();
    for db in [&a, &b] {
        kota.enrol(db);
    }
    sync_now(&a);
    let first = sync_now(&b);
    assert!(first["pulled"].as_u64().unwrap() >= 2, "the family and the resident: {first}");
    assert_eq!(first["held"], 0, "{first}");
    assert_eq!(register_dump(&a), register_dump(&b), "B has A's register");
    let found = run(&b, &["--json", "residents", "search", "wiryo"]).json();
    assert_eq!(found.as_array().map(Vec::len), Some(1), "found by name on B: {found}");

    // Offline, B records that he moved away; a little later A records his death.
    let event = |db: &Path, kind: &str| {
        let r = run(db, &["residents", "event", RESIDENT, "--type", kind, "--date", "01-11-2026"]);
        assert_eq!(r.status, 0, "{}", r.stderr);
    };
    event(&b, "pindah_keluar");
    std::thread::sleep(std::time::Duration::from_millis(5));
    event(&a, "mati");
    // A reaches the city first; B's older status loses there and here; each gets the other's
    // event; a further round changes nothing.
    sync_now(&a);
    let b_round = sync_now(&b);
    assert_eq!(b_round["pending"], 0, "{b_round}");
    assert!(b_round["applied"].as_u64().unwrap() >= 2, "A's status and event: {b_round}");
    sync_now(&a);
    assert_eq!(register_dump(&a), register_dump(&b), "both PCs hold the same register");
    let shown = run(&b, &["--json", "residents", "show", RESIDENT]).json();
    assert_eq!(shown["status"], "mati", "the later edit wins: {shown}");
    let quiet = sync_now(&b);
    assert_eq!((quiet["pushed"].as_u64(), quiet["pulled"].as_u64()), (Some(0), Some(0)), "{quiet}");
    let status = run(&b, &["--json", "sync", "status"]).json();
    assert!(status["last_pull_ms"].as_u64().is_some(), "{status}");
    assert_eq!(status["held"], serde_json::json!([]), "{status}");
}

#[test]
fn a_pc_whose_copy_drifted_from_the_citys_sees_it_by_digest_and_repairs_itself() {
    let kota = Kota::start();
    let (_a_dir, a) = office_with_one_resident();
    let (_b_dir, b) = crate::demo_db();
    for db in [&a, &b] {
        kota.enrol(db);
    }
    assert_eq!(sync_now(&a)["digest"], "agreed");
    assert_eq!(sync_now(&b)["digest"], "agreed", "B's first pull matches the city");
    assert_eq!(sync_now(&b)["digest"], "not_compared", "a round that moved nothing");

    // B's record of when the resident's fields were written is damaged (as a bug might).
    let damaged = crate::office_db(&b)
        .execute("DELETE FROM _sync_clock WHERE tbl = 'residents'", [])
        .unwrap();
    assert!(damaged > 0);
    let r = run(&a, &["residents", "event", RESIDENT, "--type", "mati", "--date", "01-11-2026"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    sync_now(&a);
    // The last comparison is minutes old: a round that pulls does not compare again (hourly).
    let round = sync_now(&b);
    assert!(round["pulled"].as_u64() > Some(0), "{round}");
    assert_eq!(round["digest"], "not_compared", "{round}");
    // Asked for, the comparison runs even in a round that moves nothing.
    let r = run(&b, &["--json", "sync", "now", "--check"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let round = r.json();
    assert_eq!(round["digest"], "repaired", "{round}");
    assert_eq!(register_dump(&a), register_dump(&b), "B holds A's register again");
    let status = run(&b, &["--json", "sync", "status"]).json();
    assert_eq!(status["diverged"], serde_json::json!([]), "{status}");
    let c = crate::office_db(&b);
    let clocks: i64 = c
        .query_row("SELECT count(*) FROM _sync_clock WHERE tbl = 'residents'", [], |r| r.get(0))
        .unwrap();
    assert!(clocks > 0, "the clocks came back with the re-pull");
}

/// `letters issue` of a domisili letter for the test resident, signed by the lurah.
fn issue_domisili(db: &Path) -> crate::Run {
    let password = std::ffi::OsStr::new("demo-lurah");
    crate::run_in(db, &crate::letters::ISSUE_DOMISILI, "", &[("BALAI_PASSWORD", password)])
}

/// The serial of a letter number `KODE/NNN/UNIT/BULAN/TAHUN`.
fn serial(number: &str) -> u32 {
    number.split('/').nth(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{number}"))
}

fn issued_serials(db: &Path, n: usize) -> Vec<u32> {
    (0..n)
        .map(|_| {
            let r = issue_domisili(db);
            assert_eq!(r.status, 0, "{}", r.stderr);
            serial(r.json()["number"].as_str().unwrap())
        })
        .collect()
}

#[test]
fn letters_issued_offline_on_two_pcs_of_one_office_never_share_a_number() {
    let mut kota = Kota::start();
    let (_a_dir, a) = office_with_one_resident();
    let (_b_dir, b) = crate::demo_db();
    // Before it syncs, the office numbers letters itself.
    assert_eq!(issued_serials(&a, 1), [1]);
    for db in [&a, &b] {
        let r = kota.enrol(db);
        assert!(r["numbers_leased"].as_u64().unwrap() >= 20, "{r}");
    }
    sync_now(&a);
    sync_now(&b);
    let status = run(&a, &["--json", "sync", "status"]).json();
    let reserve = status["reserve"].as_array().unwrap();
    let domisili = reserve.iter().find(|r| r["series"].as_str().unwrap().ends_with("/domisili"));
    // The office issued one domisili letter in the last 30 days: the smallest reserve.
    assert_eq!(domisili.map(|r| r["left"].as_u64()), Some(Some(5)), "{status}");

    // The city is down; both PCs go on issuing letters from their reserves.
    kota.stop();
    let on_a = issued_serials(&a, 3);
    let on_b = issued_serials(&b, 3);
    assert_eq!(on_a, [2, 3, 4], "A's block continues above the letter it numbered itself");
    let mut all: Vec<u32> = [on_a.clone(), on_b.clone()].concat();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 6, "no number twice: A {on_a:?}, B {on_b:?}");

    // An empty reserve stops the counter with a clear message, not a guessed number.
    let c = crate::office_db(&b);
    c.execute("UPDATE number_leases SET next = last + 1 WHERE series LIKE '%/domisili'", [])
        .unwrap();
    drop(c);
    let empty = issue_domisili(&b);
    assert_eq!(empty.error_json()["error"]["code"], "not_available", "{}", empty.stderr);
    assert!(empty.stderr.contains("Cadangan nomor surat"), "{}", empty.stderr);

    // Back online: the city accepts every number once; B's reserve is refilled.
    kota.restart();
    for db in [&a, &b] {
        let r = sync_now(db);
        assert_eq!((r["rejected"].as_u64(), r["pending"].as_u64()), (Some(0), Some(0)), "{r}");
    }
    let at_city = city_domisili_serials(&kota);
    assert_eq!(at_city, all, "the city's register holds each issued number once");
    let next = issued_serials(&b, 1)[0];
    assert!(!all.contains(&next) && next > 1, "a fresh lease: {next}");
}

/// The domisili serials the city's register holds, in order.
fn city_domisili_serials(kota: &Kota) -> Vec<u32> {
    let c = rusqlite::Connection::open(&kota.db).unwrap();
    let mut serials: Vec<u32> = c
        .prepare("SELECT serial FROM issued_numbers WHERE series LIKE '%/domisili'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    serials.sort_unstable();
    serials
}

/// What is left of `db`'s domisili reserve, by its sync status.
fn domisili_reserve(db: &Path) -> Option<u64> {
    let status = run(db, &["--json", "sync", "status"]).json();
    let reserve = status["reserve"].as_array().cloned().unwrap_or_default();
    let domisili = reserve.iter().find(|r| r["series"].as_str().unwrap().ends_with("/domisili"));
    domisili.and_then(|r| r["left"].as_u64())
}

#[test]
fn letters_issued_online_take_the_city_s_next_number_in_turn_and_offline_the_reserve() {
    let mut kota = Kota::start();
    let (_a_dir, a) = office_with_one_resident();
    let (_b_dir, b) = crate::demo_db();
    for db in [&a, &b] {
        kota.enrol(db);
    }
    // B gets the register A pushed.
    sync_now(&a);
    sync_now(&b);
    // Online, each letter takes the city's next number at the counter: the office's letters
    // are numbered in the order they were issued, whichever PC issued them, and the reserves
    // are kept for when the city is out of reach.
    let online: Vec<u32> = [&a, &b, &a, &b].iter().map(|db| issued_serials(db, 1)[0]).collect();
    assert!(online.windows(2).all(|w| w[1] == w[0] + 1), "in turn: {online:?}");
    assert_eq!((domisili_reserve(&a), domisili_reserve(&b)), (Some(5), Some(5)));
    // The city stopped: the letter comes from A's reserve, below the city's next number.
    kota.stop();
    let offline = issued_serials(&a, 1)[0];
    assert!(offline < online[0], "from the reserve: {offline} (online {online:?})");
    assert_eq!(domisili_reserve(&a), Some(4));
    kota.restart();
    for db in [&a, &b] {
        let r = sync_now(db);
        assert_eq!((r["rejected"].as_u64(), r["pending"].as_u64()), (Some(0), Some(0)), "{r}");
    }
    let at_city = city_domisili_serials(&kota);
    let mut issued = [online, vec![offline]].concat();
    issued.sort_unstable();
    assert_eq!(at_city, issued, "the city's register holds every number once");
}

/// Copies an office database file (closed: no CLI process holds it) to `to`.
fn copy_db(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let (f, t) = (format!("{}{suffix}", from.display()), format!("{}{suffix}", to.display()));
        let _ = std::fs::remove_file(&t);
        if Path::new(&f).exists() {
            std::fs::copy(&f, &t).unwrap();
        }
    }
}

#[test]
fn a_pc_restored_from_an_old_backup_is_fenced_enrols_again_and_loses_nothing_it_did_since() {
    let mut kota = Kota::start();
    let (dir, a) = office_with_one_resident();
    kota.enrol(&a);
    sync_now(&a);
    let backup = dir.path().join("backup.sqlite");
    copy_db(&a, &backup);
    // After the backup: a letter issued offline (from the reserve), synced. Then the disk
    // fails and the backup is restored.
    kota.stop();
    let original = issued_serials(&a, 1)[0];
    kota.restart();
    sync_now(&a);
    copy_db(&backup, &a);

    // The restored PC, not yet knowing, issues a letter while the city is out of reach: its
    // lease was rewound with the backup, so the letter gets the number the lost one had. Its
    // next sync is refused.
    kota.stop();
    assert_eq!(issued_serials(&a, 1), [original], "the rewound lease repeats the number");
    kota.restart();
    let fenced = run(&a, &["--json", "sync", "now"]);
    assert_eq!(fenced.error_json()["error"]["code"], "forbidden", "{}", fenced.stderr);
    assert!(fenced.stderr.contains("daftarkan ulang"), "{}", fenced.stderr);
    let status = run(&a, &["--json", "sync", "status"]).json();
    assert_eq!(status["fenced"], "epoch_fenced", "{status}");
    let refused = issue_domisili(&a);
    assert_eq!(refused.error_json()["error"]["code"], "forbidden", "no number from a fenced PC");
    // The register is still kept meanwhile.
    let r = run(&a, &["residents", "event", RESIDENT, "--type", "mati", "--date", "02-11-2026"]);
    assert_eq!(r.status, 0, "{}", r.stderr);

    // Enrolled again with a new code, it sends what it did since the backup: the death goes
    // through, the repeated number comes back as a conflict to renumber.
    kota.enrol(&a);
    let round = sync_now(&a);
    assert_eq!(
        (round["rejected"].as_u64(), round["pending"].as_u64()),
        (Some(1), Some(0)),
        "{round}"
    );
    let status = run(&a, &["--json", "sync", "status"]).json();
    assert_eq!(status["fenced"], Value::Null, "{status}");
    let conflict = &status["rejected"][0];
    assert_eq!(
        (conflict["table"].as_str(), conflict["code"].as_str()),
        (Some("_command"), Some("conflict")),
        "{status}"
    );
    let c = rusqlite::Connection::open(&kota.db).unwrap();
    let holders: i64 = c
        .query_row(
            "SELECT count(*) FROM issued_numbers WHERE series LIKE '%/domisili' AND serial = ?1",
            [original],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(holders, 1, "the city holds the number once: the lost letter's");
    let (_b_dir, b) = crate::demo_db();
    kota.enrol(&b);
    sync_now(&b);
    let shown = run(&b, &["--json", "residents", "show", RESIDENT]).json();
    assert_eq!(shown["status"], "mati", "the restored PC's later work reached the others: {shown}");
    let reserve = run(&a, &["--json", "sync", "status"]).json()["reserve"].clone();
    let domisili = reserve
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["series"].as_str().unwrap().ends_with("/domisili"));
    assert_eq!(domisili.map(|r| r["left"].as_u64()), Some(Some(5)), "a fresh lease: {reserve}");
}

/// The city's public verification page's verdict for `text`, fetched like a browser would.
fn city_verdict(kota: &Kota, text: &str) -> String {
    let q: String =
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
    let (status, html) = city_http(kota, "GET", &format!("/verify?p={q}"), "");
    assert_eq!(status, 200, "{html}");
    text_after(&html, "data-verdict=\"").split('"').next().unwrap_or_default().to_string()
}

#[test]
fn the_citys_public_page_knows_an_offices_letters_once_it_synced_and_a_void_too() {
    let kota = Kota::start();
    let (_dir, db) = office_with_one_resident();
    // Issued before the office joined the city: its key reaches the city with the first sync.
    let before = issue_domisili(&db);
    assert_eq!(before.status, 0, "{}", before.stderr);
    let before = before.json();
    let enrolled =
        run(&db, &["--json", "sync", "enrol", "--server", &kota.url, "--code", &kota.code()]);
    assert_eq!(enrolled.status, 0, "{}", enrolled.stderr);
    let after = issue_domisili(&db).json();
    let payload = |v: &Value| v["qr_payload"].as_str().unwrap().to_string();
    assert_eq!(city_verdict(&kota, &payload(&after)), "tidak_dikenal", "not synced yet");

    let void = crate::run_in(
        &db,
        &[
            "--json",
            "--user",
            "lurah",
            "letters",
            "void",
            before["id"].as_str().unwrap(),
            "--reason",
            "salah ketik",
        ],
        "",
        &[("BALAI_PASSWORD", std::ffi::OsStr::new("demo-lurah"))],
    );
    assert_eq!(void.status, 0, "{}", void.stderr);
    let round = sync_now(&db);
    assert_eq!(round["rejected"], 0, "{round}");
    assert_eq!(city_verdict(&kota, &payload(&after)), "sah");
    assert_eq!(city_verdict(&kota, &payload(&before)), "dibatalkan");
    // Told once: a further round sends nothing new.
    assert_eq!(sync_now(&db)["pushed"], 0);
}

/// One HTTP exchange with the city server: (status, body).
fn city_http(kota: &Kota, method: &str, path: &str, form: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let host = kota.url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, raw.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string())
}

/// The text between `after` and the next `<`.
fn text_after<'a>(html: &'a str, after: &str) -> &'a str {
    let at =
        html.find(after).map(|i| i + after.len()).unwrap_or_else(|| panic!("{after} in {html}"));
    &html[at..at + html[at..].find('<').unwrap()]
}

fn as_clerk(db: &Path, args: &[&str]) -> crate::Run {
    let mut all = vec!["--json", "--user", "petugas"];
    all.extend_from_slice(args);
    crate::run_in(db, &all, "", &[("BALAI_PASSWORD", std::ffi::OsStr::new("demo-petugas"))])
}

#[test]
fn a_residents_online_request_reaches_the_office_one_pc_takes_it_and_the_resident_sees_it_done() {
    let kota = Kota::start();
    let ((_a_dir, a), (_b_dir, b)) = two_offices_synced(&kota);
    // The resident fills the city's form: a wrong NIK is sent back with the field named.
    let (status, form) = city_http(&kota, "GET", "/permohonan?kelurahan=18.72.04.1004", "");
    assert_eq!(status, 200);
    assert!(form.contains("value=\"domisili\""), "the office's letter types are offered: {form}");
    let fields =
        "kelurahan=18.72.04.1004&no_kk=1872041203159991&jenis=domisili&keperluan=melamar+kerja";
    let (status, refused) = city_http(&kota, "POST", "/permohonan", &format!("nik=1234&{fields}"));
    assert_eq!(status, 400, "{refused}");
    assert!(refused.contains("id=\"nik-error\""), "{refused}");
    let (status, sent) =
        city_http(&kota, "POST", "/permohonan", &format!("nik={RESIDENT}&{fields}"));
    assert_eq!(status, 200, "{sent}");
    let code = text_after(&sent, "data-testid=\"tracking-code\">").to_string();
    let track = |code: &str| {
        let (status, page) =
            city_http(&kota, "GET", &format!("/permohonan/status?kode={code}"), "");
        assert_eq!(status, 200);
        assert!(!page.contains(RESIDENT), "no NIK on the status page");
        page
    };
    assert!(track(&code).contains("data-status=\"diajukan\""));

    // Both PCs receive it; both clerks try to take it; the city lets the first one have it.
    for db in [&a, &b] {
        sync_now(db);
    }
    let queue = as_clerk(&b, &["requests", "list"]).json();
    assert_eq!(queue.as_array().map(Vec::len), Some(1), "{queue}");
    assert_eq!(
        (queue[0]["status"].as_str(), queue[0]["held_by"].as_str()),
        (Some("diajukan"), Some("none"))
    );
    assert_eq!(queue[0]["nik"], RESIDENT, "the office sees the NIK it must serve");
    let id = queue[0]["id"].as_str().unwrap().to_string();
    for db in [&a, &b] {
        let r = as_clerk(db, &["requests", "claim", &id]);
        assert_eq!(r.status, 0, "{}", r.stderr);
    }
    sync_now(&a);
    let lost = sync_now(&b);
    assert_eq!(lost["rejected"], 1, "B's claim lost: {lost}");
    let queue = as_clerk(&b, &["requests", "list"]).json();
    assert_eq!(queue[0]["held_by"], "other", "{queue}");
    let not_mine = as_clerk(&b, &["requests", "resolve", &id, "--status", "selesai"]);
    assert_eq!(not_mine.error_json()["error"]["code"], "conflict");
    assert!(track(&code).contains("data-status=\"diproses\""));

    // A finishes it: the resident reads that it is ready, with the office's note.
    let refuse = as_clerk(&a, &["requests", "resolve", &id, "--status", "ditolak"]);
    assert_eq!(
        refuse.error_json()["error"]["fields"][0]["field"],
        "note",
        "a refusal needs a reason"
    );
    let done = as_clerk(
        &a,
        &["requests", "resolve", &id, "--status", "selesai", "--note", "Ambil di loket 2"],
    );
    assert_eq!(done.status, 0, "{}", done.stderr);
    sync_now(&a);
    let page = track(&code.to_lowercase().replace('-', "+"));
    assert!(
        page.contains("data-status=\"selesai\"") && page.contains("Ambil di loket 2"),
        "{page}"
    );
    sync_now(&b);
    assert_eq!(as_clerk(&b, &["requests", "list"]).json()[0]["status"], "selesai");
}

#[test]
fn a_pc_locked_out_and_enrolled_again_finishes_the_online_request_it_had_taken() {
    let kota = Kota::start();
    let ((_a_dir, a), (_b_dir, b)) = two_offices_synced(&kota);
    let fields = format!(
        "nik={RESIDENT}&kelurahan=18.72.04.1004&no_kk=1872041203159991&jenis=domisili&keperluan=kerja"
    );
    let (status, sent) = city_http(&kota, "POST", "/permohonan", &fields);
    assert_eq!(status, 200, "{sent}");
    let code = text_after(&sent, "data-testid=\"tracking-code\">").to_string();
    sync_now(&a);
    let id = as_clerk(&a, &["requests", "list"]).json()[0]["id"].as_str().unwrap().to_string();
    let r = as_clerk(&a, &["requests", "claim", &id]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    sync_now(&a);

    // The city revokes A (say it was taken away for repair); its admin enrols it again.
    let old_id =
        run(&a, &["--json", "sync", "status"]).json()["device_id"].as_str().unwrap().to_string();
    let out = kota.cli(&["devices", "revoke", &old_id], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let locked = run(&a, &["--json", "sync", "now"]);
    assert_eq!(locked.error_json()["error"]["code"], "forbidden", "{}", locked.stderr);
    kota.enrol(&a);

    // The request it had taken is still its own, and it finishes it.
    let queue = as_clerk(&a, &["requests", "list"]).json();
    assert_eq!(
        (queue[0]["status"].as_str(), queue[0]["held_by"].as_str()),
        (Some("diproses"), Some("here")),
        "{queue}"
    );
    let done = as_clerk(&a, &["requests", "resolve", &id, "--status", "selesai", "--note", "Siap"]);
    assert_eq!(done.status, 0, "{}", done.stderr);
    let round = sync_now(&a);
    assert_eq!(round["rejected"], 0, "the city takes the new id's answer: {round}");
    let (_, page) = city_http(&kota, "GET", &format!("/permohonan/status?kode={code}"), "");
    assert!(page.contains("data-status=\"selesai\""), "{page}");
    // B learned the new holder, then the outcome.
    sync_now(&b);
    let at_b = as_clerk(&b, &["requests", "list"]).json();
    assert_eq!(
        (at_b[0]["status"].as_str(), at_b[0]["held_by"].as_str()),
        (Some("selesai"), Some("other")),
        "{at_b}"
    );
}

/// A throwaway CA and a certificate it signed for 127.0.0.1, made with `openssl`:
/// (ca.pem, cert.pem, key.pem).
fn test_certificates(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl").current_dir(dir).args(args).output();
        let out = out.unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=Balai Kota Test CA"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    ca.extend([
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(&ca);
    let mut req = vec!["req", "-subj", "/CN=127.0.0.1", "-keyout", "key.pem", "-out", "req.csr"];
    req.extend(ec);
    openssl(&req);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "req.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "cert.pem",
        "-extfile",
        "ext.cnf",
    ]);
    (dir.join("ca.pem"), dir.join("cert.pem"), dir.join("key.pem"))
}

#[test]
fn over_https_a_pc_trusts_only_the_city_ca_it_was_given_and_plain_http_stays_on_this_pc() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certificates(certs.path());
    let kota = Kota::start_serving(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert!(kota.url.starts_with("https://127.0.0.1:"), "{}", kota.url);
    let (_dir, db) = office_with_one_resident();

    // Plain HTTP to anything but this PC is refused before anything is sent: the internet, and
    // an office or city network alike (anyone on it could read the register).
    for far in ["http://kota.example.go.id", "http://192.168.1.10:8080", "http://10.20.0.5"] {
        let out = run(&db, &["--json", "sync", "enrol", "--server", far, "--code", "X"]);
        assert_eq!(
            out.error_json()["error"]["fields"][0]["code"],
            "insecure",
            "{far}: {}",
            out.stderr
        );
    }

    // A certificate from a CA this PC was not told of: no connection, nothing enrolled.
    let code = kota.code();
    let untrusted = run(&db, &["--json", "sync", "enrol", "--server", &kota.url, "--code", &code]);
    let err = untrusted.error_json();
    assert_eq!(err["error"]["code"], "not_available", "{}", untrusted.stderr);
    assert!(
        err["error"]["message"].as_str().unwrap().to_lowercase().contains("certificate"),
        "{err}"
    );
    assert_eq!(run(&db, &["--json", "sync", "status"]).json()["enrolled"], false);

    // With the city's CA: enrolled, and the register goes over HTTPS.
    let ca = ca.to_str().unwrap();
    let enrolled =
        run(&db, &["--json", "sync", "enrol", "--server", &kota.url, "--code", &code, "--ca", ca]);
    assert_eq!(enrolled.status, 0, "{}", enrolled.stderr);
    let round = sync_now(&db);
    assert_eq!(
        (round["pending"].as_u64(), round["rejected"].as_u64()),
        (Some(0), Some(0)),
        "{round}"
    );
    assert!(round["pushed"].as_u64().unwrap() >= 2, "{round}");
    assert!(kota.counts().0 >= 2, "the city holds the family and the resident");
}

#[test]
fn a_city_restored_from_a_backup_gets_back_what_the_offices_hold_and_numbers_no_letter_twice() {
    let mut kota = Kota::start();
    let (_a_dir, a) = office_with_one_resident();
    kota.enrol(&a);
    sync_now(&a);
    let backup = kota.db.with_file_name("kota-backup.sqlite");
    // Encrypted with a backup key kept apart (`openssl rand -hex 32`).
    let key_file = kota.db.with_file_name("backup.key");
    std::fs::write(&key_file, format!("{}\n", "5a".repeat(32))).unwrap();
    let key = key_file.to_str().unwrap();
    let out =
        kota.cli(&["--json", "backup", "--out", backup.to_str().unwrap(), "--key-file", key], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let header = std::fs::read(&backup).unwrap();
    assert_ne!(&header[..16], b"SQLite format 3\0", "the backup is not plain");

    // After the backup: B is enrolled, leases numbers and issues a letter; A records a death.
    let (_b_dir, b) = crate::demo_db();
    kota.enrol(&b);
    sync_now(&b);
    let letter = issue_domisili(&b);
    assert_eq!(letter.status, 0, "{}", letter.stderr);
    let number = letter.json()["number"].as_str().unwrap().to_string();
    sync_now(&b);
    let r = run(&a, &["residents", "event", RESIDENT, "--type", "mati", "--date", "01-11-2026"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    sync_now(&a);

    // The city's disk is lost; it is restored from the backup (refused while it still runs,
    // and without its key or with another).
    let restore = ["--json", "restore", backup.to_str().unwrap(), "--key-file", key];
    assert!(!kota.cli(&restore, &[]).status.success(), "restore refused while serving");
    kota.stop();
    let keyless = kota.cli(&["--json", "restore", backup.to_str().unwrap()], &[]);
    assert!(!keyless.status.success());
    assert!(
        String::from_utf8_lossy(&keyless.stderr).contains("--key-file"),
        "{}",
        String::from_utf8_lossy(&keyless.stderr)
    );
    let other_key = kota.db.with_file_name("other.key");
    std::fs::write(&other_key, "a5".repeat(32)).unwrap();
    let wrong = kota.cli(
        &["--json", "restore", backup.to_str().unwrap(), "--key-file", other_key.to_str().unwrap()],
        &[],
    );
    assert!(!wrong.status.success());
    let out = kota.cli(&restore, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let restored: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(std::path::Path::new(restored["set_aside"].as_str().unwrap()).exists(), "{restored}");
    kota.restart();

    // A sends the death again (the city lost it) and pulls the whole feed of the new epoch.
    let round = sync_now(&a);
    assert_eq!(
        (round["pending"].as_u64(), round["rejected"].as_u64()),
        (Some(0), Some(0)),
        "{round}"
    );
    // B is unknown to the restored city: it is told, enrols again and sends everything.
    let locked = run(&b, &["--json", "sync", "now"]);
    assert_eq!(locked.error_json()["error"]["code"], "forbidden", "{}", locked.stderr);
    assert_eq!(run(&b, &["--json", "sync", "status"]).json()["fenced"], "unknown_device");
    kota.enrol(&b);
    let round = sync_now(&b);
    assert_eq!(
        (round["pending"].as_u64(), round["rejected"].as_u64()),
        (Some(0), Some(0)),
        "{round}"
    );
    sync_now(&a);
    assert_eq!(register_dump(&a), register_dump(&b), "both PCs hold the same register");
    let shown = run(&b, &["--json", "residents", "show", RESIDENT]).json();
    assert_eq!(shown["status"], "mati", "the death recorded after the backup: {shown}");
    // B's letter, from a lease the city lost, is the city's again; a new PC's numbers start
    // above the numbers that lease could have held.
    let c = rusqlite::Connection::open(&kota.db).unwrap();
    let held: Vec<String> = {
        let mut st = c.prepare("SELECT number FROM issued_numbers").unwrap();
        st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert!(held.contains(&number), "{number} in {held:?}");
    let (_c_dir, c_db) = office_with_one_resident();
    kota.enrol(&c_db);
    let fresh = issue_domisili(&c_db);
    assert_eq!(fresh.status, 0, "{}", fresh.stderr);
    let fresh = fresh.json()["number"].as_str().unwrap().to_string();
    assert!(serial(&fresh) > serial(&number) + 900, "{fresh} after {number}");
}

#[test]
fn the_public_form_takes_a_few_requests_per_nik_a_day_and_a_few_dozen_per_address_an_hour() {
    let kota = Kota::start();
    let (_dir, db) = office_with_one_resident();
    kota.enrol(&db);
    sync_now(&db);
    let fields =
        "kelurahan=18.72.04.1004&no_kk=1872041203159991&jenis=domisili&keperluan=melamar+kerja";
    let submit =
        |nik: &str| city_http(&kota, "POST", "/permohonan", &format!("nik={nik}&{fields}"));
    for _ in 0..5 {
        assert_eq!(submit(RESIDENT).0, 200);
    }
    // The sixth for the same NIK within 24 hours: sent back with the field named.
    let (status, page) = submit(RESIDENT);
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("id=\"nik-error\"") && page.contains("24 jam"), "{page}");
    // From one address: 30 an hour (the 5 above, the refused one and 24 more NIKs), then no more.
    for i in 0..24 {
        let (status, page) = submit(&format!("18720401018000{:02}", 10 + i));
        assert_ne!(status, 429, "request {i}: {page}");
    }
    let (status, page) = submit("1872040101800099");
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Terlalu banyak permohonan"), "{page}");
}

#[test]
fn a_code_for_another_kelurahan_is_refused_and_stays_unused() {
    let kota = Kota::start();
    let other =
        kota.cli(&["kelurahan", "add", "--code", "18.72.04.1005", "--name", "Tejoagung"], &[]);
    assert!(other.status.success());
    let out = kota.cli(&["--json", "enrol", "--kelurahan", "18.72.04.1005"], &[]);
    let code: Value = serde_json::from_slice(&out.stdout).unwrap();
    let code = code["code"].as_str().unwrap();
    let (_dir, db) = office_with_one_resident();
    let wrong = run(&db, &["--json", "sync", "enrol", "--server", &kota.url, "--code", code]);
    let err = wrong.error_json();
    assert_eq!(err["error"]["fields"][0]["code"], "kelurahan_mismatch", "{}", wrong.stderr);
    assert!(
        err["error"]["fields"][0]["message"].as_str().unwrap().contains("18.72.04.1005"),
        "{err}"
    );
    assert_eq!(run(&db, &["--json", "sync", "status"]).json()["enrolled"], false);
    // The code was not spent: an office of that kelurahan still enrols with it.
    let (_t_dir, tejoagung) = crate::demo_db();
    let r = run(
        &tejoagung,
        &["profile", "set", "--kelurahan-code", "18.72.04.1005", "--kelurahan-name", "Tejoagung"],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let ok = run(&tejoagung, &["--json", "sync", "enrol", "--server", &kota.url, "--code", code]);
    assert_eq!(ok.status, 0, "{}", ok.stderr);
    assert_eq!(ok.json()["kelurahan_code"], "18.72.04.1005");
}

/// Renames the one resident of `office_with_one_resident` on the office database `db`.
fn rename(db: &Path, name: &str) {
    let dir = db.parent().unwrap();
    let file = dir.join(format!("{}.json", name.replace(' ', "_")));
    let input = serde_json::json!({
        "nik": RESIDENT, "no_kk": "1872041203159991", "full_name": name, "sex": "L",
        "birth_place": "Metro", "birth_date": "01-01-1980", "religion": "Islam",
        "marital_status": "Kawin", "shdk": "Kepala Keluarga", "rt": "3", "rw": "2",
    });
    std::fs::write(&file, input.to_string()).unwrap();
    let shown = run(db, &["--json", "residents", "show", RESIDENT]).json();
    let id = shown["id"].as_str().unwrap();
    let r = run(db, &["--json", "residents", "edit", id, "--from-json", file.to_str().unwrap()]);
    assert_eq!(r.status, 0, "{}", r.stderr);
}

#[test]
fn two_clerks_renaming_one_resident_unseen_leave_a_conflict_a_supervisor_reviews_for_every_pc() {
    let kota = Kota::start();
    let ((_a_dir, a), (_b_dir, b)) = two_offices_synced(&kota);
    assert_eq!(run(&b, &["--json", "residents", "show", RESIDENT]).status, 0, "B has A's register");
    // Both clerks fix the name before either hears of the other's fix; B's is the later one.
    rename(&a, "Wiryo Percobaan Satu");
    rename(&b, "Wirjo Percobaan");
    for db in [&a, &b, &a] {
        sync_now(db);
    }
    for db in [&a, &b] {
        let status = run(db, &["--json", "sync", "status"]).json();
        assert_eq!(status["identity_conflicts"], 1, "{status}");
    }
    let listed = run(&a, &["--json", "sync", "conflicts"]).json();
    let c = &listed[0];
    assert_eq!(
        (c["table"].as_str(), c["fields"].clone()),
        (Some("residents"), serde_json::json!(["full_name"])),
        "{c}"
    );
    let (kept, lost) = (&c["kept"], &c["lost"]);
    assert_eq!(kept["values"]["full_name"], c["subject"], "the register holds the winner: {c}");
    assert_ne!(kept["values"]["full_name"], lost["values"]["full_name"]);
    assert_eq!(kept["values"]["nik"], RESIDENT);
    assert_eq!(
        (kept["this_pc"].as_bool(), lost["this_pc"].as_bool()),
        (Some(false), Some(true)),
        "A's lost: {c}"
    );

    // A supervisor on A settles it; the city closes it on B too. Once only.
    let id = c["id"].as_str().unwrap();
    let done = run(&a, &["--json", "sync", "review", "--id", id, "--note", "Nama sesuai KK"]);
    assert_eq!(done.status, 0, "{}", done.stderr);
    assert!(done.json()["reviewed_at_ms"].as_u64().is_some());
    let again = run(&a, &["--json", "sync", "review", "--id", id]);
    assert_ne!(again.status, 0);
    assert!(
        again.stdout.contains("conflict") || again.stderr.contains("conflict"),
        "{}{}",
        again.stdout,
        again.stderr
    );
    sync_now(&a);
    sync_now(&b);
    let on_b = run(&b, &["--json", "sync", "conflicts"]).json();
    assert_eq!(on_b[0]["review_note"], "Nama sesuai KK", "{on_b}");
    assert!(on_b[0]["reviewed_at_ms"].as_u64().is_some());
    assert_eq!(run(&b, &["--json", "sync", "status"]).json()["identity_conflicts"], 0);
    let text = run(&b, &["sync", "conflicts"]).stdout;
    assert!(text.contains("ditinjau") && text.contains("Nama sesuai KK"), "{text}");
}
