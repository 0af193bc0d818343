//! Counts for reports: monthly population changes (laporan mutasi) and demographics. Only
//! aggregates leave this module.

use crate::Result;
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

/// A count split by sex.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BySex {
    pub l: i64,
    pub p: i64,
}

impl BySex {
    pub fn total(self) -> i64 {
        self.l + self.p
    }
}

fn by_sex(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> Result<BySex> {
    let mut out = BySex::default();
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query(p)?;
    while let Some(r) = rows.next()? {
        let sex: String = r.get(0)?;
        let n: i64 = r.get(1)?;
        if sex == "L" {
            out.l = n;
        } else {
            out.p = n;
        }
    }
    Ok(out)
}

/// Living residents now.
pub fn living_now(conn: &Connection) -> Result<BySex> {
    by_sex(
        conn,
        "SELECT sex, count(*) FROM residents WHERE status = 'hidup' AND merged_into IS NULL GROUP BY sex",
        [],
    )
}

/// Events of the given kinds with `from < event_date <= to` (ISO dates), by sex.
pub fn events_between(conn: &Connection, kinds: &[&str], from: &str, to: &str) -> Result<BySex> {
    let list = kinds.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(", ");
    by_sex(
        conn,
        &format!(
            "SELECT r.sex, count(*) FROM resident_events e JOIN residents r ON r.id = e.resident_id
             WHERE e.kind IN ({list}) AND e.event_date > ?1 AND e.event_date <= ?2 AND r.merged_into IS NULL
             GROUP BY r.sex"
        ),
        params![from, to],
    )
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bucket {
    pub key: String,
    pub l: i64,
    pub p: i64,
}

/// Living residents grouped by an SQL expression over `r` (e.g. `r.religion`), by sex.
pub fn group_living(conn: &Connection, expr: &str, today: &str) -> Result<Vec<Bucket>> {
    let sql = format!(
        "SELECT {expr} AS k, sum(r.sex = 'L'), sum(r.sex = 'P') FROM residents r
         WHERE r.status = 'hidup' AND r.merged_into IS NULL AND ?1 = ?1
         GROUP BY k ORDER BY k"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([today], |r| {
        let key: rusqlite::types::Value = r.get(0)?;
        let key = match key {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(s) => s,
            rusqlite::types::Value::Null => String::new(),
            other => format!("{other:?}"),
        };
        Ok(Bucket { key, l: r.get(1)?, p: r.get(2)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Age in whole years on `today` (ISO) as SQL, for grouping.
pub fn age_expr() -> &'static str {
    "(CAST(strftime('%Y', ?1) AS INTEGER) - CAST(strftime('%Y', r.birth_date) AS INTEGER)
      - (strftime('%m-%d', ?1) < strftime('%m-%d', r.birth_date)))"
}

/// Every unmerged resident for export, in NIK order: (fields as the import headers name them).
pub fn export_rows(conn: &Connection) -> Result<Vec<Vec<String>>> {
    let mut stmt = conn.prepare(
        "SELECT r.nik, f.no_kk, r.full_name, r.sex, r.birth_place, r.birth_date, r.religion,
                r.marital_status, r.shdk, coalesce(r.education, ''), coalesce(r.occupation, ''),
                coalesce(r.blood_type, ''), r.citizenship, r.mother_name, r.father_name, r.address,
                r.rt, r.rw, r.lingkungan, r.status
         FROM residents r LEFT JOIN families f ON f.id = r.family_id
         WHERE r.merged_into IS NULL ORDER BY r.nik",
    )?;
    let n = stmt.column_count();
    let rows = stmt.query_map([], |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get::<_, rusqlite::types::Value>(i)? {
                    rusqlite::types::Value::Integer(v) => v.to_string(),
                    rusqlite::types::Value::Text(s) => s,
                    rusqlite::types::Value::Null => String::new(),
                    rusqlite::types::Value::Real(v) => v.to_string(),
                    rusqlite::types::Value::Blob(_) => String::new(),
                })
            })
            .collect::<rusqlite::Result<Vec<String>>>()
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}
