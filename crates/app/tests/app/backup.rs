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
}

/// Closes the test's app, lets `harm` do its damage to the file, and opens it again as the
/// desktop does at start.
fn reopen_checked(
    t: TestApp,
    harm: impl FnOnce(&std::path::Path),
) -> (balai_app::App, tempfile::TempDir, tempfile::TempDir) {
    let db = t.db_path();
    let TestApp { app, clock, dir, key } = t;
    drop(app); // closed cleanly: the WAL is in the file
    harm(&db);
    let keys_dir = tempfile::tempdir().unwrap();
    let keys = balai_app::KeyStore::files(keys_dir.path().to_path_buf());
    keys.save(&db, &key).unwrap();
    (balai_app::App::open_checked(&db, &keys, clock).unwrap(), dir, keys_dir)
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
    let (app, _dir, _keys) = reopen_checked(t, |_| {});
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
        let (app, dir, _keys) = reopen_checked(t, |db| {
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
    let (app, _dir, _keys) = reopen_checked(t, |db| {
        let len = std::fs::metadata(db).unwrap().len();
        std::fs::OpenOptions::new().write(true).open(db).unwrap().set_len(len / 3).unwrap();
    });
    let info = info(&app);
    assert!(info["recovery"]["restored_from"].is_null(), "{info}");
    let damage = info["recovery"]["damage"].as_str().unwrap();
    assert!(damage.contains("truncated") || damage.contains("malformed"), "{info}");
    assert_eq!(info["initialized"], false, "an empty database: set up again or enrol");
}
