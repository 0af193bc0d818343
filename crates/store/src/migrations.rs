//! Schema migrations, tracked by `PRAGMA user_version`.
//!
//! `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`. A migration is never edited
//! once shipped; a change is a new file. Before migrating a database that already holds data,
//! a `VACUUM INTO` copy is written next to it.

use crate::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// The scripts, in order. The schema version after running the first `n` is `n`.
pub const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_foundation.sql"),
    include_str!("migrations/002_register.sql"),
    include_str!("migrations/003_outbox_insert_by_reference.sql"),
    include_str!("migrations/004_letters.sql"),
    include_str!("migrations/005_sync_client.sql"),
    include_str!("migrations/006_sync_pull.sql"),
    include_str!("migrations/007_number_leases.sql"),
    include_str!("migrations/008_sync_published.sql"),
    include_str!("migrations/009_online_requests.sql"),
    include_str!("migrations/010_sync_snapshot.sql"),
    include_str!("migrations/011_identity_conflicts.sql"),
    include_str!("migrations/012_contest.sql"),
    include_str!("migrations/013_login_lockout.sql"),
    include_str!("migrations/014_personal_data.sql"),
];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

pub fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Reads the version read-only so that a database from a newer Balai is left exactly as it was
/// (no WAL file created, no journal mode changed).
pub(crate) fn refuse_if_newer(path: &Path, key: Option<&[u8; 32]>) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
    if let Some(key) = key {
        crate::cipher::unlock(&conn, path, key)?;
    }
    let found = user_version(&conn)
        .map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
    if found > LATEST {
        return Err(StoreError::TooNew { path: path.to_path_buf(), found, supported: LATEST });
    }
    Ok(())
}

pub(crate) fn migrate(conn: &Connection, path: &Path) -> Result<()> {
    let current = user_version(conn)?;
    if current == LATEST {
        return Ok(());
    }
    // Anything already in the file (any schema object) is worth a copy before it is changed.
    let has_content: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    if current > 0 || has_content > 0 {
        let dest = backup_path(path, current);
        vacuum_into(conn, &dest).map_err(StoreError::Backup)?;
    }
    // Migrations run without the capture triggers (they are generated for the latest schema
    // and re-created after migrating), so a script may rebuild the tables they write to.
    drop_capture_triggers(conn)?;
    apply(conn, current, LATEST)
}

/// Applies migrations `from+1 ..= to`, each in its own transaction together with its version
/// bump, so a crash leaves the database at a whole version.
pub fn apply(conn: &Connection, from: i64, to: i64) -> Result<()> {
    for version in (from + 1)..=to {
        let script = MIGRATIONS[(version - 1) as usize];
        let run = || -> rusqlite::Result<()> {
            // The migration scripts are the one place SQL runs as a script.
            #[allow(clippy::disallowed_methods)]
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
            ))
        };
        if let Err(source) = run() {
            let _ = conn.execute("ROLLBACK", []);
            return Err(StoreError::Migration { version, source });
        }
    }
    Ok(())
}

fn drop_capture_triggers(conn: &Connection) -> Result<()> {
    let names = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '\\_capture\\_%' ESCAPE '\\'")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for name in names {
        conn.execute(&format!("DROP TRIGGER \"{}\"", name.replace('"', "")), [])?;
    }
    Ok(())
}

/// (Re)creates the capture triggers from the registry, so they always match this build's
/// schema (sync-notes §3.9).
pub(crate) fn install_capture_triggers(conn: &Connection) -> Result<()> {
    if user_version(conn)? < 2 {
        return Ok(());
    }
    // Rewritten only when they differ from this build's: an open that changes nothing writes
    // nothing (no lock taken, and the schema's pages are not moved to the file's end at every
    // start, where a truncation would make the whole file unreadable).
    let stored: std::collections::BTreeMap<String, String> = {
        let mut st = conn.prepare(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '\\_capture\\_%' ESCAPE '\\'",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let wanted: std::collections::BTreeMap<String, String> =
        crate::sync::capture_triggers().into_iter().collect();
    if stored == wanted {
        return Ok(());
    }
    #[allow(clippy::disallowed_methods)] // generated DDL, a script by nature
    conn.execute_batch(&format!("BEGIN IMMEDIATE;\n{}\nCOMMIT;", crate::sync::trigger_sql()))?;
    Ok(())
}

/// `<db>.pre-v<N>.sqlite`, or with a counter when such a file exists already.
fn backup_path(path: &Path, from_version: i64) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut candidate = path.with_file_name(format!("{name}.pre-v{}.sqlite", from_version + 1));
    let mut n = 1;
    while candidate.exists() {
        n += 1;
        candidate = path.with_file_name(format!("{name}.pre-v{}-{n}.sqlite", from_version + 1));
    }
    candidate
}

pub(crate) fn vacuum_into(conn: &Connection, dest: &Path) -> rusqlite::Result<()> {
    conn.execute("VACUUM INTO ?1", [dest.to_string_lossy()])?;
    Ok(())
}

/// The schema as text (tables, indexes, triggers, sorted), to compare two databases.
pub fn schema_dump(conn: &Connection) -> Result<String> {
    let mut stmt = conn.prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_schema
         WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(format!(
            "{} {} on {}: {}",
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?.unwrap_or_default()
        ))
    })?;
    let mut out = rows.collect::<rusqlite::Result<Vec<_>>>()?.join("\n");
    out.push_str(&format!("\nuser_version {}", user_version(conn)?));
    Ok(out)
}
