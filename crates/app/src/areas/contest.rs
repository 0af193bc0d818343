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
    let all = known(c)?;
    let rows = store::values(c, id, period)?;
    match rows.first() {
        Some(r) => edition_of(&all, id, Some(&r.edition), None),
        None => edition_of(&all, id, None, Some(period)),
    }
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

// ---- the register's measures -------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    pub measure: String,
    /// `None`: nothing to measure yet (no letter issued in the period, say).
    pub figure: Option<f64>,
    /// How it was computed, in Indonesian.
    pub explanation: String,
}

fn measure(app: &App, c: &ReadConn, m: Measure, period: i32) -> Result<Measured, ApiError> {
    let from = format!("{period}-01-01");
    let to = format!("{period}-12-31");
    let before = format!("{}-12-31", period - 1);
    let far = "9999-12-31";
    let today = app.today();
    let past = today.format("%Y-%m-%d").to_string() > to;
    let events = |kinds: &[&str]| -> Result<i64, ApiError> {
        Ok(balai_store::reports::events_between(c, kinds, &before, &to)?.total())
    };
    let count = |n: i64, what: &str| Measured {
        measure: m.key().into(),
        figure: Some(n as f64),
        explanation: format!(
            "{n} {what} tercatat di register dengan tanggal peristiwa tahun {period}."
        ),
    };
    Ok(match m {
        Measure::Population => {
            let now = balai_store::reports::living_now(c)?.total();
            let (n, how) = if past {
                let arrivals =
                    balai_store::reports::events_between(c, &["lahir", "pindah_masuk"], &to, far)?
                        .total();
                let departures = balai_store::reports::events_between(
                    c,
                    &["mati", "pindah_keluar", "hilang", "pergi"],
                    &to,
                    far,
                )?
                .total();
                (
                    now - arrivals + departures,
                    format!(
                        "penduduk hidup hari ini ({now}) dikurangi {arrivals} kelahiran/kedatangan dan ditambah {departures} kematian/kepindahan sesudah 31-12-{period}"
                    ),
                )
            } else {
                (now, "penduduk berstatus hidup di register hari ini".into())
            };
            Measured {
                measure: m.key().into(),
                figure: Some(n as f64),
                explanation: format!("{n}: {how}."),
            }
        }
        Measure::Families => {
            let n = store::families_now(c)?;
            Measured {
                measure: m.key().into(),
                figure: Some(n as f64),
                explanation: format!(
                    "{n} KK dengan sedikitnya satu anggota hidup di register hari ini."
                ),
            }
        }
        Measure::Births => count(events(&["lahir"])?, "kelahiran"),
        Measure::Deaths => count(events(&["mati"])?, "kematian"),
        Measure::MovesIn => count(events(&["pindah_masuk"])?, "kedatangan"),
        Measure::MovesOut => count(events(&["pindah_keluar"])?, "kepindahan"),
        Measure::LettersIssued => {
            let n = store::letters_issued(c, &from, &to)?;
            Measured {
                measure: m.key().into(),
                figure: Some(n as f64),
                explanation: format!("{n} surat terbit bernomor di buku agenda tahun {period}."),
            }
        }
        Measure::MedianRequestToIssueHours => {
            let mut hours = store::request_to_issue_hours(c, &from, &to)?;
            hours.sort_by(f64::total_cmp);
            let n = hours.len();
            let median = match n {
                0 => None,
                _ if n % 2 == 1 => Some(hours[n / 2]),
                _ => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
            };
            let median = median.map(|h| (h * 10.0).round() / 10.0);
            Measured {
                measure: m.key().into(),
                figure: median,
                explanation: match median {
                    Some(h) => format!(
                        "Median {} jam dari permohonan dicatat sampai surat terbit, dari {n} surat terbit tahun {period}.",
                        id_number(h)
                    ),
                    None => format!("Belum ada surat terbit tahun {period}."),
                },
            }
        }
        Measure::OnlineRequestSharePercent => {
            let offset = i64::from(app.utc_offset_s.load(std::sync::atomic::Ordering::Relaxed));
            let start = |y: i32| {
                chrono::NaiveDate::from_ymd_opt(y, 1, 1)
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map_or(0, |t| t.and_utc().timestamp_millis() - offset * 1000)
            };
            let (online, letters) =
                store::requests_by_channel(c, start(period), start(period + 1), &from, &to)?;
            let share = (online + letters > 0).then(|| {
                (100.0 * online as f64 / letters.max(online) as f64 * 10.0).round() / 10.0
            });
            Measured {
                measure: m.key().into(),
                figure: share,
                explanation: match share {
                    Some(s) => format!(
                        "{} %: {online} permohonan daring dari {} permohonan surat tahun {period}.",
                        id_number(s),
                        letters.max(online)
                    ),
                    None => format!("Belum ada permohonan surat tahun {period}."),
                },
            }
        }
    })
}

/// A number as Indonesians write it: a decimal comma.
fn id_number(x: f64) -> String {
    let s = if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.1}") };
    s.replace('.', ",")
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

fn total_of(app: &App, c: &ReadConn, id: &str, period: i32) -> Result<PeriodTotal, ApiError> {
    let rs = period_edition(c, id, period)?;
    let s = balai_contest::score(rs, &period_values(app, c, rs, period)?.values);
    Ok(PeriodTotal { period, total: s.total, band: s.band.map(|b| b.name) })
}

fn scorecard_in(app: &App, c: &ReadConn, id: &str, period: i32) -> Result<Scorecard, ApiError> {
    let rs = period_edition(c, id, period)?;
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
        trend.push(total_of(app, c, &rs.id, p)?);
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
        ruleset: summary(&known(c)?, rs)?,
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

/// The largest evidence file taken: a scanned decree or a phone photo fits well under it.
pub const EVIDENCE_MAX_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachArgs {
    pub ruleset: String,
    pub period: i32,
    pub indicator: String,
    pub file_name: String,
    pub data_base64: String,
}

/// An evidence file checked and ready to store.
struct Prepared {
    bytes: Vec<u8>,
    media_type: &'static str,
    file_name: String,
    thumbnail: Option<Vec<u8>>,
    sha256: String,
}

/// Decodes and checks an evidence file: PDF, PNG or JPEG, at most 10 MB, named.
fn prepare_evidence(f: &NewEvidence) -> Result<Prepared, ApiError> {
    use base64::Engine;
    let bytes =
        base64::engine::general_purpose::STANDARD.decode(f.data_base64.trim()).map_err(|_| {
            ApiError::field("file", "base64", "Isi berkas bukti tidak terbaca (base64).")
        })?;
    if bytes.is_empty() {
        return Err(ApiError::field("file", "empty", "Berkas bukti kosong."));
    }
    if bytes.len() > EVIDENCE_MAX_BYTES {
        return Err(ApiError::field("file", "too_large", "Berkas bukti paling besar 10 MB."));
    }
    let media_type = if bytes.starts_with(b"%PDF-") {
        "application/pdf"
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png"
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else {
        return Err(ApiError::field("file", "type", "Bukti harus berupa PDF, PNG atau JPEG."));
    };
    // Only the name itself: a path sent along (C:\…\foto.jpg, ../../x) is not kept.
    let file_name: String = f
        .file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    if file_name.is_empty() || file_name == "." || file_name == ".." {
        return Err(ApiError::field("file_name", "required", "Nama berkas bukti wajib diisi."));
    }
    let thumbnail = match media_type {
        // A scanned PDF shows its page; a PDF of text has no thumbnail (the UI shows "PDF").
        "application/pdf" => super::scan::pdf_thumbnail(&bytes),
        _ => Some(
            super::scan::thumbnail_png(&bytes)
                .map_err(|e| ApiError::field("file", "image_unreadable", e.message))?,
        ),
    };
    let sha256 = balai_domain::sha256_hex(&bytes);
    Ok(Prepared { bytes, media_type, file_name, thumbnail, sha256 })
}

fn attach_in(
    tx: &WriteTx,
    app: &App,
    actor: &Actor,
    rs: &RuleSet,
    period: i32,
    indicator: &str,
    f: &Prepared,
) -> Result<EvidenceRow, ApiError> {
    if rs.indicator(indicator).is_none() {
        return Err(ApiError::field(
            "indicator",
            "unknown",
            format!("Indikator `{indicator}` tidak ada di {} {}.", rs.title, rs.edition),
        ));
    }
    let row = EvidenceRow {
        id: app.new_id(),
        ruleset: rs.id.clone(),
        period,
        indicator: indicator.to_string(),
        sha256: f.sha256.clone(),
        file_name: f.file_name.clone(),
        media_type: f.media_type.into(),
        size: f.bytes.len() as u64,
        thumbnail: f.thumbnail.is_some(),
        added_by: actor.name.clone(),
        added_at_ms: app.now().timestamp_millis().max(0) as u64,
    };
    store::put_file(tx, &f.sha256, f.media_type, &f.bytes, f.thumbnail.as_deref())?;
    if !store::attach(tx, &row)? {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("Berkas {} sudah menjadi bukti indikator {indicator}.", f.file_name),
        ));
    }
    audit::record_in(
        tx,
        app,
        actor,
        "contest.attach",
        "contest_evidence",
        &row.id.to_string(),
        &format!("{}/{period}/{indicator} {}", rs.id, f.sha256),
    )?;
    Ok(row)
}

/// Attaches an evidence file (PDF, PNG or JPEG) to an indicator of a period.
pub fn attach(app: &App, ctx: &Ctx, a: AttachArgs) -> Result<EvidenceView, ApiError> {
    let actor = ctx.actor()?;
    let period = check_period(a.period)?;
    let id = a.ruleset.trim();
    let f = prepare_evidence(&NewEvidence { file_name: a.file_name, data_base64: a.data_base64 })?;
    let indicator = a.indicator.trim();
    let row = app.write(actor, |tx| {
        refuse_if_submitted(tx, id, period)?;
        let rs = period_edition(tx, id, period)?;
        attach_in(tx, app, actor, rs, period, indicator, &f)
    })?;
    Ok(evidence_view(row))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetachArgs {
    pub id: String,
}

/// Removes an evidence file from its indicator (the bytes go when nothing else uses them).
pub fn detach(app: &App, ctx: &Ctx, a: DetachArgs) -> Result<(), ApiError> {
    let actor = ctx.actor()?;
    let id = Uuid::parse_str(a.id.trim())
        .map_err(|_| ApiError::field("id", "id", "Nomor bukti tidak sah."))?;
    app.write(actor, |tx| {
        let (ruleset, period, sha) =
            store::evidence_by_id(tx, id)?.ok_or_else(|| ApiError::not_found("Bukti"))?;
        refuse_if_submitted(tx, &ruleset, period)?;
        store::detach(tx, id)?;
        audit::record_in(
            tx,
            app,
            actor,
            "contest.detach",
            "contest_evidence",
            &id.to_string(),
            &sha,
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileArgs {
    pub sha256: String,
    /// The small PNG of a photo instead of the file.
    #[serde(default)]
    pub thumbnail: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvidenceFile {
    pub media_type: String,
    pub content_base64: String,
}

/// An evidence file's bytes (or its thumbnail), to show or open.
pub fn evidence_file(app: &App, ctx: &Ctx, a: FileArgs) -> Result<EvidenceFile, ApiError> {
    use base64::Engine;
    ctx.actor()?;
    let (media_type, bytes, thumb) = app
        .store
        .read(|c| Ok::<_, ApiError>(store::file(c, a.sha256.trim())?))?
        .ok_or_else(|| ApiError::not_found("Berkas bukti"))?;
    let (media_type, bytes) = match (a.thumbnail, thumb) {
        (true, Some(t)) => ("image/png".to_string(), t),
        (true, None) => {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                "Berkas ini tidak bergambar kecil (PDF).",
            ))
        }
        (false, _) => (media_type, bytes),
    };
    Ok(EvidenceFile {
        media_type,
        content_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

// ---- the planner ---------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffortArgs {
    pub ruleset: String,
    pub indicator: String,
    pub effort: u32,
}

/// Sets the effort of raising an indicator by one step (for the planner).
pub fn set_effort(app: &App, ctx: &Ctx, a: EffortArgs) -> Result<(), ApiError> {
    let actor = ctx.actor()?;
    let all = app.store.read(known)?;
    let rs = edition_of(&all, a.ruleset.trim(), None, None)?;
    let indicator = a.indicator.trim();
    if rs.indicator(indicator).is_none() {
        return Err(ApiError::field(
            "indicator",
            "unknown",
            format!("Indikator `{indicator}` tidak ada di {}.", rs.title),
        ));
    }
    if a.effort > balai_contest::plan::MAX_EFFORT {
        return Err(ApiError::field(
            "effort",
            "range",
            format!("Upaya per langkah 0–{}.", balai_contest::plan::MAX_EFFORT),
        ));
    }
    app.write(actor, |tx| {
        store::set_effort(tx, &rs.id, indicator, a.effort)?;
        audit::record_in(
            tx,
            app,
            actor,
            "contest.set_effort",
            "contest_effort",
            &format!("{}/{indicator}", rs.id),
            &a.effort.to_string(),
        )
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanArgs {
    /// Optional when only one rule set has the target band.
    #[serde(default)]
    pub ruleset: Option<String>,
    pub period: i32,
    /// The band to reach at least effort; or
    #[serde(default)]
    pub target: Option<String>,
    /// the most effort to spend for the best total.
    #[serde(default)]
    pub budget: Option<u64>,
}

fn plan_error(e: PlanError) -> ApiError {
    match e {
        PlanError::UnknownBand(b) => ApiError::field("target", "unknown", format!("Predikat `{b}` tidak ada pada penilaian ini.")),
        PlanError::Unreachable { band, best } => ApiError::field(
            "target",
            "band_unreachable",
            format!("Predikat {band} tidak tercapai: dengan semua indikator di tingkat tertinggi nilainya {best}."),
        ),
        PlanError::UnknownIndicator(i) => ApiError::field(
            "indicator",
            "unknown",
            format!("Indikator `{i}` tidak ada pada penilaian ini."),
        ),
        PlanError::EffortTooHigh { indicator, effort } => ApiError::field(
            "effort",
            "range",
            format!(
                "Upaya {effort} per langkah untuk {indicator} melebihi {}.",
                balai_contest::plan::MAX_EFFORT
            ),
        ),
        PlanError::TooLarge(total) => ApiError::field(
            "effort",
            "too_large",
            format!("Jumlah upaya ({total}) terlalu besar untuk dihitung; kecilkan angka upaya."),
        ),
    }
}

fn plan_ruleset(c: &ReadConn, a: &PlanArgs, period: i32) -> Result<String, ApiError> {
    let target = a.target.clone().unwrap_or_default();
    let all = known(c)?;
    infer_ruleset(&all, a.ruleset.as_deref(), period, &format!("predikat {target}"), |r| {
        r.band_index(&target).is_some()
    })
}

fn plan_in(app: &App, c: &ReadConn, a: &PlanArgs) -> Result<Plan, ApiError> {
    let period = check_period(a.period)?;
    let rs = period_edition(c, &plan_ruleset(c, a, period)?, period)?;
    let values = period_values(app, c, rs, period)?.values;
    let efforts: Efforts = store::efforts(c, &rs.id)?.into_iter().collect();
    match (&a.target, a.budget) {
        (Some(t), None) => balai_contest::cheapest(rs, &values, &efforts, t).map_err(plan_error),
        (None, Some(b)) => balai_contest::best_within(rs, &values, &efforts, b).map_err(plan_error),
        _ => Err(ApiError::field(
            "target",
            "required",
            "Pilih predikat yang dituju atau batas upaya (salah satu).",
        )),
    }
}

/// The cheapest raises to a band, or the best total within an effort budget.
pub fn plan(app: &App, ctx: &Ctx, a: PlanArgs) -> Result<Plan, ApiError> {
    ctx.actor()?;
    app.store.read(|c| plan_in(app, c, &a))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskView {
    pub id: String,
    pub indicator: String,
    pub target: i64,
    pub effort: u64,
    pub created_by: String,
    pub created_at_ms: u64,
    pub done_at_ms: Option<u64>,
}

fn task_view(t: TaskRow) -> TaskView {
    TaskView {
        id: t.id.to_string(),
        indicator: t.indicator,
        target: t.target,
        effort: t.effort,
        created_by: t.created_by,
        created_at_ms: t.created_at_ms,
        done_at_ms: t.done_at_ms,
    }
}

/// Accepts a plan as the period's task list (replacing the open tasks); a task closes itself
/// once its indicator reaches the target.
pub fn accept_plan(app: &App, ctx: &Ctx, a: PlanArgs) -> Result<Vec<TaskView>, ApiError> {
    let actor = ctx.actor()?;
    let period = check_period(a.period)?;
    let now_ms = app.now().timestamp_millis().max(0) as u64;
    let id = app.store.read(|c| plan_ruleset(c, &a, period))?;
    app.write(actor, |tx| {
        refuse_if_submitted(tx, &id, period)?;
        let plan = plan_in(app, tx, &a)?;
        let rs = period_edition(tx, &id, period)?;
        let tasks: Vec<TaskRow> = plan
            .steps
            .iter()
            .map(|s| TaskRow {
                id: app.new_id(),
                indicator: s.indicator.clone(),
                target: s.to,
                effort: s.effort,
                created_by: actor.name.clone(),
                created_at_ms: now_ms,
                done_at_ms: None,
            })
            .collect();
        store::replace_tasks(tx, &rs.id, period, &tasks)?;
        audit::record_in(
            tx,
            app,
            actor,
            "contest.accept_plan",
            "contest_period",
            &format!("{}/{period}", rs.id),
            &format!("{} langkah, upaya {}", plan.steps.len(), plan.effort),
        )?;
        Ok(store::tasks(tx, &rs.id, period)?.into_iter().map(task_view).collect())
    })
}

/// The period's task list.
pub fn tasks(app: &App, ctx: &Ctx, a: PeriodArgs) -> Result<Vec<TaskView>, ApiError> {
    ctx.actor()?;
    let period = check_period(a.period)?;
    app.store.read(|c| {
        let rs = edition_of(&known(c)?, a.ruleset.trim(), None, None)?;
        Ok(store::tasks(c, &rs.id, period)?.into_iter().map(task_view).collect())
    })
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportArgs {
    pub ruleset: String,
    pub period: i32,
    /// `pdf` (default) or `xlsx`.
    #[serde(default)]
    pub format: Option<String>,
    /// Where to write the file (CLI); without it the file comes back in base64.
    #[serde(default)]
    pub path: Option<String>,
}

/// The rows of the jury's two-year table: per indicator the values of both years and the
/// evidence count, then each area's and the overall total.
fn report_rows(card: &Scorecard) -> (Vec<String>, Vec<Vec<String>>) {
    let p = card.period;
    let headers = vec![
        "Kode".into(),
        "Indikator".into(),
        format!("{}", p - 1),
        format!("{p}"),
        "Bukti".into(),
    ];
    let label = |i: &IndicatorView, v: Option<i64>| match v {
        Some(v) => {
            let l = i
                .options
                .iter()
                .position(|o| *o == v)
                .map(|k| i.labels[k].clone())
                .unwrap_or_default();
            if l == v.to_string() {
                l
            } else {
                format!("{v} ({l})")
            }
        }
        None => "—".into(),
    };
    let mut rows = Vec::new();
    for i in &card.indicators {
        rows.push(vec![
            i.id.clone(),
            i.name.clone(),
            label(i, i.previous),
            label(i, i.value),
            i.evidence.len().to_string(),
        ]);
    }
    let d = usize::from(card.ruleset.decimals);
    let shown = |x: f64| format!("{x:.d$}").replace('.', ",");
    for a in &card.score.areas {
        rows.push(vec![
            String::new(),
            format!("Jumlah {}", a.name),
            String::new(),
            shown(a.total),
            String::new(),
        ]);
    }
    let band = card.score.band.as_ref().map(|b| b.name.clone()).unwrap_or_default();
    rows.push(vec![
        String::new(),
        "NILAI AKHIR".into(),
        card.previous
            .as_ref()
            .filter(|x| x.period == p - 1)
            .map(|x| shown(x.total))
            .unwrap_or_default(),
        format!("{} — {band}", shown(card.score.total)),
        String::new(),
    ]);
    (headers, rows)
}

/// The report for the jury: the two-year table on the office letterhead (PDF) or as a
/// workbook (XLSX).
pub fn report(app: &App, ctx: &Ctx, a: ReportArgs) -> Result<FileOut, ApiError> {
    let actor = ctx.actor()?;
    let period = check_period(a.period)?;
    let card = app.store.read(|c| scorecard_in(app, c, a.ruleset.trim(), period))?;
    let (headers, rows) = report_rows(&card);
    let title = format!(
        "{} {} — PERIODE {period}",
        card.ruleset.title.to_uppercase(),
        card.ruleset.edition
    );
    let format = a.format.as_deref().unwrap_or("pdf");
    let bytes = match format {
        "pdf" => {
            let office = crate::areas::letters::report_office(app)?;
            let today = app.today();
            let report = balai_letters::Report {
                title,
                subtitle: format!(
                    "{} · perbandingan {} dan {period}",
                    card.ruleset.regulation,
                    period - 1
                ),
                headers,
                weights: vec![1.2, 6.0, 1.6, 1.8, 0.9],
                rows,
                place_date: format!(
                    "{}, {}",
                    office.place,
                    balai_letters::content::long_date(today)
                ),
                office,
            };
            balai_letters::pdf::render_report(&report, balai_letters::Paper::F4, today)
                .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))?
        }
        "xlsx" => xlsx(&title, &headers, &rows)?,
        other => {
            return Err(ApiError::field(
                "format",
                "unknown",
                format!("Format `{other}` tidak dikenal: pdf atau xlsx."),
            ))
        }
    };
    audit::record(
        app,
        actor,
        "contest.report",
        "contest_period",
        &format!("{}/{period}", card.ruleset.id),
        format,
    )?;
    file_out(bytes, a.path)
}

fn xlsx(title: &str, headers: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, ApiError> {
    let fail =
        |e: rust_xlsxwriter::XlsxError| ApiError::new(ErrorCode::Internal, format!("XLSX: {e}"));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("Penilaian").map_err(fail)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    sheet.write_string_with_format(0, 0, title, &bold).map_err(fail)?;
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(2, c as u16, h, &bold).map_err(fail)?;
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(3 + r as u32, c as u16, cell).map_err(fail)?;
        }
    }
    sheet.set_column_width(1, 70).map_err(fail)?;
    wb.save_to_buffer().map_err(fail)
}
