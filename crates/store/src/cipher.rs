//! Encryption at rest (docs/adr/0010-encryption-at-rest.md): every connection to the office
//! database is given its key before anything else, so every page, of the file and of its WAL,
//! is written encrypted by SQLCipher (AES-256, each page authenticated); a plain database left by
//! an earlier build is encrypted in place the first time it is opened with a key.

use crate::{Result, StoreError};
use rusqlite::Connection;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The first 16 bytes of every plain SQLite file; an encrypted file starts with random salt.
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// The key as SQLCipher takes a raw key, `x'…'` (no passphrase derivation: the key is already
/// random), for `PRAGMA key` and `ATTACH … KEY`.
fn raw_key(key: &[u8; 32]) -> String {
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    format!("x'{hex}'")
}

/// The statement that gives a connection `key` (also for tests that look beneath the store).
pub fn key_pragma(key: &[u8; 32]) -> String {
    format!("PRAGMA key = \"{}\";", raw_key(key))
}

/// Gives `conn` its key and proves it opens the file: a wrong key (or a file that is not a
/// database) is [`StoreError::WrongKey`], told apart from every other failure.
pub(crate) fn unlock(conn: &Connection, path: &Path, key: &[u8; 32]) -> Result<()> {
    // SQLCipher writes its own lines ("hmac check failed") to stderr for a wrong key; the
    // caller gets WrongKey instead, and the CLI's stderr stays one JSON error.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")
        .map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
    conn.execute_batch(&key_pragma(key))
        .map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
    match conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::NotADatabase =>
        {
            Err(StoreError::WrongKey { path: path.to_path_buf() })
        }
        Err(source) => Err(StoreError::Open { path: path.to_path_buf(), source }),
    }
}

/// Whether the file at `path` is a plain (unencrypted) SQLite database. A missing or empty file
/// is not.
pub fn is_plain(path: &Path) -> Result<bool> {
    let mut header = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut f) => match f.read_exact(&mut header) {
            Ok(()) => Ok(&header == PLAIN_HEADER),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(StoreError::Io { path: path.to_path_buf(), source: e }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::Io { path: path.to_path_buf(), source: e }),
    }
}

/// Replaces the plain database at `path` by an encrypted copy with the same content and schema
/// version. The copy is written beside it, synced and renamed over it, so a crash leaves either
/// the plain file or the encrypted one, whole. Nothing plain is left behind: the WAL is
/// checkpointed into the file first and the copy replaces the file's name.
pub(crate) fn encrypt_in_place(path: &Path, key: &[u8; 32]) -> Result<()> {
    let err = |source| StoreError::Open { path: path.to_path_buf(), source };
    let tmp = sibling(path, "encrypting");
    let _ = std::fs::remove_file(&tmp); // a copy a crash left half-written
    {
        let plain = Connection::open(path).map_err(err)?;
        plain.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").map_err(err)?;
        let version: i64 = plain.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err)?;
        plain
            .execute(
                "ATTACH DATABASE ?1 AS encrypted KEY ?2",
                [tmp.to_string_lossy().as_ref(), &raw_key(key)],
            )
            .map_err(err)?;
        plain.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(())).map_err(err)?;
        plain.execute_batch(&format!("PRAGMA encrypted.user_version = {version};")).map_err(err)?;
        plain.execute_batch("DETACH DATABASE encrypted;").map_err(err)?;
    }
    let io = |source| StoreError::Io { path: path.to_path_buf(), source };
    std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(io)?;
    for suffix in ["-wal", "-shm"] {
        match std::fs::remove_file(sibling(path, suffix)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself survives power loss once the folder is synced (not on Windows,
        // where a folder cannot be opened as a file; NTFS journals the rename).
        #[cfg(unix)]
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        #[cfg(not(unix))]
        let _ = dir;
    }
    Ok(())
}

/// `path` with `suffix` added to its file name (`balai.sqlite` → `balai.sqlite-wal`).
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    if !suffix.starts_with('-') {
        name.push(".");
    }
    name.push(suffix);
    path.with_file_name(name)
}

/// A read-only connection to the database at `path`, unlocked with `key` (a wrong one is
/// [`StoreError::WrongKey`]).
pub(crate) fn open_read_only(path: &Path, key: &[u8; 32]) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|source| StoreError::Open { path: path.to_path_buf(), source })?;
    unlock(&conn, path, key)?;
    Ok(conn)
}

/// Whether `key` opens the database at `path`, read only and without migrating anything.
pub fn check_key(path: &Path, key: &[u8; 32]) -> Result<()> {
    open_read_only(path, key).map(drop)
}

/// What is wrong with the office database at `path`, if anything, found before it is opened for
/// work: a key that no longer opens it (its first page damaged), a file shorter than its own
/// header says (truncated: copied half, a disk that lost its end), or pages that fail SQLite's
/// `quick_check` (each page's HMAC is checked as it is read). Reads only. `None`: whole.
pub fn damage(path: &Path, key: &[u8; 32]) -> Result<Option<String>> {
    let conn = match open_read_only(path, key) {
        Ok(c) => c,
        Err(StoreError::WrongKey { .. }) => {
            return Ok(Some("its first page does not open with its key".into()))
        }
        Err(e) => return Ok(Some(e.to_string())),
    };
    let checked = (|| -> rusqlite::Result<Option<String>> {
        // Without a WAL to replay, the file holds every page its header counts.
        let wal = sibling(path, "-wal");
        let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        // SQLCipher answers `page_size` as text (its own `cipher_page_size`).
        let number = |pragma: &str| -> rusqlite::Result<i64> {
            let v: rusqlite::types::Value = conn.query_row(pragma, [], |r| r.get(0))?;
            Ok(match v {
                rusqlite::types::Value::Integer(n) => n,
                rusqlite::types::Value::Text(t) => t.trim().parse().unwrap_or(0),
                _ => 0,
            })
        };
        let page_size = number("PRAGMA page_size")?;
        let pages = number("PRAGMA page_count")?;
        let file_len = std::fs::metadata(path).map(|m| m.len() as i64).unwrap_or(0);
        if wal_len == 0 && file_len < pages * page_size {
            return Ok(Some(format!(
                "truncated: {file_len} bytes of the {} its header counts",
                pages * page_size
            )));
        }
        let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        Ok((check != "ok").then_some(check))
    })();
    Ok(match checked {
        Ok(found) => found,
        Err(e) => Some(format!("a page cannot be read ({e})")),
    })
}
