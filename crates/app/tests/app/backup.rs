//! Backups: made, listed, kept a week, restored only when whole, the restore undoable, an
//! enrolled PC fenced after it until enrolled again.

use crate::letters::{domisili, office};
use crate::{login_demo, outcome};
use balai_testkit::kota::Kota;
use balai_testkit::TestApp;
use serde_json::{json, Value};

/// A setting stands for "the office's data" here: which value is in the database.
fn idle_minutes(t: &TestApp) -> i64 {
    t.operator("settings.get", json!({})).unwrap()["idle_lock_minutes"].as_i64().unwrap()
}

fn set_idle_minutes(t: &TestApp, minutes: i64) {
    t.operator("settings.set", json!({"idle_lock_minutes": minutes})).unwrap();
}

fn field_code(r: &Result<Value, balai_app::ApiError>) -> String {
    let e = r.as_ref().unwrap_err();
    format!("{}:{}", e.fields[0].field, e.fields[0].code)
}

#[test]
fn a_restore_brings_back_the_backup_and_can_itself_be_undone() {
    let (t, _) = office();
    set_idle_minutes(&t, 11);
    let made = t.operator("backup.create", json!({})).unwrap();
    let name = made["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("balai-20260701-080000") && made["kind"] == "manual", "{made}");
    assert!(made["bytes"].as_u64().unwrap() > 10_000);
    assert!(t.dir.path().join("backups").join(&name).is_file());

    // Work after the backup; a session open at the time of the restore.
    t.clock.advance(chrono::Duration::minutes(5));
    set_idle_minutes(&t, 12);
    let clerk = login_demo(&t, "petugas");
    let restored = t.operator("backup.restore", json!({"backup": name})).unwrap();
    assert_eq!(restored["fenced"], false, "not enrolled");
    assert_eq!(idle_minutes(&t), 11, "the backup's content is back");
    assert_eq!(
        outcome(&t.call(Some(&clerk), "auth.me", json!({}))),
        "err unauthenticated",
        "sessions end: the restored users may differ"
    );
    let audit = crate::audit_actions(&t);
    assert!(audit.iter().any(|a| a == "backup.restore"), "{audit:?}");
    let left: Vec<String> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("restoring"))
        .collect();
    assert!(left.is_empty(), "the staging copy is removed: {left:?}");

    // The database as it was before the restore was kept: restoring it undoes the restore.
    let before = restored["before_restore"]["name"].as_str().unwrap().to_string();
    assert!(before.ends_with("-sebelum-pulih.sqlite"), "{before}");
    let list = t.operator("backup.list", json!({})).unwrap();
    let names: Vec<&str> =
        list.as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, [before.as_str(), name.as_str()], "newest first");
    t.operator("backup.restore", json!({"backup": before})).unwrap();
    assert_eq!(idle_minutes(&t), 12);
    // Still a whole, searchable, writable database.
    let check: String =
        crate::raw_db(&t).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let mode: String =
        crate::raw_db(&t).query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let tok = login_demo(&t, "petugas");
    assert!(!t
        .call(Some(&tok), "residents.search", json!({"q": "a"}))
        .unwrap()
        .as_array()
        .unwrap()
        .is_empty());
}

#[test]
fn a_damaged_or_foreign_backup_is_refused_and_nothing_is_changed() {
    let t = TestApp::demo();
    let made = t.operator("backup.create", json!({})).unwrap();
    let path = std::path::PathBuf::from(made["path"].as_str().unwrap());
    set_idle_minutes(&t, 13);

    // One byte changed in the middle of the file.
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let damaged = t.dir.path().join("backups").join("balai-20260701-090000.sqlite");
    std::fs::write(&damaged, &bytes).unwrap();
    let r = t.operator("backup.restore", json!({"backup": damaged.display().to_string()}));
    assert_eq!(field_code(&r), "backup:damaged", "{r:?}");

    // Another office's backup (another key).
    let other = TestApp::demo();
    let foreign = other.operator("backup.create", json!({})).unwrap();
    let r = t.operator("backup.restore", json!({"backup": foreign["path"]}));
    assert_eq!(field_code(&r), "backup:wrong_key", "{r:?}");

    // Not a backup at all; a name that is not there; the live database itself.
    let text = t.dir.path().join("backups").join("notes.txt");
    std::fs::write(&text, "catatan").unwrap();
    let r = t.operator("backup.restore", json!({"backup": text.display().to_string()}));
    assert!(r.is_err(), "{r:?}");
    let r = t.operator("backup.restore", json!({"backup": "balai-20990101-000000.sqlite"}));
    assert_eq!(field_code(&r), "backup:not_found");
    let r = t.operator("backup.restore", json!({"backup": t.db_path().display().to_string()}));
    assert_eq!(field_code(&r), "backup:invalid");

    // Nothing changed, and no "before restore" copy was made for a refused restore.
    assert_eq!(idle_minutes(&t), 13);
    let list = t.operator("backup.list", json!({})).unwrap();
    assert!(list.as_array().unwrap().iter().all(|b| b["kind"] != "before_restore"), "{list}");
    assert!(!crate::audit_actions(&t).iter().any(|a| a == "backup.restore"));
}

#[test]
fn daily_backups_are_made_once_a_day_and_kept_seven_days_manual_ones_stay() {
    let t = TestApp::demo();
    t.operator("backup.create", json!({})).unwrap(); // manual: never pruned
    let first = t.operator("backup.daily", json!({})).unwrap();
    assert!(first["made"].is_null(), "a backup less than a day old exists: {first}");
    let mut daily = Vec::new();
    for _ in 0..10 {
        t.clock.advance(chrono::Duration::hours(25));
        let d = t.operator("backup.daily", json!({})).unwrap();
        daily.push(d["made"]["name"].as_str().unwrap().to_string());
        // The same day again: nothing more.
        t.clock.advance(chrono::Duration::hours(1));
        assert!(t.operator("backup.daily", json!({})).unwrap()["made"].is_null());
    }
    let list = t.operator("backup.list", json!({})).unwrap();
    let kinds: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["kind"].as_str().unwrap().to_string(), b["name"].as_str().unwrap().to_string()))
        .collect();
    let kept_daily: Vec<&String> =
        kinds.iter().filter(|(k, _)| k == "daily").map(|(_, n)| n).collect();
    // 10 made 26 h apart; the newest is now; those 7 days old or more are gone.
    assert_eq!(kept_daily.len(), 7, "{kinds:?}");
    assert_eq!(kept_daily[0], &daily[9]);
    assert!(kinds.iter().any(|(k, _)| k == "manual"), "{kinds:?}");
    // A folder of one's own (a USB stick).
    let usb = tempfile::tempdir().unwrap();
    let made =
        t.operator("backup.create", json!({"dir": usb.path().display().to_string()})).unwrap();
    assert!(made["path"].as_str().unwrap().starts_with(&usb.path().display().to_string()));
    assert_eq!(
        t.operator("backup.list", json!({"dir": usb.path().display().to_string()}))
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn an_enrolled_pc_restored_from_a_backup_issues_no_letter_until_enrolled_again() {
    let kota = Kota::start();
    let (t, niks) = office();
    t.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).unwrap();
    let offset = t.operator("sync.status", json!({})).unwrap()["clock_offset_ms"].as_i64().unwrap();
    t.clock.advance(chrono::Duration::milliseconds(offset));
    t.operator("sync.now", json!({})).unwrap();
    let backup = t.operator("backup.create", json!({})).unwrap();
    let lurah = login_demo(&t, "lurah");
    let first = t.call(Some(&lurah), "letters.issue", domisili(&niks[0])).unwrap();
    assert!(first["number"].is_string());

    let restored = t.operator("backup.restore", json!({"backup": backup["name"]})).unwrap();
    assert_eq!(restored["fenced"], true);
    // The letter issued after the backup is kept, its command for the city queued again.
    assert_eq!(restored["taken_over"]["letters"], 1, "{restored}");
    assert_eq!(restored["taken_over"]["queued"], 1, "{restored}");
    let status = t.operator("sync.status", json!({})).unwrap();
    assert_eq!(status["fenced"], "epoch_fenced", "{status}");
    assert_eq!(status["reserve"], json!([]), "the copy's leases are void: {status}");
    let lurah = login_demo(&t, "lurah");
    let r = t.call(Some(&lurah), "letters.issue", domisili(&niks[1]));
    assert_eq!(outcome(&r), "err forbidden", "{r:?}");

    // Enrolled again (a new epoch): letters again, never the number issued after the backup.
    t.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).unwrap();
    let again = t.call(Some(&lurah), "letters.issue", domisili(&niks[1])).unwrap();
    assert_ne!(again["number"], first["number"]);
    // The city hears of both letters. The one numbered from a lease of the copy's earlier epoch
    // (void since it enrolled again) is answered as a conflict naming its number, shown on
    // the sync page for the office to renumber (sync-notes §3.5), not lost in silence.
    let synced = t.operator("sync.now", json!({})).unwrap();
    let status = t.operator("sync.status", json!({})).unwrap();
    assert_eq!(
        (synced["pending"].as_u64(), synced["rejected"].as_u64()),
        (Some(0), Some(1)),
        "{status}"
    );
    let refused = &status["rejected"][0];
    assert_eq!(refused["code"], "conflict", "{status}");
    assert!(refused["message"].as_str().unwrap().contains(first["number"].as_str().unwrap()));
}

/// Closes the test's app, lets `harm` do its damage to the file (given the statement that keys
/// a raw connection to it), and opens it again as the desktop does at start; with that
/// statement, for looking beneath the app.
fn reopen_checked(
    t: TestApp,
    harm: impl FnOnce(&std::path::Path, &str),
) -> (balai_app::App, tempfile::TempDir, tempfile::TempDir, String) {
    let db = t.db_path();
    let pragma = t.key_pragma();
    let TestApp { app, clock, dir, key } = t;
    drop(app); // closed cleanly: the WAL is in the file
    harm(&db, &pragma);
    let keys_dir = tempfile::tempdir().unwrap();
    let keys = balai_app::KeyStore::files(keys_dir.path().to_path_buf());
    keys.save(&db, &key).unwrap();
    (balai_app::App::open_checked(&db, &keys, clock).unwrap(), dir, keys_dir, pragma)
}

/// A raw connection to the database at `db` (keyed by `pragma`).
fn raw(db: &std::path::Path, pragma: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(pragma).unwrap();
    conn
}

/// The take-over marks a restore left in the database beneath `conn` (0 once it is done).
fn take_over_marks(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM _sync_state WHERE key LIKE 'take_over%'", [], |r| r.get(0))
        .unwrap()
}

/// Makes page `page` of the database at `db` fail its check (one byte of its ciphertext).
fn damage_page(db: &std::path::Path, page: i64) {
    let mut bytes = std::fs::read(db).unwrap();
    let at = (page as usize - 1) * 4096 + 200;
    bytes[at] ^= 0xff;
    std::fs::write(db, &bytes).unwrap();
}

fn info(app: &balai_app::App) -> Value {
    balai_app::dispatch(app, &balai_app::Caller::Operator("t".into()), "app.info", json!({}))
        .unwrap()
}

fn op(app: &balai_app::App, command: &str, args: Value) -> Value {
    balai_app::dispatch(app, &balai_app::Caller::Operator("t".into()), command, args).unwrap()
}

#[test]
fn a_whole_database_opens_as_it_is() {
    let t = TestApp::demo();
    set_idle_minutes(&t, 14);
    let (app, _dir, _keys, _) = reopen_checked(t, |_, _| {});
    assert!(info(&app)["recovery"].is_null(), "{}", info(&app));
    assert_eq!(op(&app, "settings.get", json!({}))["idle_lock_minutes"], 14);
}

#[test]
fn a_truncated_or_damaged_database_is_set_aside_and_the_newest_whole_backup_restored() {
    for damage in ["truncated", "a page changed"] {
        let t = TestApp::demo();
        set_idle_minutes(&t, 11);
        t.operator("backup.create", json!({})).unwrap();
        t.clock.advance(chrono::Duration::hours(1));
        set_idle_minutes(&t, 12);
        let mut harmed = Vec::new();
        let (app, dir, _keys, _) = reopen_checked(t, |db, _| {
            let mut bytes = std::fs::read(db).unwrap();
            match damage {
                "truncated" => bytes.truncate(bytes.len() / 2),
                _ => {
                    let at = bytes.len() / 2 + 100;
                    bytes[at] ^= 0xff;
                }
            }
            std::fs::write(db, &bytes).unwrap();
            harmed = bytes;
        });
        let recovery = info(&app)["recovery"].clone();
        assert!(
            recovery["restored_from"].as_str().unwrap().contains("backups"),
            "{damage}: {recovery}"
        );
        assert_eq!(
            op(&app, "settings.get", json!({}))["idle_lock_minutes"],
            11,
            "{damage}: the backup's"
        );
        // The damaged file is kept, byte for byte.
        let aside = std::path::PathBuf::from(recovery["set_aside"].as_str().unwrap());
        assert!(
            aside.starts_with(dir.path()) && aside.to_string_lossy().contains(".rusak-"),
            "{aside:?}"
        );
        assert_eq!(std::fs::read(&aside).unwrap(), harmed, "{damage}");
        let audit = op(&app, "audit.list", json!({"limit": 5})).to_string();
        assert!(audit.contains("database.recovered"), "{damage}: {audit}");
    }
}

#[test]
fn a_damaged_database_without_a_backup_is_set_aside_and_the_office_starts_empty() {
    let t = TestApp::demo();
    let (app, _dir, _keys, _) = reopen_checked(t, |db, _| {
        let len = std::fs::metadata(db).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(db).unwrap().set_len(len / 3).unwrap();
    });
    let info = info(&app);
    assert!(info["recovery"]["restored_from"].is_null(), "{info}");
    let damage = info["recovery"]["damage"].as_str().unwrap();
    assert!(damage.contains("truncated") || damage.contains("malformed"), "{info}");
    // A third of the file is gone: what was in it is taken over, the rest is named unreadable.
    let unreadable = info["recovery"]["taken_over"]["unreadable"].as_array().unwrap().clone();
    assert!(!unreadable.is_empty(), "{info}");
}

/// The numbered letters of the database beneath `conn`: (number, serial, status), by serial.
fn numbered(conn: &rusqlite::Connection) -> Vec<(String, i64, String)> {
    let mut st = conn
        .prepare(
            "SELECT number, serial, status FROM letters WHERE number IS NOT NULL ORDER BY serial",
        )
        .unwrap();
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

/// Every series' last serial is at least the highest serial it has issued: the next number is
/// a new one.
fn series_ahead_of_letters(conn: &rusqlite::Connection) {
    let behind: i64 = conn
        .query_row(
            "SELECT count(*) FROM letters l LEFT JOIN letter_series s ON s.series = l.series
             WHERE l.number IS NOT NULL AND coalesce(s.last_serial, 0) < l.serial",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(behind, 0, "a series would hand out a number already issued");
}

#[test]
fn a_restore_keeps_the_letters_numbered_since_the_backup_and_never_gives_their_numbers_again() {
    let (t, niks) = office();
    set_idle_minutes(&t, 11);
    let backup = t.operator("backup.create", json!({})).unwrap();
    t.clock.advance(chrono::Duration::minutes(5));
    let lurah = login_demo(&t, "lurah");
    let first = t.call(Some(&lurah), "letters.issue", domisili(&niks[0])).unwrap();
    set_idle_minutes(&t, 12);

    let restored = t.operator("backup.restore", json!({"backup": backup["name"]})).unwrap();
    assert_eq!(idle_minutes(&t), 11, "everything else is the backup's");
    let taken = &restored["taken_over"];
    assert_eq!((taken["letters"].as_u64(), taken["series_forward"].as_u64()), (Some(1), Some(1)));
    assert_eq!(taken["unreadable"], json!([]), "{restored}");
    assert_eq!(taken["changes"], 0, "a restore on purpose keeps the backup's register");
    assert!(crate::audit_actions(&t).iter().any(|a| a == "database.taken_over"));
    // The letter is in the register, signed and printable as it was.
    let conn = crate::raw_db(&t);
    let first_number = first["number"].as_str().unwrap().to_string();
    assert_eq!(numbered(&conn), [(first_number.clone(), 1, "terbit".to_string())]);
    let pdf = t.call(Some(&login_demo(&t, "petugas")), "letters.pdf", json!({"id": first["id"]}));
    assert!(pdf.is_ok(), "{pdf:?}");
    // The next letter gets the next number, not the one handed out after the backup.
    let lurah = login_demo(&t, "lurah");
    let second = t.call(Some(&lurah), "letters.issue", domisili(&niks[1])).unwrap();
    assert_ne!(second["number"], first["number"]);
    assert_eq!(numbered(&conn).iter().map(|l| l.1).collect::<Vec<_>>(), [1, 2]);
    series_ahead_of_letters(&conn);
}

#[test]
fn after_damage_the_work_since_the_backup_is_taken_over_from_the_damaged_file() {
    let (t, niks) = office();
    set_idle_minutes(&t, 11);
    t.operator("backup.create", json!({})).unwrap();
    t.clock.advance(chrono::Duration::hours(1));
    // The hour's work after the backup: a new resident, a letter, a setting.
    let clerk = login_demo(&t, "petugas");
    let mut p = crate::register::person(
        "1872040101800002",
        "Sumarno Salvatore",
        "L",
        "01-01-1980",
        "Kepala Keluarga",
    );
    p["no_kk"] = json!("1872041203159999");
    t.call(Some(&clerk), "residents.add", json!({"resident": p})).unwrap();
    let lurah = login_demo(&t, "lurah");
    let letter = t.call(Some(&lurah), "letters.issue", domisili(&niks[2])).unwrap();
    set_idle_minutes(&t, 12);
    // A page of the audit trail (which is not taken over) fails its check.
    let page: i64 = crate::raw_db(&t)
        .query_row("SELECT rootpage FROM sqlite_schema WHERE name = 'audit_log'", [], |r| r.get(0))
        .unwrap();
    let (app, _dir, _keys, pragma) = reopen_checked(t, |db, _| damage_page(db, page));

    let recovery = info(&app)["recovery"].clone();
    assert!(recovery["restored_from"].as_str().unwrap().contains("backups"), "{recovery}");
    let taken = &recovery["taken_over"];
    assert_eq!(taken["unreadable"], json!([]), "only the audit trail was damaged: {recovery}");
    assert_eq!(taken["letters"], 1, "{recovery}");
    assert!(taken["changes"].as_u64().unwrap() >= 2, "the family and the resident: {recovery}");
    assert!(taken["queued"].as_u64().unwrap() >= 2, "for the city at enrolment: {recovery}");
    assert_eq!(op(&app, "settings.get", json!({}))["idle_lock_minutes"], 12, "the newer setting");
    let found = op(&app, "residents.search", json!({"q": "salvatore"}));
    assert_eq!(found.as_array().map(Vec::len), Some(1), "in the name index too: {found}");
    let conn = raw(app.db_path(), &pragma);
    assert_eq!(numbered(&conn)[0].0, letter["number"].as_str().unwrap());
    series_ahead_of_letters(&conn);
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let audit = op(&app, "audit.list", json!({"limit": 5})).to_string();
    assert!(audit.contains("database.taken_over"), "{audit}");
}

#[test]
fn a_damaged_register_page_without_a_backup_loses_only_the_rows_on_it_and_names_them() {
    let t = TestApp::empty();
    t.operator("demo.seed", json!({"residents": 2000})).unwrap();
    let conn = crate::raw_db(&t);
    let residents: i64 =
        conn.query_row("SELECT count(*) FROM residents", [], |r| r.get(0)).unwrap();
    // A leaf page of the register in the middle of its rows.
    let (page, on_page): (i64, i64) = conn
        .query_row(
            "SELECT pageno, ncell FROM dbstat WHERE name = 'residents' AND pagetype = 'leaf'
             ORDER BY pageno LIMIT 1 OFFSET (SELECT count(*) / 2 FROM dbstat
                 WHERE name = 'residents' AND pagetype = 'leaf')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(conn);
    let (app, _dir, _keys, pragma) = reopen_checked(t, |db, _| damage_page(db, page));

    let recovery = info(&app)["recovery"].clone();
    assert!(recovery["restored_from"].is_null(), "no backup: {recovery}");
    let conn = raw(app.db_path(), &pragma);
    let back: i64 = conn.query_row("SELECT count(*) FROM residents", [], |r| r.get(0)).unwrap();
    let unreadable: Vec<String> = recovery["taken_over"]["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect();
    let named = unreadable.iter().filter(|u| u.starts_with("residents: the row of")).count();
    assert_eq!(back, residents - on_page, "only the damaged page's rows are lost: {recovery}");
    assert_eq!(named as i64, on_page, "and each is named: {unreadable:?}");
    assert!(unreadable.iter().all(|u| !u.contains("187")), "places, never content");
    // The office is there again (its users, profile, signatories came over too).
    assert_eq!(info(&app)["initialized"], true, "{}", info(&app));
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let hits = op(&app, "residents.search", json!({"q": "a", "limit": 5}));
    assert!(!hits.as_array().unwrap().is_empty());
}

#[test]
fn a_take_over_interrupted_by_a_crash_is_finished_at_the_next_start() {
    let (t, niks) = office();
    let backup = t.operator("backup.create", json!({})).unwrap();
    t.clock.advance(chrono::Duration::minutes(5));
    let lurah = login_demo(&t, "lurah");
    let letter = t.call(Some(&lurah), "letters.issue", domisili(&niks[0])).unwrap();
    let before = t.operator("backup.create", json!({})).unwrap();
    // What a restore leaves when its process stops right after the copy was put in place:
    // the backup's content, marked with the take-over still to do.
    let (app, _dir, _keys, pragma) = reopen_checked(t, |db, pragma| {
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        std::fs::copy(backup["path"].as_str().unwrap(), db).unwrap();
        let conn = raw(db, pragma);
        assert!(numbered(&conn).is_empty(), "the backup is from before the letter");
        conn.execute(
            "INSERT INTO _sync_state (key, value) VALUES ('take_over_from', ?1), ('take_over_scope', 'letters')",
            [before["path"].as_str().unwrap()],
        )
        .unwrap();
    });
    let conn = raw(app.db_path(), &pragma);
    assert_eq!(numbered(&conn)[0].0, letter["number"].as_str().unwrap());
    series_ahead_of_letters(&conn);
    assert_eq!(take_over_marks(&conn), 0, "done once, not at every start");
}

#[test]
fn a_take_over_whose_file_was_removed_meanwhile_does_not_stop_the_office_from_opening() {
    let (t, _) = office();
    let backup = t.operator("backup.create", json!({})).unwrap();
    let (app, _dir, _keys, pragma) = reopen_checked(t, |db, pragma| {
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        std::fs::copy(backup["path"].as_str().unwrap(), db).unwrap();
        raw(db, pragma)
            .execute(
                "INSERT INTO _sync_state (key, value) VALUES ('take_over_from', '/nowhere/balai.sqlite'), ('take_over_scope', 'letters')",
                [],
            )
            .unwrap();
    });
    let audit = op(&app, "audit.list", json!({"limit": 5})).to_string();
    assert!(audit.contains("tak_terbaca=1"), "the take-over says it read nothing: {audit}");
    assert_eq!(take_over_marks(&raw(app.db_path(), &pragma)), 0);
}
