//! A period's values → its totals per area, overall, its band and what it still lacks.

use crate::ruleset::{RuleSet, Source};
use serde::Serialize;
use std::collections::BTreeMap;

/// A period's value per indicator id. An indicator without one counts as its scale's lowest
/// option worth nothing (a "no", 0 points), or as 0 when every option is worth something.
pub type Values = BTreeMap<String, i64>;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScoreError {
    #[error("indicator {0}: not in this rule set")]
    UnknownIndicator(String),
    #[error("indicator {indicator}: {value} is not one of {allowed}")]
    NotAnOption { indicator: String, value: i64, allowed: String },
}

/// Checks one value against its indicator's scale.
pub fn check_value(rs: &RuleSet, indicator: &str, value: i64) -> Result<(), ScoreError> {
    let (_, ind) =
        rs.indicator(indicator).ok_or_else(|| ScoreError::UnknownIndicator(indicator.into()))?;
    if ind.scale.position(value).is_none() {
        let allowed = ind.scale.options.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        return Err(ScoreError::NotAnOption { indicator: indicator.into(), value, allowed });
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Score {
    /// The total as shown (rounded to the rule set's decimals).
    pub total: f64,
    /// The exact total in score units (Σ weight units × value).
    pub units: i64,
    pub max_total: f64,
    pub band: Option<BandAt>,
    /// The next band up and how much the total still needs to reach it.
    pub next: Option<NextBand>,
    pub areas: Vec<AreaScore>,
    /// Indicators with a value, of all.
    pub filled: usize,
    pub indicators: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct BandAt {
    pub index: usize,
    pub name: String,
    pub source: Source,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct NextBand {
    pub name: String,
    pub from: f64,
    /// How much the total needs to rise (as shown) to be in it.
    pub needed: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct AreaScore {
    pub id: String,
    pub name: String,
    /// The area's share of the total.
    pub total: f64,
    /// The most the area can give.
    pub max: f64,
    /// total / max, 0–100: what a radar chart plots.
    pub percent: f64,
    pub filled: usize,
    pub indicators: usize,
}

fn round_to(x: f64, decimals: u8) -> f64 {
    let p = 10f64.powi(i32::from(decimals));
    (x * p).round() / p
}

/// Scores a period. Values outside their indicator's scale are refused by [`check_value`]
/// before they are stored; here a value that is not an option counts as missing, so a
/// rule-set edition replaced under stored values cannot make a score fail.
pub fn score(rs: &RuleSet, values: &Values) -> Score {
    let mut area_units = vec![0i64; rs.areas.len()];
    let mut area_max = vec![0i64; rs.areas.len()];
    let mut area_filled = vec![0usize; rs.areas.len()];
    let mut area_count = vec![0usize; rs.areas.len()];
    let mut filled = 0;
    for ind in &rs.indicators {
        area_count[ind.area] += 1;
        area_max[ind.area] += ind.weight_units * ind.scale.options.last().copied().unwrap_or(0);
        if let Some(v) = values.get(&ind.id).filter(|v| ind.scale.position(**v).is_some()) {
            area_units[ind.area] += ind.weight_units * v;
            area_filled[ind.area] += 1;
            filled += 1;
        }
    }
    let units: i64 = area_units.iter().sum();
    let shown = |u: i64| round_to(rs.total_of(u), rs.decimals);
    let band = rs.band_of_units(units);
    let next = band.map_or(Some(0), |b| Some(b + 1)).and_then(|n| rs.bands.get(n)).map(|b| {
        let from = rs.total_of(b.from_units);
        NextBand {
            name: b.name.clone(),
            from,
            needed: round_to(from - rs.total_of(rs.shown_units(units)), rs.decimals),
        }
    });
    let areas = rs
        .areas
        .iter()
        .enumerate()
        .map(|(k, a)| AreaScore {
            id: a.id.clone(),
            name: a.name.clone(),
            total: shown(area_units[k]),
            max: shown(area_max[k]),
            percent: if area_max[k] == 0 {
                0.0
            } else {
                round_to(100.0 * area_units[k] as f64 / area_max[k] as f64, 1)
            },
            filled: area_filled[k],
            indicators: area_count[k],
        })
        .collect();
    Score {
        total: shown(units),
        units,
        max_total: shown(rs.max_units()),
        band: band.map(|b| BandAt {
            index: b,
            name: rs.bands[b].name.clone(),
            source: rs.bands[b].source,
        }),
        next,
        areas,
        filled,
        indicators: rs.indicators.len(),
    }
}

/// The band a total falls in, by name (`balai contest band`).
pub fn band_of(rs: &RuleSet, total: f64) -> Option<&str> {
    rs.band_of_units(rs.units_of(total)).map(|b| rs.bands[b].name.as_str())
}

/// What an indicator still lacks before the period can be submitted.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Gap {
    pub indicator: String,
    pub name: String,
    pub lacks_value: bool,
    /// The indicator expects evidence and has none.
    pub lacks_evidence: bool,
}

/// Every indicator without a value, or expecting evidence and having none. `evidence` counts
/// the files attached per indicator id.
pub fn readiness(rs: &RuleSet, values: &Values, evidence: &BTreeMap<String, usize>) -> Vec<Gap> {
    rs.indicators
        .iter()
        .filter_map(|i| {
            let lacks_value = values.get(&i.id).is_none_or(|v| i.scale.position(*v).is_none());
            let lacks_evidence = !i.evidence.is_empty()
                && i.computed.is_none()
                && evidence.get(&i.id).copied().unwrap_or(0) == 0;
            (lacks_value || lacks_evidence).then(|| Gap {
                indicator: i.id.clone(),
                name: i.name.clone(),
                lacks_value,
                lacks_evidence,
            })
        })
        .collect()
}
