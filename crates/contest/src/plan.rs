//! The what-if planner: the cheapest set of indicator improvements that reaches a band, and
//! the best total reachable within an effort budget. Both exact.
//!
//! Raising an indicator from its current option to a higher one costs its effort per step
//! (default 1) times the steps, and adds weight × the value gained. Choosing at most one raise
//! per indicator is a multiple-choice knapsack; with whole-number efforts it is solved exactly
//! by dynamic programming over the effort spent: `best[c]` is the most a plan costing at most
//! `c` adds. SPBE (47 indicators × 5 levels, effort 1) is a table of 189 efforts × 47.

use crate::ruleset::RuleSet;
use crate::score::Values;
use serde::Serialize;
use std::collections::BTreeMap;

/// Effort per step of an indicator, by id; an indicator not named costs [`DEFAULT_EFFORT`].
pub type Efforts = BTreeMap<String, u32>;

pub const DEFAULT_EFFORT: u32 = 1;
/// The largest effort per step one indicator may be given: keeps the table small.
pub const MAX_EFFORT: u32 = 1000;
/// The most effort units a plan's table may span (the sum over indicators of raising each to
/// its top); with effort ≤ 1000 per step even 47 indicators × 4 steps stay under it.
pub const MAX_SPAN: u64 = 2_000_000;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    #[error("band {0}: not in this rule set")]
    UnknownBand(String),
    #[error("indicator {0}: not in this rule set")]
    UnknownIndicator(String),
    #[error("indicator {indicator}: effort {effort} per step is above {MAX_EFFORT}")]
    EffortTooHigh { indicator: String, effort: u32 },
    #[error("the efforts add up to {0} units to raise every indicator to its top, above {MAX_SPAN}: give smaller efforts")]
    TooLarge(u64),
    #[error("band {band} cannot be reached: raising every indicator to its top gives {best}")]
    Unreachable { band: String, best: f64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Step {
    pub indicator: String,
    pub name: String,
    /// The value now (`None`: not entered yet).
    pub from: Option<i64>,
    pub to: i64,
    pub to_label: String,
    pub steps: u32,
    pub effort: u64,
    /// What the raise adds to the total.
    pub gain: f64,
    /// Computed from the register or letter log: raised by the office's work, not by typing.
    pub computed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub effort: u64,
    pub before: f64,
    pub after: f64,
    pub band_before: Option<String>,
    pub band_after: Option<String>,
}

/// One possible raise of one indicator.
#[derive(Debug, Clone, Copy)]
struct Raise {
    to: usize,
    steps: u32,
    effort: u64,
    gain: i64,
}

/// Every indicator that can go up, with its raises.
struct Choices {
    groups: Vec<(usize, Vec<Raise>)>,
    /// The effort of raising every indicator to its top.
    span: u64,
    current: i64,
}

fn choices(rs: &RuleSet, values: &Values, efforts: &Efforts) -> Result<Choices, PlanError> {
    for (id, e) in efforts {
        if rs.indicator(id).is_none() {
            return Err(PlanError::UnknownIndicator(id.clone()));
        }
        if *e > MAX_EFFORT {
            return Err(PlanError::EffortTooHigh { indicator: id.clone(), effort: *e });
        }
    }
    let mut groups = Vec::new();
    let mut span = 0u64;
    let mut current = 0i64;
    for (k, ind) in rs.indicators.iter().enumerate() {
        let opts = &ind.scale.options;
        let at = match values.get(&ind.id).and_then(|v| ind.scale.position(*v)) {
            Some(p) => Some(p),
            None => ind.scale.unset_position(),
        };
        let now = at.map_or(0, |p| opts[p]);
        current += ind.weight_units * now;
        let first = at.map_or(0, |p| p + 1);
        let per_step = u64::from(efforts.get(&ind.id).copied().unwrap_or(DEFAULT_EFFORT));
        let raises: Vec<Raise> = (first..opts.len())
            .map(|to| {
                let steps = (to + 1 - first) as u32;
                Raise {
                    to,
                    steps,
                    effort: per_step * u64::from(steps),
                    gain: ind.weight_units * (opts[to] - now),
                }
            })
            .collect();
        if let Some(top) = raises.last() {
            span += top.effort;
            groups.push((k, raises));
        }
    }
    if span > MAX_SPAN {
        return Err(PlanError::TooLarge(span));
    }
    Ok(Choices { groups, span, current })
}

/// `best[c]`: the most any plan costing at most `c` adds; `pick[g][c]`: the raise of group `g`
/// (1-based; 0 = none) that achieves it.
fn table(groups: &[(usize, Vec<Raise>)], cap: usize) -> (Vec<i64>, Vec<Vec<u8>>) {
    let mut best = vec![0i64; cap + 1];
    let mut pick = Vec::with_capacity(groups.len());
    for (_, raises) in groups {
        let mut next = best.clone();
        let mut chosen = vec![0u8; cap + 1];
        for (r, raise) in raises.iter().enumerate() {
            let e = raise.effort as usize;
            if e > cap {
                break;
            }
            for c in e..=cap {
                let with = best[c - e] + raise.gain;
                if with > next[c] {
                    next[c] = with;
                    chosen[c] = (r + 1) as u8;
                }
            }
        }
        best = next;
        pick.push(chosen);
    }
    (best, pick)
}

fn plan_at(rs: &RuleSet, values: &Values, ch: &Choices, pick: &[Vec<u8>], mut c: usize) -> Plan {
    let mut steps = Vec::new();
    let mut gained = 0i64;
    let mut effort = 0u64;
    for (g, (k, raises)) in ch.groups.iter().enumerate().rev() {
        let r = pick[g][c];
        if r == 0 {
            continue;
        }
        let raise = raises[usize::from(r) - 1];
        c -= raise.effort as usize;
        gained += raise.gain;
        effort += raise.effort;
        let ind = &rs.indicators[*k];
        steps.push(Step {
            indicator: ind.id.clone(),
            name: ind.name.clone(),
            from: values.get(&ind.id).copied().filter(|v| ind.scale.position(*v).is_some()),
            to: ind.scale.options[raise.to],
            to_label: ind.scale.labels[raise.to].clone(),
            steps: raise.steps,
            effort: raise.effort,
            gain: rs.total_of(raise.gain),
            computed: ind.computed.is_some(),
        });
    }
    steps.reverse();
    let band = |u: i64| rs.band_of_units(u).map(|b| rs.bands[b].name.clone());
    let shown = |u: i64| rs.total_of(rs.shown_units(u));
    Plan {
        steps,
        effort,
        before: shown(ch.current),
        after: shown(ch.current + gained),
        band_before: band(ch.current),
        band_after: band(ch.current + gained),
    }
}

/// The cheapest raises that bring the total into band `target`; among plans of that effort, the
/// one adding most. An empty plan when the total is already there.
pub fn cheapest(
    rs: &RuleSet,
    values: &Values,
    efforts: &Efforts,
    target: &str,
) -> Result<Plan, PlanError> {
    let band = rs.band_index(target).ok_or_else(|| PlanError::UnknownBand(target.into()))?;
    let ch = choices(rs, values, efforts)?;
    // A total is in the band once it shows as at least the band's start (bands follow the
    // total as shown, rounded half up).
    let need = rs.bands[band].from_units - rs.quantum() / 2 - ch.current;
    let (best, pick) = table(&ch.groups, ch.span as usize);
    let Some(c) = best.iter().position(|g| *g >= need) else {
        let top = ch.current + best.last().copied().unwrap_or(0);
        return Err(PlanError::Unreachable {
            band: rs.bands[band].name.clone(),
            best: rs.total_of(rs.shown_units(top)),
        });
    };
    Ok(plan_at(rs, values, &ch, &pick, c))
}

/// The raises that add most within `budget` effort; among those, the cheapest.
pub fn best_within(
    rs: &RuleSet,
    values: &Values,
    efforts: &Efforts,
    budget: u64,
) -> Result<Plan, PlanError> {
    let ch = choices(rs, values, efforts)?;
    let cap = budget.min(ch.span) as usize;
    let (best, pick) = table(&ch.groups, cap);
    let top = best[cap];
    let c = best.iter().position(|g| *g == top).unwrap_or(cap);
    Ok(plan_at(rs, values, &ch, &pick, c))
}
