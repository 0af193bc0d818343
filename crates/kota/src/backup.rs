//! Backups of the city's database and restoring one, so that a restore loses nothing the
//! offices still hold and numbers no letter twice.
//!
//! A backup is `VACUUM INTO` a new file (the server may run meanwhile). A restore runs with the
//! server stopped (`serve` holds `<db>.lock`; restore refuses while it is held): the backup is
//! checked (`integrity_check`), copied next to the database, brought to this build's schema,
//! and given a new server epoch, so every PC pulls the whole feed again and re-sends what the
//! city lost (the push `gap` answer); the database it replaces is set aside, never deleted.
//!
//! Letter numbers leased after the backup are unknown to the restored city. Each series'
//! counter therefore jumps [`NUMBER_GAP`] ahead, and the numbers in between form a recovery
//! window: an `issue_letter` from a lease the city does not know is accepted when its number
//! lies in the window (and no other letter has it), as those are the leases it lost. New
//! series start above the gap too.
//!
//! With a backup key (`--key-file`: 64 hex digits, e.g. `openssl rand -hex 32`), the backup is
//! written encrypted by SQLCipher (`sqlcipher_export` into a keyed file: nothing plain is
//! written on the way) and a restore decrypts it into the staging file the same way. The key
//! lives apart from the backups (another machine, the city's safe).
//!
//! What it does not do: online requests submitted after the backup are lost (the residents
//! submit again); devices enrolled after it are unknown (`unknown_device`: they enrol again
//! and send everything); revocations after it must be repeated.

use crate::db::Db;
use crate::sql::{params, Query};
use crate::KotaError;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// How far each number series jumps at a restore: more than an office issues between two
/// backups (a kelurahan issues some hundreds of letters a month; backups are daily).
pub const NUMBER_GAP: i64 = 1000;

/// Schema v8: the recovery window of each series after a restore.
pub(crate) const SCHEMA_V8: &str = "
ALTER TABLE number_series ADD COLUMN recovery_from INTEGER;
ALTER TABLE number_series ADD COLUMN recovery_to INTEGER;
";

/// The lock file `serve` holds for its whole life.
pub fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the serving lock of `db`, or says the server is running.
pub fn hold_lock(db: &Path) -> Result<std::fs::File, KotaError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(db))
        .map_err(|e| KotaError::BadRequest(format!("{}: {e}", lock_path(db).display())))?;
    file.try_lock().map_err(|_| {
        KotaError::BadRequest(format!(
            "Server Balai Kota masih berjalan pada {} (hentikan dulu).",
            db.display()
        ))
    })?;
    Ok(file)
}

/// A backup key: 32 bytes, read from a file of 64 hex digits.
pub struct BackupKey([u8; 32]);

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackupKey(…)")
    }
}

impl BackupKey {
    pub fn from_file(path: &Path) -> Result<BackupKey, KotaError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        let bytes = hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                bad(format!(
                    "{}: kunci cadangan harus 64 digit heksadesimal (openssl rand -hex 32).",
                    path.display()
                ))
            })?;
        Ok(BackupKey(bytes))
    }

    /// The key as SQLCipher's ATTACH takes a raw key.
    fn sql(&self) -> String {
        format!("x'{}'", hex::encode(self.0))
    }
}

/// Copies the whole of `from` (the main database of `c`) into a new file `to`, encrypted with
/// `key`, or plain with `None` (an empty key): one statement, one consistent read.
fn export(c: &Connection, to: &Path, key: Option<&BackupKey>) -> Result<(), KotaError> {
    let version: i64 = c.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
    let key_sql = key.map(BackupKey::sql).unwrap_or_default();
    c.execute(
        "ATTACH DATABASE ?1 AS backup_copy KEY ?2",
        [to.to_string_lossy().as_ref(), &key_sql],
    )?;
    let copied = c
        .query_row("SELECT sqlcipher_export('backup_copy')", [], |_| Ok(()))
        .and_then(|()| c.execute_batch(&format!("PRAGMA backup_copy.user_version = {version};")));
    c.execute_batch("DETACH DATABASE backup_copy;")?;
    copied?;
    Ok(())
}

impl Db {
    /// A consistent copy of the whole database into `to` (which must not exist), encrypted
    /// with `key` when one is given.
    pub fn backup(&self, to: &Path, key: Option<&BackupKey>) -> Result<u64, KotaError> {
        if to.exists() {
            return Err(KotaError::BadRequest(format!("{} sudah ada.", to.display())));
        }
        self.with(|c| {
            let Some(lite) = c.as_sqlite() else {
                return Err(KotaError::BadRequest(
                    "Basis data kota di PostgreSQL: cadangkan dengan pg_dump dari PostgreSQL sendiri.".into(),
                ));
            };
            match key {
                Some(key) => export(lite, to, Some(key)),
                None => {
                    lite.execute("VACUUM INTO ?1", [to.to_string_lossy()])?;
                    Ok(())
                }
            }
        })?;
        Ok(std::fs::metadata(to).map(|m| m.len()).unwrap_or(0))
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Restored {
    pub server_epoch: Uuid,
    /// Where the database it replaced now is.
    pub set_aside: Option<PathBuf>,
    pub series_moved: u64,
}

fn bad(what: impl std::fmt::Display) -> KotaError {
    KotaError::BadRequest(what.to_string())
}

/// Replaces the database at `db` by the backup `from`, encrypted with `key` if it was made with
/// one (see the module's documentation).
pub fn restore(
    db: &Path,
    from: &Path,
    key: Option<&BackupKey>,
    now_ms: u64,
) -> Result<Restored, KotaError> {
    let _lock = hold_lock(db)?;
    let staging = db.with_extension("restoring");
    let _ = std::fs::remove_file(&staging);
    {
        // Read-write (never written): a database attached to a read-only connection is
        // read-only too, and an encrypted backup is decrypted into an attached staging file.
        if !from.is_file() {
            return Err(bad(format!("{}: berkas cadangan tidak ada.", from.display())));
        }
        let flags = if key.is_some() {
            // CREATE: also for the attached staging file (the backup itself exists).
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        };
        let c = Connection::open_with_flags(from, flags)
            .map_err(|e| bad(format!("{}: {e}", from.display())))?;
        if let Some(key) = key {
            c.execute_batch("PRAGMA cipher_log_level = NONE;")?;
            c.execute_batch(&format!("PRAGMA key = \"{}\";", key.sql()))?;
        }
        let check: String =
            c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| {
                bad(format!(
                    "{} bukan basis data Balai Kota{}: {e}",
                    from.display(),
                    if key.is_some() {
                        ", atau kunci cadangan salah"
                    } else {
                        " (cadangan terenkripsi? beri --key-file)"
                    }
                ))
            })?;
        if check != "ok" {
            return Err(bad(format!("{} rusak: {check}", from.display())));
        }
        let version: u32 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version == 0 || version > crate::db::LATEST {
            return Err(bad(format!(
                "{}: versi skema {version} tidak dikenal build ini.",
                from.display()
            )));
        }
        if key.is_some() {
            // Decrypted straight into the staging file.
            export(&c, &staging, None)?;
        }
    }
    if key.is_none() {
        std::fs::copy(from, &staging).map_err(|e| bad(format!("{}: {e}", staging.display())))?;
    }
    let (server_epoch, series_moved) = {
        let restored = Db::open(&staging)?;
        restored.mark_restored(from, now_ms)?
    };
    {
        // Everything into the main file (no -wal beside it) before it is moved into place.
        let c = Connection::open(&staging)?;
        let _: String = c.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))?;
    }
    let set_aside = if db.exists() {
        let aside = db.with_extension(format!("before-restore-{now_ms}.sqlite"));
        std::fs::rename(db, &aside).map_err(|e| bad(format!("{}: {e}", db.display())))?;
        for suffix in ["-wal", "-shm"] {
            let (mut from_side, mut to_side) =
                (db.as_os_str().to_owned(), aside.as_os_str().to_owned());
            from_side.push(suffix);
            to_side.push(suffix);
            let _ = std::fs::rename(PathBuf::from(from_side), PathBuf::from(to_side));
        }
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&staging, db).map_err(|e| bad(format!("{}: {e}", db.display())))?;
    Ok(Restored { server_epoch, set_aside, series_moved })
}

impl Db {
    /// In one transaction: a new server epoch, every number series moved [`NUMBER_GAP`] ahead
    /// with the numbers skipped as its recovery window, the gap kept for series not seen yet,
    /// and the restore written to the security log.
    fn mark_restored(&self, from: &Path, now_ms: u64) -> Result<(Uuid, u64), KotaError> {
        let epoch = Uuid::now_v7();
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("UPDATE meta SET value = ?1 WHERE key = 'server_epoch'", [epoch.to_string()])?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('recovery_gap', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [NUMBER_GAP.to_string()],
            )?;
            let moved = tx.execute(
                "UPDATE number_series SET recovery_from = next_unallocated,
                     recovery_to = next_unallocated + ?1 - 1,
                     next_unallocated = next_unallocated + ?1",
                [NUMBER_GAP],
            )?;
            tx.execute(
                "INSERT INTO security_events (at_ms, device_id, kind, detail) VALUES (?1, NULL, 'restored', ?2)",
                params![now_ms as i64, from.display().to_string()],
            )?;
            tx.commit()?;
            Ok((epoch, moved as u64))
        })
    }
}
