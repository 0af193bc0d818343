//! Change capture for sync (design.md, sync-notes §3.3).
//!
//! [`SYNCED`] is the schema registry: every column of every synced table belongs to exactly one
//! field group or is listed as local-only (a test checks this against the live schema). The
//! capture triggers are generated from it on every open, so a new column cannot be forgotten
//! by some code path. The triggers call SQL functions registered on the writer connection:
//! `balai_capture()` (1 normally; 0 while applying pulled changes; 2 while a bulk write defers the capture of
//! its inserts to one set-based statement per table, see [`Store::bulk`](crate::Store::bulk)),
//! `balai_hlc()`, `balai_change_id()`,
//! `balai_device()` and `balai_user()`, which read the [`WriteCtx`] of the current transaction.

use balai_domain::hlc::Hlc;
use rusqlite::functions::FunctionFlags;
use rusqlite::Connection;
use std::sync::{Arc, Mutex};

pub struct SyncedTable {
    pub name: &'static str,
    /// (field group, its columns). Columns that change together share one clock.
    pub groups: &'static [(&'static str, &'static [&'static str])],
    /// Columns that never travel: ids (the row key travels separately), derived data, local times.
    pub local_only: &'static [&'static str],
    /// BLOB columns among the captured ones (sent as lower-case hex).
    pub blob_columns: &'static [&'static str],
}

pub const SYNCED: &[SyncedTable] = &[
    SyncedTable {
        name: "residents",
        groups: &[
            (
                "identity",
                &[
                    "nik",
                    "nik_temporary",
                    "full_name",
                    "sex",
                    "birth_place",
                    "birth_date",
                    "nik_warnings",
                    "nik_override_reason",
                ],
            ),
            ("family", &["family_id", "shdk"]),
            (
                "civil",
                &[
                    "religion",
                    "marital_status",
                    "education",
                    "occupation",
                    "blood_type",
                    "citizenship",
                    "disability",
                ],
            ),
            ("parents", &["mother_nik", "mother_name", "father_nik", "father_name"]),
            ("address", &["address", "rt", "rw", "lingkungan"]),
            (
                "documents",
                &[
                    "birth_cert_no",
                    "marriage_cert_no",
                    "marriage_date",
                    "divorce_cert_no",
                    "divorce_date",
                ],
            ),
            ("status", &["status"]),
            ("merge", &["merged_into"]),
            ("hold", &["legal_hold"]),
        ],
        local_only: &["id", "name_norm", "created_at", "updated_at"],
        blob_columns: &["family_id", "merged_into"],
    },
    SyncedTable {
        name: "families",
        groups: &[("family", &["no_kk", "address", "rt", "rw", "lingkungan"])],
        local_only: &["id", "created_at", "updated_at"],
        blob_columns: &[],
    },
    SyncedTable {
        name: "resident_events",
        groups: &[("event", &["resident_id", "kind", "event_date", "details", "recorded_by"])],
        local_only: &["id", "created_at"],
        blob_columns: &["resident_id"],
    },
    SyncedTable {
        name: "contest_values",
        groups: &[(
            "value",
            &[
                "ruleset",
                "edition",
                "period",
                "indicator",
                "value",
                "note",
                "entered_by",
                "entered_at_ms",
            ],
        )],
        local_only: &["id"],
        blob_columns: &[],
    },
];

/// Who writes and when, for the triggers of one transaction.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    /// Wall time of the write in Unix milliseconds (from the app's Clock).
    pub now_ms: u64,
    /// The acting user's id (empty for the CLI operator).
    pub user_id: String,
}

/// What the capture triggers do in the current transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Capture {
    /// Nothing is captured: changes pulled from the city are being applied.
    Off = 0,
    /// Every insert and update is captured by its trigger as it happens.
    On = 1,
    /// Updates are captured by their triggers; inserts are captured together when the bulk
    /// write ends ([`capture_inserts_sql`]).
    InsertsDeferred = 2,
}

#[derive(Debug)]
pub(crate) struct CaptureState {
    pub ctx: WriteCtx,
    pub capture: Capture,
    /// Off during a bulk import, which rebuilds the name index once at its end.
    pub fts_live: bool,
    pub hlc: Hlc,
    pub device_id: String,
    /// The city's time minus this PC's clock at the last contact: stamps are taken on the
    /// city's time, so a PC whose clock is wrong by years still orders its edits among the
    /// other PCs' by when they happened.
    pub clock_offset_ms: i64,
    rng: u64,
}

impl CaptureState {
    fn next_random(&mut self) -> u64 {
        // xorshift64*: change ids need uniqueness, not secrecy (the hlc part already orders them).
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

pub(crate) type Shared = Arc<Mutex<CaptureState>>;

pub(crate) fn lock(s: &Shared) -> std::sync::MutexGuard<'_, CaptureState> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers the trigger functions on `conn`, sharing `state`.
pub(crate) fn register(conn: &Connection, seed: u64) -> rusqlite::Result<Shared> {
    let state: Shared = Arc::new(Mutex::new(CaptureState {
        ctx: WriteCtx { now_ms: 0, user_id: String::new() },
        capture: Capture::On,
        fts_live: true,
        hlc: Hlc::default(),
        device_id: String::new(),
        clock_offset_ms: 0,
        rng: seed | 1,
    }));
    let flags = FunctionFlags::SQLITE_UTF8;
    let s = state.clone();
    conn.create_scalar_function("balai_capture", 0, flags, move |_| Ok(lock(&s).capture as i64))?;
    let s = state.clone();
    conn.create_scalar_function("balai_fts_live", 0, flags, move |_| Ok(lock(&s).fts_live as i64))?;
    let s = state.clone();
    conn.create_scalar_function("balai_hlc", 0, flags, move |_| {
        let mut st = lock(&s);
        let now = st.ctx.now_ms.saturating_add_signed(st.clock_offset_ms);
        Ok(st.hlc.tick(now) as i64)
    })?;
    let s = state.clone();
    conn.create_scalar_function("balai_change_id", 0, flags, move |_| {
        let mut st = lock(&s);
        let r = st.next_random().to_le_bytes();
        let r2 = st.next_random().to_le_bytes();
        let mut random = [0u8; 10];
        random[..8].copy_from_slice(&r);
        random[8..].copy_from_slice(&r2[..2]);
        Ok(crate::uuid_v7(st.ctx.now_ms, random).as_bytes().to_vec())
    })?;
    let s = state.clone();
    conn.create_scalar_function("balai_device", 0, flags, move |_| Ok(lock(&s).device_id.clone()))?;
    let s = state.clone();
    conn.create_scalar_function("balai_user", 0, flags, move |_| Ok(lock(&s).ctx.user_id.clone()))?;
    Ok(state)
}

pub(crate) fn value_expr(t: &SyncedTable, cols: &[&str], row: &str) -> String {
    let parts: Vec<String> = cols
        .iter()
        .map(|c| {
            if t.blob_columns.contains(c) {
                format!("'{c}', lower(hex({row}.{c}))")
            } else {
                format!("'{c}', {row}.{c}")
            }
        })
        .collect();
    format!("json_object({})", parts.join(", "))
}

/// The value of an inserted row (`new`): every field group.
pub(crate) fn whole_row_value(t: &SyncedTable) -> String {
    let groups: Vec<String> = t
        .groups
        .iter()
        .map(|(group, cols)| format!("'{group}', {}", value_expr(t, cols, "new")))
        .collect();
    format!("json_object({})", groups.join(", "))
}

/// The statement that rewrites every captured change of row `?1` of `t` still holding a value
/// (group updates; inserts hold none and are read from the row when pushed) to the row's
/// current value of that group: after an anonymisation, the outbox keeps no earlier version of
/// what identified the person.
pub(crate) fn redact_outbox_sql(t: &SyncedTable) -> String {
    let cases: Vec<String> = t
        .groups
        .iter()
        .map(|(group, cols)| {
            format!(
                "WHEN '{group}' THEN (SELECT {} FROM {tbl} AS new WHERE new.id = ?1)",
                value_expr(t, cols, "new"),
                tbl = t.name
            )
        })
        .collect();
    format!(
        "UPDATE _sync_outbox SET value = coalesce(CASE field_group {} END, '{{}}')
         WHERE tbl = '{tbl}' AND row_id = ?1 AND value IS NOT NULL",
        cases.join(" "),
        tbl = t.name
    )
}

/// One captured change as it is pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub change_id: uuid::Uuid,
    pub tbl: String,
    pub row_id: uuid::Uuid,
    pub field_group: String,
    /// JSON object: the group's columns, or for `*` (an insert) every group of the row as it
    /// is now.
    pub value: String,
    pub hlc: u64,
    pub device_id: String,
    pub user_id: String,
}

/// Captured changes after outbox seq `after`, oldest first, at most `limit`: what a push
/// sends. An insert's value is read from its row here (the outbox keeps only a reference);
/// a row that no longer exists is sent as `{}`.
pub fn changes_after(conn: &Connection, after: i64, limit: u32) -> rusqlite::Result<Vec<Change>> {
    let whole_rows: Vec<String> = SYNCED
        .iter()
        .map(|t| {
            format!(
                "WHEN '{tbl}' THEN (SELECT {value} FROM {tbl} AS new WHERE new.id = o.row_id)",
                tbl = t.name,
                value = whole_row_value(t)
            )
        })
        .collect();
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT o.seq, o.change_id, o.tbl, o.row_id, o.field_group,
                coalesce(o.value, CASE o.tbl {} END, '{{}}'), o.hlc, o.device_id, o.user_id
         FROM _sync_outbox o WHERE o.seq > ?1 ORDER BY o.seq LIMIT ?2",
        whole_rows.join(" ")
    ))?;
    let rows = stmt.query_map(rusqlite::params![after, limit], |r| {
        Ok(Change {
            seq: r.get(0)?,
            change_id: r.get(1)?,
            tbl: r.get(2)?,
            row_id: r.get(3)?,
            field_group: r.get(4)?,
            value: r.get(5)?,
            hlc: r.get::<_, i64>(6)? as u64,
            device_id: r.get(7)?,
            user_id: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// For a bulk write: the statement that captures, in one pass, every row of `t` with a rowid
/// above `?1` exactly as its insert trigger would have (one `*` change per row, in rowid order).
/// The clocks follow with [`CLOCKS_FROM_OUTBOX_SQL`].
pub(crate) fn capture_inserts_sql(t: &SyncedTable) -> String {
    format!(
        "INSERT INTO _sync_outbox (change_id, tbl, row_id, field_group, value, hlc, device_id, user_id)
         SELECT balai_change_id(), '{tbl}', id, '*', NULL, balai_hlc(), balai_device(), balai_user()
         FROM {tbl} WHERE rowid > ?1 ORDER BY rowid",
        tbl = t.name,
    )
}

/// For a bulk write: the clocks of the changes captured after outbox seq `?1`.
pub(crate) const CLOCKS_FROM_OUTBOX_SQL: &str =
    "INSERT INTO _sync_clock (tbl, row_id, field_group, hlc, device_id)
     SELECT tbl, row_id, field_group, hlc, device_id FROM _sync_outbox WHERE seq > ?1 ORDER BY seq
     ON CONFLICT (tbl, row_id, field_group) DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id";

/// The statements a capture trigger runs: one outbox row and its clock.
fn capture_body(tbl: &str, group: &str, value: &str) -> String {
    format!(
        "INSERT INTO _sync_outbox (change_id, tbl, row_id, field_group, value, hlc, device_id, user_id)
        VALUES (balai_change_id(), '{tbl}', new.id, '{group}', {value}, balai_hlc(), balai_device(), balai_user());
    INSERT INTO _sync_clock (tbl, row_id, field_group, hlc, device_id)
        SELECT tbl, row_id, field_group, hlc, device_id FROM _sync_outbox WHERE seq = last_insert_rowid()
        ON CONFLICT (tbl, row_id, field_group) DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id;"
    )
}

/// Every capture trigger: its name and the statement that creates it.
///
/// An INSERT is captured as one change of field group `*` holding every group (a 100,000-row
/// import writes one outbox row per resident, not one per group); an UPDATE is captured per
/// field group that actually changed. The clock of a group is its own `_sync_clock` row when it
/// has one, else the row's `*` clock.
pub fn capture_triggers() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in SYNCED {
        out.push((
            format!("_capture_{}_insert", t.name),
            format!(
                "CREATE TRIGGER _capture_{tbl}_insert AFTER INSERT ON {tbl} WHEN balai_capture() = 1 BEGIN
    {body}
END",
                tbl = t.name,
                body = capture_body(t.name, "*", "NULL")
            ),
        ));
        for (group, cols) in t.groups {
            let changed: Vec<String> =
                cols.iter().map(|c| format!("old.{c} IS NOT new.{c}")).collect();
            out.push((
                format!("_capture_{}_{group}_update", t.name),
                format!(
                    "CREATE TRIGGER _capture_{tbl}_{group}_update AFTER UPDATE OF {cols} ON {tbl}
WHEN balai_capture() > 0 AND ({changed}) BEGIN
    {body}
END",
                    tbl = t.name,
                    body = capture_body(t.name, group, &value_expr(t, cols, "new")),
                    cols = cols.join(", "),
                    changed = changed.join(" OR ")
                ),
            ));
        }
    }
    out
}

/// The SQL that (re)creates every capture trigger ([`capture_triggers`]).
pub fn trigger_sql() -> String {
    capture_triggers()
        .into_iter()
        .map(|(name, create)| format!("DROP TRIGGER IF EXISTS {name};\n{create};\n"))
        .collect()
}

/// Every (table, column) of a synced table that is neither in a field group nor local-only.
pub fn uncovered_columns(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut out = Vec::new();
    for t in SYNCED {
        let mut stmt =
            conn.prepare(&format!("SELECT name FROM pragma_table_info('{}')", t.name))?;
        let cols =
            stmt.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        for c in cols {
            let grouped = t.groups.iter().filter(|(_, cs)| cs.contains(&c.as_str())).count();
            let local = t.local_only.contains(&c.as_str());
            if grouped + local as usize != 1 {
                out.push(format!("{}.{c}", t.name));
            }
        }
    }
    Ok(out)
}

/// Loads the device id (made on first open) and the HLC high-water mark, so the clock never
/// goes backwards across restarts.
pub(crate) fn restore_state(conn: &Connection, state: &Shared) -> rusqlite::Result<()> {
    let has_tables: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_schema WHERE name = '_sync_state'", [], |r| {
            r.get(0)
        })?;
    if has_tables == 0 {
        return Ok(());
    }
    let existing: Option<String> = conn
        .query_row("SELECT value FROM _sync_state WHERE key = 'device_id'", [], |r| r.get(0))
        .map(Some)
        .or_else(|e| {
            if matches!(e, rusqlite::Error::QueryReturnedNoRows) {
                Ok(None)
            } else {
                Err(e)
            }
        })?;
    let mut st = lock(state);
    let device_id = match existing {
        Some(d) => d,
        None => {
            let a = st.next_random();
            let b = st.next_random();
            let id = format!("local-{a:016x}{b:016x}");
            conn.execute("INSERT INTO _sync_state (key, value) VALUES ('device_id', ?1)", [&id])?;
            id
        }
    };
    st.device_id = device_id;
    st.clock_offset_ms =
        self::state(conn, "clock_offset_ms")?.and_then(|v| v.parse().ok()).unwrap_or(0);
    let high: i64 = conn.query_row(
        "SELECT max(coalesce((SELECT max(hlc) FROM _sync_clock), 0), coalesce((SELECT max(hlc) FROM _sync_outbox), 0))",
        [],
        |r| r.get(0),
    )?;
    st.hlc.observe(high.max(0) as u64);
    Ok(())
}

/// The outbox table name of commands (sync-notes §3.3): application code appends a command in
/// the same transaction as its local effect; it is pushed in device order with the captured
/// changes and re-checked by the server. It has no `_sync_clock` row: a command is not state.
pub const COMMAND_TABLE: &str = "_command";

/// Appends command `name` about `row_id` (e.g. the letter) with `args` (kept as JSON).
pub fn append_command(
    tx: &rusqlite::Transaction,
    name: &str,
    row_id: uuid::Uuid,
    args: &impl serde::Serialize,
) -> crate::Result<()> {
    let args =
        serde_json::to_string(args).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
    tx.prepare_cached(
        "INSERT INTO _sync_outbox (change_id, tbl, row_id, field_group, value, hlc, device_id, user_id)
         VALUES (balai_change_id(), ?1, ?2, ?3, ?4, balai_hlc(), balai_device(), balai_user())",
    )?
    .execute(rusqlite::params![COMMAND_TABLE, row_id, name, args])?;
    Ok(())
}

/// The newest outbox number (0 for an empty outbox).
pub fn head_seq(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT coalesce(max(seq), 0) FROM _sync_outbox", [], |r| r.get(0))
}

/// An office key the city has not been told of: `(key_id, public_hex)`.
pub fn unpublished_keys(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut st = conn.prepare_cached(
        "SELECT key_id, public_hex FROM office_keys
         WHERE key_id NOT IN (SELECT id FROM _sync_published WHERE kind = 'key')
         ORDER BY created_at, key_id",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// A voided letter the city has not been told of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpublishedVoid {
    pub letter_id: uuid::Uuid,
    pub number: String,
    /// When it was voided (RFC 3339, from its history).
    pub voided_at: String,
}

pub fn unpublished_voids(conn: &Connection) -> rusqlite::Result<Vec<UnpublishedVoid>> {
    let mut st = conn.prepare_cached(
        "SELECT l.id, l.number, max(e.at) FROM letters l
         JOIN letter_events e ON e.letter_id = l.id AND e.to_status = 'dibatalkan'
         WHERE l.status = 'dibatalkan' AND l.number IS NOT NULL
           AND lower(hex(l.id)) NOT IN (SELECT id FROM _sync_published WHERE kind = 'void')
         GROUP BY l.id ORDER BY max(e.at)",
    )?;
    let rows = st.query_map([], |r| {
        Ok(UnpublishedVoid { letter_id: r.get(0)?, number: r.get(1)?, voided_at: r.get(2)? })
    })?;
    rows.collect()
}

/// Records in the caller's transaction that the city was told of key `key_id` or of the void
/// of letter `letter_id` (by the command appended in the same transaction).
pub fn mark_published(tx: &rusqlite::Transaction, kind: &str, id: &str) -> rusqlite::Result<()> {
    tx.prepare_cached("INSERT OR IGNORE INTO _sync_published (kind, id) VALUES (?1, ?2)")?
        .execute([kind, id])?;
    Ok(())
}

/// A value of the device's sync state (`_sync_state`), if set.
pub fn state(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.query_row("SELECT value FROM _sync_state WHERE key = ?1", [key], |r| r.get(0)).optional()
}

/// Sets values of the device's sync state in the caller's transaction.
pub fn set_state(tx: &rusqlite::Transaction, pairs: &[(&str, &str)]) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO _sync_state (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?;
    for (k, v) in pairs {
        st.execute([k, v])?;
    }
    Ok(())
}

/// Keeps `edits_seen_through`, the feed position this PC had pulled through when its oldest
/// unpushed edit was made (sent with each push: the city tells a concurrent overwrite of an
/// identity field from a knowing one by it). While nothing waits to be pushed it follows the
/// pull cursor; once an edit waits, it stays where it was until the outbox is pushed. Called
/// in the transactions that move either cursor.
pub fn follow_cursor(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO _sync_state (key, value)
         SELECT 'edits_seen_through', value FROM _sync_state
         WHERE key = 'pulled_through'
           AND (SELECT coalesce(max(seq), 0) FROM _sync_outbox)
               <= coalesce((SELECT CAST(value AS INTEGER) FROM _sync_state WHERE key = 'pushed_through'), 0)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([])?;
    Ok(())
}

/// Removes values of the device's sync state in the caller's transaction.
pub fn clear_state(tx: &rusqlite::Transaction, keys: &[&str]) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached("DELETE FROM _sync_state WHERE key = ?1")?;
    for k in keys {
        st.execute([k])?;
    }
    Ok(())
}

/// What is waiting to be pushed after outbox seq `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    pub count: u64,
    /// The HLC of the oldest waiting change (its age is the sync page's "oldest pending").
    pub oldest_hlc: Option<u64>,
}

pub fn pending(conn: &Connection, after: i64) -> rusqlite::Result<Pending> {
    conn.query_row("SELECT count(*), min(hlc) FROM _sync_outbox WHERE seq > ?1", [after], |r| {
        Ok(Pending {
            count: r.get::<_, i64>(0)? as u64,
            oldest_hlc: r.get::<_, Option<i64>>(1)?.map(|h| h as u64),
        })
    })
}

/// Records a push's answer: everything through `acked_through` is done; `rejected` lists
/// (seq, code, message) the server refused for good.
pub fn record_push(
    tx: &rusqlite::Transaction,
    acked_through: i64,
    rejected: &[(i64, String, String)],
    now_ms: u64,
) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO _sync_rejected (seq, code, message, at_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (seq) DO NOTHING",
    )?;
    for (seq, code, message) in rejected {
        st.execute(rusqlite::params![seq, code, message, now_ms as i64])?;
    }
    set_state(
        tx,
        &[("pushed_through", &acked_through.to_string()), ("last_push_ms", &now_ms.to_string())],
    )?;
    follow_cursor(tx)
}

/// An outbox entry the server refused for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    pub seq: i64,
    pub table: String,
    pub code: String,
    pub message: String,
    pub at_ms: i64,
}

/// Everything the server refused, newest first.
pub fn rejected(conn: &Connection) -> rusqlite::Result<Vec<RejectedRow>> {
    let mut st = conn.prepare(
        "SELECT r.seq, coalesce(o.tbl, ''), r.code, r.message, r.at_ms FROM _sync_rejected r
         LEFT JOIN _sync_outbox o ON o.seq = r.seq ORDER BY r.seq DESC",
    )?;
    let rows = st.query_map([], |r| {
        Ok(RejectedRow {
            seq: r.get(0)?,
            table: r.get(1)?,
            code: r.get(2)?,
            message: r.get(3)?,
            at_ms: r.get(4)?,
        })
    })?;
    rows.collect()
}

/// One field group of one synced row as this database holds it, with its clock: what every
/// replica of a kelurahan agrees on once sync is quiet (the simulation compares these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    pub tbl: &'static str,
    pub row_id: uuid::Uuid,
    pub group: &'static str,
    /// JSON object of the group's columns, as pushed.
    pub value: String,
    pub hlc: u64,
    pub device: String,
}

/// Every field group of every synced row, ordered by table, row and group.
pub fn dump(conn: &Connection) -> rusqlite::Result<Vec<GroupState>> {
    let mut all = Vec::new();
    for t in SYNCED {
        for (group, cols) in t.groups {
            let clock = |col: &str| {
                format!(
                    "(SELECT {col} FROM _sync_clock c WHERE c.tbl = '{tbl}' AND c.row_id = t.id
                      AND c.field_group IN ('{group}', '*') ORDER BY c.field_group = '*' LIMIT 1)",
                    tbl = t.name
                )
            };
            let sql = format!(
                "SELECT t.id, {value}, coalesce({hlc}, 0), coalesce({device}, '') FROM {tbl} AS t ORDER BY t.id",
                value = value_expr(t, cols, "t"),
                hlc = clock("hlc"),
                device = clock("device_id"),
                tbl = t.name
            );
            let mut st = conn.prepare(&sql)?;
            let rows = st.query_map([], |r| {
                Ok(GroupState {
                    tbl: t.name,
                    row_id: r.get(0)?,
                    group,
                    value: r.get(1)?,
                    hlc: r.get::<_, i64>(2)? as u64,
                    device: r.get(3)?,
                })
            })?;
            for row in rows {
                all.push(row?);
            }
        }
    }
    all.sort_by(|a, b| (a.tbl, a.row_id, a.group).cmp(&(b.tbl, b.row_id, b.group)));
    Ok(all)
}

/// One field group's clock (see [`group_clocks`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupClock {
    pub tbl: &'static str,
    pub row_id: uuid::Uuid,
    pub group: &'static str,
    pub hlc: u64,
    pub device: String,
}

/// The clocks of one row as read from `_sync_clock`: its insert's (`*`) and its groups' own.
struct RowClocks {
    table: &'static SyncedTable,
    row_id: uuid::Uuid,
    star: Option<(u64, String)>,
    own: Vec<(String, (u64, String))>,
}

impl RowClocks {
    fn into_groups(self, out: &mut Vec<GroupClock>) {
        for (group, _) in self.table.groups {
            let own = self.own.iter().find(|(g, _)| g == group).map(|(_, s)| s);
            if let Some((hlc, device)) = own.or(self.star.as_ref()) {
                out.push(GroupClock {
                    tbl: self.table.name,
                    row_id: self.row_id,
                    group,
                    hlc: *hlc,
                    device: device.clone(),
                });
            }
        }
    }
}

/// The clock of every field group of every synced row: a group's own clock, else its row's
/// insert (`*`). What the digest self-check sums; read from `_sync_clock` alone, so it costs a
/// scan of the clocks, not of the rows' values.
pub fn group_clocks(conn: &Connection) -> rusqlite::Result<Vec<GroupClock>> {
    let mut st = conn.prepare(
        "SELECT tbl, row_id, field_group, hlc, device_id FROM _sync_clock ORDER BY tbl, row_id",
    )?;
    let mut rows = st.query([])?;
    let mut out = Vec::new();
    let mut current: Option<RowClocks> = None;
    while let Some(r) = rows.next()? {
        let tbl: String = r.get(0)?;
        let Some(table) = SYNCED.iter().find(|t| t.name == tbl) else { continue };
        let row_id: uuid::Uuid = r.get(1)?;
        let group: String = r.get(2)?;
        let stamp = (r.get::<_, i64>(3)? as u64, r.get::<_, String>(4)?);
        if current.as_ref().is_none_or(|c| c.table.name != table.name || c.row_id != row_id) {
            if let Some(done) = current.take() {
                done.into_groups(&mut out);
            }
            current = Some(RowClocks { table, row_id, star: None, own: Vec::new() });
        }
        if let Some(c) = current.as_mut() {
            if group == "*" {
                c.star = Some(stamp);
            } else {
                c.own.push((group, stamp));
            }
        }
    }
    if let Some(done) = current.take() {
        done.into_groups(&mut out);
    }
    Ok(out)
}

/// After a restore from a backup on an enrolled PC: the copy may hold leases whose numbers were
/// issued after the backup was made, and op numbers the city already holds for other changes.
/// Fenced until an admin enrols it again (a new epoch), its leases void. Answers whether the
/// PC was enrolled.
pub fn fence_restored(tx: &rusqlite::Transaction) -> rusqlite::Result<bool> {
    if state(tx, "server_device_id")?.is_none() {
        return Ok(false);
    }
    set_state(tx, &[("fenced", "epoch_fenced")])?;
    // A backup older than the leases' schema holds none.
    let has_leases: i64 = tx.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'number_leases'",
        [],
        |r| r.get(0),
    )?;
    if has_leases > 0 {
        tx.execute("DELETE FROM number_leases", [])?;
    }
    Ok(true)
}
