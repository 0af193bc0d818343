//! Rule sets as data: `assets/contest/<ruleset>/<edition>.toml`, read and checked into a
//! [`RuleSet`] whose numbers are exact integers.
//!
//! A file names its areas → aspects → indicators, each indicator's scale and weight and the
//! evidence it expects, how the total is formed and the bands of the total. Every number that
//! comes from a regulation says so (`source = "regulation"`); the rest are defaults to be
//! confirmed (`source = "default"`), shown as such to the lurah. An edition is never changed once
//! shipped: a new guideline is a new file.
//!
//! Weights are decimals in the file (SPBE's 2.75 %) and exact integers here, in units of
//! 1/[`UNITS`], so a total, a band and a plan never depend on floating-point rounding.

use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

/// Weights are kept in ten-thousandths: the finest weight a guideline writes is 0.0001.
pub const UNITS: i64 = 10_000;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RuleSetError {
    #[error("rule set {file}: {message}")]
    Invalid { file: String, message: String },
}

/// Where a number comes from: the regulation itself, or a default the city should confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Regulation,
    Default,
}

/// How the total is formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Σ weight × value / divisor (SPBE: weights in percent, divisor 100, levels 1–5 → 1–5).
    Weighted,
    /// Σ value: every indicator's value is its points (the kelurahan evaluation).
    Points,
}

/// A figure the register and the letter log answer (balai-app computes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Living residents at the end of the period.
    Population,
    /// Families (KK) with a living member at the end of the period.
    Families,
    Births,
    Deaths,
    MovesIn,
    MovesOut,
    /// Letters issued in the period (voided ones included: they were issued).
    LettersIssued,
    /// Median hours from a request to its letter being issued.
    MedianRequestToIssueHours,
    /// Share of the period's requests made online, in percent.
    OnlineRequestSharePercent,
}

impl Measure {
    pub const ALL: [Measure; 9] = [
        Measure::Population,
        Measure::Families,
        Measure::Births,
        Measure::Deaths,
        Measure::MovesIn,
        Measure::MovesOut,
        Measure::LettersIssued,
        Measure::MedianRequestToIssueHours,
        Measure::OnlineRequestSharePercent,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Measure::Population => "population",
            Measure::Families => "families",
            Measure::Births => "births",
            Measure::Deaths => "deaths",
            Measure::MovesIn => "moves_in",
            Measure::MovesOut => "moves_out",
            Measure::LettersIssued => "letters_issued",
            Measure::MedianRequestToIssueHours => "median_request_to_issue_hours",
            Measure::OnlineRequestSharePercent => "online_request_share_percent",
        }
    }
}

// ---- the file, as written -------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    ruleset: String,
    edition: String,
    title: String,
    regulation: String,
    #[serde(default)]
    notes: String,
    total: TotalFile,
    scale: BTreeMap<String, ScaleFile>,
    band: Vec<BandFile>,
    area: Vec<AreaFile>,
    #[serde(default)]
    profile: Vec<ProfileFigure>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TotalFile {
    method: Method,
    #[serde(default = "one")]
    divisor: u32,
    /// What the area weights add up to (weighted method).
    weight_total: Option<f64>,
    /// What the highest values add up to (points method).
    max_total: Option<i64>,
    decimals: u8,
    source: Source,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScaleFile {
    kind: ScaleKind,
    #[serde(default)]
    levels: Vec<Level>,
    min: Option<i64>,
    max: Option<i64>,
    step: Option<i64>,
    /// Points of a yes (a no is 0).
    yes: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleKind {
    Levels,
    Range,
    YesNo,
}

#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub value: i64,
    pub label: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BandFile {
    name: String,
    from: f64,
    below: Option<f64>,
    to: Option<f64>,
    source: Source,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaFile {
    id: String,
    name: String,
    weight: Option<f64>,
    source: Option<Source>,
    aspect: Vec<AspectFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AspectFile {
    id: String,
    name: String,
    weight: Option<f64>,
    source: Option<Source>,
    indicator: Vec<IndicatorFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorFile {
    id: String,
    name: String,
    weight: Option<f64>,
    scale: String,
    #[serde(default)]
    evidence: Vec<String>,
    source: Option<Source>,
    computed: Option<Computed>,
}

/// How a computed indicator's value follows from its measure: one threshold per scale option
/// (lowest option first); the value is the highest option whose threshold the measure meets.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Computed {
    pub measure: Measure,
    /// Higher is better: option k needs measure ≥ at_least[k].
    pub at_least: Option<Vec<f64>>,
    /// Lower is better: option k needs measure ≤ at_most[k].
    pub at_most: Option<Vec<f64>>,
}

/// A figure of the kelurahan's profile the contest asks for, compared across two years but not
/// scored.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFigure {
    pub measure: Measure,
    pub label: String,
}

// ---- the checked rule set -------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuleSet {
    pub id: String,
    pub edition: String,
    pub title: String,
    pub regulation: String,
    pub notes: String,
    pub method: Method,
    pub divisor: u32,
    pub decimals: u8,
    pub total_source: Source,
    pub bands: Vec<Band>,
    pub areas: Vec<Area>,
    /// Every indicator, in file order; `Area::aspects` refer to them by index.
    pub indicators: Vec<Indicator>,
    pub profile: Vec<ProfileFigure>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Band {
    pub name: String,
    /// Lowest total of the band, in score units (see [`RuleSet::units_of`]).
    pub from_units: i64,
    /// First total above the band; `None` for the top band.
    pub below_units: Option<i64>,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Area {
    pub id: String,
    pub name: String,
    /// Weight in [`UNITS`] (points method: 0).
    pub weight_units: i64,
    pub source: Source,
    pub aspects: Vec<Aspect>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Aspect {
    pub id: String,
    pub name: String,
    pub weight_units: i64,
    pub source: Source,
    /// Indexes into [`RuleSet::indicators`].
    pub indicators: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Indicator {
    pub id: String,
    pub name: String,
    pub area: usize,
    pub aspect: usize,
    /// Weight in [`UNITS`]; points method: [`UNITS`] (a point counts once).
    pub weight_units: i64,
    pub scale: Scale,
    pub evidence: Vec<String>,
    pub source: Source,
    pub computed: Option<Computed>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Scale {
    pub kind: ScaleKind,
    /// The values an indicator can take, ascending.
    pub options: Vec<i64>,
    /// Labels of the options (levels: their names; a range or yes/no: the number or Ya/Tidak).
    pub labels: Vec<String>,
    pub descriptions: Vec<String>,
}

impl Scale {
    /// The option a value is, if it is one.
    pub fn position(&self, value: i64) -> Option<usize> {
        self.options.binary_search(&value).ok()
    }

    /// Where an indicator without a value stands: on the highest option worth nothing (a "no",
    /// 0 points), or below every option.
    pub fn unset_position(&self) -> Option<usize> {
        self.options.iter().rposition(|v| *v <= 0)
    }
}

impl Indicator {
    /// The value a computed indicator takes for its measure.
    pub fn value_for(&self, measure: f64) -> Option<i64> {
        let c = self.computed.as_ref()?;
        let k = match (&c.at_least, &c.at_most) {
            (Some(t), _) => t.iter().rposition(|t| measure >= *t)?,
            (None, Some(t)) => t.iter().rposition(|t| measure <= *t)?,
            (None, None) => return None,
        };
        self.scale.options.get(k).copied()
    }
}

impl RuleSet {
    /// One score unit as a fraction of the total: totals are kept as Σ weight_units × value, and
    /// the total is that divided by this.
    pub fn units_per_point(&self) -> i64 {
        UNITS * i64::from(self.divisor)
    }

    /// The smallest step of a total as shown (with `decimals` places), in score units.
    pub fn quantum(&self) -> i64 {
        self.units_per_point() / 10_i64.pow(u32::from(self.decimals))
    }

    /// A total as shown, in score units: rounded half up to `decimals` places. Bands are
    /// decided on this, so the band always matches the number printed beside it.
    pub fn shown_units(&self, units: i64) -> i64 {
        let q = self.quantum();
        (units + q / 2).div_euclid(q) * q
    }

    /// A total written as a number (3.04, 351) in score units, rounded to `decimals`.
    pub fn units_of(&self, total: f64) -> i64 {
        self.shown_units((total * self.units_per_point() as f64).round() as i64)
    }

    /// A number of score units as the total it stands for.
    pub fn total_of(&self, units: i64) -> f64 {
        units as f64 / self.units_per_point() as f64
    }

    /// The band a total (in score units, before rounding) falls in.
    pub fn band_of_units(&self, units: i64) -> Option<usize> {
        let shown = self.shown_units(units);
        self.bands.iter().rposition(|b| shown >= b.from_units)
    }

    pub fn band_index(&self, name: &str) -> Option<usize> {
        self.bands.iter().position(|b| b.name.eq_ignore_ascii_case(name.trim()))
    }

    /// The highest total the rule set allows, in score units.
    pub fn max_units(&self) -> i64 {
        self.indicators
            .iter()
            .map(|i| i.weight_units * i.scale.options.last().copied().unwrap_or(0))
            .sum()
    }

    pub fn indicator(&self, id: &str) -> Option<(usize, &Indicator)> {
        self.indicators.iter().enumerate().find(|(_, i)| i.id == id)
    }

    /// Reads and checks a rule set file. `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<RuleSet, RuleSetError> {
        let invalid = |message: String| RuleSetError::Invalid { file: file.into(), message };
        let f: File = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        build(f).map_err(invalid)
    }
}

/// A decimal of the file as an exact number of `scale` units.
fn exact(what: &str, x: f64, scale: i64) -> Result<i64, String> {
    let scaled = x * scale as f64;
    let n = scaled.round();
    if !x.is_finite() || (scaled - n).abs() > 1e-6 || n.abs() > 1e15 {
        return Err(format!("{what} {x} is not a multiple of 1/{scale}"));
    }
    Ok(n as i64)
}

/// A part's weight is the sum of its members' weights.
fn adds_up(part: &str, members: &str, sum: i64, weight: i64) -> Result<(), String> {
    if sum == weight {
        return Ok(());
    }
    let (sum, weight) = (sum as f64 / UNITS as f64, weight as f64 / UNITS as f64);
    Err(format!("{part}: its {members} weigh {sum} but the {part} {weight}"))
}

fn slug_ok(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn build(f: File) -> Result<RuleSet, String> {
    if !slug_ok(&f.ruleset) || !slug_ok(&f.edition) {
        return Err("ruleset and edition are lower-case letters, digits and -".into());
    }
    if f.title.trim().is_empty() || f.regulation.trim().is_empty() {
        return Err("title and regulation are required".into());
    }
    let t = &f.total;
    if t.divisor == 0 || t.decimals > 4 {
        return Err("total: divisor ≥ 1 and decimals 0–4".into());
    }
    let units_per_point = UNITS * i64::from(t.divisor);
    let decimals = 10_i64.pow(u32::from(t.decimals));
    if units_per_point % decimals != 0 {
        return Err("total: decimals finer than the weights allow".into());
    }
    let quantum = units_per_point / decimals;
    let weighted = t.method == Method::Weighted;

    let mut scales = BTreeMap::new();
    for (name, s) in &f.scale {
        scales.insert(name.clone(), scale(name, s)?);
    }

    let weight = |what: &str, w: Option<f64>| -> Result<i64, String> {
        match (weighted, w) {
            (true, Some(w)) if w > 0.0 => exact(&format!("{what} weight"), w, UNITS),
            (true, _) => Err(format!("{what}: a weight above 0 is required (method weighted)")),
            (false, None) => Ok(0),
            (false, Some(_)) => Err(format!("{what}: no weight in a points rule set")),
        }
    };

    let mut ids = BTreeSet::new();
    let mut areas = Vec::new();
    let mut indicators = Vec::new();
    if f.area.is_empty() {
        return Err("at least one area".into());
    }
    for (ai, a) in f.area.iter().enumerate() {
        if !ids.insert(a.id.clone()) {
            return Err(format!("id {} used twice", a.id));
        }
        let area_w = weight(&format!("area {}", a.id), a.weight)?;
        let mut aspects = Vec::new();
        let mut area_sum = 0;
        if a.aspect.is_empty() {
            return Err(format!("area {}: no aspect", a.id));
        }
        for (si, s) in a.aspect.iter().enumerate() {
            if !ids.insert(s.id.clone()) {
                return Err(format!("id {} used twice", s.id));
            }
            let aspect_w = weight(&format!("aspect {}", s.id), s.weight)?;
            area_sum += aspect_w;
            let mut members = Vec::new();
            let mut aspect_sum = 0;
            if s.indicator.is_empty() {
                return Err(format!("aspect {}: no indicator", s.id));
            }
            for i in &s.indicator {
                if !ids.insert(i.id.clone()) {
                    return Err(format!("id {} used twice", i.id));
                }
                if i.name.trim().is_empty() {
                    return Err(format!("indicator {}: no name", i.id));
                }
                let w = if weighted {
                    weight(&format!("indicator {}", i.id), i.weight)?
                } else {
                    weight(&format!("indicator {}", i.id), i.weight)?;
                    UNITS
                };
                aspect_sum += if weighted { w } else { 0 };
                let sc = scales
                    .get(&i.scale)
                    .ok_or_else(|| format!("indicator {}: unknown scale {:?}", i.id, i.scale))?
                    .clone();
                if let Some(c) = &i.computed {
                    let n = sc.options.len();
                    let thresholds = match (&c.at_least, &c.at_most) {
                        (Some(t), None) => (t, true),
                        (None, Some(t)) => (t, false),
                        _ => {
                            return Err(format!(
                                "indicator {}: computed needs at_least or at_most",
                                i.id
                            ))
                        }
                    };
                    let (t, rising) = thresholds;
                    let ordered =
                        t.windows(2).all(|w| if rising { w[0] < w[1] } else { w[0] > w[1] });
                    if t.len() != n || !ordered {
                        return Err(format!(
                            "indicator {}: {n} thresholds, one per option, {}",
                            i.id,
                            if rising { "rising" } else { "falling" }
                        ));
                    }
                }
                members.push(indicators.len());
                indicators.push(Indicator {
                    id: i.id.clone(),
                    name: i.name.clone(),
                    area: ai,
                    aspect: si,
                    weight_units: w,
                    scale: sc,
                    evidence: i.evidence.clone(),
                    source: i.source.or(s.source).or(a.source).unwrap_or(t.source),
                    computed: i.computed.clone(),
                });
            }
            if weighted {
                adds_up(&format!("aspect {}", s.id), "indicators", aspect_sum, aspect_w)?;
            }
            aspects.push(Aspect {
                id: s.id.clone(),
                name: s.name.clone(),
                weight_units: aspect_w,
                source: s.source.or(a.source).unwrap_or(t.source),
                indicators: members,
            });
        }
        if weighted {
            adds_up(&format!("area {}", a.id), "aspects", area_sum, area_w)?;
        }
        areas.push(Area {
            id: a.id.clone(),
            name: a.name.clone(),
            weight_units: area_w,
            source: a.source.unwrap_or(t.source),
            aspects,
        });
    }
    let max_units: i64 = indicators
        .iter()
        .map(|i| i.weight_units * i.scale.options.last().copied().unwrap_or(0))
        .sum();
    match (t.method, t.weight_total, t.max_total) {
        (Method::Weighted, Some(total), None) => {
            let total = exact("weight_total", total, UNITS)?;
            let sum: i64 = areas.iter().map(|a| a.weight_units).sum();
            if sum != total {
                return Err(format!(
                    "the areas weigh {} but weight_total is {}",
                    sum as f64 / UNITS as f64,
                    total as f64 / UNITS as f64
                ));
            }
        }
        (Method::Points, None, Some(max)) => {
            if max * UNITS != max_units {
                return Err(format!(
                    "the highest values add up to {} but max_total is {max}",
                    max_units / UNITS
                ));
            }
        }
        (Method::Weighted, ..) => return Err("total: weight_total (and no max_total)".into()),
        (Method::Points, ..) => return Err("total: max_total (and no weight_total)".into()),
    }

    // Bands: from 0 (a period with nothing entered) to the highest total, each starting where
    // the one before stops, on the shown precision.
    if f.band.is_empty() {
        return Err("at least one band".into());
    }
    let mut bands: Vec<Band> = Vec::new();
    let mut names = BTreeSet::new();
    for (k, b) in f.band.iter().enumerate() {
        if b.name.trim().is_empty() || !names.insert(b.name.to_lowercase()) {
            return Err(format!("band {}: a name, not used twice", k + 1));
        }
        let at = |what: &str, x: f64| -> Result<i64, String> {
            let u = exact(&format!("band {} {what}", b.name), x, units_per_point)?;
            if u % quantum != 0 {
                return Err(format!(
                    "band {}: {what} {x} has more than {} decimals",
                    b.name, t.decimals
                ));
            }
            Ok(u)
        };
        let from = at("from", b.from)?;
        let last = k + 1 == f.band.len();
        let below = match (last, b.below, b.to) {
            (false, Some(below), None) => Some(at("below", below)?),
            (true, None, Some(to)) => {
                let to_units = at("to", to)?;
                if to_units <= from {
                    return Err(format!("band {}: to must be above from", b.name));
                }
                if to_units < max_units {
                    return Err(format!(
                        "band {} ends at {to}, below the highest total {}",
                        b.name,
                        max_units as f64 / units_per_point as f64
                    ));
                }
                None
            }
            (false, ..) => return Err(format!("band {}: `below` (and no `to`)", b.name)),
            (true, ..) => {
                return Err(format!("band {}: the top band has `to` (and no `below`)", b.name))
            }
        };
        match bands.last() {
            None if from > 0 => {
                return Err(format!(
                    "band {} starts at {}: totals from 0 are not covered",
                    b.name, b.from
                ))
            }
            Some(prev) if prev.below_units != Some(from) => {
                return Err(format!(
                    "band {} does not start where band {} stops",
                    b.name, prev.name
                ))
            }
            _ => {}
        }
        if below.is_some_and(|below| below <= from) {
            return Err(format!("band {}: below must be above from", b.name));
        }
        bands.push(Band {
            name: b.name.clone(),
            from_units: from,
            below_units: below,
            source: b.source,
        });
    }

    let mut seen = BTreeSet::new();
    for p in &f.profile {
        if !seen.insert(p.measure) || p.label.trim().is_empty() {
            return Err(format!("profile {}: a label, once", p.measure.key()));
        }
    }

    Ok(RuleSet {
        id: f.ruleset,
        edition: f.edition,
        title: f.title,
        regulation: f.regulation,
        notes: f.notes,
        method: t.method,
        divisor: t.divisor,
        decimals: t.decimals,
        total_source: t.source,
        bands,
        areas,
        indicators,
        profile: f.profile,
    })
}

fn scale(name: &str, s: &ScaleFile) -> Result<Scale, String> {
    let err = |m: &str| Err(format!("scale {name}: {m}"));
    let (options, labels, descriptions): (Vec<i64>, Vec<String>, Vec<String>) = match s.kind {
        ScaleKind::Levels => {
            if s.levels.len() < 2 || s.min.is_some() || s.max.is_some() || s.yes.is_some() {
                return err("levels: two or more [[levels]], nothing else");
            }
            if s.levels.iter().any(|l| l.label.trim().is_empty()) {
                return err("every level has a label");
            }
            (
                s.levels.iter().map(|l| l.value).collect(),
                s.levels.iter().map(|l| l.label.clone()).collect(),
                s.levels.iter().map(|l| l.description.clone()).collect(),
            )
        }
        ScaleKind::Range => {
            let (Some(min), Some(max)) = (s.min, s.max) else { return err("range: min and max") };
            let step = s.step.unwrap_or(1);
            if !s.levels.is_empty()
                || s.yes.is_some()
                || step < 1
                || max <= min
                || (max - min) % step != 0
            {
                return err("range: min < max, a step ≥ 1 that divides max − min, no levels");
            }
            if (max - min) / step > 100 {
                return err("range: at most 100 steps");
            }
            let options: Vec<i64> = (0..=(max - min) / step).map(|k| min + k * step).collect();
            let labels = options.iter().map(i64::to_string).collect();
            (options, labels, vec![String::new(); ((max - min) / step + 1) as usize])
        }
        ScaleKind::YesNo => {
            let Some(yes) = s.yes else { return err("yes_no: the points of a yes") };
            if yes < 1 || !s.levels.is_empty() || s.min.is_some() || s.max.is_some() {
                return err("yes_no: yes ≥ 1, nothing else");
            }
            (vec![0, yes], vec!["Tidak".into(), "Ya".into()], vec![String::new(), String::new()])
        }
    };
    if options.iter().any(|v| *v < 0) || options.windows(2).any(|w| w[0] >= w[1]) {
        return err("values from 0 up, rising, each once");
    }
    Ok(Scale { kind: s.kind, options, labels, descriptions })
}

macro_rules! shipped_files {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../assets/contest/", $path)))),*]
    };
}

/// Every rule set edition shipped with this build, as (path under `assets/contest`, text).
pub fn shipped() -> &'static [(&'static str, &'static str)] {
    shipped_files![
        "spbe/2020.toml",
        "epdeskel/2015.toml",
        "lomba-kelurahan/2024.toml",
        "smart-city/2024.toml",
    ]
}

/// Every shipped edition, checked.
pub fn load_shipped() -> Result<Vec<RuleSet>, RuleSetError> {
    shipped().iter().map(|(path, text)| RuleSet::parse(path, text)).collect()
}
