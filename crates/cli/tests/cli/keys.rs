//! The database key through the CLI: shown once as a recovery key, missing on another account,
//! taken back from the recovery key.

use crate::{balai, demo_db, run, run_in, Run};
use std::path::Path;

/// `balai --db DB ARGS…` keeping keys in `keys` (another OS account's store) with `stdin`.
fn run_keyed(keys: &Path, db: &Path, args: &[&str], stdin: &str) -> Run {
    let store = std::ffi::OsString::from(format!("file:{}", keys.display()));
    run_in(db, args, stdin, &[("BALAI_KEY_STORE", &store)])
}

#[test]
fn the_recovery_key_is_shown_once_and_opens_the_database_on_an_account_without_its_key() {
    let (dir, db) = demo_db();
    let shown = run(&db, &["--json", "key", "recovery"]);
    assert_eq!(shown.status, 0, "{}", shown.stderr);
    let recovery = shown.json()["recovery_key"].as_str().unwrap().to_string();
    assert_eq!(recovery.len(), 69, "{recovery}");
    let again = run(&db, &["--json", "key", "recovery"]);
    assert_eq!(again.status, 5, "{}", again.stderr);
    assert_eq!(again.error_json()["error"]["code"], "conflict");
    let audit = run(&db, &["--json", "audit", "list", "--limit", "5"]).json().to_string();
    assert!(audit.contains("security.recovery_key_shown"), "{audit}");
    assert!(audit.contains("security.recovery_key_refused"), "{audit}");
    assert!(!audit.contains(&recovery[..9]), "the key is not in the audit trail");

    // Another account (its own key store) has no key: refused, the file left as it was.
    let other = dir.path().join("other-account-keys");
    let before = std::fs::read(&db).unwrap();
    let r = run_keyed(&other, &db, &["--json", "profile", "show"], "");
    assert_eq!(r.status, 8, "{}", r.stderr);
    assert_eq!(r.error_json()["error"]["code"], "key_missing");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert!(!other.exists() || std::fs::read_dir(&other).unwrap().next().is_none(), "no key made");

    // A mistyped recovery key names the field; another database's key is refused; neither is kept.
    let mut typo = recovery.clone();
    let last = if typo.ends_with('0') { "1" } else { "0" };
    typo.replace_range(typo.len() - 1.., last);
    let r = run_keyed(&other, &db, &["--json", "key", "recover"], &typo);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert_eq!(r.error_json()["error"]["fields"][0]["field"], "recovery_key");
    let (_dir2, db2) = demo_db();
    let foreign = run(&db2, &["--json", "key", "recovery"]).json()["recovery_key"]
        .as_str()
        .unwrap()
        .to_string();
    let r = run_keyed(&other, &db, &["--json", "key", "recover"], &foreign);
    assert_eq!(r.status, 8, "{}", r.stderr);
    assert_eq!(r.error_json()["error"]["code"], "wrong_key");
    assert_eq!(run_keyed(&other, &db, &["--json", "profile", "show"], "").status, 8);

    // The right one, as typed from paper (lower case, spaces), is kept: the account opens it.
    let typed = recovery.replace('-', " ").to_lowercase();
    let r = run_keyed(&other, &db, &["--json", "key", "recover"], &format!("{typed}\n"));
    assert_eq!(r.status, 0, "{}", r.stderr);
    let r = run_keyed(&other, &db, &["--json", "profile", "show"], "");
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.json()["profile"]["kelurahan_name"], "Yosorejo");
}

#[test]
fn with_no_key_store_to_reach_nothing_is_created_and_the_operator_is_told_why() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("office.sqlite");
    let out = balai()
        .env("BALAI_KEY_STORE", "os")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", dir.path().join("no-bus").display()),
        )
        .args(["--json", "--db"])
        .arg(&db)
        .args(["demo", "seed"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(err["error"]["code"], "internal");
    assert!(err["error"]["message"].as_str().unwrap().contains("Penyimpanan kunci"), "{err}");
    assert!(!db.exists(), "no database without a key kept for it");
    let bad = balai()
        .env("BALAI_KEY_STORE", "vault")
        .args(["--json", "--db"])
        .arg(&db)
        .arg("commands")
        .output()
        .unwrap();
    assert_ne!(bad.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("BALAI_KEY_STORE"));
}
