//! The server's SQLite database: the only SQL of balai-kota. One connection behind a mutex
//! (one writer, as on the desktop), WAL, `synchronous=FULL`. Every function takes `now_ms`
//! from the caller, so the rules (code expiry) are tested without a clock.
//!
//! Schema v1 (`PRAGMA user_version = 1`):
//! - `meta(key, value)`: `server_epoch`, a UUID made when the database is created and again
//!   when a backup is restored (`crate::backup`), so clients notice; `recovery_gap` after a
//!   restore.
//! - `kelurahan(code, name, created_at_ms)`: the registry, Kemendagri codes in dotted form.
//! - `enrol_codes(code_hash, kelurahan_code, created_at_ms, expires_at_ms, used_at_ms,
//!   used_by)`: one-time codes, only their SHA-256.
//! - `devices(id, kelurahan_code, public_key_hex, hostname, app_version, epoch, enrolled_at_ms,
//!   revoked_at_ms, last_seen_ms)`.
//! - `security_events(id, at_ms, device_id, kind, detail)`: refused signatures, revoked
//!   devices, codes that did not redeem — never a resident's data.
//!
//! Schema v2 adds the synced state and each kelurahan's feed: see `crate::feed`; v3 the
//! letter-number leases: see `crate::leases`; v4 each device's applied ops (to recognise a
//! restored or copied office database) and why a device was revoked: see `crate::feed`; v5 the
//! offices' public letter keys and voided letters: see `crate::verify`; v6 city admins and
//! their sessions: see `crate::dashboard`; v7 residents' online requests: see
//! `crate::requests`; v8 the number series' recovery window after a restore: see
//! `crate::backup`; v9–v12 see `crate::leases`, `crate::conflicts` and `crate::feed`; v13 the
//! kelurahan's submitted scorecard periods, v14 the city-wide reference feed (rule set
//! editions the city publishes): see `crate::contest`.

use crate::codes::code_hash;
use crate::sql::{params, Conn, Optional, PgConn, Query};
use crate::KotaError;
use balai_domain::office::{normalize_region_code, RegionLevel};
use rusqlite::Connection;
use serde::Serialize;
use std::path::Path;
use std::sync::Mutex;
use uuid::Uuid;

/// How long an enrolment code stays valid.
pub const CODE_VALID_MS: u64 = 24 * 60 * 60 * 1000;

const SCHEMA_V1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE kelurahan (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT;
CREATE TABLE enrol_codes (
    code_hash TEXT PRIMARY KEY,
    kelurahan_code TEXT NOT NULL REFERENCES kelurahan(code),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms INTEGER,
    used_by TEXT
) STRICT;
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    kelurahan_code TEXT NOT NULL REFERENCES kelurahan(code),
    public_key_hex TEXT NOT NULL UNIQUE,
    hostname TEXT NOT NULL,
    app_version TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    enrolled_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    last_seen_ms INTEGER
) STRICT;
CREATE INDEX devices_by_kelurahan ON devices (kelurahan_code);
CREATE TABLE security_events (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    device_id TEXT,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
) STRICT;
";

/// The scripts of schema v2, v3, …: each module documents its tables.
const LATER_SCHEMAS: &[&str] = &[
    crate::feed::SCHEMA_V2,
    crate::leases::SCHEMA_V3,
    crate::feed::SCHEMA_V4,
    crate::verify::SCHEMA_V5,
    crate::dashboard::SCHEMA_V6,
    crate::requests::SCHEMA_V7,
    crate::backup::SCHEMA_V8,
    crate::leases::SCHEMA_V9,
    crate::conflicts::SCHEMA_V10,
    crate::feed::SCHEMA_V11,
    crate::feed::SCHEMA_V12,
    crate::contest::SCHEMA_V13,
    crate::contest::SCHEMA_V14,
];

/// The schema version this build writes.
pub const LATEST: u32 = LATER_SCHEMAS.len() as u32 + 1;

/// Every schema script with the version it brings the database to.
pub(crate) fn scripts() -> impl Iterator<Item = (u32, &'static str)> {
    std::iter::once(SCHEMA_V1).chain(LATER_SCHEMAS.iter().copied()).zip(1u32..).map(|(s, v)| (v, s))
}

pub struct Db {
    backend: Backend,
    /// Read once at open: it never changes while the database exists.
    server_epoch: Uuid,
}

/// A PostgreSQL connection idle longer than this is checked before use (a round trip).
const IDLE_CHECK: std::time::Duration = std::time::Duration::from_secs(1);
const IDLE_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// One connection behind a mutex on either backend: one writer at a time.
enum Backend {
    Sqlite(Mutex<Connection>),
    /// The address is kept to connect again when PostgreSQL closed the connection (a restart,
    /// a failover, an administrator ending it); `None` only while being replaced or dropped.
    Postgres {
        url: String,
        conn: Box<Mutex<Option<PgConn>>>,
    },
}

impl Drop for Db {
    fn drop(&mut self) {
        // The `postgres` client blocks on a runtime of its own when it closes, which panics on
        // a thread of the async server (where the last handle to the database goes at shutdown).
        if let Backend::Postgres { conn, .. } = &self.backend {
            let taken = conn.lock().map_or_else(|p| p.into_inner().take(), |mut g| g.take());
            off_the_runtime(move || drop(taken));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kelurahan {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub id: Uuid,
    pub kelurahan_code: String,
    pub public_key_hex: String,
    pub hostname: String,
    pub app_version: String,
    pub epoch: u32,
    pub enrolled_at_ms: u64,
    pub revoked_at_ms: Option<u64>,
    /// `admin` (revoked by a city admin) or `restored_copy` (fenced: its database was restored
    /// from a backup or copied; it must enrol again).
    pub revoke_reason: Option<String>,
    pub last_seen_ms: Option<u64>,
}

/// A device being enrolled: its key, name, app, where its outbox goes on (1 for a new PC), and
/// the device it was before it was locked out, if it was enrolled before.
#[derive(Debug, Clone, Copy)]
pub struct NewDevice<'a> {
    pub public_key_hex: &'a str,
    pub hostname: &'a str,
    pub app_version: &'a str,
    pub first_seq: u64,
    pub replaces: Option<Uuid>,
}

/// A code a city admin hands to an office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnrolCode {
    pub code: String,
    pub kelurahan_code: String,
    pub expires_at_ms: u64,
}

fn kelurahan_code(raw: &str) -> Result<String, KotaError> {
    normalize_region_code(raw, RegionLevel::Kelurahan).ok_or_else(|| {
        KotaError::BadRequest(format!(
            "Kode kelurahan harus 10 angka Kemendagri, mis. 18.72.04.1004 (bukan «{raw}»)."
        ))
    })
}

impl Db {
    pub fn open(path: &Path) -> Result<Db, KotaError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Every statement of a push is prepared once and reused: parsing SQL per op was a
        // third of the server's time in a large push.
        conn.set_prepared_statement_cache_capacity(128);
        let version: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > LATEST {
            return Err(KotaError::BadRequest(format!(
                "Basis data ini dari versi Balai Kota yang lebih baru (skema {version})."
            )));
        }
        if version == 0 {
            let tx = conn.unchecked_transaction()?;
            // The server's own schema script (balai-store runs the desktop's).
            #[allow(clippy::disallowed_methods)]
            tx.execute_batch(SCHEMA_V1)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('server_epoch', ?1)",
                [Uuid::now_v7().to_string()],
            )?;
            tx.pragma_update(None, "user_version", 1)?;
            tx.commit()?;
        }
        // Each later version's script, in order; each runs in its own transaction with its
        // version number, so a crash between two leaves a database one of them opens.
        for (script, to) in LATER_SCHEMAS.iter().zip(2u32..) {
            if version < to {
                let tx = conn.unchecked_transaction()?;
                #[allow(clippy::disallowed_methods)]
                tx.execute_batch(script)?;
                tx.pragma_update(None, "user_version", to)?;
                tx.commit()?;
            }
        }
        let server_epoch = read_server_epoch(&Conn::sqlite(&mut conn))?;
        Ok(Db { backend: Backend::Sqlite(Mutex::new(conn)), server_epoch })
    }

    /// The city's database on PostgreSQL (`postgres://user@host:port/dbname`): made at the
    /// latest schema the first time (`crate::pg_schema`), checked every time after.
    pub fn connect_postgres(url: &str) -> Result<Db, KotaError> {
        let mut pg = off_the_runtime(|| pg_connect(url))?;
        off_the_runtime(|| crate::pg_schema::prepare(&mut Conn::postgres(&mut pg)))?;
        let server_epoch = off_the_runtime(|| read_server_epoch(&Conn::postgres(&mut pg)))?;
        let conn = Box::new(Mutex::new(Some(pg)));
        Ok(Db { backend: Backend::Postgres { url: url.to_string(), conn }, server_epoch })
    }

    /// Runs `f` on the connection (one caller at a time). On PostgreSQL from inside the async
    /// server, on a thread of its own: the `postgres` client blocks on a runtime of its own.
    pub(crate) fn with<T: Send>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, KotaError> + Send,
    ) -> Result<T, KotaError> {
        match &self.backend {
            Backend::Sqlite(m) => {
                let mut guard = m.lock().map_err(|_| poisoned())?;
                f(&mut Conn::sqlite(&mut guard))
            }
            Backend::Postgres { url, conn } => {
                let mut guard = conn.lock().map_err(|_| poisoned())?;
                let slot: &mut Option<PgConn> = &mut guard;
                off_the_runtime(|| {
                    // The client learns that PostgreSQL ended the connection (a restart, a
                    // failover, an administrator) only by using it: one that sat idle is asked
                    // first, so offices syncing after a restart see no error. One closed during
                    // a request fails that request; the next connects again. While the
                    // database stays away, connecting fails as clearly as at start.
                    let stale = slot.as_mut().is_none_or(|pg| {
                        pg.client.is_closed()
                            || (pg.used_at.elapsed() > IDLE_CHECK
                                && pg.client.is_valid(IDLE_CHECK_TIMEOUT).is_err())
                    });
                    if stale {
                        drop(slot.take());
                        *slot = Some(pg_connect(url)?);
                        eprintln!("balai-kota: sambungan ke PostgreSQL terputus; tersambung lagi");
                    }
                    let pg = slot.as_mut().ok_or_else(poisoned)?;
                    pg.used_at = std::time::Instant::now();
                    f(&mut Conn::postgres(pg))
                })
            }
        }
    }

    pub fn dialect(&self) -> crate::sql::Dialect {
        match &self.backend {
            Backend::Sqlite(_) => crate::sql::Dialect::Sqlite,
            Backend::Postgres { .. } => crate::sql::Dialect::Postgres,
        }
    }

    pub fn server_epoch(&self) -> Uuid {
        self.server_epoch
    }

    pub fn add_kelurahan(
        &self,
        code: &str,
        name: &str,
        now_ms: u64,
    ) -> Result<Kelurahan, KotaError> {
        let code = kelurahan_code(code)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(KotaError::BadRequest("Nama kelurahan wajib diisi.".into()));
        }
        self.with(|c| {
            c.execute(
                "INSERT INTO kelurahan (code, name, created_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name",
                params![code, name, now_ms as i64],
            )?;
            Ok(Kelurahan { code: code.clone(), name: name.to_string() })
        })
    }

    pub fn kelurahan(&self) -> Result<Vec<Kelurahan>, KotaError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT code, name FROM kelurahan ORDER BY code")?;
            let rows = st.query_map([], |r| Ok(Kelurahan { code: r.get(0)?, name: r.get(1)? }))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    /// A new one-time code for an office of `kelurahan`, valid [`CODE_VALID_MS`].
    pub fn new_enrol_code(&self, kelurahan: &str, now_ms: u64) -> Result<EnrolCode, KotaError> {
        let code_k = kelurahan_code(kelurahan)?;
        let code = crate::codes::new_code();
        let expires_at_ms = now_ms + CODE_VALID_MS;
        self.with(|c| {
            let known: Option<String> = c
                .query_row("SELECT code FROM kelurahan WHERE code = ?1", [&code_k], |r| r.get(0))
                .optional()?;
            if known.is_none() {
                return Err(KotaError::NotFound(format!(
                    "Kelurahan {code_k} belum terdaftar (balai-kota kelurahan add)."
                )));
            }
            c.execute(
                "INSERT INTO enrol_codes (code_hash, kelurahan_code, created_at_ms, expires_at_ms)
                 VALUES (?1, ?2, ?3, ?4)",
                params![code_hash(&code), code_k, now_ms as i64, expires_at_ms as i64],
            )?;
            Ok(EnrolCode { code: code.clone(), kelurahan_code: code_k.clone(), expires_at_ms })
        })
    }

    /// The kelurahan a one-time code is for, while it is unused and valid (nothing is written).
    pub fn code_kelurahan(&self, code: &str, now_ms: u64) -> Result<Option<String>, KotaError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT kelurahan_code FROM enrol_codes
                 WHERE code_hash = ?1 AND used_at_ms IS NULL AND expires_at_ms > ?2",
                params![code_hash(code), now_ms as i64],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// Redeems a code for a new device: single use, before it expires, in one transaction (two
    /// PCs racing with one code: one wins, the other gets `CodeInvalid`). A PC enrolling again
    /// after it was locked out names the device it was (`replaces`): the online requests that
    /// device held pass to the new one, in the same transaction (see
    /// [`crate::requests::hand_over`]).
    pub fn enrol(
        &self,
        code: &str,
        new: &NewDevice,
        now_ms: u64,
    ) -> Result<(Device, Kelurahan), KotaError> {
        let NewDevice { public_key_hex, hostname, app_version, first_seq, replaces } = *new;
        let key = hex::decode(public_key_hex.trim())
            .ok()
            .filter(|k| k.len() == 32)
            .ok_or_else(|| KotaError::BadRequest("Kunci publik perangkat tidak sah.".into()))?;
        let public_key_hex = hex::encode(key);
        self.with(|c| {
            let tx = c.transaction()?;
            let hash = code_hash(code);
            let found: Option<(String, i64, Option<i64>)> = tx
                .query_row(
                    "SELECT kelurahan_code, expires_at_ms, used_at_ms FROM enrol_codes
                     WHERE code_hash = ?1",
                    [&hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let kelurahan_code = match found {
                Some((k, expires, None)) if (now_ms as i64) < expires => k,
                _ => {
                    tx.execute(
                        "INSERT INTO security_events (at_ms, kind, detail) VALUES (?1, 'enrol_refused', ?2)",
                        params![now_ms as i64, format!("host {hostname}")],
                    )?;
                    tx.commit()?;
                    return Err(KotaError::CodeInvalid);
                }
            };
            let id = Uuid::now_v7();
            tx.execute(
                "INSERT INTO devices (id, kelurahan_code, public_key_hex, hostname, app_version,
                     epoch, enrolled_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)",
                params![id.to_string(), kelurahan_code, public_key_hex, hostname, app_version, now_ms as i64],
            )
            .map_err(|e| {
                if e.is_constraint_violation() {
                    KotaError::BadRequest("Kunci perangkat ini sudah terdaftar.".into())
                } else {
                    KotaError::Database(e)
                }
            })?;
            if first_seq > 1 {
                // A PC enrolling again (after being fenced) goes on numbering its outbox where
                // it was: what it pushed before went in under its old id.
                tx.execute(
                    "INSERT INTO device_seq (device_id, last_applied) VALUES (?1, ?2)",
                    params![id.to_string(), (first_seq - 1) as i64],
                )?;
            }
            tx.execute(
                "UPDATE enrol_codes SET used_at_ms = ?1, used_by = ?2 WHERE code_hash = ?3",
                params![now_ms as i64, id.to_string(), hash],
            )?;
            if let Some(old) = replaces {
                crate::requests::hand_over(&tx, old, id, &kelurahan_code, now_ms)?;
            }
            let name: String = tx.query_row(
                "SELECT name FROM kelurahan WHERE code = ?1",
                [&kelurahan_code],
                |r| r.get(0),
            )?;
            tx.commit()?;
            let device = Device {
                id,
                kelurahan_code: kelurahan_code.clone(),
                public_key_hex: public_key_hex.clone(),
                hostname: hostname.to_string(),
                app_version: app_version.to_string(),
                epoch: 1,
                enrolled_at_ms: now_ms,
                revoked_at_ms: None,
                revoke_reason: None,
                last_seen_ms: None,
            };
            Ok((device, Kelurahan { code: kelurahan_code, name }))
        })
    }

    /// The offset from UTC of the city's time zone, in seconds: its kelurahan's (one city is in
    /// one province), WIB before any is registered.
    pub fn city_offset(&self) -> Result<i32, KotaError> {
        let code: Option<String> =
            self.with(|c| Ok(c.query_row("SELECT min(code) FROM kelurahan", [], |r| r.get(0))?))?;
        Ok(crate::html::offset_of(code.as_deref().unwrap_or("")))
    }

    pub fn device(&self, id: Uuid) -> Result<Option<Device>, KotaError> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT id, kelurahan_code, public_key_hex, hostname, app_version, epoch,
                        enrolled_at_ms, revoked_at_ms, last_seen_ms, revoke_reason FROM devices WHERE id = ?1",
                [id.to_string()],
                device_row,
            )
            .optional()?)
        })
    }

    pub fn devices(&self) -> Result<Vec<Device>, KotaError> {
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT id, kelurahan_code, public_key_hex, hostname, app_version, epoch,
                        enrolled_at_ms, revoked_at_ms, last_seen_ms, revoke_reason FROM devices
                 ORDER BY kelurahan_code, enrolled_at_ms",
            )?;
            let rows = st.query_map([], device_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    pub fn revoke(&self, id: Uuid, now_ms: u64) -> Result<(), KotaError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE devices SET revoked_at_ms = ?1, revoke_reason = 'admin'
                 WHERE id = ?2 AND revoked_at_ms IS NULL",
                params![now_ms as i64, id.to_string()],
            )?;
            if n == 0 {
                return Err(KotaError::NotFound(format!(
                    "Perangkat {id} tidak ada atau sudah dicabut."
                )));
            }
            crate::leases::void_device(&tx, id, now_ms)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Fences `device`: its database was restored from a backup or copied (it sent an op
    /// number it had used before for another change, or fewer ops than it had sent). It is
    /// locked out like a revoked device, its number leases are void, and it must enrol again.
    pub fn fence(&self, device: Uuid, detail: &str, now_ms: u64) -> Result<KotaError, KotaError> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "UPDATE devices SET revoked_at_ms = ?1, revoke_reason = 'restored_copy'
                 WHERE id = ?2 AND revoked_at_ms IS NULL",
                params![now_ms as i64, device.to_string()],
            )?;
            crate::leases::void_device(&tx, device, now_ms)?;
            tx.execute(
                "INSERT INTO security_events (at_ms, device_id, kind, detail) VALUES (?1, ?2, 'restored_copy', ?3)",
                params![now_ms as i64, device.to_string(), detail],
            )?;
            tx.commit()?;
            Ok(KotaError::EpochFenced)
        })
    }

    pub fn seen(&self, id: Uuid, now_ms: u64) -> Result<(), KotaError> {
        self.with(|c| {
            c.execute(
                "UPDATE devices SET last_seen_ms = ?1 WHERE id = ?2",
                params![now_ms as i64, id.to_string()],
            )?;
            Ok(())
        })
    }

    pub fn security_event(
        &self,
        device: Option<Uuid>,
        kind: &str,
        detail: &str,
        now_ms: u64,
    ) -> Result<(), KotaError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO security_events (at_ms, device_id, kind, detail) VALUES (?1, ?2, ?3, ?4)",
                params![now_ms as i64, device.map(|d| d.to_string()), kind, detail],
            )?;
            Ok(())
        })
    }

    /// (kind, device) of every security event, oldest first.
    pub fn security_events(&self) -> Result<Vec<(String, Option<String>)>, KotaError> {
        self.with(|c| {
            let mut st = c.prepare("SELECT kind, device_id FROM security_events ORDER BY id")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }
}

fn read_server_epoch(c: &Conn) -> Result<Uuid, KotaError> {
    let epoch: String =
        c.query_row("SELECT value FROM meta WHERE key = 'server_epoch'", [], |r| r.get(0))?;
    Uuid::parse_str(&epoch).map_err(|e| KotaError::BadRequest(format!("server_epoch: {e}")))
}

fn pg_connect(url: &str) -> Result<PgConn, KotaError> {
    postgres::Client::connect(url, postgres::NoTls).map(PgConn::new).map_err(|e| {
        let at = without_password(url);
        KotaError::BadRequest(format!("PostgreSQL tidak dapat dihubungi ({at}): {e}"))
    })
}

/// `f` where blocking on another runtime is allowed: here when no tokio runtime runs on this
/// thread, else on a scoped thread of its own.
fn off_the_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| {
        s.spawn(f).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn device_row(r: &crate::sql::Row) -> crate::sql::Result<Device> {
    let id: String = r.get(0)?;
    Ok(Device {
        id: Uuid::parse_str(&id).unwrap_or_default(),
        kelurahan_code: r.get(1)?,
        public_key_hex: r.get(2)?,
        hostname: r.get(3)?,
        app_version: r.get(4)?,
        epoch: r.get(5)?,
        enrolled_at_ms: r.get::<i64>(6)? as u64,
        revoked_at_ms: r.get::<Option<i64>>(7)?.map(|v| v as u64),
        last_seen_ms: r.get::<Option<i64>>(8)?.map(|v| v as u64),
        revoke_reason: r.get(9)?,
    })
}

/// A request that panicked while holding the connection leaves the lock poisoned; later
/// requests get an answer rather than a second panic.
fn poisoned() -> KotaError {
    KotaError::BadRequest("server busy".into())
}

/// The address of a database for messages: a password in it never reaches a log.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return "…".into() };
    match rest.split_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("kota.sqlite")).unwrap();
        db.add_kelurahan("1872041004", "Yosorejo", 0).unwrap();
        (dir, db)
    }

    const KEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    fn pc<'a>(public_key_hex: &'a str, hostname: &'a str, app_version: &'a str) -> NewDevice<'a> {
        NewDevice { public_key_hex, hostname, app_version, first_seq: 1, replaces: None }
    }

    #[test]
    fn a_code_enrols_one_device_once_and_not_after_a_day() {
        let (_d, db) = db();
        let code = db.new_enrol_code("18.72.04.1004", 1_000).unwrap();
        assert_eq!(code.expires_at_ms, 1_000 + CODE_VALID_MS);
        let (device, k) = db.enrol(&code.code, &pc(KEY, "loket-1", "0.1.0"), 2_000).unwrap();
        assert_eq!(
            (device.epoch, k.code.as_str(), k.name.as_str()),
            (1, "18.72.04.1004", "Yosorejo")
        );
        assert_eq!(db.device(device.id).unwrap().unwrap().hostname, "loket-1");
        // Used once: refused again, with another key too.
        let other = KEY.replace('d', "e");
        assert!(matches!(
            db.enrol(&code.code, &pc(&other, "loket-2", "0.1.0"), 3_000),
            Err(KotaError::CodeInvalid)
        ));
        // A fresh code, one millisecond too late.
        let late = db.new_enrol_code("18.72.04.1004", 10_000).unwrap();
        let at = 10_000 + CODE_VALID_MS;
        assert!(matches!(
            db.enrol(&late.code, &pc(&other, "loket-2", "0.1.0"), at),
            Err(KotaError::CodeInvalid)
        ));
        assert!(db.enrol(&late.code, &pc(&other, "loket-2", "0.1.0"), at - 1).is_ok());
        let refused = db.security_events().unwrap();
        assert_eq!(refused.iter().filter(|(k, _)| k == "enrol_refused").count(), 2);
    }

    #[test]
    fn codes_are_only_for_registered_kelurahan_with_valid_codes() {
        let (_d, db) = db();
        assert!(matches!(db.new_enrol_code("18.72.04.1999", 0), Err(KotaError::NotFound(_))));
        assert!(matches!(db.add_kelurahan("18.72", "x", 0), Err(KotaError::BadRequest(_))));
        assert!(matches!(db.add_kelurahan("18.72.04.1005", " ", 0), Err(KotaError::BadRequest(_))));
        let code = db.new_enrol_code("18.72.04.1004", 0).unwrap();
        assert!(matches!(
            db.enrol(&code.code, &pc("abcd", "h", "v"), 1),
            Err(KotaError::BadRequest(_))
        ));
    }

    #[test]
    fn the_server_epoch_is_made_once_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kota.sqlite");
        let first = Db::open(&path).unwrap().server_epoch();
        assert_eq!(Db::open(&path).unwrap().server_epoch(), first);
        let other = Db::open(&dir.path().join("other.sqlite")).unwrap().server_epoch();
        assert_ne!(other, first);
    }

    #[test]
    fn a_database_address_in_a_message_has_no_password() {
        let shown = super::without_password("postgres://kota:rahasia@db.local:5432/kota");
        assert_eq!(shown, "postgres://kota@db.local:5432/kota");
        assert_eq!(super::without_password("postgres://db.local/kota"), "postgres://db.local/kota");
    }
}
