use crate::{open, temp_db};
use balai_store::migrations::{self, schema_dump, LATEST};
use balai_store::StoreError;
use rusqlite::Connection;

/// Invariant: whatever earlier schema a database has, opening it with this build yields exactly
/// the schema a fresh database gets.
#[test]
fn a_database_upgraded_from_every_earlier_schema_equals_a_fresh_one() {
    let (_fresh_dir, fresh_path) = temp_db();
    let fresh = open(&fresh_path);
    let fresh_schema = fresh.read(|c| schema_dump(c)).unwrap();
    assert!(fresh_schema.contains(&format!("user_version {LATEST}")), "{fresh_schema}");
    assert!(
        fresh_schema.contains("_capture_residents_identity_update"),
        "capture triggers installed"
    );

    for start in 0..LATEST {
        let (_dir, path) = temp_db();
        {
            let conn = Connection::open(&path).unwrap();
            migrations::apply(&conn, 0, start).unwrap();
            assert_eq!(migrations::user_version(&conn).unwrap(), start);
        }
        let upgraded = open(&path);
        let schema = upgraded.read(|c| schema_dump(c)).unwrap();
        assert_eq!(schema, fresh_schema, "upgrade from schema {start}");
    }
}

#[test]
fn a_database_with_content_is_backed_up_before_it_is_migrated() {
    let (dir, path) = temp_db();
    {
        let conn = Connection::open(&path).unwrap();
        migrations::apply(&conn, 0, LATEST - 1).unwrap();
        conn.execute("CREATE TABLE marker (v TEXT)", []).unwrap();
        conn.execute("INSERT INTO marker VALUES ('before')", []).unwrap();
    }
    open(&path);
    let backups: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains(".pre-v"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    // The backup is encrypted with the database's key, like the database.
    assert!(!balai_store::cipher::is_plain(&backups[0]).unwrap(), "a plain backup");
    let backup = crate::keyed(&backups[0], &crate::TEST_KEY);
    let v: String = backup.query_row("SELECT v FROM marker", [], |r| r.get(0)).unwrap();
    assert_eq!(v, "before");
    assert_eq!(migrations::user_version(&backup).unwrap(), LATEST - 1);

    // A fresh, empty file needs no backup.
    let (dir2, path2) = temp_db();
    open(&path2);
    let n = std::fs::read_dir(dir2.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".pre-v"))
        .count();
    assert_eq!(n, 0);
}

#[test]
fn a_database_from_a_newer_balai_is_refused_and_left_untouched() {
    let (dir, path) = temp_db();
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute("CREATE TABLE future (x INTEGER)", []).unwrap();
        conn.pragma_update(None, "user_version", LATEST + 5).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let files_before: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();

    let err = balai_store::Store::open(&path, &crate::TEST_KEY).unwrap_err();
    match err {
        StoreError::TooNew { found, supported, .. } => {
            assert_eq!(found, LATEST + 5);
            assert_eq!(supported, LATEST);
        }
        other => panic!("expected TooNew, got {other}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "file content changed");
    let files_after: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(files_after, files_before, "files were created next to the database");
}

#[test]
fn the_database_runs_in_wal_with_full_sync() {
    let (_dir, path) = temp_db();
    let store = open(&path);
    let (mode, sync): (String, i64) = store
        .read(|c| {
            Ok::<_, rusqlite::Error>((
                c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                c.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
            ))
        })
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "synchronous=FULL");
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let (_dir, path) = temp_db();
    let store = open(&path);
    let result: Result<(), StoreError> = store.write(&crate::ctx(), |tx| {
        balai_store::settings::set_int(tx, balai_store::settings::IDLE_LOCK_MINUTES, 3)?;
        Err(StoreError::Corrupt("stop half-way".into()))
    });
    assert!(result.is_err());
    let v = store
        .read(|c| balai_store::settings::get_int(c, balai_store::settings::IDLE_LOCK_MINUTES))
        .unwrap();
    assert_eq!(v, 10, "the half-done write must be rolled back");
}

/// Schema 3 keeps an insert's change as a reference to its row: upgrading a schema-2 file keeps
/// every captured change and its place in the queue, and new changes continue after them.
#[test]
fn upgrading_to_schema_3_keeps_the_outbox_queue() {
    let (_dir, path) = temp_db();
    {
        let conn = Connection::open(&path).unwrap();
        migrations::apply(&conn, 0, 2).unwrap();
        for (seq, group, value) in
            [(7, "*", r#"{"family":{"no_kk":"1"}}"#), (8, "family", r#"{"no_kk":"2"}"#)]
        {
            conn.execute(
                "INSERT INTO _sync_outbox (seq, change_id, tbl, row_id, field_group, value, hlc, device_id, user_id)
                 VALUES (?1, randomblob(16), 'families', x'01', ?2, ?3, ?1, 'd', 'u')",
                rusqlite::params![seq, group, value],
            )
            .unwrap();
        }
    }
    let store = open(&path);
    let rows: Vec<(i64, String, Option<String>)> = store
        .read(|c| {
            let mut s =
                c.prepare("SELECT seq, field_group, value FROM _sync_outbox ORDER BY seq")?;
            let rows = s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap();
    assert_eq!(
        rows,
        [(7, "*".to_string(), None), (8, "family".to_string(), Some(r#"{"no_kk":"2"}"#.into()))]
    );
    // The next captured change is numbered after the old ones.
    store
        .write(&crate::ctx(), |tx| {
            balai_store::register::insert_family(
                tx,
                &balai_store::register::FamilyRow {
                    id: balai_store::Uuid::from_bytes([9; 16]),
                    no_kk: "1872041203150007".into(),
                    address: String::new(),
                    rt: 1,
                    rw: 1,
                    lingkungan: String::new(),
                },
                "t",
            )
        })
        .unwrap();
    let max: i64 =
        store.read(|c| c.query_row("SELECT max(seq) FROM _sync_outbox", [], |r| r.get(0))).unwrap();
    assert_eq!(max, 9);
}

#[test]
fn opening_an_up_to_date_database_writes_nothing() {
    let (_dir, path) = crate::temp_db();
    drop(crate::open(&path)); // created, migrated, its triggers installed; closed: WAL folded in
    let before = std::fs::read(&path).unwrap();
    let version = |p: &std::path::Path| -> i64 {
        crate::keyed(p, &crate::TEST_KEY)
            .query_row("PRAGMA schema_version", [], |r| r.get(0))
            .unwrap()
    };
    let schema_before = version(&path);
    drop(crate::open(&path));
    assert_eq!(version(&path), schema_before, "the capture triggers were not rewritten");
    assert!(std::fs::read(&path).unwrap() == before, "not a byte of the file changed");
}
