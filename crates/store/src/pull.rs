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
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
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
///
/// `careful`: each change in a savepoint of its own, so a value the schema refuses is held and
/// the page goes on. Without it a refusal fails the whole call with the SQL error
/// ([`is_refusal`]); the caller rolls back and applies the page again carefully. Pages are
/// applied without savepoints first because refusals come only from a newer or faulty writer,
/// and a savepoint per change costs a third of a page's time: every page a change touches is
/// copied to the savepoint's journal, and releasing one makes the name index (FTS5) write its
/// pending terms to disk, a segment per change.
///
/// `capture`: when the name index is kept row by row (not a bulk write that rebuilds it at the
/// end) and the page is not careful, the names of the rows it inserts are indexed in one
/// statement at the end instead: FTS5 writes its pending terms to disk whenever a statement that touched it ends,
/// so indexing 5,000 new residents one by one writes 5,000 tiny segments and merges them.
pub(crate) fn apply(
    tx: &Transaction,
    changes: &[Pulled],
    at: &str,
    careful: bool,
    capture: &crate::sync::Shared,
) -> Result<Applied> {
    let mut total = Applied::default();
    let mut page = PageState::default();
    // Not in a careful page: a savepoint rolled back after the names were indexed would take
    // them out of the index again while the mark stays past them.
    let deferred = !careful && crate::sync::lock(capture).fts_live;
    if deferred {
        page.names_after = Some(highest_resident(tx)?);
        crate::sync::lock(capture).fts_live = false;
    }
    let applied = apply_each(tx, changes, at, careful, &mut page, &mut total);
    if deferred {
        crate::sync::lock(capture).fts_live = true;
    }
    applied?;
    index_new_names(tx, &mut page)?;
    if page.anonymised {
        crate::privacy::compact_name_index(tx)?;
    }
    Ok(total)
}

fn apply_each(
    tx: &Transaction,
    changes: &[Pulled],
    at: &str,
    careful: bool,
    page: &mut PageState,
    total: &mut Applied,
) -> Result<()> {
    for c in changes {
        if !careful {
            *total += apply_one(tx, c, at, page)?;
            continue;
        }
        // Prepared once per transaction: a careful page runs these for every change.
        tx.prepare_cached("SAVEPOINT pulled")?.execute([])?;
        match apply_one(tx, c, at, page) {
            Ok(done) => {
                tx.prepare_cached("RELEASE pulled")?.execute([])?;
                *total += done;
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
    Ok(())
}

/// The highest rowid of the register: residents inserted after it get higher ones.
fn highest_resident(tx: &Transaction) -> Result<i64> {
    Ok(tx
        .prepare_cached("SELECT coalesce(max(rowid), 0) FROM residents")?
        .query_row([], |r| r.get(0))?)
}

/// Indexes the names of the residents inserted since the mark (when indexing is deferred), in
/// one statement, and moves the mark past them. Runs at the end of a page and before a name is
/// changed (the update trigger takes the old name out of the index, so it must be in it).
fn index_new_names(tx: &Transaction, page: &mut PageState) -> Result<()> {
    let Some(after) = page.names_after else { return Ok(()) };
    let added = tx
        .prepare_cached(
            "INSERT INTO residents_fts (rowid, name_norm)
             SELECT rowid, name_norm FROM residents WHERE rowid > ?1",
        )?
        .execute([after])?;
    if added > 0 {
        page.names_after = Some(highest_resident(tx)?);
    }
    Ok(())
}

/// A command the city passes down: a resident's online request, or where another PC of the
/// office took one; an identity conflict the city found, or a supervisor's review of one.
/// Anything else is held (a newer Balai may know it).
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
            // A status of this PC's own request that it has already moved past (finished here,
            // the city's copy of it not yet pulled back) is older news: kept as it is here.
            let rank = |s: &str| match s {
                "diajukan" => 0,
                "diproses" => 1,
                _ => 2,
            };
            if let Some(here) = crate::requests::get(tx, id)? {
                if here.claimed_by == device && rank(&here.status) > rank(&status) {
                    return Ok(Applied { older: 1, ..Applied::default() });
                }
            }
            if crate::requests::set_status(tx, id, &status, device.as_deref(), &note, now_ms)? {
                Ok(applied)
            } else {
                held("row_incomplete")
            }
        }
        "identity_conflict" => {
            let Some(row) = conflict_of(&c.value) else { return held("invalid") };
            crate::conflicts::insert(tx, &row)?;
            Ok(applied)
        }
        "review_conflict" => {
            let Some(id) = text("conflict_id").and_then(|s| Uuid::parse_str(&s).ok()) else {
                return held("invalid");
            };
            let at = c.value.get("reviewed_at_ms").and_then(Value::as_u64).unwrap_or(now_ms);
            // Reviewed here already, or a conflict this PC never had (closed before its first
            // sync): nothing to do.
            crate::conflicts::review(tx, id, &text("note").unwrap_or_default(), at)?;
            Ok(applied)
        }
        "submit_contest_period" => {
            let (Some(ruleset), Some(edition), Some(band), Some(period)) = (
                text("ruleset"),
                text("edition"),
                text("band"),
                c.value.get("period").and_then(Value::as_i64).and_then(|p| i32::try_from(p).ok()),
            ) else {
                return held("invalid");
            };
            // The submission the city accepted (the first of the period, from another PC of
            // the office): the period is locked here too, with that total, replacing one made
            // here that the city answered with a conflict.
            let s = crate::contest::Submitted {
                edition,
                total: c.value.get("total").and_then(Value::as_f64).unwrap_or(0.0),
                band,
                submitted_by: text("submitted_by").unwrap_or_default(),
                submitted_at_ms: c
                    .value
                    .get("submitted_at_ms")
                    .and_then(Value::as_u64)
                    .unwrap_or(now_ms),
            };
            crate::contest::accept_submission(tx, &ruleset, period, &s)?;
            Ok(applied)
        }
        _ => held("unknown_table"),
    }
}

/// An `identity_conflict` feed entry as the office keeps it.
fn conflict_of(v: &Value) -> Option<crate::conflicts::ConflictRow> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let uuid = |k: &str| text(k).and_then(|s| Uuid::parse_str(&s).ok());
    let side = |k: &str| {
        let s = v.get(k)?;
        let device = s.get("device").and_then(Value::as_str)?.to_string();
        Some((s.get("value")?.to_string(), s.get("hlc").and_then(Value::as_u64)?, device))
    };
    Some(crate::conflicts::ConflictRow {
        id: uuid("conflict_id")?,
        table: text("table")?,
        row_id: uuid("row_id")?,
        field_group: text("field_group")?,
        fields: v.get("fields").filter(|f| f.is_array())?.to_string(),
        kept: side("kept")?,
        lost: side("lost")?,
        found_at_ms: v.get("at_ms").and_then(Value::as_u64)?,
        reviewed_at_ms: None,
        review_note: String::new(),
    })
}

/// A value the schema refused (a constraint, a type): held, never a failed pull.
pub(crate) fn is_refusal(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ConstraintViolation | rusqlite::ErrorCode::TypeMismatch)
    )
}

fn stamp_of(hlc: u64, device: &str) -> Stamp {
    Stamp { hlc, device: Uuid::parse_str(device).map(|u| *u.as_bytes()).unwrap_or([0; 16]) }
}

/// What applying a page reads or builds once rather than per change: each table's NOT NULL
/// columns without default, whether any row waits for its other groups, and the SQL of each
/// insert and update by its columns (a first sync inserts 100,000 rows of a few shapes).
#[derive(Default)]
struct PageState {
    required: BTreeMap<&'static str, Vec<String>>,
    /// Whether `_sync_held` holds groups of incomplete rows (read once, then kept up to date).
    incomplete: Option<bool>,
    sql: HashMap<(&'static str, bool, Vec<&'static str>), String>,
    exists: HashMap<&'static str, String>,
    /// When the names of new residents are indexed at the end of the page: the highest rowid
    /// before them (see [`apply`]).
    names_after: Option<i64>,
    /// A resident of the page was anonymised: the name index is compacted at its end.
    anonymised: bool,
}

impl PageState {
    fn required(&mut self, tx: &Transaction, t: &SyncedTable) -> Result<&[String]> {
        if !self.required.contains_key(t.name) {
            self.required.insert(t.name, required_columns(tx, t)?);
        }
        Ok(self.required.get(t.name).map(Vec::as_slice).unwrap_or_default())
    }

    fn incomplete(&mut self, tx: &Transaction) -> Result<bool> {
        if let Some(known) = self.incomplete {
            return Ok(known);
        }
        let any = tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM _sync_held WHERE reason = 'row_incomplete')",
            )?
            .query_row([], |r| r.get::<_, bool>(0))?;
        self.incomplete = Some(any);
        Ok(any)
    }

    /// `SELECT 1 FROM t WHERE id = ?1`.
    fn exists_sql(&mut self, table: &'static str) -> &str {
        self.exists.entry(table).or_insert_with(|| format!("SELECT 1 FROM {table} WHERE id = ?1"))
    }

    /// `INSERT INTO t (id, names…) VALUES (?1, …)` or `UPDATE t SET name = ?2, … WHERE id = ?1`.
    fn sql(&mut self, table: &'static str, insert: bool, names: &[&'static str]) -> &str {
        self.sql.entry((table, insert, names.to_vec())).or_insert_with(|| {
            if insert {
                let places: Vec<String> = (2..2 + names.len()).map(|i| format!("?{i}")).collect();
                format!(
                    "INSERT INTO {table} (id, {}) VALUES (?1, {})",
                    names.join(", "),
                    places.join(", ")
                )
            } else {
                let sets: Vec<String> =
                    names.iter().enumerate().map(|(i, c)| format!("{c} = ?{}", i + 2)).collect();
                format!("UPDATE {table} SET {} WHERE id = ?1", sets.join(", "))
            }
        })
    }
}

fn apply_one(tx: &Transaction, c: &Pulled, at: &str, page: &mut PageState) -> Result<Applied> {
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
    let exists = tx
        .prepare_cached(page.exists_sql(t.name))?
        .query_row([c.row_id], |_| Ok(()))
        .optional()?
        .is_some();
    if !exists {
        done += insert_when_complete(tx, t, c, &known, at, page)?;
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
                update_group(tx, t, c.row_id, g, v, at, page)?;
                set_clock(tx, t.name, c.row_id, g, c.hlc, &c.device)?;
                if t.name == "residents"
                    && g == "identity"
                    && v["nik"].as_str().is_some_and(balai_domain::privacy::is_anonymised)
                {
                    // Anonymised on another PC: this PC's own earlier edits of it go too.
                    crate::privacy::redact_history(tx, c.row_id)?;
                    page.anonymised = true;
                }
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
    page: &mut PageState,
) -> Result<Applied> {
    // Groups of this row held before (only looked for when some row waits).
    let mut held: Vec<(String, Value, Stamp, Uuid)> = Vec::new();
    if page.incomplete(tx)? {
        let mut st = tx.prepare_cached(
            "SELECT field_group, value, hlc, device_id FROM _sync_held
             WHERE tbl = ?1 AND row_id = ?2 AND reason = 'row_incomplete'",
        )?;
        let rows = st.query_map(params![t.name, c.row_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get(3)?))
        })?;
        for h in rows {
            let (g, value, hlc, device): (String, String, i64, String) = h?;
            let value = serde_json::from_str(&value).unwrap_or(Value::Null);
            let stamp = stamp_of(hlc as u64, &device);
            held.push((g, value, stamp, Uuid::parse_str(&device).unwrap_or_default()));
        }
    }
    // The newest version of each group: held ones first, then these.
    let mut groups: Vec<(&str, Stamp, &Value, Uuid)> =
        held.iter().map(|(g, v, s, d)| (g.as_str(), *s, v, *d)).collect();
    let stamp = Stamp { hlc: c.hlc, device: *c.device.as_bytes() };
    for (g, v) in known {
        match groups.iter_mut().find(|x| x.0 == *g) {
            Some(x) if stamp > x.1 => *x = (g, stamp, v, c.device),
            Some(_) => {}
            None => groups.push((g, stamp, v, c.device)),
        }
    }
    let mut names: Vec<&'static str> = Vec::new();
    let mut values: Vec<ToSqlOutput> =
        vec![ToSqlOutput::Borrowed(ValueRef::Blob(c.row_id.as_bytes()))];
    for (g, cols) in t.groups {
        if let Some((_, _, Value::Object(map), _)) = groups.iter().find(|x| x.0 == *g) {
            for col in *cols {
                if let Some(v) = map.get(*col) {
                    names.push(col);
                    values.push(sql_ref(t, col, v));
                }
            }
        }
    }
    let present = |req: &str| {
        names
            .iter()
            .zip(&values[1..])
            .any(|(n, v)| *n == req && !matches!(v, ToSqlOutput::Owned(SqlValue::Null)))
    };
    if page.required(tx, t)?.iter().any(|req| !present(req)) {
        for (g, v) in known {
            hold(tx, c, g, v, "row_incomplete")?;
        }
        page.incomplete = Some(true);
        return Ok(Applied { held: known.len() as u64, ..Applied::default() });
    }
    let derived = derived_name(t, &names, &values[1..]);
    if let Some(norm) = &derived {
        names.push("name_norm");
        values.push(ToSqlOutput::Borrowed(ValueRef::Text(norm.as_bytes())));
    }
    for n in ["created_at", "updated_at"] {
        if let Some(n) = t.local_only.iter().find(|l| **l == n) {
            names.push(n);
            values.push(ToSqlOutput::Borrowed(ValueRef::Text(at.as_bytes())));
        }
    }
    tx.prepare_cached(page.sql(t.name, true, &names))?
        .execute(rusqlite::params_from_iter(values))?;
    if groups.iter().all(|x| x.1 == stamp) {
        // All of one change (the usual pulled insert): one row clock, as a local insert keeps.
        set_clock(tx, t.name, c.row_id, "*", c.hlc, &c.device)?;
    } else {
        for (g, s, _, device) in &groups {
            set_clock(tx, t.name, c.row_id, g, s.hlc, device)?;
        }
    }
    if !held.is_empty() {
        tx.prepare_cached(
            "DELETE FROM _sync_held WHERE tbl = ?1 AND row_id = ?2 AND reason = 'row_incomplete'",
        )?
        .execute(params![t.name, c.row_id])?;
    }
    Ok(Applied { applied: groups.len() as u64, ..Applied::default() })
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

/// The local-only column derived from synced ones: the register's search name, from
/// `full_name` when the columns (`names`, `values`) hold it.
fn derived_name(t: &SyncedTable, names: &[&str], values: &[ToSqlOutput]) -> Option<String> {
    if t.name != "residents" {
        return None;
    }
    names.iter().zip(values).find_map(|(c, v)| match (*c, v) {
        ("full_name", ToSqlOutput::Borrowed(ValueRef::Text(s))) => {
            Some(balai_domain::resident::normalize_name(std::str::from_utf8(s).ok()?))
        }
        _ => None,
    })
}

fn update_group(
    tx: &Transaction,
    t: &SyncedTable,
    row_id: Uuid,
    group: &str,
    value: &Value,
    at: &str,
    page: &mut PageState,
) -> Result<()> {
    let empty = serde_json::Map::new();
    let map = value.as_object().unwrap_or(&empty);
    let cols = t.groups.iter().find(|(g, _)| *g == group).map_or(&[][..], |(_, c)| *c);
    let mut names: Vec<&'static str> = Vec::new();
    let mut values: Vec<ToSqlOutput> =
        vec![ToSqlOutput::Borrowed(ValueRef::Blob(row_id.as_bytes()))];
    for col in cols {
        if let Some(v) = map.get(*col) {
            names.push(col);
            values.push(sql_ref(t, col, v));
        }
    }
    let derived = derived_name(t, &names, &values[1..]);
    if let Some(norm) = &derived {
        names.push("name_norm");
        values.push(ToSqlOutput::Borrowed(ValueRef::Text(norm.as_bytes())));
    }
    if let Some(n) = t.local_only.iter().find(|l| **l == "updated_at") {
        names.push(n);
        values.push(ToSqlOutput::Borrowed(ValueRef::Text(at.as_bytes())));
    }
    if names.contains(&"name_norm") {
        index_new_names(tx, page)?;
    }
    tx.prepare_cached(page.sql(t.name, false, &names))?
        .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// A wire value as the column stores it (BLOB columns travel as lower-case hex), borrowing the
/// text rather than copying it.
fn sql_ref<'v>(t: &SyncedTable, col: &str, v: &'v Value) -> ToSqlOutput<'v> {
    let owned = ToSqlOutput::Owned;
    match v {
        Value::Null => owned(SqlValue::Null),
        Value::String(s) if t.blob_columns.contains(&col) => match unhex(s) {
            Some(b) if !b.is_empty() => owned(SqlValue::Blob(b)),
            _ => owned(SqlValue::Null),
        },
        Value::Bool(b) => owned(SqlValue::Integer(*b as i64)),
        Value::Number(n) => match n.as_i64() {
            Some(i) => owned(SqlValue::Integer(i)),
            None => owned(SqlValue::Real(n.as_f64().unwrap_or(0.0))),
        },
        Value::String(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        other => owned(SqlValue::Text(other.to_string())),
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
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
