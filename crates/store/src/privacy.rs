//! Personal data under UU 27/2022 (schema in `migrations/014_personal_data.sql`): legal holds,
//! the records whose retention may have ended, anonymisation, data subjects' requests and
//! breaches.
//!
//! This module reads and writes rows; which records are due, what a request's deadline is and
//! what an anonymised record keeps are balai-domain's `privacy` rules, applied by balai-app.

use crate::Result;
use balai_domain::privacy::ANONYMOUS_NIK_PREFIX;
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Sets (non-empty `reason`) or lifts (empty) the legal hold on resident `id`; false when no
/// such resident.
pub fn set_legal_hold(tx: &Transaction, id: Uuid, reason: &str, at: &str) -> Result<bool> {
    let n = tx.execute(
        "UPDATE residents SET legal_hold = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, reason, at],
    )?;
    Ok(n == 1)
}

pub fn legal_hold(conn: &Connection, id: Uuid) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT legal_hold FROM residents WHERE id = ?1", [id], |r| r.get(0))
        .optional()?)
}

/// A resident no longer living here, not yet anonymised: the date its retention period runs
/// from (the latest event that ended its stay, or the day its status last changed).
#[derive(Debug, Clone)]
pub struct LeftResident {
    pub id: Uuid,
    pub status: String,
    pub since: NaiveDate,
    pub held: bool,
}

/// Every resident whose status is not `hidup`, not merged into another and not anonymised yet.
pub fn left_residents(conn: &Connection) -> Result<Vec<LeftResident>> {
    let mut stmt = conn.prepare(
        "SELECT r.id, r.status, r.legal_hold <> '',
                coalesce((SELECT max(e.event_date) FROM resident_events e
                          WHERE e.resident_id = r.id
                            AND e.kind = CASE r.status WHEN 'mati' THEN 'mati'
                                                       WHEN 'pindah' THEN 'pindah_keluar'
                                                       ELSE r.status END),
                         substr(r.updated_at, 1, 10))
         FROM residents r
         WHERE r.status <> 'hidup' AND r.merged_into IS NULL AND substr(r.nik, 1, length(?1)) <> ?1
         ORDER BY r.rowid",
    )?;
    let rows = stmt.query_map([ANONYMOUS_NIK_PREFIX], |r| {
        let since: String = r.get(3)?;
        Ok(LeftResident {
            id: r.get(0)?,
            status: r.get(1)?,
            held: r.get(2)?,
            // A date that does not read is never "long ago": such a record is kept, not erased.
            since: NaiveDate::parse_from_str(&since, "%Y-%m-%d").unwrap_or(NaiveDate::MAX),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Replaces everything that identifies resident `id` and keeps what statistics need: sex, the
/// year of birth (as 1 January), RT/RW, status, religion, marital status and citizenship. The
/// record stays on its family card (the card is the living family's record, and its history
/// shows a member who died or left); its events keep their kind and date, not their notes. The
/// change is captured for sync like any edit, so the city and the office's other PCs receive
/// the anonymised record.
pub fn anonymise_resident(tx: &Transaction, id: Uuid, nik: &str, at: &str) -> Result<bool> {
    let n = tx.execute(
        "UPDATE residents SET
             nik = ?2, nik_temporary = 0, full_name = 'ANONIM', name_norm = 'anonim',
             birth_place = '', birth_date = substr(birth_date, 1, 4) || '-01-01',
             nik_warnings = '', nik_override_reason = '',
             education = NULL, occupation = NULL, blood_type = NULL, disability = NULL,
             mother_nik = NULL, mother_name = '', father_nik = NULL, father_name = '',
             address = '', lingkungan = '', birth_cert_no = '', marriage_cert_no = '',
             marriage_date = NULL, divorce_cert_no = '', divorce_date = NULL, updated_at = ?3
         WHERE id = ?1",
        params![id, nik, at],
    )?;
    tx.execute(
        "UPDATE resident_events SET details = '' WHERE resident_id = ?1 AND details <> ''",
        [id],
    )?;
    redact_history(tx, id)?;
    Ok(n == 1)
}

/// Rewrites this PC's outbox so that no earlier version of anonymised resident `id` (or of its
/// events' notes) stays in it: pushed changes are kept as a record of what was sent, so without
/// this the names and numbers would outlive the anonymisation there. Run where a record is
/// anonymised and where the anonymised record arrives from the city.
pub(crate) fn redact_history(tx: &Transaction, id: Uuid) -> Result<()> {
    if let Some(t) = crate::sync::SYNCED.iter().find(|t| t.name == "residents") {
        tx.prepare_cached(&crate::sync::redact_outbox_sql(t))?.execute([id])?;
        // Identity conflicts kept for review hold both versions of the name and NIK.
        if let Some((_, cols)) = t.groups.iter().find(|(g, _)| *g == "identity") {
            let now = format!(
                "(SELECT {} FROM residents AS new WHERE new.id = ?1)",
                crate::sync::value_expr(t, cols, "new")
            );
            tx.prepare_cached(&format!(
                "UPDATE identity_conflicts SET kept_value = {now}, lost_value = {now}
                 WHERE tbl = 'residents' AND row_id = ?1 AND field_group = 'identity'"
            ))?
            .execute([id])?;
        }
    }
    tx.execute(
        "UPDATE _sync_outbox SET value = json_set(value, '$.details', '')
         WHERE tbl = 'resident_events' AND value IS NOT NULL
           AND row_id IN (SELECT id FROM resident_events WHERE resident_id = ?1)",
        [id],
    )?;
    Ok(())
}

/// Rewrites the name index whole: FTS5 removes a changed name by adding a deletion marker, and
/// the old name stays in its older segment until segments merge. After an anonymisation it
/// must not stay at all. Costs a pass over the index (well under a second for 100,000 names);
/// run once per retention run or pulled page, not per record.
pub fn compact_name_index(tx: &Transaction) -> Result<()> {
    tx.execute("INSERT INTO residents_fts (residents_fts) VALUES ('optimize')", [])?;
    Ok(())
}

/// An online request that was finished or refused, not yet anonymised (its NIK not masked).
#[derive(Debug, Clone)]
pub struct ClosedRequest {
    pub id: Uuid,
    pub nik: String,
    pub submitted_at_ms: u64,
}

pub fn closed_requests(conn: &Connection) -> Result<Vec<ClosedRequest>> {
    let mut stmt = conn.prepare(
        "SELECT id, nik, submitted_at_ms FROM online_requests
         WHERE status IN ('selesai', 'ditolak') AND instr(nik, '*') = 0 ORDER BY submitted_at_ms",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(ClosedRequest {
            id: r.get(0)?,
            nik: r.get(1)?,
            submitted_at_ms: r.get::<_, i64>(2)? as u64,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Masks a closed request's numbers and clears its purpose and contact; the tracking code,
/// letter type, dates and outcome stay for the office's statistics.
pub fn anonymise_request(
    tx: &Transaction,
    id: Uuid,
    nik_masked: &str,
    no_kk_masked: &str,
) -> Result<()> {
    tx.execute(
        "UPDATE online_requests SET nik = ?2, no_kk = ?3, purpose = '', contact = '' WHERE id = ?1",
        params![id, nik_masked, no_kk_masked],
    )?;
    Ok(())
}

/// Whether a resident with `nik` is under a legal hold (then the requests made with that NIK
/// are kept as they are too).
pub fn nik_is_held(conn: &Connection, nik: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM residents WHERE nik = ?1 AND legal_hold <> '')",
        [nik],
        |r| r.get(0),
    )?)
}

/// A data subject's request, as stored.
#[derive(Clone, Serialize, Deserialize)]
pub struct SubjectRequestRow {
    pub id: String,
    pub kind: String,
    pub resident_id: Option<String>,
    pub requester: String,
    pub details: String,
    pub received_at: String,
    pub due_at: String,
    pub status: String,
    pub outcome: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub recorded_by: String,
}

impl std::fmt::Debug for SubjectRequestRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectRequestRow").field("id", &self.id).finish_non_exhaustive()
    }
}

const SUBJECT_COLUMNS: &str =
    "id, kind, resident_id, requester, details, received_at, due_at, status,
     outcome, decided_by, decided_at, recorded_by";

fn subject_row(r: &Row) -> rusqlite::Result<SubjectRequestRow> {
    Ok(SubjectRequestRow {
        id: r.get::<_, Uuid>(0)?.to_string(),
        kind: r.get(1)?,
        resident_id: r.get::<_, Option<Uuid>>(2)?.map(|u| u.to_string()),
        requester: r.get(3)?,
        details: r.get(4)?,
        received_at: r.get(5)?,
        due_at: r.get(6)?,
        status: r.get(7)?,
        outcome: r.get(8)?,
        decided_by: r.get(9)?,
        decided_at: r.get(10)?,
        recorded_by: r.get(11)?,
    })
}

#[allow(clippy::too_many_arguments)]
pub fn insert_subject_request(
    tx: &Transaction,
    id: Uuid,
    kind: &str,
    resident_id: Option<Uuid>,
    requester: &str,
    details: &str,
    received_at: &str,
    due_at: &str,
    recorded_by: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO subject_requests (id, kind, resident_id, requester, details, received_at,
             due_at, status, recorded_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'diterima', ?8)",
        params![id, kind, resident_id, requester, details, received_at, due_at, recorded_by],
    )?;
    Ok(())
}

/// Records the decision on a request still `diterima`; false when it is not (decided already,
/// or no such request).
pub fn decide_subject_request(
    tx: &Transaction,
    id: Uuid,
    status: &str,
    outcome: &str,
    by: &str,
    at: &str,
) -> Result<bool> {
    let n = tx.execute(
        "UPDATE subject_requests SET status = ?2, outcome = ?3, decided_by = ?4, decided_at = ?5
         WHERE id = ?1 AND status = 'diterima'",
        params![id, status, outcome, by, at],
    )?;
    Ok(n == 1)
}

pub fn subject_request(conn: &Connection, id: Uuid) -> Result<Option<SubjectRequestRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {SUBJECT_COLUMNS} FROM subject_requests WHERE id = ?1"),
            [id],
            subject_row,
        )
        .optional()?)
}

/// Open requests first (soonest due first), then the decided ones, newest first.
pub fn subject_requests(conn: &Connection) -> Result<Vec<SubjectRequestRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {SUBJECT_COLUMNS} FROM subject_requests
         ORDER BY status <> 'diterima', CASE WHEN status = 'diterima' THEN due_at END,
                  received_at DESC"
    ))?;
    let rows = stmt.query_map([], subject_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A breach as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BreachRow {
    pub id: String,
    pub discovered_at: String,
    pub what_happened: String,
    pub data_disclosed: String,
    pub subjects_estimate: i64,
    pub measures: String,
    pub subjects_notified_at: Option<String>,
    pub authority_notified_at: Option<String>,
    pub closed_at: Option<String>,
    pub recorded_by: String,
    pub created_at: String,
}

const BREACH_COLUMNS: &str = "id, discovered_at, what_happened, data_disclosed, subjects_estimate,
     measures, subjects_notified_at, authority_notified_at, closed_at, recorded_by, created_at";

fn breach_row(r: &Row) -> rusqlite::Result<BreachRow> {
    Ok(BreachRow {
        id: r.get::<_, Uuid>(0)?.to_string(),
        discovered_at: r.get(1)?,
        what_happened: r.get(2)?,
        data_disclosed: r.get(3)?,
        subjects_estimate: r.get(4)?,
        measures: r.get(5)?,
        subjects_notified_at: r.get(6)?,
        authority_notified_at: r.get(7)?,
        closed_at: r.get(8)?,
        recorded_by: r.get(9)?,
        created_at: r.get(10)?,
    })
}

pub fn insert_breach(tx: &Transaction, id: Uuid, b: &BreachRow) -> Result<()> {
    tx.execute(
        "INSERT INTO breaches (id, discovered_at, what_happened, data_disclosed,
             subjects_estimate, measures, recorded_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id,
            b.discovered_at,
            b.what_happened,
            b.data_disclosed,
            b.subjects_estimate,
            b.measures,
            b.recorded_by,
            b.created_at
        ],
    )?;
    Ok(())
}

/// Sets one of the breach's moments (`subjects_notified_at`, `authority_notified_at`,
/// `closed_at`) unless it is set already; false when nothing changed.
pub fn mark_breach(tx: &Transaction, id: Uuid, column: BreachMoment, at: &str) -> Result<bool> {
    let col = match column {
        BreachMoment::SubjectsNotified => "subjects_notified_at",
        BreachMoment::AuthorityNotified => "authority_notified_at",
        BreachMoment::Closed => "closed_at",
    };
    let n = tx.execute(
        &format!("UPDATE breaches SET {col} = ?2 WHERE id = ?1 AND {col} IS NULL"),
        params![id, at],
    )?;
    Ok(n == 1)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachMoment {
    SubjectsNotified,
    AuthorityNotified,
    Closed,
}

pub fn breach(conn: &Connection, id: Uuid) -> Result<Option<BreachRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {BREACH_COLUMNS} FROM breaches WHERE id = ?1"),
            [id],
            breach_row,
        )
        .optional()?)
}

/// Newest first.
pub fn breaches(conn: &Connection) -> Result<Vec<BreachRow>> {
    let mut stmt = conn
        .prepare(&format!("SELECT {BREACH_COLUMNS} FROM breaches ORDER BY discovered_at DESC"))?;
    let rows = stmt.query_map([], breach_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A letter about a resident, as a data subject's copy lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LetterAbout {
    pub number: Option<String>,
    pub letter_type: String,
    pub status: String,
    pub issued_on: Option<String>,
    pub created_at: String,
}

pub fn letters_about(conn: &Connection, resident_id: Uuid) -> Result<Vec<LetterAbout>> {
    let mut stmt = conn.prepare(
        "SELECT number, letter_type, status, issued_on, created_at FROM letters
         WHERE subject_id = ?1 ORDER BY created_at",
    )?;
    let rows = stmt.query_map([resident_id], |r| {
        Ok(LetterAbout {
            number: r.get(0)?,
            letter_type: r.get(1)?,
            status: r.get(2)?,
            issued_on: r.get(3)?,
            created_at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What the office's staff did with a record, from the audit trail: who, when, what.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditAbout {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

pub fn audit_about(conn: &Connection, entity: &str, entity_id: &str) -> Result<Vec<AuditAbout>> {
    let mut stmt = conn.prepare(
        "SELECT at, actor, action, detail FROM audit_log
         WHERE entity = ?1 AND entity_id = ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map([entity, entity_id], |r| {
        Ok(AuditAbout { at: r.get(0)?, actor: r.get(1)?, action: r.get(2)?, detail: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
