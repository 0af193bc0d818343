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
