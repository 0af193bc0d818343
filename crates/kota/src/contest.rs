//! Scorecards at the city (issue 6): the kelurahan's submitted periods, and each kelurahan's
//! scores for the dashboard.
//!
//! Indicator values reach the city as ordinary synced rows (`contest_values`, one field group
//! `value`). A lurah's submission is the `submit_contest_period` command: the first of a
//! (kelurahan, rule set, period) is recorded and passed down the kelurahan's feed so every PC
//! locks the period; a later one from another PC is answered `conflict`.
//!
//! Rule set editions the city publishes (`balai-kota contest publish FILE.toml`: the year's
//! guideline as a new edition, checked by balai-contest) go to every office through the
//! city-wide reference feed (`GET /v1/reference`); a pull answer names the newest item
//! (`reference_seq`), so a PC asks only when something is new. An edition once published is
//! never changed: a different text under the same name is refused.
//!
//! Schema v13:
//! - `contest_submissions(kelurahan_code, ruleset, period, edition, total, band, submitted_by,
//!   submitted_at_ms, device_id, received_at_ms)`: `total` as the decimal text the PC sent.
//!
//! Schema v14:
//! - `reference_items(seq, kind, item_key, body, published_at_ms)`: the city-wide reference
//!   feed, numbered in publishing order; today only `contest_edition` items (`ruleset/edition`).
//!
//! What this does not do: score what the register computes (population counts, letter
//! turnaround): those indicators are counted on the office PC, so a period not yet submitted
//! is shown with the typed values only, marked as a draft.

use crate::db::{Db, Device};
use crate::feed::{ok, rejected};
use crate::sql::{params, Optional, Query, Tx};
use crate::KotaError;
use balai_contest::RuleSet;
use balai_protocol::{
    OpBody, Outcome, ReferenceItem, ReferenceResponse, SubmitContestPeriod, CONTEST_EDITION,
    MAX_REFERENCE_ITEMS, SUBMIT_CONTEST_PERIOD,
};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use uuid::Uuid;

pub(crate) const SCHEMA_V13: &str = "
CREATE TABLE contest_submissions (
    kelurahan_code TEXT NOT NULL REFERENCES kelurahan(code),
    ruleset TEXT NOT NULL,
    period INTEGER NOT NULL,
    edition TEXT NOT NULL,
    total TEXT NOT NULL,
    band TEXT NOT NULL,
    submitted_by TEXT NOT NULL,
    submitted_at_ms INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    PRIMARY KEY (kelurahan_code, ruleset, period)
) STRICT;
";

pub(crate) const SCHEMA_V14: &str = "
CREATE TABLE reference_items (
    seq INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    item_key TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at_ms INTEGER NOT NULL,
    UNIQUE (kind, item_key)
) STRICT;
";

fn shipped() -> &'static [RuleSet] {
    static LOADED: OnceLock<Vec<RuleSet>> = OnceLock::new();
    // The shipped editions are checked by balai-contest's tests; one that fails to load here
    // leaves the city without scores rather than without a server.
    LOADED.get_or_init(|| balai_contest::load_shipped().unwrap_or_default())
}

/// Every edition the city knows: shipped with this build, then published here.
fn rulesets(c: &mut crate::sql::Conn) -> Result<Vec<RuleSet>, KotaError> {
    let mut all = shipped().to_vec();
    let mut st =
        c.prepare("SELECT item_key, body FROM reference_items WHERE kind = ?1 ORDER BY seq")?;
    let rows =
        st.query_map([CONTEST_EDITION], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))?;
    for row in rows {
        let (key, body) = row?;
        // Checked when published; a row that no longer parses (a newer format) is skipped.
        if let Ok(rs) = RuleSet::parse(&key, &body) {
            all.push(rs);
        }
    }
    Ok(all)
}

fn edition<'a>(all: &'a [RuleSet], id: &str, edition: &str) -> Option<&'a RuleSet> {
    all.iter().find(|r| r.id == id && r.edition == edition)
}

/// What publishing an edition did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    pub ruleset: String,
    pub edition: String,
    pub seq: u64,
    /// `false`: the same text was published before (nothing changed).
    pub new: bool,
}

/// Publishes a rule set edition (TOML, the format of `assets/contest`) to every office.
pub fn publish_edition(
    db: &Db,
    file: &str,
    text: &str,
    now_ms: u64,
) -> Result<Published, KotaError> {
    let rs = RuleSet::parse(file, text).map_err(|e| KotaError::BadRequest(e.to_string()))?;
    let key = format!("{}/{}", rs.id, rs.edition);
    if shipped().iter().any(|r| r.id == rs.id && r.edition == rs.edition) {
        return Err(KotaError::BadRequest(format!(
            "Edisi {key} sudah dibawa Balai dan tidak diubah; terbitkan pedoman baru sebagai edisi baru."
        )));
    }
    db.with(|c| {
        let tx = c.transaction()?;
        let found: Option<(i64, String)> = tx
            .prepare_cached("SELECT seq, body FROM reference_items WHERE kind = ?1 AND item_key = ?2")?
            .query_row(params![CONTEST_EDITION, key.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let published = match found {
            Some((seq, body)) if body == text => {
                Published { ruleset: rs.id.clone(), edition: rs.edition.clone(), seq: seq as u64, new: false }
            }
            Some(_) => {
                return Err(KotaError::BadRequest(format!(
                    "Edisi {key} sudah diterbitkan dengan isi lain; edisi tidak pernah diubah, terbitkan edisi baru."
                )))
            }
            None => {
                let seq: i64 = tx
                    .prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM reference_items")?
                    .query_row([], |r| r.get(0))?;
                tx.prepare_cached(
                    "INSERT INTO reference_items (seq, kind, item_key, body, published_at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![seq, CONTEST_EDITION, key.as_str(), text, now_ms as i64])?;
                Published { ruleset: rs.id.clone(), edition: rs.edition.clone(), seq: seq as u64, new: true }
            }
        };
        tx.commit()?;
        Ok(published)
    })
}

/// The newest item of the reference feed (0: none).
pub fn reference_seq(db: &Db) -> Result<u64, KotaError> {
    db.with(|c| {
        let seq: i64 = c
            .prepare("SELECT coalesce(max(seq), 0) FROM reference_items")?
            .query_row([], |r| r.get(0))?;
        Ok(seq as u64)
    })
}

/// The reference items after `after`, oldest first, at most [`MAX_REFERENCE_ITEMS`].
pub fn reference_after(db: &Db, after: u64) -> Result<ReferenceResponse, KotaError> {
    db.with(|c| {
        let mut st = c.prepare(
            "SELECT seq, kind, item_key, body FROM reference_items WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = st.query_map(params![after as i64, i64::from(MAX_REFERENCE_ITEMS) + 1], |r| {
            Ok(ReferenceItem {
                seq: r.get::<i64>(0)? as u64,
                kind: r.get(1)?,
                key: r.get(2)?,
                body: r.get(3)?,
            })
        })?;
        let mut items: Vec<ReferenceItem> = rows.collect::<Result<_, _>>()?;
        let has_more = items.len() > MAX_REFERENCE_ITEMS as usize;
        items.truncate(MAX_REFERENCE_ITEMS as usize);
        Ok(ReferenceResponse { items, has_more })
    })
}

/// The `submit_contest_period` command inside a push transaction.
pub(crate) fn submit(
    tx: &Tx,
    device: &Device,
    args: &serde_json::Value,
    now_ms: u64,
) -> Result<Outcome, KotaError> {
    let Ok(s) = serde_json::from_value::<SubmitContestPeriod>(args.clone()) else {
        return Ok(rejected("invalid", "Perintah submit_contest_period tidak lengkap."));
    };
    let known = shipped().iter().any(|r| r.id == s.ruleset && r.edition == s.edition)
        || tx
            .prepare_cached("SELECT 1 FROM reference_items WHERE kind = ?1 AND item_key = ?2")?
            .query_row(params![CONTEST_EDITION, format!("{}/{}", s.ruleset, s.edition)], |r| {
                r.get::<i64>(0)
            })
            .optional()?
            .is_some();
    if !known {
        return Ok(rejected(
            "unknown_ruleset",
            &format!("Penilaian {} edisi {} tidak dikenal server ini.", s.ruleset, s.edition),
        ));
    }
    let k = &device.kelurahan_code;
    let first: Option<(String, String)> = tx
        .prepare_cached(
            "SELECT device_id, submitted_by FROM contest_submissions
             WHERE kelurahan_code = ?1 AND ruleset = ?2 AND period = ?3",
        )?
        .query_row(params![k.as_str(), s.ruleset.as_str(), s.period], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some((d, by)) = first {
        return Ok(Outcome::Conflict {
            winner: serde_json::json!({ "device": d }),
            message: format!("Periode {} sudah dikirim oleh {by} dari komputer lain.", s.period),
        });
    }
    tx.prepare_cached(
        "INSERT INTO contest_submissions (kelurahan_code, ruleset, period, edition, total, band,
             submitted_by, submitted_at_ms, device_id, received_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        k.as_str(),
        s.ruleset.as_str(),
        s.period,
        s.edition.as_str(),
        s.total.to_string(),
        s.band.as_str(),
        s.submitted_by.as_str(),
        s.submitted_at_ms as i64,
        device.id.to_string(),
        now_ms as i64
    ])?;
    let args = serde_json::to_value(&s).map_err(|e| KotaError::BadRequest(e.to_string()))?;
    let entry = OpBody::Command { name: SUBMIT_CONTEST_PERIOD.into(), args };
    crate::feed::append_feed(tx, k, device.id, Uuid::now_v7(), &entry)?;
    Ok(ok())
}

/// One kelurahan's latest period under a rule set, as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct KelurahanScore {
    pub code: String,
    pub name: String,
    pub period: i32,
    pub edition: String,
    pub total: f64,
    pub band: String,
    /// Submitted by the lurah (the total is the submitted one); else a draft from the synced
    /// typed values.
    pub submitted: bool,
    pub filled: usize,
    pub indicators: usize,
}

/// Every kelurahan with values under rule set `ruleset`: its latest period, best total first.
pub fn scores(db: &Db, ruleset: &str) -> Result<Vec<KelurahanScore>, KotaError> {
    db.with(|c| {
        let all = rulesets(c)?;
        let names: BTreeMap<String, String> = {
            let mut st = c.prepare("SELECT code, name FROM kelurahan")?;
            let rows = st.query_map([], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        // (kelurahan, period) → (edition, values)
        let mut periods: BTreeMap<(String, i32), (String, balai_contest::Values)> = BTreeMap::new();
        let mut st = c.prepare(
            "SELECT kelurahan_code, value FROM row_groups
             WHERE tbl = 'contest_values' AND field_group = 'value'",
        )?;
        let rows = st.query_map([], |r| Ok((r.get::<String>(0)?, r.get::<String>(1)?)))?;
        for row in rows {
            let (k, text) = row?;
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
            if v["ruleset"].as_str() != Some(ruleset) {
                continue;
            }
            let (Some(period), Some(ed), Some(ind)) = (
                v["period"].as_i64().and_then(|p| i32::try_from(p).ok()),
                v["edition"].as_str(),
                v["indicator"].as_str(),
            ) else {
                continue;
            };
            let entry =
                periods.entry((k, period)).or_insert_with(|| (ed.to_string(), Default::default()));
            if let Some(value) = v["value"].as_i64() {
                entry.1.insert(ind.to_string(), value);
            }
        }
        let mut submitted: BTreeMap<(String, i32), (String, String, String)> = BTreeMap::new();
        let mut st = c.prepare(
            "SELECT kelurahan_code, period, edition, total, band FROM contest_submissions
             WHERE ruleset = ?1",
        )?;
        let rows = st.query_map([ruleset], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<i64>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
                r.get::<String>(4)?,
            ))
        })?;
        for row in rows {
            let (k, p, ed, total, band) = row?;
            submitted.insert((k, p as i32), (ed, total, band));
        }
        let mut latest: BTreeMap<String, KelurahanScore> = BTreeMap::new();
        let keys: Vec<(String, i32)> = periods.keys().chain(submitted.keys()).cloned().collect();
        for (k, p) in keys {
            let (ed, values) = periods.get(&(k.clone(), p)).cloned().unwrap_or_default();
            let sub = submitted.get(&(k.clone(), p));
            let ed = sub.map_or(ed, |s| s.0.clone());
            let Some(rs) = edition(&all, ruleset, &ed) else { continue };
            let score = balai_contest::score(rs, &values);
            let (total, band) = match sub {
                Some((_, total, band)) => (total.parse().unwrap_or(score.total), band.clone()),
                None => (score.total, score.band.map(|b| b.name).unwrap_or_default()),
            };
            let s = KelurahanScore {
                name: names.get(&k).cloned().unwrap_or_default(),
                code: k.clone(),
                period: p,
                edition: ed,
                total,
                band,
                submitted: sub.is_some(),
                filled: score.filled,
                indicators: score.indicators,
            };
            if latest.get(&k).is_none_or(|old| old.period <= p) {
                latest.insert(k, s);
            }
        }
        let mut out: Vec<KelurahanScore> = latest.into_values().collect();
        out.sort_by(|a, b| b.total.total_cmp(&a.total).then(a.code.cmp(&b.code)));
        Ok(out)
    })
}

/// The rule sets the city can show: (id, title), each once.
pub fn ruleset_titles(db: &Db) -> Result<Vec<(String, String)>, KotaError> {
    let all = db.with(rulesets)?;
    let mut out: Vec<(String, String)> = Vec::new();
    for r in &all {
        if !out.iter().any(|(id, _)| *id == r.id) {
            out.push((r.id.clone(), r.title.clone()));
        }
    }
    Ok(out)
}
