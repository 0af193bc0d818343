//! Taking over, after a restore, what the database it replaced must not lose.
//!
//! A restore puts an older copy in place of the database (the admin's choice, or at start when
//! the file was found damaged and set aside). The file it replaces still holds work the copy
//! lacks. Some of it must never be lost whatever the reason for the restore: **every numbered
//! letter** (a number handed to a resident is never handed out again, so each series' last
//! serial is carried forward too), its history, the keys that signed it, and the commands about
//! it the city has not received yet. After damage ([`Scope::Everything`]) the rest of the
//! office's work readable in the file is taken over as well: the register's changes since the
//! copy (read from the outbox, applied with the same merge as a pull, so nothing newer in the
//! copy is overwritten, and queued for the city when they had not been pushed) and the rows of
//! the office's own tables the copy lacks or holds in an older version.
//!
//! The replaced file is read from a copy of it (the original stays byte for byte as it was set
//! aside), past damaged pages: a range of rows that cannot be read is skipped, counted and named
//! in [`TakenOver::unreadable`] (by table and row numbers, never by content), never guessed.
//!
//! What it does not take over: the audit trail (a hash chain: the restored one goes on, and the
//! take-over is an entry of it), what came from the city (pulled again after a restore), number
//! leases (void after any restore).

use crate::pull::{self, Pulled};
use crate::sync::{self, SYNCED};
use crate::{cipher, migrations, Result, Store, StoreError, WriteCtx};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params_from_iter, Connection, OptionalExtension, Transaction};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// How much of the replaced database is taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The admin restored a backup on purpose (to undo something): only what must never be
    /// lost, the numbered letters and their numbers.
    Letters,
    /// The database was damaged: everything of the office's work that can be read.
    Everything,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Letters => "letters",
            Scope::Everything => "everything",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "letters" => Some(Scope::Letters),
            "everything" => Some(Scope::Everything),
            _ => None,
        }
    }
}

/// What a take-over brought into the restored database.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TakenOver {
    /// Whether the replaced file could be read at all (its schema, the table of its tables,
    /// opened): `false` means nothing could be taken over from it.
    pub opened: bool,
    /// Numbered letters added or brought up to date (issued, collected or voided after the copy).
    pub letters: u64,
    /// Letter series whose last serial moved forward: their next number follows the replaced
    /// database's, not the copy's.
    pub series_forward: u64,
    /// Rows of the office's other tables added or brought up to date (users, signatories,
    /// settings, letter history, requests, breaches, contest work, …).
    pub rows: u64,
    /// Register changes (field groups) that won the merge and are now in the register.
    pub changes: u64,
    /// Changes and commands queued for the city (not yet pushed from the replaced database).
    pub queued: u64,
    /// What could not be read or stored, by place (table and row numbers), never by content.
    pub unreadable: Vec<String>,
}

/// The office's own tables taken over after damage, parents before children (the foreign keys
/// hold). Not here: synced tables (their changes come from the outbox), sync bookkeeping, the
/// audit trail, what the city sends (online requests), leases.
const OWN_TABLES: &[&str] = &[
    "users",
    "office_profile",
    "office_emblem",
    "signatories",
    "settings",
    "office_keys",
    "letters",
    "letter_events",
    "subject_requests",
    "breaches",
    "contest_editions",
    "contest_periods",
    "contest_tasks",
    "contest_efforts",
    "contest_files",
    "contest_evidence",
];

/// Rows read per query: small, so a damaged page costs few rows on either side of it.
const CHUNK: i64 = 256;

/// The sync state keys of a take-over still to do (set with the restore, cleared with the
/// take-over, so a crash between the two finishes it at the next start).
pub const PENDING_FROM: &str = "take_over_from";
pub const PENDING_SCOPE: &str = "take_over_scope";

/// Marks, inside the restored copy's transaction, the take-over still to do from `old`.
pub fn mark_pending(tx: &Transaction, old: &Path, scope: Scope) -> rusqlite::Result<()> {
    let has_state: i64 = tx.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '_sync_state'",
        [],
        |r| r.get(0),
    )?;
    if has_state == 0 {
        return Ok(()); // a copy from before sync existed: taken over right after, unmarked
    }
    sync::set_state(
        tx,
        &[(PENDING_FROM, &old.display().to_string()), (PENDING_SCOPE, scope.as_str())],
    )
}

/// The take-over left to do (a restore whose process stopped before it), if any.
pub fn pending(conn: &Connection) -> rusqlite::Result<Option<(PathBuf, Scope)>> {
    let from = sync::state(conn, PENDING_FROM)?;
    let scope = sync::state(conn, PENDING_SCOPE)?.and_then(|s| Scope::parse(&s));
    Ok(from.map(|f| (PathBuf::from(f), scope.unwrap_or(Scope::Everything))))
}

/// One table's rows as read from the replaced database.
struct TableRows {
    table: &'static str,
    columns: Vec<String>,
    rows: Vec<Vec<SqlValue>>,
}

/// One outbox entry of the replaced database.
struct OldChange {
    seq: i64,
    change_id: Uuid,
    tbl: String,
    row_id: Uuid,
    field_group: String,
    /// The outbox's value; for an insert (`*`), the row's every group as read from its table.
    value: String,
    hlc: u64,
    user_id: String,
}

#[derive(Default)]
struct Found {
    tables: Vec<TableRows>,
    series: Vec<(String, i64)>,
    changes: Vec<OldChange>,
    pushed_through: i64,
    unreadable: Vec<String>,
    opened: bool,
}

impl Store {
    /// Takes over from the database file at `old` (opened with this store's key) what a
    /// restore must not lose ([`Scope`]; see the module docs), in one transaction that also
    /// clears the pending mark. Answers what was taken and what could not be read. A file that
    /// does not open at all yields nothing taken and says so.
    pub fn take_over(&self, ctx: &WriteCtx, old: &Path, scope: Scope) -> Result<TakenOver> {
        let known: HashSet<Uuid> = self.read(|c| {
            let mut st = c.prepare("SELECT change_id FROM _sync_outbox")?;
            let ids = st.query_map([], |r| r.get::<_, Uuid>(0))?.collect();
            ids
        })?;
        let found = read_aside(old, &self.key, scope, &known);
        let at = chrono::DateTime::from_timestamp_millis(ctx.now_ms as i64)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let high = found.changes.iter().map(|c| c.hlc).max();
        let taken = self.transaction(ctx, sync::Capture::Off, true, |tx| {
            let taken = write(tx, found, &at, &self.capture)?;
            sync::clear_state(tx, &[PENDING_FROM, PENDING_SCOPE])?;
            Ok::<_, StoreError>(taken)
        })?;
        if let Some(high) = high {
            sync::lock(&self.capture).hlc.observe(high);
        }
        Ok(taken)
    }
}

/// Reads the file at `old` (and its WAL) from a copy in a folder beside it, removed after.
/// A file that cannot be copied (removed by hand since, a full disk) yields nothing taken and
/// says why: the office opens all the same.
fn read_aside(old: &Path, key: &[u8; 32], scope: Scope, known: &HashSet<Uuid>) -> Found {
    let name = old.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let folder = old.with_file_name(format!("{name}.dibaca"));
    let _ = std::fs::remove_dir_all(&folder);
    let copy = folder.join("db");
    let copied = (|| {
        std::fs::create_dir_all(&folder)?;
        std::fs::copy(old, &copy)?;
        let wal = old.with_file_name(format!("{name}-wal"));
        if wal.exists() {
            std::fs::copy(&wal, folder.join("db-wal"))?;
        }
        Ok::<_, std::io::Error>(())
    })();
    let found = match copied {
        Ok(()) => read_copy(&copy, key, scope, known),
        Err(e) => Found::nothing(format!("the file: it cannot be read ({e})")),
    };
    let _ = std::fs::remove_dir_all(&folder);
    found
}

/// The copy of the replaced file, open. A page that fails its check leaves SQLCipher's
/// connection failing every later read, so after a failed read the copy is opened afresh.
struct Aside<'a> {
    path: &'a Path,
    key: &'a [u8; 32],
    conn: Connection,
}

impl Aside<'_> {
    fn reopen(&mut self) {
        if let Ok(conn) = Connection::open(self.path) {
            if cipher::unlock(&conn, self.path, self.key).is_ok() {
                self.conn = conn;
            }
        }
    }
}

impl Found {
    /// Nothing read, for `why`.
    fn nothing(why: String) -> Found {
        Found { unreadable: vec![why], ..Found::default() }
    }
}

fn read_copy(copy: &Path, key: &[u8; 32], scope: Scope, known: &HashSet<Uuid>) -> Found {
    let mut found = Found::default();
    let conn = match Connection::open(copy) {
        Ok(c) => c,
        Err(e) => {
            found.unreadable.push(format!("the file: it does not open ({e})"));
            return found;
        }
    };
    if let Err(e) = cipher::unlock(&conn, copy, key) {
        found.unreadable.push(match e {
            StoreError::WrongKey { .. } => "the file: its first page does not open".into(),
            StoreError::Open { source, .. } => {
                format!("the file: its schema cannot be read ({source})")
            }
            other => format!("the file: {other}"),
        });
        return found;
    }
    found.opened = true;
    let mut aside = Aside { path: copy, key, conn };
    // A file of an older schema (damaged before this build's first start migrated it) is
    // brought up to date in the copy, so its rows read with this build's columns.
    let version = migrations::user_version(&aside.conn);
    match version {
        Ok(v) if v > migrations::LATEST => {
            found.unreadable.push(format!("schema version {v} is newer than this build"));
            return found;
        }
        Ok(v) if v < migrations::LATEST => {
            if let Err(e) = migrations::migrate(&aside.conn, copy) {
                found.unreadable.push(format!("schema version {v} cannot be brought up ({e})"));
                return found;
            }
        }
        Ok(_) => {}
        Err(e) => {
            found.unreadable.push(format!("its schema cannot be read ({e})"));
            return found;
        }
    }
    found.pushed_through = sync::state(&aside.conn, "pushed_through")
        .ok()
        .flatten()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let tables: Vec<(&'static str, &str)> = match scope {
        Scope::Letters => vec![
            ("office_keys", ""),
            ("letters", "number IS NOT NULL"),
            ("letter_events", "letter_id IN (SELECT id FROM letters WHERE number IS NOT NULL)"),
        ],
        Scope::Everything => OWN_TABLES.iter().map(|t| (*t, "")).collect(),
    };
    for (table, filter) in tables {
        let columns = match columns_of(&aside.conn, table) {
            Ok(c) if !c.is_empty() => c,
            Ok(_) => continue, // not in this schema
            Err(e) => {
                found.unreadable.push(format!("{table}: its columns cannot be read ({e})"));
                continue;
            }
        };
        let filter = if filter.is_empty() { String::new() } else { format!("AND {filter}") };
        let sql = format!(
            "SELECT rowid, {} FROM {table} WHERE rowid > ?1 {filter} ORDER BY rowid LIMIT ?2",
            columns.join(", ")
        );
        let width = columns.len();
        let mut rows = Vec::new();
        scan(&mut aside, table, &sql, &mut found.unreadable, |r| {
            let row: rusqlite::Result<Vec<SqlValue>> = (1..=width).map(|i| r.get(i)).collect();
            rows.push(row?);
            Ok(())
        });
        found.tables.push(TableRows { table, columns, rows });
    }
    scan(
        &mut aside,
        "letter_series",
        "SELECT rowid, series, last_serial FROM letter_series WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        &mut found.unreadable,
        |r| {
            found.series.push((r.get(1)?, r.get(2)?));
            Ok(())
        },
    );
    let letters: HashSet<Vec<u8>> = found
        .tables
        .iter()
        .filter(|t| t.table == "letters")
        .flat_map(|t| t.rows.iter().filter_map(|r| blob(r.first())))
        .collect();
    let pushed_through = found.pushed_through;
    let mut wanted = Vec::new();
    scan(
        &mut aside,
        "_sync_outbox",
        "SELECT seq, change_id, tbl, row_id, field_group, value, hlc, user_id
         FROM _sync_outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        &mut found.unreadable,
        |r| {
            let seq: i64 = r.get(0)?;
            let change_id: Uuid = r.get(1)?;
            let tbl: String = r.get(2)?;
            let row_id: Uuid = r.get(3)?;
            if known.contains(&change_id) {
                return Ok(());
            }
            let command = tbl == sync::COMMAND_TABLE;
            // A command the city has is done; one about a letter not taken over has no effect
            // here to go with it.
            if command
                && (seq <= pushed_through
                    || (scope == Scope::Letters && !letters.contains(row_id.as_bytes().as_slice())))
            {
                return Ok(());
            }
            if !command && scope == Scope::Letters {
                return Ok(());
            }
            wanted.push(OldChange {
                seq,
                change_id,
                tbl,
                row_id,
                field_group: r.get(4)?,
                value: r.get::<_, Option<String>>(5)?.unwrap_or_default(),
                hlc: r.get::<_, i64>(6)? as u64,
                user_id: r.get(7)?,
            });
            Ok(())
        },
    );
    // An insert's outbox entry refers to its row: the row is read now, as a push would.
    for mut c in wanted {
        if c.field_group == "*" {
            let Some(t) = SYNCED.iter().find(|t| t.name == c.tbl) else { continue };
            let whole = format!(
                "SELECT {} FROM {} AS new WHERE new.id = ?1",
                sync::whole_row_value(t),
                t.name
            );
            match aside.conn.query_row(&whole, [c.row_id], |r| r.get::<_, String>(0)).optional() {
                Ok(Some(v)) => c.value = v,
                Ok(None) => continue, // the row is gone (merged away): nothing to carry
                Err(_) => {
                    aside.reopen();
                    found.unreadable.push(format!("{}: the row of outbox entry {}", c.tbl, c.seq));
                    continue;
                }
            }
        }
        found.changes.push(c);
    }
    found
}

fn blob(v: Option<&SqlValue>) -> Option<Vec<u8>> {
    match v {
        Some(SqlValue::Blob(b)) => Some(b.clone()),
        _ => None,
    }
}

fn columns_of(conn: &Connection, table: &str) -> rusqlite::Result<Vec<String>> {
    let mut st = conn.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
    let names = st.query_map([table], |r| r.get(0))?.collect();
    names
}

/// Runs `sql` (rows after rowid `?1`, at most `?2`, rowid first) chunk by chunk to the end of
/// the table, handing each row to `each`. Where a read fails (a page that no longer decrypts or
/// checks), it probes ahead in growing steps until rows read again, and notes the skipped range.
fn scan(
    aside: &mut Aside<'_>,
    table: &str,
    sql: &str,
    unreadable: &mut Vec<String>,
    mut each: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<()>,
) {
    // `last`: the last rowid read; the next query reads after `from`. While probing past a
    // failure, `gap` is the rowid after which reading failed and `step` how far ahead to try.
    let (mut last, mut from) = (i64::MIN, i64::MIN);
    let (mut gap, mut step) = (i64::MIN, 0i64);
    loop {
        let mut read = 0;
        let outcome = (|| -> rusqlite::Result<()> {
            let mut st = aside.conn.prepare_cached(sql)?;
            let mut rows = st.query(rusqlite::params![from, CHUNK])?;
            while let Some(r) = rows.next()? {
                let rowid: i64 = r.get(0)?;
                each(r)?;
                last = rowid;
                read += 1;
            }
            Ok(())
        })();
        if read > 0 && step > 0 {
            unreadable.push(skipped(table, gap, Some(from)));
            step = 0;
        }
        match outcome {
            Ok(()) if read == 0 => {
                if step > 0 {
                    unreadable.push(skipped(table, gap, None));
                }
                return;
            }
            Ok(()) => from = last,
            Err(_) => {
                aside.reopen();
                if step == 0 {
                    (gap, step) = (last, 1);
                } else {
                    step = step.saturating_mul(2);
                }
                match gap.checked_add(step) {
                    Some(next) if step < i64::MAX => from = next,
                    _ => {
                        unreadable.push(skipped(table, gap, None));
                        return;
                    }
                }
            }
        }
    }
}

fn skipped(table: &str, after: i64, until: Option<i64>) -> String {
    let after = if after == i64::MIN { "the start".to_string() } else { format!("row {after}") };
    match until {
        Some(until) => format!("{table}: rows after {after} up to row {until} cannot be read"),
        None => format!("{table}: rows after {after} cannot be read"),
    }
}

/// Writes what was found, in the take-over's transaction (capture off: nothing here is a new
/// edit; what must go to the city is queued explicitly).
fn write(tx: &Transaction, found: Found, at: &str, capture: &sync::Shared) -> Result<TakenOver> {
    let mut taken =
        TakenOver { opened: found.opened, unreadable: found.unreadable, ..TakenOver::default() };
    for t in &found.tables {
        let (changed, refused) = upsert(tx, t)?;
        if t.table == "letters" {
            taken.letters += changed;
        } else {
            taken.rows += changed;
        }
        if let Some((count, first)) = refused {
            taken.unreadable.push(format!("{}: {count} rows not stored ({first})", t.table));
        }
    }
    for (series, last) in &found.series {
        taken.series_forward += tx.execute(
            "INSERT INTO letter_series (series, last_serial) VALUES (?1, ?2)
             ON CONFLICT (series) DO UPDATE SET last_serial = excluded.last_serial
             WHERE excluded.last_serial > letter_series.last_serial",
            rusqlite::params![series, last],
        )? as u64;
    }
    // This PC's id now: changes not pushed from the replaced file go out as this PC's, with
    // their own clocks; those pushed already keep the stamp the city holds them under.
    let device: String =
        tx.query_row("SELECT value FROM _sync_state WHERE key = 'device_id'", [], |r| r.get(0))?;
    let own = Uuid::parse_str(&device).unwrap_or(Uuid::nil());
    let pushed_device =
        sync::state(tx, "server_device_id")?.and_then(|d| Uuid::parse_str(&d).ok()).unwrap_or(own);
    let mut register = Vec::new();
    for c in found.changes.iter().filter(|c| c.tbl != sync::COMMAND_TABLE) {
        let value = match serde_json::from_str(&c.value) {
            Ok(v) => v,
            Err(_) => {
                taken.unreadable.push(format!("{}: outbox entry {} is not readable", c.tbl, c.seq));
                continue;
            }
        };
        register.push(Pulled {
            table: c.tbl.clone(),
            row_id: c.row_id,
            field_group: c.field_group.clone(),
            value,
            hlc: c.hlc,
            device: if c.seq <= found.pushed_through { pushed_device } else { own },
            delete: false,
        });
    }
    let applied = pull::apply(tx, &register, at, true, capture)?;
    taken.changes = applied.applied;
    if own.is_nil() {
        // A PC never enrolled has a local id, not a UUID: its clocks name it as the capture does.
        tx.execute(
            "UPDATE _sync_clock SET device_id = ?1 WHERE device_id = ?2",
            [&device, &Uuid::nil().to_string()],
        )?;
    }
    let mut queue = tx.prepare(
        "INSERT INTO _sync_outbox (change_id, tbl, row_id, field_group, value, hlc, device_id, user_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (change_id) DO NOTHING",
    )?;
    for c in found.changes.iter().filter(|c| c.seq > found.pushed_through) {
        // An insert is pushed from its row as it is now (the outbox keeps only the reference).
        let value = (c.field_group != "*").then_some(c.value.as_str());
        taken.queued += queue.execute(rusqlite::params![
            c.change_id,
            c.tbl,
            c.row_id,
            c.field_group,
            value,
            c.hlc as i64,
            device,
            c.user_id
        ])? as u64;
    }
    Ok(taken)
}

/// Stores `t`'s rows: added where the restored database lacks them, replaced where it holds
/// another version (an older one, for rows that carry `updated_at`), left where it holds the
/// same or newer. Answers the rows
/// changed, and the rows refused (a constraint) with the first reason.
fn upsert(tx: &Transaction, t: &TableRows) -> Result<(u64, Option<(u64, String)>)> {
    let keys: Vec<String> = {
        let mut st =
            tx.prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")?;
        let keys = st.query_map([t.table], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        keys
    };
    let places: Vec<String> = (1..=t.columns.len()).map(|i| format!("?{i}")).collect();
    let rest: Vec<&String> = t.columns.iter().filter(|c| !keys.contains(c)).collect();
    let on_conflict = if keys.is_empty() {
        String::new()
    } else if rest.is_empty() {
        format!("ON CONFLICT ({}) DO NOTHING", keys.join(", "))
    } else {
        // The replaced database's version is the later one, unless the row says otherwise
        // (`updated_at`); an identical row is not counted as taken.
        let sets: Vec<String> = rest.iter().map(|c| format!("{c} = excluded.{c}")).collect();
        let mine: Vec<String> = rest.iter().map(|c| format!("{}.{c}", t.table)).collect();
        let theirs: Vec<String> = rest.iter().map(|c| format!("excluded.{c}")).collect();
        let newer = if rest.iter().any(|c| *c == "updated_at") {
            format!(" AND excluded.updated_at > {}.updated_at", t.table)
        } else {
            String::new()
        };
        format!(
            "ON CONFLICT ({}) DO UPDATE SET {} WHERE ({}) IS NOT ({}){newer}",
            keys.join(", "),
            sets.join(", "),
            mine.join(", "),
            theirs.join(", ")
        )
    };
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) {on_conflict}",
        t.table,
        t.columns.join(", "),
        places.join(", ")
    );
    let mut st = tx.prepare(&sql)?;
    let (mut changed, mut refused, mut first) = (0u64, 0u64, None);
    for row in &t.rows {
        // A refused row fails its statement only; the transaction goes on.
        match st.execute(params_from_iter(row.iter())) {
            Ok(n) => changed += n as u64,
            Err(e) if pull::is_refusal(&e) => {
                refused += 1;
                first.get_or_insert_with(|| {
                    e.sqlite_error().map(|s| format!("{:?}", s.code)).unwrap_or_default()
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((changed, first.map(|f| (refused, f))))
}
