//! Backups from the command line, as a city IT script or a cron job uses them.

use crate::{demo_db, run};

#[test]
fn a_script_makes_lists_and_restores_a_backup_and_a_refusal_names_the_field() {
    let (dir, db) = demo_db();
    let made = run(&db, &["--json", "backup", "create"]);
    assert_eq!(made.status, 0, "{}", made.stderr);
    let name = made.json()["name"].as_str().unwrap().to_string();
    assert!(dir.path().join("backups").join(&name).is_file());
    let r = run(
        &db,
        &[
            "users",
            "add",
            "--username",
            "baru",
            "--full-name",
            "Pengguna Baru",
            "--role",
            "petugas",
            "--password",
            "rahasia-panjang",
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);

    let restored = run(&db, &["--json", "backup", "restore", &name]);
    assert_eq!(restored.status, 0, "{}", restored.stderr);
    let restored = restored.json();
    assert_eq!(restored["fenced"], false);
    let users = run(&db, &["--json", "users", "list"]).json().to_string();
    assert!(!users.contains("\"baru\""), "the user added after the backup is gone: {users}");

    let list = run(&db, &["--json", "backup", "list"]).json();
    let kinds: Vec<&str> =
        list.as_array().unwrap().iter().map(|b| b["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 2, "{list}");
    assert!(kinds.contains(&"manual") && kinds.contains(&"before_restore"), "{list}");

    let missing = run(&db, &["--json", "backup", "restore", "balai-20990101-000000.sqlite"]);
    assert_eq!(missing.status, 2, "{}", missing.stderr);
    assert_eq!(missing.error_json()["error"]["fields"][0]["field"], "backup");
    // Daily: a backup exists from today, so none is made.
    let daily = run(&db, &["--json", "backup", "daily"]);
    assert_eq!(daily.status, 0, "{}", daily.stderr);
    assert!(daily.json()["made"].is_null());
}

#[test]
fn check_sets_a_damaged_database_aside_and_restores_the_newest_backup() {
    let (dir, db) = demo_db();
    let whole = run(&db, &["--json", "check"]);
    assert_eq!(whole.status, 0, "{}", whole.stderr);
    assert!(whole.json()["recovery"].is_null(), "{}", whole.stdout);
    assert_eq!(run(&db, &["--json", "backup", "create"]).status, 0);
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&db).unwrap().set_len(len / 2).unwrap();

    let checked = run(&db, &["--json", "check"]);
    assert_eq!(checked.status, 0, "{}", checked.stderr);
    let recovery = checked.json()["recovery"].clone();
    assert!(recovery["restored_from"].as_str().unwrap().contains("backups"), "{recovery}");
    let aside = std::path::PathBuf::from(recovery["set_aside"].as_str().unwrap());
    assert_eq!(std::fs::metadata(&aside).unwrap().len(), len / 2, "kept as it was");
    assert!(aside.starts_with(dir.path()));
    let profile = run(&db, &["--json", "profile", "show"]);
    assert_eq!(profile.json()["profile"]["kelurahan_name"], "Yosorejo");
    assert!(run(&db, &["--json", "check"]).json()["recovery"].is_null());
}
