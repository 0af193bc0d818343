//! Push and pull of mergeable state (sync-notes §3.8): the server side of the merge.
//!
//! Schema v2:
//! - `device_seq(device_id, last_applied)`: the last outbox number applied per device; a push
//!   applies the next one, answers repeats again without applying them, and stops at a gap.
//! - `row_owner(tbl, row_id, kelurahan_code)`: the kelurahan a row belongs to (its first
//!   writer's); a write to it by a device of another kelurahan is refused as `cross_tenant`.
//! - `row_groups(kelurahan_code, tbl, row_id, field_group, hlc, device, value)`: the winning
//!   version of every field group, `row_deletes(…, hlc, device)` the latest delete.
//! - `feed_counter(kelurahan_code, last_seq)` and `feed(kelurahan_code, server_seq,
//!   origin_device, change_id, body)`: every change that won, numbered per kelurahan inside the
//!   writing transaction, so commit order is cursor order. An inserted row (group `*`) is one
//!   entry holding the groups that won.
//!
//! A change that loses under the merge is acknowledged and leaves no feed entry: every copy
//! already has (or will pull) the version that beat it.
//!
//! A push is merged in memory and written many rows to a statement (`Pending`): the owners of
//! its rows are read up front, each row is read once however often the push edits it, and the
//! winning versions, new owners, feed entries and op numbers are written when the push ends, or
//! before a command runs so that the command sees everything before it. On PostgreSQL every
//! statement is a round trip; a first push brings a whole register.

use crate::db::{Db, Device};
use crate::sql::{params, Optional, Query, ToCell, Tx};
use crate::KotaError;
use balai_domain::merge::{Change, Outcome as Merged, RowState, Stamp, Version};
use balai_protocol::{
    DigestResponse, DigestSum, FeedChange, KnownGroups, Op, OpBody, OpResult, Outcome, PushRequest,
    SnapshotRow, Stamped, MAX_SNAPSHOT_ROWS,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use uuid::Uuid;

pub(crate) const SCHEMA_V2: &str = "
CREATE TABLE device_seq (
    device_id TEXT PRIMARY KEY REFERENCES devices(id),
    last_applied INTEGER NOT NULL
) STRICT;
CREATE TABLE row_owner (
    tbl TEXT NOT NULL,
    row_id TEXT NOT NULL,
    kelurahan_code TEXT NOT NULL,
    PRIMARY KEY (tbl, row_id)
) STRICT;
CREATE TABLE row_groups (
    kelurahan_code TEXT NOT NULL,
    tbl TEXT NOT NULL,
    row_id TEXT NOT NULL,
    field_group TEXT NOT NULL,
    hlc INTEGER NOT NULL,
    device TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kelurahan_code, tbl, row_id, field_group)
) STRICT;
CREATE TABLE row_deletes (
    kelurahan_code TEXT NOT NULL,
    tbl TEXT NOT NULL,
    row_id TEXT NOT NULL,
    hlc INTEGER NOT NULL,
    device TEXT NOT NULL,
    PRIMARY KEY (kelurahan_code, tbl, row_id)
) STRICT;
CREATE TABLE feed_counter (
    kelurahan_code TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL
) STRICT;
CREATE TABLE feed (
    kelurahan_code TEXT NOT NULL,
    server_seq INTEGER NOT NULL,
    origin_device TEXT NOT NULL,
    change_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (kelurahan_code, server_seq)
) STRICT;
";

/// Schema v4: every op a device had applied, by number, so a repeat is told from a different
/// change under a reused number (a restored or copied database), and why a device was revoked.
pub(crate) const SCHEMA_V4: &str = "
CREATE TABLE device_ops (
    device_id TEXT NOT NULL,
    device_seq INTEGER NOT NULL,
    change_id TEXT NOT NULL,
    PRIMARY KEY (device_id, device_seq)
) STRICT, WITHOUT ROWID;
ALTER TABLE devices ADD COLUMN revoke_reason TEXT;
";

/// Schema v11: what tells a restored copy of a PC's database from the PC, besides its ops
/// (`check_head`): `device_seq.applied_signed_ms`, when the push that applied the device's last
/// op was signed (by its clock); `number_leases.ask_seq` and `asked_signed_ms`, the PC's running
/// number of the ask a lease answered and when that ask was signed.
pub(crate) const SCHEMA_V11: &str = "
ALTER TABLE device_seq ADD COLUMN applied_signed_ms INTEGER;
ALTER TABLE number_leases ADD COLUMN ask_seq INTEGER;
ALTER TABLE number_leases ADD COLUMN asked_signed_ms INTEGER;
";

/// Schema v12: `device_ops.outcome`, the answer an op got when it was not a plain ok (a
/// refusal, a conflict, a clamped clock; JSON of `Outcome`), so a retry after a lost answer is
/// answered the same. NULL: ok (and every op applied before v12, which were answered ok again).
pub(crate) const SCHEMA_V12: &str = "
ALTER TABLE device_ops ADD COLUMN outcome TEXT;
";

/// The tables offices sync (balai-store's `SYNCED` registry); anything else is refused.
pub const SYNCED_TABLES: &[&str] = &["residents", "families", "resident_events", "contest_values"];
/// A pushed clock more than this ahead of the server's is capped to the server's time.
pub use balai_protocol::MAX_FUTURE_MS;
/// The most feed entries one pull returns.
pub const MAX_PULL: u32 = 5000;

fn device_bytes(id: Uuid) -> [u8; 16] {
    *id.as_bytes()
}

/// Applied (a command handler's plain yes).
pub(crate) fn ok() -> Outcome {
    Outcome::Ok { clamped_hlc: None }
}

/// A refusal for good with a stable code (every command handler answers with it).
pub(crate) fn rejected(code: &str, message: &str) -> Outcome {
    Outcome::Rejected { code: code.into(), message: message.into() }
}

/// Applies a push from `device`, signed at `signed_ms` by its clock, in one transaction;
/// answers (acked_through, results).
pub fn push(
    db: &Db,
    device: &Device,
    req: &PushRequest,
    (now_ms, signed_ms): (u64, u64),
) -> Result<(u64, Vec<OpResult>), KotaError> {
    if req.device_id != device.id || req.epoch != device.epoch {
        db.security_event(Some(device.id), "epoch_or_device_mismatch", "push", now_ms)?;
        return Err(KotaError::EpochFenced);
    }
    // Inside: `Err(detail)` when the push shows a restored or copied database (fenced after the
    // lock is released).
    let applied = db.with(|c| {
        let tx = c.transaction()?;
        let me = device.id.to_string();
        let mut last: u64 = tx
            .prepare_cached("SELECT last_applied FROM device_seq WHERE device_id = ?1")?
            .query_row([&me], |r| r.get::<i64>(0))
            .optional()?
            .unwrap_or(0) as u64;

        let mut results = Vec::with_capacity(req.ops.len());
        let mut applied_ops: Vec<(i64, String, Option<String>)> = Vec::with_capacity(req.ops.len());
        let mut cross_tenant = 0;
        let mut pending = Pending { seen_through: req.seen_through, ..Pending::default() };
        let new_ops = req.ops.iter().filter(|op| op.device_seq > last);
        pending.owners = owners_of(&tx, new_ops)?;
        for op in &req.ops {
            if op.device_seq <= last {
                let before: Option<(String, Option<String>)> = tx
                    .prepare_cached(
                        "SELECT change_id, outcome FROM device_ops
                         WHERE device_id = ?1 AND device_seq = ?2",
                    )?
                    .query_row(params![me, op.device_seq as i64], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if before.as_ref().is_some_and(|(id, _)| *id != op.change_id.to_string()) {
                    // Another change under a number already used: this database is a restored
                    // or copied one. Nothing of this push is applied.
                    drop(tx);
                    return Ok(Err(format!("op {} reused", op.device_seq)));
                }
                // Applied before (a retry after a lost answer): answered as it was the first
                // time, not re-applied. A refused letter number answered ok would leave the PC
                // printing a number the city never recorded.
                let outcome = before
                    .and_then(|(_, o)| o)
                    .and_then(|o| serde_json::from_str(&o).ok())
                    .unwrap_or(Outcome::Ok { clamped_hlc: None });
                results.push(OpResult { device_seq: op.device_seq, outcome });
                continue;
            }
            if op.device_seq != last + 1 {
                break;
            }
            let outcome = apply(&tx, device, op, now_ms, &mut pending)?;
            // Recorded after the loop, many to a statement (ops of one push have new numbers).
            let kept = match &outcome {
                Outcome::Ok { clamped_hlc: None } => None,
                other => Some(serde_json::to_string(other).map_err(|e| KotaError::BadRequest(e.to_string()))?),
            };
            applied_ops.push((op.device_seq as i64, op.change_id.to_string(), kept));
            if matches!(&outcome, Outcome::Rejected { code, .. } if code == "cross_tenant") {
                cross_tenant += 1;
            }
            results.push(OpResult { device_seq: op.device_seq, outcome });
            last = op.device_seq;
        }
        if results.is_empty() && !req.ops.is_empty() {
            return Err(KotaError::Gap { expected: last + 1 });
        }
        pending.write(&tx, device)?;
        redact_feed(&tx, &device.kelurahan_code, &std::mem::take(&mut pending.anonymised))?;
        let ops: Vec<&dyn ToCell> = applied_ops
            .iter()
            .flat_map(|(seq, id, outcome)| [seq as &dyn ToCell, id, outcome])
            .collect();
        insert_many(
            &tx,
            "INSERT INTO device_ops (device_id, device_seq, change_id, outcome)",
            "",
            &[&me],
            &ops,
        )?;
        // With the time the push that applied them was signed at: a pull signed before it is
        // a stale request, not a copy holding fewer ops (`check_head`).
        if !applied_ops.is_empty() {
            tx.prepare_cached(
                "INSERT INTO device_seq (device_id, last_applied, applied_signed_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (device_id) DO UPDATE SET last_applied = excluded.last_applied,
                     applied_signed_ms = excluded.applied_signed_ms",
            )?
            .execute(params![me, last as i64, signed_ms as i64])?;
        }
        if cross_tenant > 0 {
            tx.execute(
                "INSERT INTO security_events (at_ms, device_id, kind, detail) VALUES (?1, ?2, 'cross_tenant', ?3)",
                params![now_ms as i64, device.id.to_string(), format!("{cross_tenant} op(s)")],
            )?;
        }
        tx.commit()?;
        Ok(Ok((last, results)))
    })?;
    match applied {
        Ok(v) => Ok(v),
        Err(detail) => Err(db.fence(device.id, &detail, now_ms)?),
    }
}

/// What a PC says it holds in a pull: its newest op number and, from PCs that number their
/// lease asks, its newest ask number.
#[derive(Debug, Clone, Copy)]
pub struct Holds {
    pub head: u64,
    pub asks: Option<u64>,
}

/// A PC that holds fewer ops than the server applied from it, or has asked for fewer leases
/// than the server granted it, is a restored or copied database — when it says so in a request
/// signed after the push or ask that proves otherwise. One signed before it is a stale request
/// delivered late (a retry held up on the way, a replay): it proves nothing, and the PC is left
/// as it is.
pub fn check_head(
    db: &Db,
    device: &Device,
    (holds, signed_ms): (Holds, u64),
    now_ms: u64,
) -> Result<(), KotaError> {
    let head = holds.head;
    if let Some(asks) = holds.asks {
        let later: Option<i64> = db.with(|c| {
            Ok(c.query_row(
                "SELECT max(ask_seq) FROM number_leases
                 WHERE device_id = ?1 AND epoch = ?2 AND ask_seq > ?3 AND asked_signed_ms < ?4",
                params![device.id.to_string(), device.epoch, asks as i64, signed_ms as i64],
                |r| r.get(0),
            )?)
        })?;
        if let Some(granted) = later {
            let detail = format!("asked {asks} times, granted ask {granted}");
            return Err(db.fence(device.id, &detail, now_ms)?);
        }
    }
    let (last, applied_signed_ms) = db.with(|c| {
        let row: Option<(i64, Option<i64>)> = c
            .query_row(
                "SELECT last_applied, applied_signed_ms FROM device_seq WHERE device_id = ?1",
                [device.id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(row.map_or((0, None), |(l, s)| (l as u64, s.map(|s| s as u64))))
    })?;
    let stale = applied_signed_ms.is_some_and(|pushed| signed_ms < pushed);
    if head < last && !stale {
        return Err(db.fence(device.id, &format!("holds {head} of {last} ops"), now_ms)?);
    }
    Ok(())
}

/// One op inside the push transaction: a row op merges into `pending` (written when the push
/// ends); a command first has `pending` written, then runs its own statements.
fn apply(
    tx: &Tx,
    device: &Device,
    op: &Op,
    now_ms: u64,
    pending: &mut Pending,
) -> Result<Outcome, KotaError> {
    let (table, row_id, hlc) = match &op.body {
        OpBody::Set { table, row_id, hlc, .. } | OpBody::Delete { table, row_id, hlc } => {
            (table, *row_id, *hlc)
        }
        OpBody::Command { name, args } => {
            pending.write(tx, device)?;
            return command(tx, device, name, args, now_ms);
        }
    };
    apply_row(device, op, (table, row_id, hlc), now_ms, pending, tx)
}

/// A command inside the push transaction, by name.
fn command(
    tx: &Tx,
    device: &Device,
    name: &str,
    args: &Value,
    now_ms: u64,
) -> Result<Outcome, KotaError> {
    match name {
        balai_protocol::ISSUE_LETTER => crate::leases::issue_letter(tx, device, args, now_ms),
        balai_protocol::RETURN_NUMBERS => crate::leases::return_numbers(tx, device, args, now_ms),
        balai_protocol::PUBLISH_KEY => crate::verify::publish_key(tx, device, args, now_ms),
        balai_protocol::VOID_LETTER => crate::verify::void_letter(tx, device, args, now_ms),
        balai_protocol::PUBLISH_LETTER_TYPES => crate::requests::publish_types(tx, device, args),
        balai_protocol::CLAIM_REQUEST => crate::requests::claim(tx, device, args, now_ms),
        balai_protocol::REQUEST_STATUS => crate::requests::status(tx, device, args, now_ms),
        balai_protocol::REVIEW_CONFLICT => crate::conflicts::review(tx, device, args, now_ms),
        balai_protocol::SUBMIT_CONTEST_PERIOD => crate::contest::submit(tx, device, args, now_ms),
        balai_protocol::TOO_LARGE => {
            let kb = args.get("bytes").and_then(|b| b.as_u64()).unwrap_or(0) / 1024;
            Ok(rejected(
                balai_protocol::TOO_LARGE,
                &format!(
                    "Perubahan ini terlalu besar untuk dikirim ({kb} KB); tidak diterima server."
                ),
            ))
        }
        _ => {
            Ok(rejected("unknown_command", &format!("Perintah {name} belum diterima server ini.")))
        }
    }
}

/// A row op (set or delete), merged into `pending`.
fn apply_row(
    device: &Device,
    op: &Op,
    (table, row_id, hlc): (&String, Uuid, u64),
    now_ms: u64,
    pending: &mut Pending,
    tx: &Tx,
) -> Result<Outcome, KotaError> {
    if !SYNCED_TABLES.contains(&table.as_str()) {
        return Ok(rejected("unknown_table", &format!("Tabel {table} tidak disinkronkan.")));
    }
    let key = (table.clone(), row_id);
    let owner = pending.owners.get(&key).cloned();
    match &owner {
        Some(k) if *k != device.kelurahan_code => {
            return Ok(rejected("cross_tenant", "Baris ini milik kelurahan lain."));
        }
        Some(_) => {}
        None => {
            pending.owners.insert(key.clone(), device.kelurahan_code.clone());
            pending.new_owners.push(key.clone());
        }
    }
    // A clock from the future would win every later edit: it is replaced by the server's.
    // Capped ones of one push stay distinct and in the push's order (an edit after an insert
    // must still win over it).
    let limit = (now_ms + MAX_FUTURE_MS) << 16;
    let (hlc, clamped_hlc) = if hlc > limit {
        let capped = (now_ms << 16) + pending.capped;
        pending.capped += 1;
        (capped, Some(capped))
    } else {
        (hlc, None)
    };
    let stamp = Stamp { hlc, device: device_bytes(device.id) };
    let changes: Vec<(Change<String>, OpBody)> = match &op.body {
        OpBody::Set { field_group, value, .. } if field_group == "*" => {
            // An inserted row: every group of it, each with the op's clock.
            let Value::Object(groups) = value else {
                return Ok(rejected("invalid", "Baris baru harus berisi kelompok kolom."));
            };
            groups.iter().map(|(g, v)| set_change(table, row_id, g, v, hlc, stamp)).collect()
        }
        OpBody::Set { field_group, value, .. } => {
            vec![set_change(table, row_id, field_group, value, hlc, stamp)]
        }
        _ => vec![(Change::Delete(stamp), OpBody::Delete { table: table.clone(), row_id, hlc })],
    };
    // A row seen for the first time has no state to merge with; one seen earlier in this push
    // is merged where it is, in memory (taken out while it merges, then put back).
    let mut row = match pending.rows.remove(&key) {
        Some(row) => row,
        None if owner.is_some() => load_row(tx, &device.kelurahan_code, table, row_id)?,
        None => RowState::default(),
    };
    // The groups of an inserted row travel on as one feed entry (those that won), so an office
    // receives a new row whole, as it was pushed.
    let mut won = serde_json::Map::new();
    // The feed entry this op's winning groups travel in (one entry per op).
    let entry = pending.feed.len();
    for (change, body) in changes {
        let merged = row.apply(change.clone());
        if let Change::Set { group, version } = &change {
            identity_check(
                tx,
                device,
                (table, row_id, group),
                version,
                (&merged, &row),
                now_ms,
                pending,
            )?;
        }
        if let Merged::Won { .. } = merged {
            if let Change::Set { group, version } = &change {
                if table == "residents" && group == "identity" && anonymised(&version.value) {
                    pending.anonymised.push(row_id);
                }
            }
            match change {
                Change::Set { group, version } => {
                    pending.groups.insert((table.clone(), row_id, group), (version, entry));
                }
                Change::Delete(stamp) => {
                    pending.deletes.insert(key.clone(), stamp);
                }
            }
            match (&op.body, body) {
                (OpBody::Set { field_group, .. }, OpBody::Set { field_group: g, value, .. })
                    if field_group == "*" =>
                {
                    won.insert(g, value);
                }
                (_, body) => pending.feed(op.change_id, &body)?,
            }
        }
    }
    if !won.is_empty() {
        let body = OpBody::Set {
            table: table.clone(),
            row_id,
            field_group: "*".into(),
            value: Value::Object(won),
            hlc,
        };
        pending.feed(op.change_id, &body)?;
    }
    pending.rows.insert(key, row);
    Ok(Outcome::Ok { clamped_hlc })
}

/// Whether an identity group's value is that of an anonymised resident (balai-domain's rule:
/// its NIK starts with the anonymous prefix).
fn anonymised(identity: &str) -> bool {
    serde_json::from_str::<Value>(identity)
        .is_ok_and(|v| v["nik"].as_str().is_some_and(balai_domain::privacy::is_anonymised))
}

/// After an office anonymised residents at the end of their retention (UU 27/2022), no earlier
/// version of them stays in the kelurahan's feed, where it would be kept for ever and sent to
/// every PC that syncs from scratch: each entry about one of those rows, or about one of their
/// events, is rewritten to hold the row's current groups. The entries keep their clocks, so
/// a PC that applies one again changes nothing; one that never had the row receives it
/// anonymised. One scan of the feed per few rows: retention runs are rare, pushes are not.
fn redact_feed(tx: &Tx, k: &str, residents: &[Uuid]) -> Result<(), KotaError> {
    if residents.is_empty() {
        return Ok(());
    }
    let mut rows: Vec<(&str, Uuid)> = residents.iter().map(|r| ("residents", *r)).collect();
    for r in residents {
        // Blob ids travel as lower-case hex.
        let pattern = format!("%\"resident_id\":\"{}\"%", r.simple());
        let events = tx
            .prepare_cached(
                "SELECT DISTINCT row_id FROM row_groups
                 WHERE kelurahan_code = ?1 AND tbl = 'resident_events' AND value LIKE ?2",
            )?
            .query_map(params![k, pattern], |r| r.get::<String>(0))?;
        for e in events {
            if let Ok(id) = Uuid::parse_str(&e?) {
                rows.push(("resident_events", id));
            }
        }
    }
    let mut current: HashMap<Uuid, serde_json::Map<String, Value>> = HashMap::new();
    for (table, id) in &rows {
        let groups = tx
            .prepare_cached(
                "SELECT field_group, value FROM row_groups
                 WHERE kelurahan_code = ?1 AND tbl = ?2 AND row_id = ?3",
            )?
            .query_map(params![k, *table, id.to_string()], |r| {
                Ok((r.get::<String>(0)?, r.get::<String>(1)?))
            })?;
        let mut map = serde_json::Map::new();
        for g in groups {
            let (group, value) = g?;
            map.insert(group, serde_json::from_str(&value).unwrap_or(Value::Null));
        }
        current.insert(*id, map);
    }
    for chunk in rows.chunks(16) {
        let like: Vec<String> = (0..chunk.len()).map(|i| format!("body LIKE ?{}", i + 2)).collect();
        let patterns: Vec<String> =
            chunk.iter().map(|(_, id)| format!("%\"row_id\":\"{id}\"%")).collect();
        let mut args: Vec<&dyn ToCell> = vec![&k];
        args.extend(patterns.iter().map(|p| p as &dyn ToCell));
        let sql = format!(
            "SELECT server_seq, body FROM feed WHERE kelurahan_code = ?1 AND ({})",
            like.join(" OR ")
        );
        let found: Vec<(i64, String)> = tx
            .prepare_cached(&sql)?
            .query_map(&args[..], |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)))?
            .collect::<Result<_, _>>()?;
        for (seq, body) in found {
            let (table, row_id, field_group, mut value, hlc) = match serde_json::from_str(&body) {
                Ok(OpBody::Set { table, row_id, field_group, value, hlc }) => {
                    (table, row_id, field_group, value, hlc)
                }
                Ok(OpBody::Command { name, args }) if name == balai_protocol::IDENTITY_CONFLICT => {
                    redact_conflict(tx, k, seq, args, &current)?;
                    continue;
                }
                _ => continue,
            };
            let Some(now) = current.get(&row_id) else { continue };
            let before = value.clone();
            if field_group == "*" {
                if let Value::Object(groups) = &mut value {
                    for (g, v) in groups.iter_mut() {
                        if let Some(c) = now.get(g) {
                            *v = c.clone();
                        }
                    }
                }
            } else if let Some(c) = now.get(&field_group) {
                value = c.clone();
            }
            if value != before {
                let body = OpBody::Set { table, row_id, field_group, value, hlc };
                let text = serde_json::to_string(&body)
                    .map_err(|e| KotaError::BadRequest(e.to_string()))?;
                tx.prepare_cached(
                    "UPDATE feed SET body = ?3 WHERE kelurahan_code = ?1 AND server_seq = ?2",
                )?
                .execute(params![k, seq, text])?;
            }
        }
    }
    Ok(())
}

/// An identity conflict about a redacted row keeps both versions of the name and NIK: in its
/// feed entry and in the city's review list, both become the row's current identity.
fn redact_conflict(
    tx: &Tx,
    k: &str,
    seq: i64,
    mut args: Value,
    current: &HashMap<Uuid, serde_json::Map<String, Value>>,
) -> Result<(), KotaError> {
    let row = args["row_id"].as_str().and_then(|r| Uuid::parse_str(r).ok());
    let group = args["field_group"].as_str().unwrap_or_default().to_string();
    let Some(now) = row.and_then(|r| current.get(&r)).and_then(|g| g.get(&group)) else {
        return Ok(());
    };
    args["kept"]["value"] = now.clone();
    args["lost"]["value"] = now.clone();
    let conflict_id = args["conflict_id"].as_str().unwrap_or_default().to_string();
    let body = serde_json::to_string(&OpBody::Command {
        name: balai_protocol::IDENTITY_CONFLICT.into(),
        args: args.clone(),
    })
    .map_err(|e| KotaError::BadRequest(e.to_string()))?;
    tx.prepare_cached("UPDATE feed SET body = ?3 WHERE kelurahan_code = ?1 AND server_seq = ?2")?
        .execute(params![k, seq, body])?;
    tx.prepare_cached("UPDATE identity_conflicts SET body = ?2 WHERE conflict_id = ?1")?
        .execute(params![conflict_id, args.to_string()])?;
    Ok(())
}

/// Records an identity conflict (see `crate::conflicts`) when this version of an identity
/// group and another device's version hold different identity values, and the merge shows
/// they were written without sight of each other.
fn identity_check(
    tx: &Tx,
    device: &Device,
    (table, row_id, group): (&str, Uuid, &str),
    version: &Version<String>,
    (merged, row): (&Merged<String>, &RowState<String>),
    now_ms: u64,
    pending: &Pending,
) -> Result<(), KotaError> {
    if !balai_protocol::IDENTITY_FIELDS.iter().any(|(t, g, _)| *t == table && *g == group) {
        return Ok(());
    }
    let (kept, lost) = match merged {
        // This edit won over a version it may not have seen.
        Merged::Won { replaced: Some(old) } if old.stamp.device != version.stamp.device => {
            let Some(seen) = pending.seen_through else { return Ok(()) };
            let at =
                crate::conflicts::position_of(tx, &device.kelurahan_code, table, row_id, group)?;
            if at.is_none_or(|at| at <= seen) {
                return Ok(());
            }
            (version, old)
        }
        // This edit lost: its PC had not seen the newer version (its clock would be ahead).
        Merged::Lost => match row.group(group) {
            Some(held) if held.stamp.device != version.stamp.device => (held, version),
            _ => return Ok(()),
        },
        _ => return Ok(()),
    };
    let parse = |v: &Version<String>| serde_json::from_str::<Value>(&v.value).unwrap_or_default();
    let (kept_value, lost_value) = (parse(kept), parse(lost));
    let fields = balai_protocol::identity_differences(table, group, &kept_value, &lost_value);
    if fields.is_empty() {
        return Ok(());
    }
    let side = |v: &Version<String>, value: Value| balai_protocol::ConflictSide {
        value,
        hlc: v.stamp.hlc,
        device: Uuid::from_bytes(v.stamp.device),
    };
    let conflict = balai_protocol::IdentityConflict {
        conflict_id: Uuid::now_v7(),
        table: table.to_string(),
        row_id,
        field_group: group.to_string(),
        fields: fields.into_iter().map(str::to_string).collect(),
        kept: side(kept, kept_value),
        lost: side(lost, lost_value),
        at_ms: now_ms,
    };
    crate::conflicts::record(tx, &device.kelurahan_code, &conflict)
}

fn set_change(
    table: &str,
    row_id: Uuid,
    group: &str,
    value: &Value,
    hlc: u64,
    stamp: Stamp,
) -> (Change<String>, OpBody) {
    (
        Change::Set {
            group: group.to_string(),
            version: Version { stamp, value: value.to_string() },
        },
        OpBody::Set {
            table: table.to_string(),
            row_id,
            field_group: group.to_string(),
            value: value.clone(),
            hlc,
        },
    )
}

fn load_row(tx: &Tx, k: &str, table: &str, row_id: Uuid) -> Result<RowState<String>, KotaError> {
    let mut row = RowState::default();
    let mut st = tx.prepare_cached(
        "SELECT field_group, hlc, device, value FROM row_groups
         WHERE kelurahan_code = ?1 AND tbl = ?2 AND row_id = ?3",
    )?;
    let groups = st.query_map(params![k, table, row_id.to_string()], |r| {
        Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<String>(2)?, r.get::<String>(3)?))
    })?;
    for g in groups {
        let (group, hlc, device, value) = g?;
        let stamp = Stamp { hlc: hlc as u64, device: device_of_hex(&device) };
        row.apply(Change::Set { group, version: Version { stamp, value } });
    }
    let deleted: Option<(i64, String)> = tx
        .prepare_cached(
            "SELECT hlc, device FROM row_deletes WHERE kelurahan_code = ?1 AND tbl = ?2 AND row_id = ?3",
        )?
        .query_row(params![k, table, row_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((hlc, device)) = deleted {
        row.apply(Change::Delete(Stamp { hlc: hlc as u64, device: device_of_hex(&device) }));
    }
    Ok(row)
}

fn device_of_hex(s: &str) -> [u8; 16] {
    hex::decode(s).ok().and_then(|b| b.try_into().ok()).unwrap_or([0; 16])
}

/// What a push has merged but not yet written: the owners of the rows it touches, the rows
/// themselves (merged in memory, so a row edited twice in one push is read once), the versions
/// and deletes that won, and the feed entries it made. Written many rows to a statement when the
/// push ends or before a command runs: on PostgreSQL every statement is a round trip, and a
/// first push brings a whole register.
#[derive(Default)]
struct Pending {
    /// Every row of the push with an owner: in the database, or given one in this push.
    owners: HashMap<(String, Uuid), String>,
    new_owners: Vec<(String, Uuid)>,
    rows: HashMap<(String, Uuid), RowState<String>>,
    /// Each winning version with the index in `feed` of the entry that carries it.
    groups: BTreeMap<(String, Uuid, String), (Version<String>, usize)>,
    deletes: BTreeMap<(String, Uuid), Stamp>,
    /// (change id, body) in the order the ops made them.
    feed: Vec<(Uuid, String)>,
    /// Clocks from the future capped so far in this push.
    capped: u64,
    /// `PushRequest.seen_through`.
    seen_through: Option<u64>,
    /// Residents this push anonymised (their identity now carries an anonymous NIK).
    anonymised: Vec<Uuid>,
}

impl Pending {
    fn feed(&mut self, change_id: Uuid, body: &OpBody) -> Result<(), KotaError> {
        let body = serde_json::to_string(body).map_err(|e| KotaError::BadRequest(e.to_string()))?;
        self.feed.push((change_id, body));
        Ok(())
    }

    /// Writes what is pending and forgets it (the rows merged in memory stay: they are what
    /// the database now holds).
    fn write(&mut self, tx: &Tx, device: &Device) -> Result<(), KotaError> {
        let k = device.kelurahan_code.as_str();
        let owners: Vec<(&str, String)> =
            self.new_owners.iter().map(|(t, id)| (t.as_str(), id.to_string())).collect();
        let cells: Vec<&dyn ToCell> =
            owners.iter().flat_map(|(t, id)| [t as &dyn ToCell, id]).collect();
        insert_many(tx, "INSERT INTO row_owner (kelurahan_code, tbl, row_id)", "", &[&k], &cells)?;
        self.new_owners.clear();

        // The feed first: each group's version is stored with its entry's position.
        let first_seq = write_feed(tx, k, device.id, &std::mem::take(&mut self.feed))?;
        let groups: Vec<(&str, String, &str, i64, String, &str, i64)> = self
            .groups
            .iter()
            .map(|((t, id, g), (v, entry))| {
                let stamp = (v.stamp.hlc as i64, hex::encode(v.stamp.device));
                let seq = first_seq + *entry as i64;
                (t.as_str(), id.to_string(), g.as_str(), stamp.0, stamp.1, v.value.as_str(), seq)
            })
            .collect();
        let cells: Vec<&dyn ToCell> = groups
            .iter()
            .flat_map(|(t, id, g, hlc, dev, value, seq)| {
                [t as &dyn ToCell, id, g, hlc, dev, value, seq]
            })
            .collect();
        insert_many(
            tx,
            "INSERT INTO row_groups (kelurahan_code, tbl, row_id, field_group, hlc, device, value, server_seq)",
            "ON CONFLICT (kelurahan_code, tbl, row_id, field_group) DO UPDATE SET
                 hlc = excluded.hlc, device = excluded.device, value = excluded.value,
                 server_seq = excluded.server_seq",
            &[&k],
            &cells,
        )?;
        self.groups.clear();

        for ((table, row_id), stamp) in std::mem::take(&mut self.deletes) {
            tx.prepare_cached(
                "INSERT INTO row_deletes (kelurahan_code, tbl, row_id, hlc, device) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (kelurahan_code, tbl, row_id) DO UPDATE SET hlc = excluded.hlc, device = excluded.device",
            )?
            .execute(params![k, table, row_id.to_string(), stamp.hlc as i64, hex::encode(stamp.device)])?;
        }
        Ok(())
    }
}

/// The owners of the rows the push's row ops name, looked up many to a statement.
fn owners_of<'o>(
    tx: &Tx,
    ops: impl Iterator<Item = &'o Op>,
) -> Result<HashMap<(String, Uuid), String>, KotaError> {
    let mut by_table: BTreeMap<&str, BTreeSet<Uuid>> = BTreeMap::new();
    for op in ops {
        if let OpBody::Set { table, row_id, .. } | OpBody::Delete { table, row_id, .. } = &op.body {
            by_table.entry(table.as_str()).or_default().insert(*row_id);
        }
    }
    let mut owners = HashMap::new();
    for (table, ids) in by_table {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let mut at = 0;
        for n in statement_sizes(ids.len()) {
            let marks: Vec<String> = (0..n).map(|i| format!("?{}", i + 2)).collect();
            let sql = format!(
                "SELECT row_id, kelurahan_code FROM row_owner WHERE tbl = ?1 AND row_id IN ({})",
                marks.join(", ")
            );
            let mut cells: Vec<&dyn ToCell> = vec![&table];
            cells.extend(ids[at..at + n].iter().map(|id| id as &dyn ToCell));
            let rows = tx
                .prepare_cached(&sql)?
                .query_map(&cells[..], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))?;
            for row in rows {
                let (id, k) = row?;
                let id = Uuid::parse_str(&id).map_err(|e| KotaError::BadRequest(e.to_string()))?;
                owners.insert((table.to_string(), id), k);
            }
            at += n;
        }
    }
    Ok(owners)
}

/// Rows to a statement: 64 at a time, then powers of two, so each kind of statement has one of
/// seven texts (each prepared once) and `n` rows take about n / 64 statements.
fn statement_sizes(mut n: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut size = 64;
    while n > 0 {
        while size > n {
            size /= 2;
        }
        sizes.push(size);
        n -= size;
    }
    sizes
}

/// `head VALUES (…), … tail` for rows of `cells` (each row's values after the `shared` ones
/// every row starts with), [`statement_sizes`] rows to a statement.
fn insert_many(
    tx: &Tx,
    head: &str,
    tail: &str,
    shared: &[&dyn ToCell],
    cells: &[&dyn ToCell],
) -> Result<(), KotaError> {
    let per_row = column_count(head) - shared.len();
    let rows = cells.len() / per_row;
    let mut at = 0;
    for n in statement_sizes(rows) {
        let values: Vec<String> = (0..n)
            .map(|r| {
                let marks: Vec<String> = (1..=shared.len())
                    .chain((0..per_row).map(|c| shared.len() + 1 + r * per_row + c))
                    .map(|i| format!("?{i}"))
                    .collect();
                format!("({})", marks.join(", "))
            })
            .collect();
        let sql = format!("{head} VALUES {} {tail}", values.join(", "));
        let mut params: Vec<&dyn ToCell> = shared.to_vec();
        params.extend_from_slice(&cells[at * per_row..(at + n) * per_row]);
        tx.prepare_cached(&sql)?.execute(&params[..])?;
        at += n;
    }
    Ok(())
}

/// The number of columns an `INSERT INTO t (a, b, c)` names.
fn column_count(head: &str) -> usize {
    head.split_once('(').map_or(0, |(_, cols)| cols.split(',').count())
}

/// Appends one entry to the kelurahan's feed (a command's effect the offices must learn).
pub(crate) fn append_feed(
    tx: &Tx,
    k: &str,
    origin: Uuid,
    change_id: Uuid,
    body: &OpBody,
) -> Result<(), KotaError> {
    let body = serde_json::to_string(body).map_err(|e| KotaError::BadRequest(e.to_string()))?;
    write_feed(tx, k, origin, &[(change_id, body)]).map(|_| ())
}

/// Appends `entries` (change id, body) to the kelurahan's feed with its next server sequence
/// numbers, taken at once from the counter row inside this transaction (commit order is
/// sequence order). Answers the first entry's number (with no entries, the one the next would
/// have had: nothing refers to it).
fn write_feed(
    tx: &Tx,
    k: &str,
    origin: Uuid,
    entries: &[(Uuid, String)],
) -> Result<i64, KotaError> {
    if entries.is_empty() {
        return Ok(0);
    }
    let n = entries.len() as i64;
    let last: i64 = tx
        .prepare_cached(
            "INSERT INTO feed_counter (kelurahan_code, last_seq) VALUES (?1, ?2)
             ON CONFLICT (kelurahan_code) DO UPDATE
                SET last_seq = feed_counter.last_seq + excluded.last_seq
             RETURNING last_seq",
        )?
        .query_row(params![k, n], |r| r.get(0))?;
    let numbered: Vec<(i64, String, &str)> = entries
        .iter()
        .zip(last - n + 1..)
        .map(|((change_id, body), seq)| (seq, change_id.to_string(), body.as_str()))
        .collect();
    let cells: Vec<&dyn ToCell> =
        numbered.iter().flat_map(|(seq, id, body)| [seq as &dyn ToCell, id, body]).collect();
    let origin = origin.to_string();
    insert_many(
        tx,
        "INSERT INTO feed (kelurahan_code, origin_device, server_seq, change_id, body)",
        "",
        &[&k, &origin],
        &cells,
    )?;
    Ok(last - n + 1)
}

/// The device's kelurahan feed after `cursor`, without the device's own changes; answers
/// (changes, next_cursor, has_more).
pub fn pull(
    db: &Db,
    device: &Device,
    cursor: u64,
    limit: u32,
) -> Result<(Vec<FeedChange>, u64, bool), KotaError> {
    let limit = limit.clamp(1, MAX_PULL);
    db.with(|c| {
        let mut st = c.prepare_cached(
            "SELECT server_seq, origin_device, body FROM feed
             WHERE kelurahan_code = ?1 AND server_seq > ?2 ORDER BY server_seq LIMIT ?3",
        )?;
        let rows = st
            .query_map(params![device.kelurahan_code, cursor as i64, limit as i64 + 1], |r| {
                Ok((r.get::<i64>(0)? as u64, r.get::<String>(1)?, r.get::<String>(2)?))
            })?;
        let mut rows: Vec<(u64, String, String)> = rows.collect::<Result<_, _>>()?;
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = rows.last().map_or(cursor, |r| r.0);
        let me = device.id.to_string();
        let mut changes = Vec::with_capacity(rows.len());
        for (server_seq, origin, body) in rows {
            if origin == me {
                continue;
            }
            let body: OpBody =
                serde_json::from_str(&body).map_err(|e| KotaError::BadRequest(e.to_string()))?;
            let origin_device = Uuid::parse_str(&origin).unwrap_or_default();
            changes.push(FeedChange { server_seq, origin_device, body });
        }
        Ok((changes, next, has_more))
    })
}

/// One page of the kelurahan's state for a device's first sync: the rows after `after` (table,
/// row id) in that order, as the JSON of [`balai_protocol::SnapshotPage`]'s `rows` without
/// the brackets (written from the stored text, not parsed and written again: a first sync
/// sends a whole register). Answers (as_of, rows, next_after; empty when this was the last).
/// Groups the device wrote itself are left out, as the feed leaves out its own entries. The
/// deletes and the online requests come with the last page ([`snapshot_commands`]).
pub fn snapshot(
    db: &Db,
    device: &Device,
    after: Option<(&str, Uuid)>,
    limit: u32,
) -> Result<(u64, String, String), KotaError> {
    let limit = limit.clamp(1, MAX_SNAPSHOT_ROWS) as i64;
    let (after_table, after_row) =
        after.map_or((String::new(), String::new()), |(t, r)| (t.to_string(), r.to_string()));
    // As `row_groups` keeps devices: hex, no hyphens.
    let me = hex::encode(device_bytes(device.id));
    let k = &device.kelurahan_code;
    db.with(|c| {
        let as_of = c
            .query_row("SELECT last_seq FROM feed_counter WHERE kelurahan_code = ?1", [k], |r| {
                r.get::<i64>(0)
            })
            .optional()?
            .unwrap_or(0) as u64;
        // The page's last row, from the primary key alone (row-value comparisons, so the key's
        // order is walked from `after` on); none: the rest fits in this page.
        let last: Option<(String, String)> = c
            .query_row(
                "SELECT tbl, row_id FROM row_groups
                 WHERE kelurahan_code = ?1 AND (tbl, row_id) > (?2, ?3)
                 GROUP BY tbl, row_id ORDER BY tbl, row_id LIMIT 1 OFFSET ?4",
                params![k, after_table, after_row, limit - 1],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        // Past every key: text sorts after the empty string, and no table is named `~`.
        let (to_table, to_row) = last.clone().unwrap_or(("~".into(), String::new()));
        let mut st = c.prepare_cached(
            "SELECT tbl, row_id, field_group, hlc, device, value FROM row_groups
             WHERE kelurahan_code = ?1 AND (tbl, row_id) > (?2, ?3) AND (tbl, row_id) <= (?4, ?5)
               AND device <> ?6
             ORDER BY tbl, row_id, field_group",
        )?;
        let found =
            st.query_map(params![k, after_table, after_row, to_table, to_row, me], |r| {
                Ok(StoredGroup {
                    table: r.get(0)?,
                    row_id: r.get(1)?,
                    group: r.get(2)?,
                    stamp: (r.get::<i64>(3)? as u64, r.get(4)?),
                    value: r.get(5)?,
                })
            })?;
        let mut rows = RowsJson::default();
        let mut row: Vec<StoredGroup> = Vec::new();
        for g in found {
            let g = g?;
            if row.first().is_some_and(|f| f.table != g.table || f.row_id != g.row_id) {
                rows.push(&row);
                row.clear();
            }
            row.push(g);
        }
        rows.push(&row);
        let next_after = last.map_or(String::new(), |(t, r)| format!("{t}:{r}"));
        Ok((as_of, rows.json, next_after))
    })
}

/// Writes `s` as a JSON string: as it is when nothing in it needs escaping (names, ids and
/// hex, always), else as serde_json escapes it.
fn json_text(out: &mut String, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&Value::String(s.to_string()).to_string());
    }
}

/// One field group as `row_groups` holds it; `value` is JSON text.
struct StoredGroup {
    table: String,
    row_id: String,
    group: String,
    stamp: (u64, String),
    value: String,
}

/// Snapshot rows written as JSON one after the other.
#[derive(Default)]
struct RowsJson {
    json: String,
    count: usize,
}

impl RowsJson {
    /// Writes one row from its groups (in group order): its stamp is the lowest of theirs,
    /// and the groups written later name their own.
    fn push(&mut self, groups: &[StoredGroup]) {
        use std::fmt::Write;
        let (Some(first), Some(low)) = (groups.first(), groups.iter().map(|g| &g.stamp).min())
        else {
            return;
        };
        let out = &mut self.json;
        if self.count > 0 {
            out.push(',');
        }
        out.push_str(r#"{"table":"#);
        json_text(out, &first.table);
        out.push_str(r#","row_id":"#);
        json_text(out, &first.row_id);
        let _ = write!(out, r#","hlc":{},"device":"#, low.0);
        json_text(out, &low.1);
        out.push_str(r#","groups":{"#);
        for (i, g) in groups.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_text(out, &g.group);
            out.push(':');
            out.push_str(&g.value);
        }
        out.push('}');
        let mut later = groups.iter().filter(|g| g.stamp != *low).peekable();
        if later.peek().is_some() {
            out.push_str(r#","stamps":{"#);
            for (i, g) in later.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_text(out, &g.group);
                let _ = write!(out, r#":{{"hlc":{},"device":"#, g.stamp.0);
                json_text(out, &g.stamp.1);
                out.push('}');
            }
            out.push('}');
        }
        out.push('}');
        self.count += 1;
    }
}

/// What the last snapshot page adds: the kelurahan's deleted rows, and its residents' online
/// requests as the commands the feed carries them in (each request, then where it stands when
/// a PC took it), leaving out a status this device set itself.
pub fn snapshot_commands(
    db: &Db,
    device: &Device,
) -> Result<(Vec<SnapshotRow>, Vec<FeedChange>), KotaError> {
    let me = hex::encode(device_bytes(device.id));
    db.with(|c| {
        let mut st = c.prepare_cached(
            "SELECT tbl, row_id, hlc, device FROM row_deletes WHERE kelurahan_code = ?1
             ORDER BY tbl, row_id",
        )?;
        let deletes = st.query_map([&device.kelurahan_code], |r| {
            Ok((r.get::<String>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?, r.get::<String>(3)?))
        })?;
        let mut rows = Vec::new();
        for d in deletes {
            let (tbl, row_id, hlc, dev) = d?;
            if dev == me {
                continue;
            }
            let stamp =
                Stamped { hlc: hlc as u64, device: Uuid::parse_str(&dev).unwrap_or_default() };
            rows.push(SnapshotRow {
                table: tbl,
                row_id: Uuid::parse_str(&row_id).unwrap_or_default(),
                hlc: stamp.hlc,
                device: stamp.device,
                groups: BTreeMap::new(),
                stamps: BTreeMap::new(),
                deleted: Some(stamp),
            });
        }
        let mut commands = crate::requests::as_commands(c, &device.kelurahan_code)?;
        commands.extend(crate::conflicts::as_commands(c, &device.kelurahan_code)?);
        Ok((rows, commands))
    })
}

/// The last op of `device` the city applied (0 before its first).
pub fn last_applied(db: &Db, device: &Device) -> Result<u64, KotaError> {
    db.with(|c| {
        Ok(c.query_row(
            "SELECT last_applied FROM device_seq WHERE device_id = ?1",
            [device.id.to_string()],
            |r| r.get::<i64>(0),
        )
        .optional()?
        .unwrap_or(0) as u64)
    })
}

/// One field group of one row as the city holds it for a kelurahan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldGroup {
    pub tbl: String,
    pub row_id: Uuid,
    pub group: String,
    pub value: Value,
    pub hlc: u64,
    pub device: Uuid,
}

/// The city's copy of a kelurahan's rows, ordered by table, row and group (read-only: the
/// simulation compares it with every PC of the kelurahan once sync is quiet).
pub fn replica(db: &Db, kelurahan: &str) -> Result<Vec<HeldGroup>, KotaError> {
    db.with(|c| {
        let mut st = c.prepare(
            "SELECT tbl, row_id, field_group, value, hlc, device FROM row_groups
             WHERE kelurahan_code = ?1 ORDER BY tbl, row_id, field_group",
        )?;
        let rows = st.query_map([kelurahan], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
                r.get::<i64>(4)?,
                r.get::<String>(5)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (tbl, row_id, group, value, hlc, device) = row?;
            out.push(HeldGroup {
                tbl,
                row_id: Uuid::parse_str(&row_id).unwrap_or_default(),
                group,
                value: serde_json::from_str(&value).unwrap_or(Value::Null),
                hlc: hlc as u64,
                device: Uuid::parse_str(&device).unwrap_or_default(),
            });
        }
        Ok(out)
    })
}

/// Rows written under one kelurahan but owned by another (0 unless tenancy broke).
pub fn cross_tenant_rows(db: &Db) -> Result<u64, KotaError> {
    db.with(|c| {
        Ok(c.query_row(
            "SELECT count(*) FROM row_groups g JOIN row_owner o ON o.tbl = g.tbl AND o.row_id = g.row_id
             WHERE o.kelurahan_code <> g.kelurahan_code",
            [],
            |r| r.get::<i64>(0),
        )? as u64)
    })
}

/// Letter numbers the city holds, as `(kelurahan, number, letter id)`.
pub fn issued_numbers(db: &Db) -> Result<Vec<(String, String, String)>, KotaError> {
    db.with(|c| {
        let mut st = c.prepare(
            "SELECT kelurahan_code, number, letter_id FROM issued_numbers ORDER BY 1, 2, 3",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    })
}

/// The kelurahan's digest over the groups the client knows, and the feed position it is of
/// (one read under the database lock, so the two agree).
pub fn digest(
    db: &Db,
    device: &Device,
    known: &[KnownGroups],
) -> Result<DigestResponse, KotaError> {
    db.with(|c| {
        let as_of: i64 = c.query_row(
            "SELECT coalesce(max(server_seq), 0) FROM feed WHERE kelurahan_code = ?1",
            [&device.kelurahan_code],
            |r| r.get(0),
        )?;
        let mut st = c.prepare_cached(
            "SELECT row_id, field_group, hlc, device FROM row_groups
             WHERE kelurahan_code = ?1 AND tbl = ?2",
        )?;
        let mut tables = Vec::new();
        for t in known {
            let mut sum = DigestSum::default();
            // Read row by row, the text borrowed: a kelurahan holds most of a million groups.
            st.for_each(params![device.kelurahan_code, t.table], |r| {
                let group = r.text(1)?;
                if t.groups.iter().any(|g| g == group) {
                    let row_id = Uuid::parse_str(r.text(0)?).unwrap_or_default();
                    let dev = Uuid::parse_str(r.text(3)?).unwrap_or_default();
                    sum.add(&t.table, row_id, group, r.get::<i64>(2)? as u64, dev);
                }
                Ok(())
            })?;
            tables.push(sum.finish(&t.table));
        }
        Ok(DigestResponse { as_of: as_of as u64, tables })
    })
}
