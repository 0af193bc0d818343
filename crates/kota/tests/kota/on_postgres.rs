//! What only the PostgreSQL backend has: its schema (made from the SQLite scripts, so the two
//! must hold the same tables and columns), its refusals (a database sorting text by a
//! language's rules; a newer build's schema) and its messages (no password in them). These
//! start the throwaway cluster on every run, whichever backend the stories use.

use crate::{pg, Kota, Store};
use ed25519_dalek::SigningKey;
use std::collections::BTreeSet;

fn run(store: &Store, args: &[&str]) -> (bool, String) {
    let out = store.command().args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// (table, column) of every table the server made, in lower case.
fn columns(store: &Store) -> BTreeSet<(String, String)> {
    let sql = match store {
        Store::Sqlite(_) => {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
             WHERE m.type = 'table'"
        }
        Store::Postgres(_) => {
            "SELECT table_name, column_name FROM information_schema.columns
             WHERE table_schema = 'public'"
        }
    };
    store
        .rows(sql, "")
        .into_iter()
        .map(|r| {
            let text = |i: usize| r[i].as_str().unwrap().to_lowercase();
            (text(0), text(1))
        })
        .collect()
}

#[test]
fn the_schema_on_postgresql_has_every_table_and_column_of_the_schema_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let lite = Store::Sqlite(dir.path().join("kota.sqlite"));
    let postgres = Store::Postgres(pg::fresh_database());
    for store in [&lite, &postgres] {
        let (ok, err) = run(store, &["kelurahan", "list"]);
        assert!(ok, "{err}");
    }
    let (on_lite, on_pg) = (columns(&lite), columns(&postgres));
    assert!(on_lite.len() > 40, "{on_lite:?}");
    assert_eq!(on_pg, on_lite);
    // Opened again, the schema is checked and left as it is.
    let (ok, err) =
        run(&postgres, &["kelurahan", "add", "--code", "1872041004", "--name", "Yosorejo"]);
    assert!(ok, "{err}");
    let version = postgres.rows("SELECT value FROM meta WHERE key = 'schema_version'", "");
    let latest = lite.rows("SELECT user_version FROM pragma_user_version", "");
    assert_eq!(version[0][0].as_str().unwrap(), latest[0][0].to_string());
}

#[test]
fn a_database_that_sorts_text_by_a_language_is_refused_with_how_to_make_one_and_left_empty() {
    let url = pg::fresh_database_with("C.UTF-8");
    let store = Store::Postgres(url);
    let (ok, err) = run(&store, &["kelurahan", "list"]);
    assert!(!ok);
    assert!(err.contains("C.UTF-8") && err.contains("LC_COLLATE 'C'"), "{err}");
    let tables = store
        .rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", "");
    assert!(tables.is_empty(), "{tables:?}");
}

#[test]
fn a_database_of_a_newer_build_is_refused_and_not_touched() {
    let store = Store::Postgres(pg::fresh_database());
    let (ok, err) = run(&store, &["kelurahan", "list"]);
    assert!(ok, "{err}");
    let Store::Postgres(url) = &store else { unreachable!() };
    pg::client(url)
        .batch_execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
        .unwrap();
    let (ok, err) = run(&store, &["kelurahan", "list"]);
    assert!(!ok);
    assert!(err.contains("lebih baru (skema 999)"), "{err}");
    let version = store.rows("SELECT value FROM meta WHERE key = 'schema_version'", "");
    assert_eq!(version[0][0], "999");
}

#[test]
fn an_unreachable_database_is_named_without_its_password() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let store = Store::Postgres(format!("postgres://kota:rahasia-sekali@127.0.0.1:{port}/kota"));
    let (ok, err) = run(&store, &["kelurahan", "list"]);
    assert!(!ok);
    assert!(err.contains(&format!("postgres://kota@127.0.0.1:{port}/kota")), "{err}");
    assert!(!err.contains("rahasia"), "{err}");
}

#[test]
fn the_server_connects_again_after_postgresql_ends_its_connection_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("kota.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let url = pg::fresh_database();
    let mut kota = Kota::start_on(dir, Store::Postgres(url.clone()), log.into());
    let (status, body) = kota.enrol(&kota.code(), &SigningKey::from_bytes(&[7; 32]));
    assert_eq!(status, 200, "{body}");

    // What a restart of PostgreSQL or an administrator does to the server's connection.
    let ended = pg::client(&url)
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .unwrap();
    assert_eq!(ended.len(), 1, "the server holds one connection");
    std::thread::sleep(std::time::Duration::from_millis(1200));
    // The next office to come by is served, on a new connection.
    let (status, body) = kota.enrol(&kota.code(), &SigningKey::from_bytes(&[8; 32]));
    assert_eq!(status, 200, "{body}");
    let devices = Store::Postgres(url).rows("SELECT count(*) FROM devices", "");
    assert_eq!(devices[0][0], 2);

    // Stopped by the service manager, it exits cleanly (closing PostgreSQL's client on a
    // thread of the async server used to panic).
    let exit = kota.stop();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(exit.success(), "{exit:?}\n{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(log.contains("tersambung lagi"), "the reconnection is logged: {log}");
}
