//! Applying what the city sends: the office side of the pull (sync-notes §3.8).
//!
//! A page of the kelurahan feed is applied in one transaction with capture off (a pulled change
//! is not an edit of this PC, so it never goes back to the outbox), together with the cursor, so
//! a crash leaves either the whole page and its cursor or neither. Each field group is merged
//! with [`balai_domain::merge`] against this database's clock of that group (or the row's `*`
//! clock when the group was last written by the row's insert): the newer `(HLC, device)` wins,
//! exactly as on the server, so every copy ends with the same winner whatever order the
//! changes arrive in.
//!
//! Nothing pulled is dropped. What cannot be applied yet is kept in `_sync_held`, the newest
//! version per (table, row, group), with a reason: a group or table this version of Balai does
//! not know (a newer Balai wrote it), some groups of a new row whose other groups have not
//! arrived (they are applied together once the row is complete), a delete (no office deletes
//! rows today; duplicates are merged with `merged_into`), or a value the schema refused.
//!
//! What this does not do: decide which changes to fetch (balai-sync does), or check domain
//! rules: the server and the writing PC did, and refusing a winner here would make this copy
//! diverge from every other.

use crate::sync::{SyncedTable, SYNCED};
use crate::{Result, StoreError};
use balai_domain::merge::{Change, Outcome, RowState, Stamp, Version};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// One change of the kelurahan feed, as the sync engine hands it over.
#[derive(Debug, Clone, PartialEq)]
pub struct Pulled {
    pub table: String,
    pub row_id: Uuid,
    /// A field group, or `*` for a new row: then `value` holds every group by name.
    pub field_group: String,
    /// The group's columns; `Null` for a delete.
    pub value: Value,
    pub hlc: u64,
    /// The device that made the change.
    pub device: Uuid,
    pub delete: bool,
}

/// What applying a page did, counted in field groups.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    /// Won the merge and now in the register.
    pub applied: u64,
    /// Lost to (or repeated) what this PC already had.
    pub older: u64,
    /// Kept in `_sync_held` (see the module docs).
    pub held: u64,
}

impl std::ops::AddAssign for Applied {
    fn add_assign(&mut self, o: Applied) {
        self.applied += o.applied;
        self.older += o.older;
        self.held += o.held;
    }
}

/// Applies `changes` in order inside the caller's transaction (whose capture is off). `at` is
/// the local time text for `created_at`/`updated_at`.
pub(crate) fn apply(tx: &Transaction, changes: &[Pulled], at: &str) -> Result<Applied> {
    let mut total = Applied::default();
    let mut required = Required::default();
    for c in changes {
        // A savepoint per change: a value the schema refuses is held, not a failed page.
        // Prepared once per transaction: a first sync runs these 100,000 times.
        tx.prepare_cached("SAVEPOINT pulled")?.execute([])?;
        match apply_one(tx, c, at, &mut required) {
            Ok(done) => {
                tx.prepare_cached("RELEASE pulled")?.execute([])?;
                total += done;
            }
            Err(StoreError::Sql(e)) if is_refusal(&e) => {
                tx.prepare_cached("ROLLBACK TO pulled")?.execute([])?;
                tx.prepare_cached("RELEASE pulled")?.execute([])?;
                hold(tx, c, &c.field_group, &c.value, "invalid")?;
                total.held += 1;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(total)
}

/// A command the city passes down: a resident's online request, or where another PC of the
/// office took one. Anything else is held (a newer Balai may know it).
fn apply_command(tx: &Transaction, c: &Pulled, name: &str, at: &str) -> Result<Applied> {
    let held = |reason: &str| -> Result<Applied> {
        hold(tx, c, name, &c.value, reason)?;
        Ok(Applied { held: 1, ..Applied::default() })
    };
    let now_ms =
        chrono::DateTime::parse_from_rfc3339(at).map_or(0, |t| t.timestamp_millis().max(0) as u64);
    let text = |k: &str| c.value.get(k).and_then(Value::as_str).map(str::to_string);
    let id = text("request_id").and_then(|s| Uuid::parse_str(&s).ok());
    let applied = Applied { applied: 1, ..Applied::default() };
    match name {
        "online_request" => {
            let (Some(id), Some(tracking_code), Some(nik), Some(no_kk), Some(letter_type)) =
                (id, text("tracking_code"), text("nik"), text("no_kk"), text("letter_type"))
            else {
                return held("invalid");
            };
            let row = crate::requests::RequestRow {
                id,
                tracking_code,
                nik,
                no_kk,
                letter_type,
                purpose: text("purpose").unwrap_or_default(),
                contact: text("contact").unwrap_or_default(),
                submitted_at_ms: c
                    .value
                    .get("submitted_at_ms")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                status: "diajukan".into(),
                claimed_by: None,
                note: String::new(),
            };
            crate::requests::insert(tx, &row, now_ms)?;
            Ok(applied)
        }
        "request_status" => {
            let (Some(id), Some(status)) = (id, text("status")) else {
                return held("invalid");
            };
            let note = text("note").unwrap_or_default();
            let device = text("device");
            if crate::requests::set_status(tx, id, &status, device.as_deref(), &note, now_ms)? {
                Ok(applied)
            } else {
                held("row_incomplete")
            }
        }
        _ => held("unknown_table"),
    }
}

fn is_refusal(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation | rusqlite::ErrorCode::TypeMismatch)
    )
}

fn stamp_of(hlc: u64, device: &str) -> Stamp {
    Stamp { hlc, device: Uuid::parse_str(device).map(|u| *u.as_bytes()).unwrap_or([0; 16]) }
}

/// The NOT NULL columns without default of each synced table, read once per page.
#[derive(Default)]
struct Required(BTreeMap<&'static str, Vec<String>>);

impl Required {
    fn of(&mut self, tx: &Transaction, t: &SyncedTable) -> Result<&[String]> {
        if !self.0.contains_key(t.name) {
            self.0.insert(t.name, required_columns(tx, t)?);
        }
        Ok(self.0.get(t.name).map(Vec::as_slice).unwrap_or_default())
    }
}

fn apply_one(tx: &Transaction, c: &Pulled, at: &str, required: &mut Required) -> Result<Applied> {
    let held = Applied { held: 1, ..Applied::default() };
    if let Some(name) = c.table.strip_prefix("command:") {
        return apply_command(tx, c, name, at);
    }
    let Some(t) = SYNCED.iter().find(|t| t.name == c.table) else {
        hold(tx, c, &c.field_group, &c.value, "unknown_table")?;
        return Ok(held);
    };
    if c.delete {
        hold(tx, c, "", &Value::Null, "delete")?;
        return Ok(held);
    }
    let groups: Vec<(&str, &Value)> = if c.field_group == "*" {
        match &c.value {
            Value::Object(m) => m.iter().map(|(g, v)| (g.as_str(), v)).collect(),
            _ => {
                hold(tx, c, "*", &c.value, "invalid")?;
                return Ok(held);
            }
        }
    } else {
        vec![(c.field_group.as_str(), &c.value)]
    };
    let mut done = Applied::default();
    let mut known = Vec::new();
    for (g, v) in groups {
        if !t.groups.iter().any(|(name, _)| *name == g) {
            hold(tx, c, g, v, "unknown_group")?;
            done.held += 1;
        } else if !v.is_object() {
            hold(tx, c, g, v, "invalid")?;
            done.held += 1;
        } else {
            known.push((g, v));
        }
    }
    let exists: bool = tx
        .prepare_cached(&format!("SELECT 1 FROM {} WHERE id = ?1", t.name))?
        .query_row([c.row_id], |_| Ok(()))
        .optional()?
        .is_some();
    if !exists {
        done += insert_when_complete(tx, t, c, &known, at, required)?;
        return Ok(done);
    }
    let stamp = Stamp { hlc: c.hlc, device: *c.device.as_bytes() };
    for (g, v) in known {
        let mut row = RowState::<()>::default();
        if let Some(local) = local_clock(tx, t.name, c.row_id, g)? {
            row.apply(Change::Set {
                group: g.into(),
                version: Version { stamp: local, value: () },
            });
        }
        let change = Change::Set { group: g.into(), version: Version { stamp, value: () } };
        match row.apply(change) {
            Outcome::Won { .. } => {
                update_group(tx, t, c.row_id, g, v, at)?;
                set_clock(tx, t.name, c.row_id, g, c.hlc, &c.device)?;
                done.applied += 1;
            }
            Outcome::Lost | Outcome::Repeat => done.older += 1,
        }
    }
    Ok(done)
}

/// The clock of a group of a local row: its own, else the row's insert (`*`).
fn local_clock(tx: &Transaction, tbl: &str, row_id: Uuid, group: &str) -> Result<Option<Stamp>> {
    let mut st = tx.prepare_cached(
        "SELECT hlc, device_id FROM _sync_clock WHERE tbl = ?1 AND row_id = ?2
         AND field_group IN (?3, '*') ORDER BY field_group = '*' LIMIT 1",
    )?;
    let found = st
        .query_row(params![tbl, row_id, group], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    Ok(found.map(|(hlc, device)| stamp_of(hlc as u64, &device)))
}

fn set_clock(
    tx: &Transaction,
    tbl: &str,
    row_id: Uuid,
    group: &str,
    hlc: u64,
    device: &Uuid,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO _sync_clock (tbl, row_id, field_group, hlc, device_id) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (tbl, row_id, field_group) DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id",
    )?
    .execute(params![tbl, row_id, group, hlc as i64, device.to_string()])?;
    Ok(())
}

/// Keeps a change that cannot be applied yet: the newest per (table, row, group).
fn hold(tx: &Transaction, c: &Pulled, group: &str, value: &Value, reason: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO _sync_held (tbl, row_id, field_group, value, hlc, device_id, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (tbl, row_id, field_group) DO UPDATE SET
             value = excluded.value, hlc = excluded.hlc, device_id = excluded.device_id,
             reason = excluded.reason
         WHERE (excluded.hlc, excluded.device_id) > (_sync_held.hlc, _sync_held.device_id)",
    )?
    .execute(params![
        c.table,
        c.row_id,
        group,
        value.to_string(),
        c.hlc as i64,
        c.device.to_string(),
        reason
    ])?;
    Ok(())
}

/// A row this PC does not have: inserted once its groups (these and those held before) give
/// every column that has no default; until then the groups are held.
fn insert_when_complete(
    tx: &Transaction,
    t: &SyncedTable,
    c: &Pulled,
    known: &[(&str, &Value)],
    at: &str,
    required: &mut Required,
) -> Result<Applied> {
    // The newest version of each group: held ones first, then these.
    let mut groups: BTreeMap<String, (Stamp, Value, String, u64)> = BTreeMap::new();
    let mut st = tx.prepare_cached(
        "SELECT field_group, value, hlc, device_id FROM _sync_held
         WHERE tbl = ?1 AND row_id = ?2 AND reason = 'row_incomplete'",
    )?;
    let held = st.query_map(params![t.name, c.row_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get(3)?))
    })?;
    for h in held {
        let (g, value, hlc, device): (String, String, i64, String) = h?;
        let value = serde_json::from_str(&value).unwrap_or(Value::Null);
        groups.insert(g, (stamp_of(hlc as u64, &device), value, device, hlc as u64));
    }
    let stamp = Stamp { hlc: c.hlc, device: *c.device.as_bytes() };
    for (g, v) in known {
        if groups.get(*g).is_none_or(|(s, ..)| stamp > *s) {
            groups.insert(g.to_string(), (stamp, (*v).clone(), c.device.to_string(), c.hlc));
        }
    }
    let mut columns: Vec<(&str, SqlValue)> = Vec::new();
    for (g, cols) in t.groups {
        if let Some((_, Value::Object(values), ..)) = groups.get(*g) {
            for col in *cols {
                if let Some(v) = values.get(*col) {
                    columns.push((col, to_sql(t, col, v)));
                }
            }
        }
    }
    let missing = required
        .of(tx, t)?
        .iter()
        .any(|req| !columns.iter().any(|(col, v)| col == req && *v != SqlValue::Null));
    if missing {
        for (g, v) in known {
            hold(tx, c, g, v, "row_incomplete")?;
        }
        return Ok(Applied { held: known.len() as u64, ..Applied::default() });
    }
    add_derived(t, &mut columns);
    add_local_times(t, &mut columns, at, &["created_at", "updated_at"]);
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let placeholders: Vec<String> = (2..2 + names.len()).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "INSERT INTO {} (id, {}) VALUES (?1, {})",
        t.name,
        names.join(", "),
        placeholders.join(", ")
    );
    let mut values: Vec<SqlValue> = vec![SqlValue::Blob(c.row_id.as_bytes().to_vec())];
    values.extend(columns.into_iter().map(|(_, v)| v));
    tx.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(values))?;
    if groups.values().all(|(s, ..)| *s == stamp) {
        // All of one change (the usual pulled insert): one row clock, as a local insert keeps.
        set_clock(tx, t.name, c.row_id, "*", c.hlc, &c.device)?;
    } else {
        for (g, (_, _, device, hlc)) in &groups {
            let device = Uuid::parse_str(device).unwrap_or_default();
            set_clock(tx, t.name, c.row_id, g, *hlc, &device)?;
        }
    }
    let applied = groups.len() as u64;
    tx.prepare_cached(
        "DELETE FROM _sync_held WHERE tbl = ?1 AND row_id = ?2 AND reason = 'row_incomplete'",
    )?
    .execute(params![t.name, c.row_id])?;
    Ok(Applied { applied, ..Applied::default() })
}

/// Columns a row cannot be inserted without (NOT NULL, no default, not local-only).
fn required_columns(tx: &Transaction, t: &SyncedTable) -> Result<Vec<String>> {
    let mut st = tx.prepare_cached(&format!(
        "SELECT name FROM pragma_table_info('{}') WHERE \"notnull\" = 1 AND dflt_value IS NULL",
        t.name
    ))?;
    let names = st.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for n in names {
        let n = n?;
        if !t.local_only.contains(&n.as_str()) {
            out.push(n);
        }
    }
    Ok(out)
}

/// Local-only columns derived from synced ones (the register's search name).
fn add_derived(t: &SyncedTable, columns: &mut Vec<(&str, SqlValue)>) {
    if t.name != "residents" {
        return;
    }
    let name = columns.iter().find_map(|(c, v)| match (c, v) {
        (&"full_name", SqlValue::Text(s)) => Some(s.clone()),
        _ => None,
    });
    if let Some(name) = name {
        columns.push(("name_norm", SqlValue::Text(balai_domain::resident::normalize_name(&name))));
    }
}

/// The table's local write times (those it has of `names`), set to `at`.
fn add_local_times<'a>(
    t: &SyncedTable,
    columns: &mut Vec<(&'a str, SqlValue)>,
    at: &str,
    names: &[&'a str],
) {
    for n in names {
        if t.local_only.contains(n) {
            columns.push((n, SqlValue::Text(at.into())));
        }
    }
}

fn update_group(
    tx: &Transaction,
    t: &SyncedTable,
    row_id: Uuid,
    group: &str,
    value: &Value,
    at: &str,
) -> Result<()> {
    let empty = serde_json::Map::new();
    let values = value.as_object().unwrap_or(&empty);
    let cols = t.groups.iter().find(|(g, _)| *g == group).map_or(&[][..], |(_, c)| *c);
    let mut columns: Vec<(&str, SqlValue)> =
        cols.iter().filter_map(|col| values.get(*col).map(|v| (*col, to_sql(t, col, v)))).collect();
    add_derived(t, &mut columns);
    add_local_times(t, &mut columns, at, &["updated_at"]);
    let sets: Vec<String> =
        columns.iter().enumerate().map(|(i, (c, _))| format!("{c} = ?{}", i + 2)).collect();
    let sql = format!("UPDATE {} SET {} WHERE id = ?1", t.name, sets.join(", "));
    let mut params: Vec<SqlValue> = vec![SqlValue::Blob(row_id.as_bytes().to_vec())];
    params.extend(columns.into_iter().map(|(_, v)| v));
    tx.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(params))?;
    Ok(())
}

/// A wire value as the column stores it (BLOB columns travel as lower-case hex).
fn to_sql(t: &SyncedTable, col: &str, v: &Value) -> SqlValue {
    match v {
        Value::Null => SqlValue::Null,
        Value::String(s) if t.blob_columns.contains(&col) => match unhex(s) {
            Some(b) if !b.is_empty() => SqlValue::Blob(b),
            _ => SqlValue::Null,
        },
        Value::Bool(b) => SqlValue::Integer(*b as i64),
        Value::Number(n) => match n.as_i64() {
            Some(i) => SqlValue::Integer(i),
            None => SqlValue::Real(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => SqlValue::Text(s.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// What is held, counted by reason (for the sync page).
pub fn held_counts(conn: &rusqlite::Connection) -> Result<Vec<(String, u64)>> {
    let mut st = conn.prepare_cached(
        "SELECT reason, count(*) FROM _sync_held GROUP BY reason ORDER BY reason",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
