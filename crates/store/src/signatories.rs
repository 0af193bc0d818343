//! Officials who sign letters, each for a period.

use crate::{Result, StoreError};
use balai_domain::office::{Capacity, Post, Signatory};
use chrono::NaiveDate;
use rusqlite::{params, Connection, Transaction};
use uuid::Uuid;

fn post_str(p: Post) -> &'static str {
    match p {
        Post::Lurah => "lurah",
        Post::Sekretaris => "sekretaris",
    }
}

fn capacity_str(c: Capacity) -> &'static str {
    match c {
        Capacity::Definitif => "definitif",
        Capacity::Plt => "plt",
        Capacity::Plh => "plh",
    }
}

fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("signatories date `{s}`: {e}")))
}

pub fn list(conn: &Connection) -> Result<Vec<Signatory>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, post, capacity, position, nip, rank, valid_from, valid_to
         FROM signatories ORDER BY post, valid_from DESC, name",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, Uuid>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<String>>(8)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(id, name, post, capacity, position, nip, rank, from, to)| {
            Ok(Signatory {
                id: Some(id.to_string()),
                name,
                post: match post.as_str() {
                    "lurah" => Post::Lurah,
                    "sekretaris" => Post::Sekretaris,
                    other => {
                        return Err(StoreError::Corrupt(format!("signatories.post `{other}`")))
                    }
                },
                capacity: match capacity.as_str() {
                    "definitif" => Capacity::Definitif,
                    "plt" => Capacity::Plt,
                    "plh" => Capacity::Plh,
                    other => {
                        return Err(StoreError::Corrupt(format!("signatories.capacity `{other}`")))
                    }
                },
                position,
                nip,
                rank,
                valid_from: parse_date(&from)?,
                valid_to: to.as_deref().map(parse_date).transpose()?,
            })
        })
        .collect()
}

pub fn exists(conn: &Connection, id: Uuid) -> Result<bool> {
    Ok(conn.query_row("SELECT count(*) FROM signatories WHERE id = ?1", [id], |r| {
        r.get::<_, i64>(0)
    })? > 0)
}

/// Inserts or replaces the signatory with id `id`.
pub fn upsert(tx: &Transaction, id: Uuid, s: &Signatory, at: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO signatories (id, name, post, capacity, position, nip, rank, valid_from, valid_to, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, post = excluded.post,
             capacity = excluded.capacity, position = excluded.position, nip = excluded.nip,
             rank = excluded.rank, valid_from = excluded.valid_from, valid_to = excluded.valid_to,
             updated_at = excluded.updated_at",
        params![
            id,
            s.name,
            post_str(s.post),
            capacity_str(s.capacity),
            s.position,
            s.nip,
            s.rank,
            s.valid_from.format("%Y-%m-%d").to_string(),
            s.valid_to.map(|d| d.format("%Y-%m-%d").to_string()),
            at
        ],
    )?;
    Ok(())
}
