//! Encryption at rest: what a thief copying the files sees, and what the right key opens.

use crate::{ctx, keyed, open, temp_db, TEST_KEY};
use balai_store::settings::{self, UNIT_CODE};
use balai_store::{Store, StoreError};
use std::path::Path;

const SECRET: &str = "WARGA-RAHASIA-7731";

/// Every file in `dir` (the database, its WAL, backups): none may hold `needle` in the clear.
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let bytes = std::fs::read(p).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
        })
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

fn write_secret(store: &Store) {
    store.write(&ctx(), |tx| settings::set_text(tx, UNIT_CODE, SECRET)).unwrap();
}

#[test]
fn a_copied_database_file_opens_as_noise_without_its_key() {
    let (dir, path) = temp_db();
    let store = open(&path);
    write_secret(&store);
    // While the app runs, the text is in the WAL; neither it nor the file shows it.
    assert!(path.with_file_name("office.sqlite-wal").exists());
    assert_eq!(files_holding(dir.path(), SECRET), Vec::<String>::new());
    drop(store);
    assert_eq!(files_holding(dir.path(), SECRET), Vec::<String>::new());
    assert!(!balai_store::cipher::is_plain(&path).unwrap());

    // SQLite without a key: not a database.
    let thief = rusqlite::Connection::open(&path).unwrap();
    let err = thief.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0));
    match err {
        Err(rusqlite::Error::SqliteFailure(e, _)) => {
            assert_eq!(e.code, rusqlite::ErrorCode::NotADatabase)
        }
        other => panic!("a keyless read answered {other:?}"),
    }
    drop(thief);
    // Another key: refused as such, and the file is left as it was.
    let before = std::fs::read(&path).unwrap();
    match Store::open(&path, &[8; 32]) {
        Err(StoreError::WrongKey { .. }) => {}
        other => panic!("a wrong key gave {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // The right key reads it all.
    let store = open(&path);
    assert_eq!(store.read(|c| settings::get_text(c, UNIT_CODE)).unwrap(), SECRET);
}

#[test]
fn a_plain_database_of_an_earlier_build_is_encrypted_in_place_with_everything_in_it() {
    let (dir, path) = temp_db();
    {
        // A plain database, as builds before encryption wrote it (WAL, not checkpointed).
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        balai_store::migrations::apply(&conn, 0, balai_store::migrations::LATEST).unwrap();
        conn.execute("INSERT INTO settings (key, value) VALUES (?1, ?2)", [UNIT_CODE.name, SECRET])
            .unwrap();
        std::mem::forget(conn); // as a crash leaves it: the last commit only in the WAL
    }
    assert!(balai_store::cipher::is_plain(&path).unwrap());
    assert!(!files_holding(dir.path(), SECRET).is_empty(), "the plain file shows the text");

    let store = open(&path);
    assert_eq!(store.read(|c| settings::get_text(c, UNIT_CODE)).unwrap(), SECRET);
    drop(store);
    assert!(!balai_store::cipher::is_plain(&path).unwrap());
    assert_eq!(files_holding(dir.path(), SECRET), Vec::<String>::new(), "nothing plain left");
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("encrypting"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn a_backup_is_encrypted_with_the_database_key() {
    let (dir, path) = temp_db();
    let store = open(&path);
    write_secret(&store);
    let copy = dir.path().join("copy.sqlite");
    store.backup_to(&copy).unwrap();
    assert!(!balai_store::cipher::is_plain(&copy).unwrap());
    assert_eq!(files_holding(dir.path(), SECRET), Vec::<String>::new());
    let c = keyed(&copy, &TEST_KEY);
    let v: String = c
        .query_row("SELECT value FROM settings WHERE key = ?1", [UNIT_CODE.name], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SECRET);
    assert!(balai_store::cipher::check_key(&copy, &[9; 32]).is_err());
}
