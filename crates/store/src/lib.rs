//! balai-store: the only SQL on the desktop.
//!
//! What it does: opens the office database encrypted with its key (SQLCipher, [`cipher`]; a
//! plain file of an earlier build encrypted in place), in WAL with `synchronous=FULL`, one writer
//! connection and one reader connection; migrates it by `PRAGMA user_version` after a `VACUUM
//! INTO` backup; checks and restores backups ([`verify_backup`], [`Store::restore_from`]);
//! refuses a database newer than this build without touching it, and offers one module of
//! queries per area. Writes take a `&Transaction`, reads a `&Connection`.
//!
//! What it does not do: no validation of domain rules (balai-domain does that before a write
//! reaches here), no roles or sessions (balai-app), no clock (callers pass times in), no keys
//! of its own (balai-keys makes and keeps them; the caller hands one in).

pub mod audit;
mod bulk;
pub mod cipher;
pub mod conflicts;
pub mod contest;
pub mod leases;
pub mod letters;
pub mod migrations;
pub mod privacy;
pub mod profile;
pub mod pull;
pub mod register;
pub mod reports;
pub mod requests;
pub mod salvage;
pub mod settings;
pub mod signatories;
pub mod sync;
pub mod users;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The writer's page cache (KiB, as `PRAGMA cache_size` takes it negated) for ordinary writes:
/// a day's work and a pull page fit; the desktop process stays small (its resident memory is a
/// target of its own).
const WRITE_CACHE_KIB: i64 = 8 * 1024;
/// The reader's page cache (KiB): the register's name index and rows of a large kelurahan.
const READ_CACHE_KIB: i64 = 32 * 1024;
/// During a bulk write (a whole register in one transaction), so its pages are not spilled
/// to the WAL before the commit; given back when the transaction ends.
const BULK_CACHE_KIB: i64 = 64 * 1024;

pub use rusqlite::{Connection as ReadConn, Transaction as WriteTx};
pub use sync::WriteCtx;
pub use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database at {path} has schema version {found}, newer than this build supports ({supported}); update Balai")]
    TooNew { path: PathBuf, found: i64, supported: i64 },
    #[error("cannot open the database at {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    /// The key does not open the file (another database's key, or a file that is not one).
    #[error("the key does not open the database at {path}")]
    WrongKey { path: PathBuf },
    #[error("cannot use the file {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("backup before migration failed: {0}")]
    Backup(rusqlite::Error),
    #[error("migration to schema version {version} failed: {source}")]
    Migration { version: i64, source: rusqlite::Error },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("stored data is not readable: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why the database could not be written, when the cause is the machine, not the data: each
/// leaves what was stored as it was (the transaction rolled back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageProblem {
    /// The disk (or the database's size limit) is full.
    Full,
    /// The file or its folder cannot be written (permissions, a read-only disk).
    ReadOnly,
    /// Another program holds the database locked longer than the busy timeout.
    Busy,
}

impl StoreError {
    /// The machine's problem behind this error, if it is one.
    pub fn storage_problem(&self) -> Option<StorageProblem> {
        let e = match self {
            StoreError::Sql(e) | StoreError::Backup(e) => e,
            StoreError::Open { source, .. } | StoreError::Migration { source, .. } => source,
            StoreError::Io { source, .. } => {
                return match source.kind() {
                    std::io::ErrorKind::StorageFull => Some(StorageProblem::Full),
                    std::io::ErrorKind::PermissionDenied
                    | std::io::ErrorKind::ReadOnlyFilesystem => Some(StorageProblem::ReadOnly),
                    _ => None,
                }
            }
            _ => return None,
        };
        match e.sqlite_error_code()? {
            rusqlite::ErrorCode::DiskFull => Some(StorageProblem::Full),
            rusqlite::ErrorCode::ReadOnly
            | rusqlite::ErrorCode::CannotOpen
            | rusqlite::ErrorCode::PermissionDenied => Some(StorageProblem::ReadOnly),
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                Some(StorageProblem::Busy)
            }
            _ => None,
        }
    }
}

/// An open office database.
pub struct Store {
    path: PathBuf,
    /// The one connection that writes; held for the length of one transaction.
    writer: Mutex<Connection>,
    /// Reads run here so they never wait behind a long write (WAL readers see the last commit).
    reader: Mutex<Connection>,
    /// What the capture triggers of the writer read (who, when, the HLC).
    capture: sync::Shared,
    /// Set while the writer has the bulk cache, so the transaction's end shrinks it again.
    bulk_cache: AtomicBool,
    /// For the connections of a backup, which run beside the reader, not on it.
    key: [u8; 32],
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (creating if absent) and migrates the database at `path`, encrypted with `key`.
    /// A plain database of an earlier build is encrypted first ([`cipher`]).
    pub fn open(path: &Path, key: &[u8; 32]) -> Result<Store> {
        // A newer build's file is refused before anything touches it, plain or not.
        if cipher::is_plain(path)? {
            migrations::refuse_if_newer(path, None)?;
            cipher::encrypt_in_place(path, key)?;
        } else {
            migrations::refuse_if_newer(path, Some(key))?;
        }
        let writer =
            connect(path, key, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE)?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "cache_size", -WRITE_CACHE_KIB)?;
        // Statement journals (one per multi-row statement with triggers) stay in memory.
        writer.pragma_update(None, "temp_store", "MEMORY")?;
        // A pulled page runs a dozen statements per change, an UPDATE per field group among
        // them: all stay prepared (the default cache of 16 evicted some on every change).
        writer.set_prepared_statement_cache_capacity(128);
        let capture = sync::register(&writer, random_seed())?;
        migrations::migrate(&writer, path)?;
        migrations::install_capture_triggers(&writer)?;
        sync::restore_state(&writer, &capture)?;
        let reader = connect(path, key, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        // Every page read from the file is decrypted and its HMAC checked (~10 µs for 4 KiB): the
        // pages searches keep touching (the name index, the register's rows) stay decrypted here.
        reader.pragma_update(None, "cache_size", -READ_CACHE_KIB)?;
        Ok(Store {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            capture,
            bulk_cache: AtomicBool::new(false),
            key: *key,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer connection as `ctx` (captured
    /// changes carry its time and user); commits when `f` returns `Ok`, rolls back otherwise,
    /// so nothing is ever half-written.
    pub fn write<T, E>(
        &self,
        ctx: &WriteCtx,
        f: impl FnOnce(&Transaction) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<StoreError>,
    {
        self.write_or_rehearse(ctx, true, f)
    }

    /// Like [`Store::write`], but with `commit == false` always rolls back: a dry run that
    /// sees exactly what the real write would (for `--dry-run` imports).
    pub fn write_or_rehearse<T, E>(
        &self,
        ctx: &WriteCtx,
        commit: bool,
        f: impl FnOnce(&Transaction) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<StoreError>,
    {
        self.transaction(ctx, sync::Capture::On, commit, f)
    }

    fn transaction<T, E>(
        &self,
        ctx: &WriteCtx,
        capture: sync::Capture,
        commit: bool,
        f: impl FnOnce(&Transaction) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<StoreError>,
    {
        let mut conn = lock(&self.writer);
        {
            let mut st = sync::lock(&self.capture);
            st.ctx = ctx.clone();
            st.capture = capture;
            st.fts_live = true;
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| E::from(StoreError::Sql(e)))?;
        let out = match f(&tx) {
            Ok(out) if commit => tx.commit().map(|()| out).map_err(|e| E::from(StoreError::Sql(e))),
            Ok(out) => tx.rollback().map(|()| out).map_err(|e| E::from(StoreError::Sql(e))),
            Err(e) => {
                drop(tx); // rolls back
                Err(e)
            }
        };
        // A bulk write's cache is given back once its transaction has ended, whatever the outcome.
        if self.bulk_cache.swap(false, Ordering::Relaxed) {
            conn.pragma_update(None, "cache_size", -WRITE_CACHE_KIB)
                .map_err(|e| E::from(StoreError::Sql(e)))?;
        }
        out
    }

    /// Within a write: runs `f` as a bulk write, for an import of thousands of rows. Per-row
    /// work is moved to set-based passes at the end: the register's secondary indexes are
    /// dropped and rebuilt once from sorted data, the name index is rebuilt once, and inserts
    /// into synced tables are captured for sync in one statement per table (updates are still
    /// captured by their triggers as they happen). What is stored and captured is exactly what
    /// row-by-row writes would have left; a test compares the two.
    ///
    /// `f` must not update a row it inserted itself (its insert is captured afterwards, with
    /// the row's final values, after the update's change).
    pub fn bulk<T, E>(
        &self,
        tx: &Transaction,
        f: impl FnOnce(&Transaction) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<StoreError>,
    {
        tx.pragma_update(None, "cache_size", -BULK_CACHE_KIB).map_err(|e| E::from(e.into()))?;
        self.bulk_cache.store(true, Ordering::Relaxed);
        let marks = bulk::begin(tx, &self.capture).map_err(E::from)?;
        let out = f(tx);
        // Restore per-row behaviour even when `f` failed (the caller then rolls back).
        let finished = bulk::finish(tx, &self.capture, marks);
        let out = out?;
        finished.map_err(E::from)?;
        Ok(out)
    }

    /// Takes `device_id` (assigned by the city server at enrolment) as this database's device id,
    /// with the enrolment's other sync `state`, in one transaction: the changes from outbox
    /// number `sent_from` on (which the server will receive under the new id) and their clocks
    /// are re-labelled, and every later capture carries the new id, so the (HLC, device) order
    /// of a change is the same here and on the server. On a first enrolment that is everything
    /// (`sent_from` 1); a PC enrolling again after a fence keeps its old id on the changes the
    /// server already holds under it.
    pub fn adopt_device_id(
        &self,
        ctx: &WriteCtx,
        device_id: &str,
        sent_from: u64,
        state: &[(&str, &str)],
    ) -> Result<()> {
        let old = sync::lock(&self.capture).device_id.clone();
        self.write(ctx, |tx| {
            sync::set_state(tx, state)?;
            tx.execute("UPDATE _sync_state SET value = ?1 WHERE key = 'device_id'", [device_id])?;
            if sent_from <= 1 {
                tx.execute(
                    "UPDATE _sync_clock SET device_id = ?1 WHERE device_id = ?2",
                    [device_id, &old],
                )?;
            } else {
                tx.execute(
                    "UPDATE _sync_clock SET device_id = ?1 WHERE device_id = ?2
                     AND (tbl, row_id, field_group, hlc) IN
                         (SELECT tbl, row_id, field_group, hlc FROM _sync_outbox
                          WHERE seq >= ?3 AND device_id = ?2)",
                    rusqlite::params![device_id, &old, sent_from as i64],
                )?;
            }
            tx.execute(
                "UPDATE _sync_outbox SET device_id = ?1 WHERE device_id = ?2 AND seq >= ?3",
                rusqlite::params![device_id, &old, sent_from as i64],
            )?;
            // The online requests held under the old id are held under the new one (the city
            // hands them over when the PC names the device it was).
            tx.execute(
                "UPDATE online_requests SET claimed_by = ?1 WHERE claimed_by = ?2",
                [device_id, &old],
            )?;
            // A new enrolment holds no lease of an earlier one (the city voided them, with any
            // it granted that the PC was still asking for) and is no longer locked out.
            tx.execute("DELETE FROM number_leases", [])?;
            tx.execute("DELETE FROM _sync_state WHERE key IN ('fenced', 'number_asks')", [])?;
            Ok::<_, StoreError>(())
        })?;
        let mut st = sync::lock(&self.capture);
        st.device_id = device_id.to_string();
        if let Some((_, offset)) = state.iter().find(|(k, _)| *k == "clock_offset_ms") {
            st.clock_offset_ms = offset.parse().unwrap_or(st.clock_offset_ms);
        }
        Ok(())
    }

    /// At a contact with the city: takes `offset_ms` (the city's time minus this PC's clock)
    /// for every later stamp, noting it in `_sync_state` as `clock_offset_ms` with the other
    /// `state`, and re-stamps the changes
    /// not yet sent whose clock runs more than `max_future_ms` ahead of the city's time (made
    /// before the first contact, or while this PC's clock was wrong). Nobody has seen those,
    /// so they take fresh stamps on the city's time in their outbox order; a stamp from the
    /// future would otherwise beat every later edit made anywhere (the city caps it, and this
    /// copy would then differ from the city's). Answers how many were re-stamped.
    pub fn correct_clock(
        &self,
        ctx: &WriteCtx,
        offset_ms: i64,
        max_future_ms: u64,
        state: &[(&str, &str)],
    ) -> Result<u64> {
        let city_now = ctx.now_ms.saturating_add_signed(offset_ms);
        let limit = (city_now.saturating_add(max_future_ms) << 16) as i64;
        let (restamped, hlc) = self.write(ctx, |tx| {
            sync::set_state(tx, &[("clock_offset_ms", &offset_ms.to_string())])?;
            sync::set_state(tx, state)?;
            let sent: i64 =
                sync::state(tx, "pushed_through")?.and_then(|v| v.parse().ok()).unwrap_or(0);
            let me = sync::lock(&self.capture).device_id.clone();
            let mut st = tx.prepare_cached(
                "SELECT seq, tbl, row_id, field_group, hlc FROM _sync_outbox
                 WHERE seq > ?1 AND hlc > ?2 ORDER BY seq",
            )?;
            let future = st
                .query_map(rusqlite::params![sent, limit], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            if future.is_empty() {
                return Ok::<_, StoreError>((0, None));
            }
            // The clock goes on from the newest stamp that is not from the future.
            let base: i64 = tx.query_row(
                "SELECT max(coalesce((SELECT max(hlc) FROM _sync_clock WHERE hlc <= ?1), 0),
                            coalesce((SELECT max(hlc) FROM _sync_outbox WHERE hlc <= ?1), 0))",
                [limit],
                |r| r.get(0),
            )?;
            let mut hlc = balai_domain::hlc::Hlc::from_raw(base.max(0) as u64);
            for (seq, tbl, row_id, group, old) in &future {
                let new = hlc.tick(city_now) as i64;
                tx.prepare_cached("UPDATE _sync_outbox SET hlc = ?1 WHERE seq = ?2")?
                    .execute(rusqlite::params![new, seq])?;
                tx.prepare_cached(
                    "UPDATE _sync_clock SET hlc = ?1 WHERE tbl = ?2 AND row_id = ?3
                     AND field_group = ?4 AND hlc = ?5 AND device_id = ?6",
                )?
                .execute(rusqlite::params![new, tbl, row_id, group, old, me])?;
            }
            Ok((future.len() as u64, Some(hlc)))
        })?;
        let mut st = sync::lock(&self.capture);
        st.clock_offset_ms = offset_ms;
        if let Some(hlc) = hlc {
            st.hlc = hlc;
        }
        Ok(restamped)
    }

    /// Applies a page pulled from the city server and stores `cursor` (and `state`) with it, in
    /// one transaction that captures nothing (see [`pull`]). This PC's clock then runs ahead of
    /// every pulled change, so an edit made after a pull wins over what was pulled.
    pub fn apply_pulled(
        &self,
        ctx: &WriteCtx,
        changes: &[pull::Pulled],
        state: &[(&str, &str)],
    ) -> Result<pull::Applied> {
        let at = chrono::DateTime::from_timestamp_millis(ctx.now_ms as i64)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let apply = |careful| {
            self.transaction(ctx, sync::Capture::Off, true, |tx| {
                let applied = pull::apply(tx, changes, &at, careful, &self.capture)?;
                sync::set_state(tx, state)?;
                sync::follow_cursor(tx)?;
                Ok::<_, StoreError>(applied)
            })
        };
        // A page with a refused value is rolled back and applied again, each change on its
        // own, so the refused one is held and the rest applied (`pull::apply`).
        let applied = match apply(false) {
            Err(StoreError::Sql(e)) if pull::is_refusal(&e) => apply(true),
            done => done,
        }?;
        if let Some(high) = changes.iter().map(|c| c.hlc).max() {
            sync::lock(&self.capture).hlc.observe(high);
        }
        Ok(applied)
    }

    /// Keeps one downloaded page of a first sync's snapshot (the city's bytes, compressed) with
    /// the download's new position, in one transaction: a download cut off resumes after it.
    pub fn stage_snapshot_page(
        &self,
        ctx: &WriteCtx,
        body: &[u8],
        state: &[(&str, &str)],
    ) -> Result<()> {
        self.transaction(ctx, sync::Capture::Off, true, |tx| {
            tx.execute("INSERT INTO _sync_snapshot (body) VALUES (?1)", [body])?;
            sync::set_state(tx, state)?;
            Ok(())
        })
    }

    /// Forgets a snapshot download and its position (`keys`): the city it came from was
    /// restored meanwhile, so it starts again.
    pub fn drop_snapshot(&self, ctx: &WriteCtx, keys: &[&str]) -> Result<()> {
        self.transaction(ctx, sync::Capture::Off, true, |tx| {
            tx.execute("DELETE FROM _sync_snapshot", [])?;
            sync::clear_state(tx, keys)?;
            Ok(())
        })
    }

    /// Applies every staged snapshot page, in order, in one transaction with `state` set and
    /// `clear` removed, as [`apply_pulled`](Self::apply_pulled) would apply them (the same
    /// merge, so rows this PC holds already are merged, not overwritten); with `bulk`, as a
    /// bulk write: the register's secondary indexes and name index are built once at the end.
    /// `decode` turns a staged page back into changes. The staged pages are deleted with the
    /// same commit.
    pub fn apply_snapshot<E>(
        &self,
        ctx: &WriteCtx,
        bulk: bool,
        decode: impl Fn(&[u8]) -> std::result::Result<Vec<pull::Pulled>, E> + Sync,
        state: &[(&str, &str)],
        clear: &[&str],
    ) -> std::result::Result<pull::Applied, E>
    where
        E: From<StoreError> + Send,
    {
        let at = chrono::DateTime::from_timestamp_millis(ctx.now_ms as i64)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let sql = |e: rusqlite::Error| E::from(StoreError::Sql(e));
        // Whether the attempt without savepoints met a refused value (see `pull::apply`).
        let refused = std::cell::Cell::new(false);
        let run = |careful: bool| {
            self.transaction(ctx, sync::Capture::Off, true, |tx| {
                let pages: Vec<Vec<u8>> = {
                    let mut st =
                        tx.prepare("SELECT body FROM _sync_snapshot ORDER BY page").map_err(sql)?;
                    let rows = st.query_map([], |r| r.get(0)).map_err(sql)?;
                    rows.collect::<rusqlite::Result<_>>().map_err(sql)?
                };
                let mut indexes = None;
                if bulk {
                    tx.pragma_update(None, "cache_size", -BULK_CACHE_KIB).map_err(sql)?;
                    self.bulk_cache.store(true, Ordering::Relaxed);
                    indexes = Some(bulk::begin_unlogged(tx, &self.capture).map_err(E::from)?);
                }
                // A failure rolls back, the dropped indexes with it; the name index's trigger
                // is live again from the next transaction on.
                let applied = apply_pages(tx, &pages, &decode, &at, careful, &self.capture)
                    .map_err(|(refusal, e)| {
                        refused.set(refusal);
                        e
                    })?;
                if let Some(indexes) = indexes {
                    bulk::finish_unlogged(tx, &self.capture, &indexes).map_err(E::from)?;
                }
                tx.execute("DELETE FROM _sync_snapshot", []).map_err(sql)?;
                sync::set_state(tx, state).map_err(sql)?;
                sync::clear_state(tx, clear).map_err(sql)?;
                sync::follow_cursor(tx).map_err(sql)?;
                Ok::<_, E>(applied)
            })
        };
        let (applied, high) = match run(false) {
            Err(_) if refused.get() => run(true),
            done => done,
        }?;
        sync::lock(&self.capture).hlc.observe(high);
        Ok(applied)
    }

    /// Runs `f` on the reader connection.
    pub fn read<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let conn = lock(&self.reader);
        f(&conn)
    }

    /// Writes a consistent copy of the whole database to `dest` (which must not exist),
    /// encrypted with the database's key.
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        // A connection of its own: a daily backup of a large register takes seconds, and the
        // reader keeps answering searches meanwhile (WAL: it copies the last commit).
        let conn = connect(&self.path, &self.key, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        migrations::vacuum_into(&conn, dest).map_err(StoreError::Backup)
    }

    /// Replaces the whole content of this database by a backup [`verify_backup`] proved whole,
    /// after `prepare` has changed the copy (in one transaction on a staging copy beside the
    /// database, e.g. fencing a restored PC), so what `prepare` does arrives with the content,
    /// not after it. The copy runs through SQLite's backup API on the writer in one
    /// transaction, so a crash leaves the old content or the prepared backup's, whole; an older
    /// backup is then migrated like any older file.
    pub fn restore_from<T>(
        &self,
        backup: VerifiedBackup,
        prepare: impl FnOnce(&Transaction) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let name =
            self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let staging = self.path.with_file_name(format!("{name}.restoring"));
        let _ = std::fs::remove_file(&staging);
        migrations::vacuum_into(&backup.conn, &staging).map_err(StoreError::Backup)?;
        drop(backup);
        let restored = (|| {
            let mut copy = Connection::open(&staging)
                .map_err(|source| StoreError::Open { path: staging.clone(), source })?;
            cipher::unlock(&copy, &staging, &self.key)?;
            let tx = copy.transaction()?;
            let out = prepare(&tx)?;
            tx.commit()?;
            let mut writer = lock(&self.writer);
            rusqlite::backup::Backup::new(&copy, &mut writer)?.run_to_completion(
                4096,
                std::time::Duration::ZERO,
                None,
            )?;
            drop(copy);
            migrations::migrate(&writer, &self.path)?;
            migrations::install_capture_triggers(&writer)?;
            sync::restore_state(&writer, &self.capture)?;
            Ok(out)
        })();
        for leftover in
            [staging.clone(), self.path.with_file_name(format!("{name}.restoring-journal"))]
        {
            let _ = std::fs::remove_file(leftover);
        }
        restored
    }
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock cannot leave a transaction open (it rolls back on drop),
    // so the connection is still sound: recover it instead of poisoning the app.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Applies a snapshot's staged pages in order inside `tx` (see [`Store::apply_snapshot`]):
/// each page is decoded on a second thread while the one before is applied. Answers the
/// changes' total and their newest clock; an error says whether it was a refused value (then
/// the snapshot is applied again carefully, see `pull::apply`).
fn apply_pages<E>(
    tx: &Transaction,
    pages: &[Vec<u8>],
    decode: &(impl Fn(&[u8]) -> std::result::Result<Vec<pull::Pulled>, E> + Sync),
    at: &str,
    careful: bool,
    capture: &sync::Shared,
) -> std::result::Result<(pull::Applied, u64), (bool, E)>
where
    E: From<StoreError> + Send,
{
    std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            for body in pages {
                if send.send(decode(body)).is_err() {
                    break;
                }
            }
        });
        let (mut total, mut high) = (pull::Applied::default(), 0u64);
        for changes in receive {
            let changes = changes.map_err(|e| (false, e))?;
            high = changes.iter().map(|c| c.hlc).max().unwrap_or(0).max(high);
            total += pull::apply(tx, &changes, at, careful, capture).map_err(|e| {
                (matches!(&e, StoreError::Sql(e) if pull::is_refusal(e)), E::from(e))
            })?;
        }
        Ok((total, high))
    })
}

fn connect(path: &Path, key: &[u8; 32], flags: OpenFlags) -> Result<Connection> {
    let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
    let conn = Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(open_err)?;
    cipher::unlock(&conn, path, key)?;
    // FULL: a committed letter or audit entry survives power loss (sync-notes §3.12).
    conn.pragma_update(None, "synchronous", "FULL").map_err(open_err)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(open_err)?;
    Ok(conn)
}

/// A backup proven whole by [`verify_backup`], open and ready for [`Store::restore_from`].
pub struct VerifiedBackup {
    conn: Connection,
    /// Its schema version (older ones are migrated after the restore).
    pub schema_version: i64,
}

impl std::fmt::Debug for VerifiedBackup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedBackup").field("schema_version", &self.schema_version).finish()
    }
}

/// Proves the backup at `src` whole before anything is replaced by it: it opens with `key`
/// (another database's is [`StoreError::WrongKey`]), passes `PRAGMA integrity_check` (else
/// [`StoreError::Corrupt`], as is a file that is not a Balai database), and is no newer than
/// this build ([`StoreError::TooNew`]). Reads only.
pub fn verify_backup(src: &Path, key: &[u8; 32]) -> Result<VerifiedBackup> {
    let conn = cipher::open_read_only(src, key)?;
    // A damaged page fails its HMAC: the check answers an error rather than a row.
    let damaged = |e: rusqlite::Error| StoreError::Corrupt(format!("the backup is damaged ({e})"));
    let check: String =
        conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(damaged)?;
    if check != "ok" {
        return Err(StoreError::Corrupt(format!("the backup is damaged ({check})")));
    }
    let schema_version = migrations::user_version(&conn)?;
    if schema_version > migrations::LATEST {
        return Err(StoreError::TooNew {
            path: src.to_path_buf(),
            found: schema_version,
            supported: migrations::LATEST,
        });
    }
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('settings', 'audit_log')",
        [],
        |r| r.get(0),
    )?;
    if schema_version == 0 || tables < 2 {
        return Err(StoreError::Corrupt("the file is not a Balai database".into()));
    }
    Ok(VerifiedBackup { conn, schema_version })
}

/// A seed from the standard library's per-process random keys (no extra dependency).
fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish()
}

/// A new UUIDv7 from a time in milliseconds and random bits supplied by the caller, so that
/// the store itself needs no clock.
pub fn uuid_v7(unix_ms: u64, random: [u8; 10]) -> Uuid {
    uuid::Builder::from_unix_timestamp_millis(unix_ms, &random).into_uuid()
}
