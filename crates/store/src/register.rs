//! The resident and family register: rows, search (FTS5 for names, B-tree ranges for NIK and
//! No. KK prefixes), life events and likely duplicates.

use crate::Result;
use balai_domain::nik::{Nik, NikWarning, NoKk, Sex};
use balai_domain::resident::{EventKind, LifeStatus, Resident};
use chrono::NaiveDate;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use uuid::Uuid;

#[derive(Clone)]
pub struct StoredResident {
    pub id: Uuid,
    pub family_id: Option<Uuid>,
    pub no_kk: Option<String>,
    pub status: LifeStatus,
    pub merged_into: Option<Uuid>,
    pub data: Resident,
    pub created_at: String,
    pub updated_at: String,
}

impl std::fmt::Debug for StoredResident {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredResident").field("id", &self.id).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRow {
    pub id: Uuid,
    pub no_kk: String,
    pub address: String,
    pub rt: u16,
    pub rw: u16,
    pub lingkungan: String,
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_stored_date(s: &str) -> rusqlite::Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn warnings_text(w: &[NikWarning]) -> String {
    w.iter().map(|w| w.code()).collect::<Vec<_>>().join(",")
}

fn warnings_parse(s: &str) -> Vec<NikWarning> {
    [
        NikWarning::DayOutOfRange,
        NikWarning::ImpossibleDate,
        NikWarning::SexMismatch,
        NikWarning::BirthDateMismatch,
    ]
    .into_iter()
    .filter(|w| s.split(',').any(|c| c == w.code()))
    .collect()
}

const COLUMNS: &str =
    "r.id, r.family_id, f.no_kk, r.status, r.merged_into, r.nik, r.full_name, r.sex, \
    r.birth_place, r.birth_date, r.religion, r.marital_status, r.shdk, r.education, r.occupation, \
    r.blood_type, r.citizenship, r.disability, r.mother_nik, r.mother_name, r.father_nik, \
    r.father_name, r.address, r.rt, r.rw, r.lingkungan, r.birth_cert_no, r.marriage_cert_no, \
    r.marriage_date, r.divorce_cert_no, r.divorce_date, r.nik_warnings, r.nik_override_reason, \
    r.created_at, r.updated_at";

fn corrupt(what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        Box::<dyn std::error::Error + Send + Sync>::from(format!("residents.{what} is not valid")),
    )
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<StoredResident> {
    let nik: String = r.get(5)?;
    let no_kk: Option<String> = r.get(2)?;
    let opt_date = |i: usize| -> rusqlite::Result<Option<NaiveDate>> {
        r.get::<_, Option<String>>(i)?.as_deref().map(parse_stored_date).transpose()
    };
    let opt_nik = |i: usize| -> rusqlite::Result<Option<Nik>> {
        Ok(r.get::<_, Option<String>>(i)?.and_then(|s| Nik::parse(&s).ok()))
    };
    let status: String = r.get(3)?;
    Ok(StoredResident {
        id: r.get(0)?,
        family_id: r.get(1)?,
        status: LifeStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        merged_into: r.get(4)?,
        data: Resident {
            nik_temporary: nik.starts_with("00"),
            nik: Nik::parse(&nik).map_err(|_| corrupt("nik"))?,
            no_kk: NoKk::parse(no_kk.as_deref().unwrap_or("")).map_err(|_| corrupt("family"))?,
            full_name: r.get(6)?,
            sex: Sex::parse(&r.get::<_, String>(7)?).ok_or_else(|| corrupt("sex"))?,
            birth_place: r.get(8)?,
            birth_date: parse_stored_date(&r.get::<_, String>(9)?)?,
            religion: r.get(10)?,
            marital_status: r.get(11)?,
            shdk: r.get(12)?,
            education: r.get(13)?,
            occupation: r.get(14)?,
            blood_type: r.get(15)?,
            citizenship: r.get(16)?,
            disability: r.get(17)?,
            mother_nik: opt_nik(18)?,
            mother_name: r.get(19)?,
            father_nik: opt_nik(20)?,
            father_name: r.get(21)?,
            address: r.get(22)?,
            rt: r.get(23)?,
            rw: r.get(24)?,
            lingkungan: r.get(25)?,
            birth_cert_no: r.get(26)?,
            marriage_cert_no: r.get(27)?,
            marriage_date: opt_date(28)?,
            divorce_cert_no: r.get(29)?,
            divorce_date: opt_date(30)?,
            nik_warnings: warnings_parse(&r.get::<_, String>(31)?),
            nik_override_reason: r.get(32)?,
        },
        no_kk,
        created_at: r.get(33)?,
        updated_at: r.get(34)?,
    })
}

const FROM: &str = "FROM residents r LEFT JOIN families f ON f.id = r.family_id";

pub fn get(conn: &Connection, id: Uuid) -> Result<Option<StoredResident>> {
    Ok(conn
        .query_row(&format!("SELECT {COLUMNS} {FROM} WHERE r.id = ?1"), [id], from_row)
        .optional()?)
}

/// Records with this NIK that were not merged away.
pub fn by_nik(conn: &Connection, nik: &str) -> Result<Vec<StoredResident>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} {FROM} WHERE r.nik = ?1 AND r.merged_into IS NULL"
    ))?;
    let rows = stmt.query_map([nik], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn family_where(conn: &Connection, condition: &str, key: SqlValue) -> Result<Option<FamilyRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT id, no_kk, address, rt, rw, lingkungan FROM families WHERE {condition} ORDER BY id LIMIT 1"
        ))?
        .query_row([key], |r| {
            Ok(FamilyRow {
                id: r.get(0)?,
                no_kk: r.get(1)?,
                address: r.get(2)?,
                rt: r.get(3)?,
                rw: r.get(4)?,
                lingkungan: r.get(5)?,
            })
        })
        .optional()?)
}

/// The family with this No. KK (the oldest, should two PCs have created it).
pub fn family_by_no_kk(conn: &Connection, no_kk: &str) -> Result<Option<FamilyRow>> {
    family_where(conn, "no_kk = ?1", SqlValue::Text(no_kk.into()))
}

pub fn family(conn: &Connection, id: Uuid) -> Result<Option<FamilyRow>> {
    family_where(conn, "id = ?1", SqlValue::Blob(id.as_bytes().to_vec()))
}

pub fn insert_family(tx: &Transaction, f: &FamilyRow, at: &str) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO families (id, no_kk, address, rt, rw, lingkungan, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    )?
    .execute(params![f.id, f.no_kk, f.address, f.rt, f.rw, f.lingkungan, at])?;
    Ok(())
}

/// Members of a family who were not merged away, head first.
pub fn family_members(conn: &Connection, family_id: Uuid) -> Result<Vec<StoredResident>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} {FROM} WHERE r.family_id = ?1 AND r.merged_into IS NULL ORDER BY r.shdk, r.birth_date"
    ))?;
    let rows = stmt.query_map([family_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Living, unmerged heads of a family, other than `except`.
pub fn heads_of(conn: &Connection, family_id: Uuid, except: Option<Uuid>) -> Result<Vec<Uuid>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM residents WHERE family_id = ?1 AND shdk = 1 AND merged_into IS NULL
         AND status = 'hidup' AND (?2 IS NULL OR id <> ?2)",
    )?;
    let rows = stmt.query_map(params![family_id, except], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn data_params(r: &Resident) -> [SqlValue; 29] {
    let t = |s: &str| SqlValue::Text(s.to_string());
    let oi = |v: Option<u16>| v.map(|n| SqlValue::Integer(n.into())).unwrap_or(SqlValue::Null);
    let od =
        |v: Option<NaiveDate>| v.map(|d| SqlValue::Text(date_text(d))).unwrap_or(SqlValue::Null);
    let on = |v: &Option<Nik>| {
        v.as_ref().map(|n| SqlValue::Text(n.as_str().into())).unwrap_or(SqlValue::Null)
    };
    [
        t(r.nik.as_str()),
        SqlValue::Integer(r.nik_temporary as i64),
        t(&r.full_name),
        t(&balai_domain::resident::normalize_name(&r.full_name)),
        t(r.sex.as_str()),
        t(&r.birth_place),
        t(&date_text(r.birth_date)),
        t(&warnings_text(&r.nik_warnings)),
        t(&r.nik_override_reason),
        SqlValue::Integer(r.shdk.into()),
        SqlValue::Integer(r.religion.into()),
        SqlValue::Integer(r.marital_status.into()),
        oi(r.education),
        oi(r.occupation),
        oi(r.blood_type),
        SqlValue::Integer(r.citizenship.into()),
        oi(r.disability),
        on(&r.mother_nik),
        t(&r.mother_name),
        on(&r.father_nik),
        t(&r.father_name),
        t(&r.address),
        SqlValue::Integer(r.rt.into()),
        SqlValue::Integer(r.rw.into()),
        t(&r.lingkungan),
        t(&r.birth_cert_no),
        t(&r.marriage_cert_no),
        od(r.marriage_date),
        t(&r.divorce_cert_no),
    ]
}

const DATA_COLUMNS: &str = "nik, nik_temporary, full_name, name_norm, sex, birth_place, birth_date, \
    nik_warnings, nik_override_reason, shdk, religion, marital_status, education, occupation, \
    blood_type, citizenship, disability, mother_nik, mother_name, father_nik, father_name, address, \
    rt, rw, lingkungan, birth_cert_no, marriage_cert_no, marriage_date, divorce_cert_no";

/// `INSERT INTO residents …` with every data column, then divorce_date, id, family_id, status,
/// created_at, updated_at, as numbered parameters (built once: an import runs it per row).
static INSERT_RESIDENT: LazyLock<String> = LazyLock::new(|| {
    let n = DATA_COLUMNS.split(", ").count() + 6;
    let placeholders: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO residents ({DATA_COLUMNS}, divorce_date, id, family_id, status, created_at, updated_at)
         VALUES ({})",
        placeholders.join(", ")
    )
});

/// `UPDATE residents SET …` of every data column, divorce_date, family_id and updated_at,
/// for the row whose id is the last parameter.
static UPDATE_RESIDENT: LazyLock<String> = LazyLock::new(|| {
    let sets: Vec<String> = DATA_COLUMNS
        .split(", ")
        .chain(["divorce_date", "family_id", "updated_at"])
        .enumerate()
        .map(|(i, c)| format!("{} = ?{}", c.trim(), i + 1))
        .collect();
    format!("UPDATE residents SET {} WHERE id = ?{}", sets.join(", "), sets.len() + 1)
});

pub fn insert_resident(
    tx: &Transaction,
    id: Uuid,
    family_id: Uuid,
    r: &Resident,
    status: LifeStatus,
    at: &str,
) -> Result<()> {
    let mut values: Vec<SqlValue> = data_params(r).into();
    values.push(r.divorce_date.map(|d| SqlValue::Text(date_text(d))).unwrap_or(SqlValue::Null));
    values.push(SqlValue::Blob(id.as_bytes().to_vec()));
    values.push(SqlValue::Blob(family_id.as_bytes().to_vec()));
    values.push(SqlValue::Text(status.as_str().into()));
    values.push(SqlValue::Text(at.into()));
    values.push(SqlValue::Text(at.into()));
    tx.prepare_cached(&INSERT_RESIDENT)?.execute(params_from_iter(values.iter()))?;
    Ok(())
}

/// Replaces the data fields (not status or merge) of resident `id`.
pub fn update_resident(
    tx: &Transaction,
    id: Uuid,
    family_id: Uuid,
    r: &Resident,
    at: &str,
) -> Result<()> {
    let mut values: Vec<SqlValue> = data_params(r).into();
    values.push(r.divorce_date.map(|d| SqlValue::Text(date_text(d))).unwrap_or(SqlValue::Null));
    values.push(SqlValue::Blob(family_id.as_bytes().to_vec()));
    values.push(SqlValue::Text(at.into()));
    values.push(SqlValue::Blob(id.as_bytes().to_vec()));
    tx.prepare_cached(&UPDATE_RESIDENT)?.execute(params_from_iter(values.iter()))?;
    Ok(())
}

pub fn set_status(tx: &Transaction, id: Uuid, status: LifeStatus, at: &str) -> Result<()> {
    tx.execute(
        "UPDATE residents SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, status.as_str(), at],
    )?;
    Ok(())
}

pub fn set_merged_into(tx: &Transaction, id: Uuid, into: Uuid, at: &str) -> Result<()> {
    tx.execute(
        "UPDATE residents SET merged_into = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, into, at],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub resident_id: String,
    pub kind: EventKind,
    pub event_date: NaiveDate,
    pub details: String,
    pub recorded_by: String,
    pub created_at: String,
}

pub fn insert_event(
    tx: &Transaction,
    id: Uuid,
    resident_id: Uuid,
    kind: EventKind,
    date: NaiveDate,
    details: &str,
    by: &str,
    at: &str,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO resident_events (id, resident_id, kind, event_date, details, recorded_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![id, resident_id, kind.as_str(), date_text(date), details, by, at])?;
    Ok(())
}

pub fn events_of(conn: &Connection, resident_id: Uuid) -> Result<Vec<EventRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, resident_id, kind, event_date, details, recorded_by, created_at FROM resident_events
         WHERE resident_id = ?1 ORDER BY event_date, created_at",
    )?;
    let rows = stmt.query_map([resident_id], |r| {
        let kind: String = r.get(2)?;
        Ok(EventRow {
            id: r.get::<_, Uuid>(0)?.to_string(),
            resident_id: r.get::<_, Uuid>(1)?.to_string(),
            kind: EventKind::parse(&kind).ok_or_else(|| corrupt("event kind"))?,
            event_date: parse_stored_date(&r.get::<_, String>(3)?)?,
            details: r.get(4)?,
            recorded_by: r.get(5)?,
            created_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// What the search box asks for.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    /// Name words (prefixes), or a NIK / No. KK prefix.
    pub q: String,
    pub rt: Option<u16>,
    pub rw: Option<u16>,
    pub sex: Option<Sex>,
    pub status: Option<LifeStatus>,
    /// Born on or before this date (the minimum age, computed by the caller).
    pub born_on_or_before: Option<NaiveDate>,
    /// Born after this date (the maximum age).
    pub born_after: Option<NaiveDate>,
    pub limit: Option<u32>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: String,
    pub nik: String,
    pub no_kk: Option<String>,
    pub full_name: String,
    pub sex: Sex,
    pub birth_place: String,
    pub birth_date: NaiveDate,
    pub rt: u16,
    pub rw: u16,
    pub status: LifeStatus,
    pub shdk: u16,
}

impl std::fmt::Debug for SearchHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchHit").field("id", &self.id).finish_non_exhaustive()
    }
}

fn prefix_upper(prefix: &str) -> String {
    // Digits only: the next string after every string with this prefix.
    let mut s = prefix.to_string();
    if let Some(last) = s.pop() {
        s.push((last as u8 + 1) as char);
    }
    s
}

/// FTS5 query from normalised words: every word as a quoted prefix, all required.
fn fts_query(q: &str) -> Option<String> {
    let words: Vec<String> = balai_domain::resident::normalize_name(q)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"*", w.replace('"', "")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

const HIT_COLUMNS: &str = "r.id, r.nik, f.no_kk, r.full_name, r.sex, r.birth_place, r.birth_date, r.rt, r.rw, r.status, r.shdk, r.name_norm";

fn hit_from_row(r: &Row<'_>) -> rusqlite::Result<(SearchHit, String)> {
    let status: String = r.get(9)?;
    Ok((
        SearchHit {
            id: r.get::<_, Uuid>(0)?.to_string(),
            nik: r.get(1)?,
            no_kk: r.get(2)?,
            full_name: r.get(3)?,
            sex: Sex::parse(&r.get::<_, String>(4)?).ok_or_else(|| corrupt("sex"))?,
            birth_place: r.get(5)?,
            birth_date: parse_stored_date(&r.get::<_, String>(6)?)?,
            rt: r.get(7)?,
            rw: r.get(8)?,
            status: LifeStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
            shdk: r.get(10)?,
        },
        r.get::<_, String>(11)?,
    ))
}

/// Runs one search statement: `head` is everything before the shared filters, `tail` what
/// follows them (ORDER BY); `args` are bound first, then the filters', then the limit.
fn run_search(
    conn: &Connection,
    head: &str,
    mut args: Vec<SqlValue>,
    q: &SearchQuery,
    tail: &str,
    limit: i64,
) -> Result<Vec<(SearchHit, String)>> {
    let mut filters = vec!["r.merged_into IS NULL".to_string()];
    let mut add = |sql: &str, v: SqlValue| {
        args.push(v);
        filters.push(sql.replace('?', &format!("?{}", args.len())));
    };
    if let Some(rt) = q.rt {
        add("r.rt = ?", SqlValue::Integer(rt.into()));
    }
    if let Some(rw) = q.rw {
        add("r.rw = ?", SqlValue::Integer(rw.into()));
    }
    if let Some(sex) = q.sex {
        add("r.sex = ?", SqlValue::Text(sex.as_str().into()));
    }
    if let Some(st) = q.status {
        add("r.status = ?", SqlValue::Text(st.as_str().into()));
    }
    if let Some(d) = q.born_on_or_before {
        add("r.birth_date <= ?", SqlValue::Text(date_text(d)));
    }
    if let Some(d) = q.born_after {
        add("r.birth_date > ?", SqlValue::Text(date_text(d)));
    }
    args.push(SqlValue::Integer(limit));
    let sql = format!("{head} AND {} {tail} LIMIT ?{}", filters.join(" AND "), args.len());
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args.iter()), hit_from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Searches the register. Each kind of query is one index walk that stops at the limit:
/// a NIK prefix walks the NIK index, a No. KK prefix the families index, name words the FTS5
/// index (prefix-indexed), and filters alone the name order.
pub fn search(conn: &Connection, q: &SearchQuery) -> Result<Vec<SearchHit>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 500) as i64;
    let text = q.q.trim();
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut hits = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let range = vec![SqlValue::Text(digits.clone()), SqlValue::Text(prefix_upper(&digits))];
        let mut hits = run_search(
            conn,
            &format!("SELECT {HIT_COLUMNS} {FROM} WHERE r.nik >= ?1 AND r.nik < ?2"),
            range.clone(),
            q,
            "ORDER BY r.nik",
            limit,
        )?;
        if (hits.len() as i64) < limit {
            // Then whole families whose No. KK has this prefix (members not found by NIK).
            let more = run_search(
                conn,
                &format!(
                    "SELECT {HIT_COLUMNS} FROM families f JOIN residents r ON r.family_id = f.id
                     WHERE f.no_kk >= ?1 AND f.no_kk < ?2 AND NOT (r.nik >= ?1 AND r.nik < ?2)"
                ),
                range,
                q,
                "ORDER BY f.no_kk, r.shdk",
                limit - hits.len() as i64,
            )?;
            hits.extend(more);
        }
        hits
    } else if let Some(fts) = fts_query(text) {
        let mut hits = run_search(
            conn,
            &format!(
                "SELECT {HIT_COLUMNS} FROM residents_fts JOIN residents r ON r.rowid = residents_fts.rowid
                 LEFT JOIN families f ON f.id = r.family_id WHERE residents_fts MATCH ?1"
            ),
            vec![SqlValue::Text(fts)],
            q,
            "",
            limit,
        )?;
        // FTS matches come in index order; show the page sorted by name.
        hits.sort_by(|a, b| a.1.cmp(&b.1));
        hits
    } else {
        run_search(
            conn,
            &format!("SELECT {HIT_COLUMNS} {FROM} WHERE 1"),
            Vec::new(),
            q,
            "ORDER BY r.name_norm",
            limit,
        )?
    };
    Ok(hits.drain(..).map(|(h, _)| h).collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Same normalised name and birth date.
    NameAndBirthDate,
    /// Same birth date, birth place and mother's name.
    BirthPlaceAndMother,
}

/// Pairs of likely duplicates (unmerged records), optionally only those involving `of`.
pub fn duplicates(
    conn: &Connection,
    of: Option<Uuid>,
) -> Result<Vec<(Uuid, Uuid, DuplicateReason)>> {
    let mut out = Vec::new();
    let queries = [
        (
            "SELECT a.id, b.id FROM residents a JOIN residents b
               ON b.name_norm = a.name_norm AND b.birth_date = a.birth_date AND b.id > a.id
             WHERE a.merged_into IS NULL AND b.merged_into IS NULL
               AND substr(a.nik, 1, 2) <> '99'
               AND (?1 IS NULL OR a.id = ?1 OR b.id = ?1)",
            DuplicateReason::NameAndBirthDate,
        ),
        (
            "SELECT a.id, b.id FROM residents a JOIN residents b
               ON b.birth_date = a.birth_date AND lower(b.birth_place) = lower(a.birth_place)
              AND lower(b.mother_name) = lower(a.mother_name) AND b.id > a.id
             WHERE a.merged_into IS NULL AND b.merged_into IS NULL AND a.mother_name <> ''
               AND a.name_norm <> b.name_norm
               AND (?1 IS NULL OR a.id = ?1 OR b.id = ?1)",
            DuplicateReason::BirthPlaceAndMother,
        ),
    ];
    for (sql, reason) in queries {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([of], |r| Ok((r.get::<_, Uuid>(0)?, r.get::<_, Uuid>(1)?)))?;
        for row in rows {
            let (a, b) = row?;
            out.push((a, b, reason));
        }
    }
    Ok(out)
}

/// Records that were merged into `id`.
pub fn merged_into(conn: &Connection, id: Uuid) -> Result<Vec<Uuid>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM residents WHERE merged_into = ?1")?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// What an import needs to know about the register, read once instead of per row.
#[derive(Debug, Default)]
pub struct RegisterIndex {
    /// NIK → (id, normalised name, birth date) of unmerged records.
    pub by_nik: std::collections::HashMap<String, (Uuid, String, NaiveDate)>,
    /// No. KK → family id.
    pub families: std::collections::HashMap<String, Uuid>,
    /// Family id → its living, unmerged heads.
    pub heads: std::collections::HashMap<Uuid, Vec<Uuid>>,
}

pub fn load_index(conn: &Connection) -> Result<RegisterIndex> {
    let mut idx = RegisterIndex::default();
    let mut stmt = conn.prepare(
        "SELECT id, nik, name_norm, birth_date, family_id, shdk, status FROM residents WHERE merged_into IS NULL",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: Uuid = r.get(0)?;
        let birth = parse_stored_date(&r.get::<_, String>(3)?)?;
        idx.by_nik.insert(r.get(1)?, (id, r.get(2)?, birth));
        let family: Option<Uuid> = r.get(4)?;
        if let (Some(f), 1, "hidup") =
            (family, r.get::<_, i64>(5)?, r.get::<_, String>(6)?.as_str())
        {
            idx.heads.entry(f).or_default().push(id);
        }
    }
    let mut stmt = conn.prepare("SELECT no_kk, id FROM families ORDER BY id DESC")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        // Oldest id wins, as in family_by_no_kk.
        idx.families.insert(r.get(0)?, r.get(1)?);
    }
    Ok(idx)
}

/// Rebuilds the full-text name index from the residents table (after a bulk import).
/// FTS5's own check that the name index holds exactly the register's names: an error
/// (`SQLITE_CORRUPT`) when it does not. For tests and the simulation's final check.
pub fn check_name_index(conn: &Connection) -> Result<()> {
    conn.execute(
        "INSERT INTO residents_fts (residents_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )?;
    Ok(())
}

pub(crate) fn rebuild_name_index(tx: &Transaction) -> Result<()> {
    tx.execute("INSERT INTO residents_fts (residents_fts) VALUES ('rebuild')", [])?;
    Ok(())
}

/// For a bulk import: drops the register's secondary indexes (building each once from sorted
/// data afterwards is faster than 100,000 incremental inserts into it) and returns the SQL to
/// recreate them exactly as they were. Inside the caller's transaction, so a failure or a dry
/// run leaves them untouched.
pub(crate) fn drop_secondary_indexes(tx: &Transaction) -> Result<Vec<String>> {
    let mut stmt = tx.prepare(
        "SELECT name, sql FROM sqlite_schema
         WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('residents', 'families')
         ORDER BY name",
    )?;
    let found = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    drop(stmt);
    for (name, _) in &found {
        tx.execute(&format!("DROP INDEX \"{}\"", name.replace('"', "")), [])?;
    }
    Ok(found.into_iter().map(|(_, sql)| sql).collect())
}

/// Recreates indexes dropped by [`drop_secondary_indexes`].
pub(crate) fn recreate_indexes(tx: &Transaction, sqls: &[String]) -> Result<()> {
    for sql in sqls {
        tx.execute(sql, [])?;
    }
    Ok(())
}
