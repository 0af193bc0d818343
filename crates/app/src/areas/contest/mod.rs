//! The lurah's scorecards (issue 6): values per indicator and period with who entered them and
//! evidence files, indicators computed from the register and the letter log, the score with
//! its band and readiness, the two-year comparison, the what-if planner and its plan as a task
//! list, submitting a period (locked here and sent to the city), and the report for the jury.
//!
//! The rules are balai-contest's; the rule sets are the editions shipped in `assets/contest`.
//! A period is a year. A period is scored under the edition its values were entered with, or
//! the latest edition no newer than the period.

use crate::areas::audit;
use crate::areas::reports::{file_out, FileOut};
use crate::error::{ApiError, ErrorCode};
use crate::session::Actor;
use crate::{App, Ctx};
use balai_contest::ruleset::{Measure, Source};
use balai_contest::score::Gap;
use balai_contest::{Efforts, Plan, PlanError, RuleSet, Score, Values};
use balai_store::contest::{self as store, EvidenceRow, Submitted, TaskRow, ValueRow};
use balai_store::{ReadConn, WriteTx};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use uuid::Uuid;

mod evidence;
mod measures;
mod plan;
mod report;

pub use evidence::{
    attach, detach, evidence_file, AttachArgs, DetachArgs, EvidenceFile, FileArgs,
    EVIDENCE_MAX_BYTES,
};
use evidence::{attach_in, prepare_evidence};
use measures::measure;
pub use measures::Measured;
pub use plan::{accept_plan, plan, set_effort, tasks, EffortArgs, PlanArgs, TaskView};
pub use report::{report, ReportArgs};

/// Every shipped edition, checked once (the tests check them at build time too).
fn shipped() -> Result<&'static [RuleSet], ApiError> {
    static LOADED: OnceLock<Result<Vec<RuleSet>, String>> = OnceLock::new();
    LOADED
        .get_or_init(|| balai_contest::load_shipped().map_err(|e| e.to_string()))
        .as_deref()
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.clone()))
}

/// An edition the city published, parsed once per text (editions never change, so a text is
/// parsed once per run and kept: a handful a year).
fn published(key: &str, body: &str) -> Option<&'static RuleSet> {
    use std::sync::Mutex;
    static PARSED: OnceLock<Mutex<BTreeMap<String, Option<&'static RuleSet>>>> = OnceLock::new();
    let sha = balai_domain::sha256_hex(body.as_bytes());
    let mut parsed = PARSED.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    *parsed.entry(sha).or_insert_with(|| {
        // The city checked it before publishing; a text this build cannot read is passed over.
        RuleSet::parse(key, body).ok().map(|rs| &*Box::leak(Box::new(rs)))
    })
}

/// Every edition this PC knows: shipped with this build, then those the city published (the
/// year's guidelines, from the reference feed).
fn known(c: &ReadConn) -> Result<Vec<&'static RuleSet>, ApiError> {
    let mut all: Vec<&'static RuleSet> = shipped()?.iter().collect();
    for (key, body) in store::editions(c)? {
        if let Some(rs) = published(&key, &body) {
            if !all.iter().any(|r| r.id == rs.id && r.edition == rs.edition) {
                all.push(rs);
            }
        }
    }
    Ok(all)
}

/// The rule set ids among `all`, each once, in the order first seen.
fn ids(all: &[&'static RuleSet]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for r in all {
        if !out.contains(&r.id.as_str()) {
            out.push(r.id.as_str());
        }
    }
    out
}

fn unknown_ruleset(all: &[&'static RuleSet], id: &str) -> ApiError {
    let known = ids(all);
    ApiError::field(
        "ruleset",
        "unknown",
        format!("Jenis penilaian `{id}` tidak dikenal (yang ada: {}).", known.join(", ")),
    )
}

/// An edition of a rule set: the one named, or the latest no newer than `period` (else the
/// oldest).
fn edition_of(
    known: &[&'static RuleSet],
    id: &str,
    edition: Option<&str>,
    period: Option<i32>,
) -> Result<&'static RuleSet, ApiError> {
    let all: Vec<&'static RuleSet> = known.iter().copied().filter(|r| r.id == id).collect();
    if all.is_empty() {
        return Err(unknown_ruleset(known, id));
    }
    if let Some(e) = edition {
        return all.into_iter().find(|r| r.edition == e).ok_or_else(|| {
            ApiError::field("edition", "unknown", format!("Edisi `{e}` dari `{id}` tidak ada."))
        });
    }
    let year = |r: &RuleSet| r.edition.parse::<i32>().unwrap_or(0);
    let mut sorted = all;
    sorted.sort_by_key(|r| year(r));
    let chosen = match period {
        Some(p) => sorted.iter().rev().find(|r| year(r) <= p).or(sorted.first()),
        None => sorted.last(),
    };
    chosen.copied().ok_or_else(|| unknown_ruleset(known, id))
}

fn check_period(period: i32) -> Result<i32, ApiError> {
    if (2000..=2100).contains(&period) {
        Ok(period)
    } else {
        Err(ApiError::field("period", "range", "Periode adalah tahun, 2000–2100."))
    }
}

/// The rule set meant when none is named: the only one (at the edition for `period`) that
/// `fits`.
fn infer_ruleset(
    known: &[&'static RuleSet],
    named: Option<&str>,
    period: i32,
    what: &str,
    fits: impl Fn(&RuleSet) -> bool,
) -> Result<String, ApiError> {
    if let Some(id) = named.map(str::trim).filter(|s| !s.is_empty()) {
        return Ok(id.to_string());
    }
    let mut fitting = Vec::new();
    for id in ids(known) {
        if fits(edition_of(known, id, None, Some(period))?) {
            fitting.push(id);
        }
    }
    match fitting.as_slice() {
        [one] => Ok(one.to_string()),
        [] => Err(ApiError::field(
            "ruleset",
            "required",
            format!("Tidak ada jenis penilaian dengan {what}."),
        )),
        many => Err(ApiError::field(
            "ruleset",
            "ambiguous",
            format!("{what} ada di beberapa penilaian ({}): sebutkan jenisnya.", many.join(", ")),
        )),
    }
}

/// The edition a period is scored under: that of its values, else by its year.
fn period_edition(c: &ReadConn, id: &str, period: i32) -> Result<&'static RuleSet, ApiError> {
    edition_for(&known(c)?, c, id, period)
}

/// [`period_edition`] among editions already read (a scorecard looks up several periods).
fn edition_for(
    all: &[&'static RuleSet],
    c: &ReadConn,
    id: &str,
    period: i32,
) -> Result<&'static RuleSet, ApiError> {
    match store::values(c, id, period)?.first() {
        Some(r) => edition_of(all, id, Some(&r.edition), None),
        None => edition_of(all, id, None, Some(period)),
    }
}

/// A number as Indonesians write it, with `places` decimals after a comma.
fn comma(x: f64, places: usize) -> String {
    format!("{x:.places$}").replace('.', ",")
}

// ---- rule sets --------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BandView {
    pub name: String,
    pub from: f64,
    /// `None` for the top band.
    pub below: Option<f64>,
    pub source: Source,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RulesetSummary {
    pub id: String,
    pub edition: String,
    pub editions: Vec<String>,
    pub title: String,
    pub regulation: String,
    pub notes: String,
    pub indicators: usize,
    pub areas: Vec<String>,
    pub max_total: f64,
    pub decimals: u8,
    pub bands: Vec<BandView>,
}

fn bands(rs: &RuleSet) -> Vec<BandView> {
    rs.bands
        .iter()
        .map(|b| BandView {
            name: b.name.clone(),
            from: rs.total_of(b.from_units),
            below: b.below_units.map(|u| rs.total_of(u)),
            source: b.source,
        })
        .collect()
}

fn summary(known: &[&'static RuleSet], rs: &RuleSet) -> Result<RulesetSummary, ApiError> {
    let editions = known.iter().filter(|r| r.id == rs.id).map(|r| r.edition.clone()).collect();
    Ok(RulesetSummary {
        id: rs.id.clone(),
        edition: rs.edition.clone(),
        editions,
        title: rs.title.clone(),
        regulation: rs.regulation.clone(),
        notes: rs.notes.clone(),
        indicators: rs.indicators.len(),
        areas: rs.areas.iter().map(|a| a.name.clone()).collect(),
        max_total: rs.total_of(rs.max_units()),
        decimals: rs.decimals,
        bands: bands(rs),
    })
}

/// The rule sets this build knows, each at its latest edition.
pub fn list_rulesets(
    app: &App,
    ctx: &Ctx,
    _a: super::NoArgs,
) -> Result<Vec<RulesetSummary>, ApiError> {
    ctx.actor()?;
    let all = app.store.read(known)?;
    ids(&all).iter().map(|id| summary(&all, edition_of(&all, id, None, None)?)).collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesetArgs {
    pub ruleset: String,
    #[serde(default)]
    pub edition: Option<String>,
}

/// A whole edition: areas, aspects, indicators with their scales and weights.
pub fn ruleset(app: &App, ctx: &Ctx, a: RulesetArgs) -> Result<RuleSet, ApiError> {
    ctx.actor()?;
    let all = app.store.read(known)?;
    Ok(edition_of(&all, a.ruleset.trim(), a.edition.as_deref(), None)?.clone())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandArgs {
    pub ruleset: String,
    #[serde(default)]
    pub edition: Option<String>,
    pub score: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BandAnswer {
    pub ruleset: String,
    pub edition: String,
    /// The score as the rule set shows it (rounded to its decimals).
    pub score: f64,
    pub band: String,
}

/// The band of a total under a rule set (`balai contest band`).
pub fn band(app: &App, ctx: &Ctx, a: BandArgs) -> Result<BandAnswer, ApiError> {
    ctx.actor()?;
    let all = app.store.read(known)?;
    let rs = edition_of(&all, a.ruleset.trim(), a.edition.as_deref(), None)?;
    let max = rs.total_of(rs.max_units());
    if !a.score.is_finite() || a.score < 0.0 || a.score > max {
        return Err(ApiError::field("score", "range", format!("Nilai harus antara 0 dan {max}.")));
    }
    let units = rs.units_of(a.score);
    let band = rs.band_of_units(units).map(|b| rs.bands[b].name.clone()).unwrap_or_default();
    Ok(BandAnswer {
        ruleset: rs.id.clone(),
        edition: rs.edition.clone(),
        score: rs.total_of(units),
        band,
    })
}

// ---- a period's scorecard ------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvidenceView {
    pub id: String,
    pub sha256: String,
    pub file_name: String,
    pub media_type: String,
    pub size: u64,
    /// A thumbnail exists (`contest.evidence_file {thumbnail: true}`).
    pub thumbnail: bool,
    pub added_by: String,
    pub added_at_ms: u64,
}

fn evidence_view(e: EvidenceRow) -> EvidenceView {
    EvidenceView {
        id: e.id.to_string(),
        sha256: e.sha256,
        file_name: e.file_name,
        media_type: e.media_type,
        size: e.size,
        thumbnail: e.thumbnail,
        added_by: e.added_by,
        added_at_ms: e.added_at_ms,
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndicatorView {
    pub id: String,
    pub name: String,
    pub area: String,
    pub aspect: String,
    /// The weight as the file writes it (percent for SPBE; 1 per point for a points rule set).
    pub weight: f64,
    pub options: Vec<i64>,
    pub labels: Vec<String>,
    pub descriptions: Vec<String>,
    pub value: Option<i64>,
    pub value_label: Option<String>,
    /// The value in the period before.
    pub previous: Option<i64>,
    pub note: String,
    pub entered_by: String,
    pub entered_at_ms: Option<u64>,
    /// Set for an indicator the register answers: its measure and how it was computed.
    pub computed: Option<Measured>,
    pub evidence_expected: Vec<String>,
    pub evidence: Vec<EvidenceView>,
    /// The planner's effort per step.
    pub effort: u32,
    pub source: Source,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeriodTotal {
    pub period: i32,
    pub total: f64,
    pub band: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProfileRow {
    pub measure: String,
    pub label: String,
    pub previous: Option<f64>,
    pub current: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmittedView {
    pub total: f64,
    pub band: String,
    pub submitted_by: String,
    pub submitted_at_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Scorecard {
    pub ruleset: RulesetSummary,
    pub period: i32,
    pub score: Score,
    pub previous: Option<PeriodTotal>,
    /// The total minus the previous period's.
    pub change: Option<f64>,
    /// Each area's percent of its most in the period before (empty when it has no values):
    /// the radar chart's second outline.
    pub previous_percent: Vec<f64>,
    pub indicators: Vec<IndicatorView>,
    pub readiness: Vec<Gap>,
    pub profile: Vec<ProfileRow>,
    /// Every period with values, oldest first (this one included).
    pub trend: Vec<PeriodTotal>,
    pub submitted: Option<SubmittedView>,
}

/// The values a period scores with: typed ones, and computed ones from the register.
struct PeriodValues {
    values: Values,
    rows: BTreeMap<String, ValueRow>,
    computed: BTreeMap<String, Measured>,
}

fn period_values(
    app: &App,
    c: &ReadConn,
    rs: &RuleSet,
    period: i32,
) -> Result<PeriodValues, ApiError> {
    let rows: BTreeMap<String, ValueRow> =
        store::values(c, &rs.id, period)?.into_iter().map(|r| (r.indicator.clone(), r)).collect();
    let mut values = Values::new();
    let mut computed = BTreeMap::new();
    for ind in &rs.indicators {
        match &ind.computed {
            Some(rule) => {
                let m = measure(app, c, rule.measure, period)?;
                if let Some(v) = m.figure.and_then(|f| ind.value_for(f)) {
                    values.insert(ind.id.clone(), v);
                }
                computed.insert(ind.id.clone(), m);
            }
            None => {
                if let Some(v) = rows.get(&ind.id).and_then(|r| r.value) {
                    values.insert(ind.id.clone(), v);
                }
            }
        }
    }
    Ok(PeriodValues { values, rows, computed })
}

fn total_of(
    app: &App,
    c: &ReadConn,
    all: &[&'static RuleSet],
    id: &str,
    period: i32,
) -> Result<PeriodTotal, ApiError> {
    let rs = edition_for(all, c, id, period)?;
    let s = balai_contest::score(rs, &period_values(app, c, rs, period)?.values);
    Ok(PeriodTotal { period, total: s.total, band: s.band.map(|b| b.name) })
}

fn scorecard_in(app: &App, c: &ReadConn, id: &str, period: i32) -> Result<Scorecard, ApiError> {
    let all = known(c)?;
    let rs = edition_for(&all, c, id, period)?;
    let now = period_values(app, c, rs, period)?;
    let before = period_values(app, c, rs, period - 1)?;
    let score = balai_contest::score(rs, &now.values);
    let previous_percent = if before.values.is_empty() {
        Vec::new()
    } else {
        balai_contest::score(rs, &before.values).areas.iter().map(|a| a.percent).collect()
    };
    let mut by_indicator: BTreeMap<String, Vec<EvidenceView>> = BTreeMap::new();
    for e in store::evidence(c, &rs.id, period)? {
        by_indicator.entry(e.indicator.clone()).or_default().push(evidence_view(e));
    }
    let counts = by_indicator.iter().map(|(k, v)| (k.clone(), v.len())).collect();
    let efforts: BTreeMap<String, u32> = store::efforts(c, &rs.id)?.into_iter().collect();
    let indicators = rs
        .indicators
        .iter()
        .map(|i| {
            let row = now.rows.get(&i.id);
            let value = now.values.get(&i.id).copied();
            IndicatorView {
                id: i.id.clone(),
                name: i.name.clone(),
                area: rs.areas[i.area].name.clone(),
                aspect: rs.areas[i.area].aspects[i.aspect].name.clone(),
                weight: i.weight_units as f64 / balai_contest::ruleset::UNITS as f64,
                options: i.scale.options.clone(),
                labels: i.scale.labels.clone(),
                descriptions: i.scale.descriptions.clone(),
                value,
                value_label: value
                    .and_then(|v| i.scale.position(v))
                    .map(|p| i.scale.labels[p].clone()),
                previous: before.values.get(&i.id).copied(),
                note: row.map(|r| r.note.clone()).unwrap_or_default(),
                entered_by: row.map(|r| r.entered_by.clone()).unwrap_or_default(),
                entered_at_ms: row.map(|r| r.entered_at_ms),
                computed: now.computed.get(&i.id).cloned(),
                evidence_expected: i.evidence.clone(),
                evidence: by_indicator.remove(&i.id).unwrap_or_default(),
                effort: efforts.get(&i.id).copied().unwrap_or(balai_contest::plan::DEFAULT_EFFORT),
                source: i.source,
            }
        })
        .collect();
    let readiness = balai_contest::readiness(rs, &now.values, &counts);
    let mut trend = Vec::new();
    let mut periods = store::periods(c, &rs.id)?;
    if !periods.contains(&period) {
        periods.push(period);
        periods.sort_unstable();
    }
    for p in periods {
        trend.push(total_of(app, c, &all, &rs.id, p)?);
    }
    let previous = trend.iter().rev().find(|t| t.period < period).cloned();
    let change = previous.as_ref().map(|p| {
        let f = 10f64.powi(i32::from(rs.decimals));
        ((score.total - p.total) * f).round() / f
    });
    let mut profile = Vec::new();
    for f in &rs.profile {
        profile.push(ProfileRow {
            measure: f.measure.key().into(),
            label: f.label.clone(),
            previous: measure(app, c, f.measure, period - 1)?.figure,
            current: measure(app, c, f.measure, period)?.figure,
        });
    }
    let submitted = store::submitted(c, &rs.id, period)?.map(|s| SubmittedView {
        total: s.total,
        band: s.band,
        submitted_by: s.submitted_by,
        submitted_at_ms: s.submitted_at_ms,
    });
    Ok(Scorecard {
        ruleset: summary(&all, rs)?,
        period,
        score,
        previous,
        change,
        previous_percent,
        indicators,
        readiness,
        profile,
        trend,
        submitted,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodArgs {
    pub ruleset: String,
    pub period: i32,
}

/// A period's scorecard.
pub fn score(app: &App, ctx: &Ctx, a: PeriodArgs) -> Result<Scorecard, ApiError> {
    ctx.actor()?;
    let period = check_period(a.period)?;
    app.store.read(|c| scorecard_in(app, c, a.ruleset.trim(), period))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearArgs {
    pub period: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Overview {
    pub ruleset: String,
    pub edition: String,
    pub title: String,
    pub total: f64,
    pub max_total: f64,
    pub band: Option<String>,
    pub next: Option<balai_contest::score::NextBand>,
    pub filled: usize,
    pub indicators: usize,
    /// Indicators still lacking a value or evidence.
    pub lacking: usize,
    pub submitted: bool,
}

/// Every rule set's total for a period: the scorecards page's overview.
pub fn scores(app: &App, ctx: &Ctx, a: YearArgs) -> Result<Vec<Overview>, ApiError> {
    ctx.actor()?;
    let period = check_period(a.period)?;
    app.store.read(|c| {
        ids(&known(c)?)
            .iter()
            .map(|id| {
                let card = scorecard_in(app, c, id, period)?;
                Ok(Overview {
                    ruleset: card.ruleset.id,
                    edition: card.ruleset.edition,
                    title: card.ruleset.title,
                    total: card.score.total,
                    max_total: card.score.max_total,
                    band: card.score.band.map(|b| b.name),
                    next: card.score.next,
                    filled: card.score.filled,
                    indicators: card.score.indicators,
                    lacking: card.readiness.len(),
                    submitted: card.submitted.is_some(),
                })
            })
            .collect()
    })
}

// ---- entering values and evidence ----------------------------------------------------------------

/// The office's Kemendagri code: part of every value's row id.
fn office_code(c: &ReadConn) -> Result<String, ApiError> {
    balai_store::profile::get(c)?
        .map(|p| p.kelurahan_code)
        .ok_or_else(|| ApiError::new(ErrorCode::NotInitialized, "Profil kantor belum diisi."))
}

fn refuse_if_submitted(c: &ReadConn, ruleset: &str, period: i32) -> Result<(), ApiError> {
    if let Some(s) = store::submitted(c, ruleset, period)? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "Periode {period} sudah dikirim (nilai {} {}); tidak dapat diubah lagi.",
                s.total, s.band
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetArgs {
    /// Optional when only one rule set has the indicator.
    #[serde(default)]
    pub ruleset: Option<String>,
    pub period: i32,
    pub indicator: String,
    /// `null` clears the value.
    pub value: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
    /// Evidence files attached in the same transaction.
    #[serde(default)]
    pub evidence: Vec<NewEvidence>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEvidence {
    pub file_name: String,
    pub data_base64: String,
}

/// Enters (or clears) an indicator's value for a period.
pub fn set(app: &App, ctx: &Ctx, a: SetArgs) -> Result<IndicatorView, ApiError> {
    let actor = ctx.actor()?;
    let period = check_period(a.period)?;
    let indicator = a.indicator.trim().to_string();
    let all = app.store.read(known)?;
    let what = format!("indikator {indicator}");
    let id = &infer_ruleset(&all, a.ruleset.as_deref(), period, &what, |r| {
        r.indicator(&indicator).is_some()
    })?;
    let files = a.evidence.iter().map(prepare_evidence).collect::<Result<Vec<_>, _>>()?;
    let note = a.note.unwrap_or_default().trim().to_string();
    if note.chars().count() > 1000 {
        return Err(ApiError::field("note", "too_long", "Catatan paling banyak 1.000 huruf."));
    }
    app.write(actor, |tx| {
        refuse_if_submitted(tx, id, period)?;
        let rs = period_edition(tx, id, period)?;
        let (_, ind) = rs.indicator(&indicator).ok_or_else(|| {
            ApiError::field("indicator", "unknown", format!("Indikator `{indicator}` tidak ada di {} {}.", rs.title, rs.edition))
        })?;
        if ind.computed.is_some() {
            return Err(ApiError::field(
                "value",
                "computed",
                format!("Indikator {indicator} dihitung dari register dan buku surat; tidak diisi tangan."),
            ));
        }
        if let Some(v) = a.value {
            if ind.scale.position(v).is_none() {
                let allowed = ind.scale.options.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                return Err(ApiError::field("value", "not_an_option", format!("Nilai {v} tidak ada pada skala indikator {indicator} (pilihan: {allowed}).")));
            }
        }
        store::set_value(
            tx,
            store::value_id(&office_code(tx)?, &rs.id, period, &indicator),
            &ValueRow {
                ruleset: rs.id.clone(),
                edition: rs.edition.clone(),
                period,
                indicator: indicator.clone(),
                value: a.value,
                note: note.clone(),
                entered_by: actor.name.clone(),
                entered_at_ms: app.now().timestamp_millis().max(0) as u64,
            },
        )?;
        for f in &files {
            attach_in(tx, app, actor, rs, period, &indicator, f)?;
        }
        store::close_reached_tasks(tx, &rs.id, period, app.now().timestamp_millis().max(0) as u64)?;
        let shown = a.value.map_or_else(|| "kosong".to_string(), |v| v.to_string());
        audit::record_in(tx, app, actor, "contest.set", "contest_value", &format!("{}/{period}/{indicator}", rs.id), &shown)?;
        Ok(())
    })?;
    indicator_of(app, id, period, &indicator)
}

fn indicator_of(
    app: &App,
    id: &str,
    period: i32,
    indicator: &str,
) -> Result<IndicatorView, ApiError> {
    let card = app.store.read(|c| scorecard_in(app, c, id, period))?;
    card.indicators
        .into_iter()
        .find(|i| i.id == indicator)
        .ok_or_else(|| ApiError::not_found("Indikator"))
}

// ---- submitting and the jury's report -----------------------------------------------------------

/// Submits a period: locks it here and tells the city (which passes it on to the office's other
/// PCs). Refused while an indicator lacks a value or expected evidence.
pub fn submit(app: &App, ctx: &Ctx, a: PeriodArgs) -> Result<Scorecard, ApiError> {
    let actor = ctx.actor()?;
    let period = check_period(a.period)?;
    let id = a.ruleset.trim();
    app.write(actor, |tx| {
        refuse_if_submitted(tx, id, period)?;
        let card = scorecard_in(app, tx, id, period)?;
        if let Some(first) = card.readiness.first() {
            return Err(ApiError::field(
                "readiness",
                "not_ready",
                format!(
                    "Belum dapat dikirim: {} indikator belum lengkap (mis. {} — {}).",
                    card.readiness.len(),
                    first.indicator,
                    if first.lacks_value { "belum ada nilai" } else { "belum ada bukti" }
                ),
            ));
        }
        let submitted_at_ms = app.now().timestamp_millis().max(0) as u64;
        let band = card.score.band.as_ref().map(|b| b.name.clone()).unwrap_or_default();
        let s = Submitted {
            edition: card.ruleset.edition.clone(),
            total: card.score.total,
            band: band.clone(),
            submitted_by: actor.name.clone(),
            submitted_at_ms,
        };
        store::submit(tx, &card.ruleset.id, period, &s)?;
        let command = balai_protocol::SubmitContestPeriod {
            ruleset: card.ruleset.id.clone(),
            edition: s.edition.clone(),
            period,
            total: s.total,
            band,
            submitted_by: s.submitted_by.clone(),
            submitted_at_ms,
        };
        let row = store::value_id(&office_code(tx)?, &card.ruleset.id, period, "");
        balai_store::sync::append_command(
            tx,
            balai_protocol::SUBMIT_CONTEST_PERIOD,
            row,
            &command,
        )?;
        audit::record_in(
            tx,
            app,
            actor,
            "contest.submit",
            "contest_period",
            &format!("{id}/{period}"),
            &format!("{} {}", s.total, s.band),
        )
    })?;
    app.store.read(|c| scorecard_in(app, c, id, period))
}
