//! The what-if planner: its plans reach the target, and on small rule sets no plan found by
//! trying every combination is cheaper (or, within a budget, better).

use crate::{shipped, small};
use balai_contest::plan::{MAX_EFFORT, MAX_SPAN};
use balai_contest::{best_within, cheapest, score, Efforts, PlanError, RuleSet, Values};
use proptest::prelude::*;

fn applied(values: &Values, plan: &balai_contest::Plan) -> Values {
    let mut v = values.clone();
    for s in &plan.steps {
        v.insert(s.indicator.clone(), s.to);
    }
    v
}

#[test]
fn spbe_from_kota_metros_2023_to_sangat_baik() {
    let rs = shipped("spbe");
    // Level 3 everywhere: 3.00, Baik.
    let v: Values = rs.indicators.iter().map(|i| (i.id.clone(), 3)).collect();
    let plan = cheapest(&rs, &v, &Efforts::new(), "sangat baik").unwrap();
    // 0.5 is needed (0.495 with rounding); the heaviest weights per step are aspect 7's 2.75 %
    // and aspect 8's 3 %: six aspect-8 indicators by two levels give 0.36, then aspect 7.
    let after = score(&rs, &applied(&v, &plan));
    assert_eq!(after.band.unwrap().name, "Sangat Baik");
    assert_eq!(plan.band_after.as_deref(), Some("Sangat Baik"));
    assert_eq!(plan.after, after.total);
    assert_eq!(plan.before, 3.0);
    assert_eq!(plan.effort, plan.steps.iter().map(|s| s.effort).sum::<u64>());
    // Every step raises a Layanan indicator: they weigh most per level.
    assert!(plan.steps.iter().all(|s| s.indicator[1..].parse::<u32>().unwrap() >= 32), "{plan:?}");
    // 0.495 / 0.03 per level-step of aspect 8 = 16.5 → 12 steps there (6 × 2) give 0.36, and
    // 0.135 more needs 5 steps of aspect 7 (0.1375): 17 in all.
    assert_eq!(plan.effort, 17);

    // Making aspect 8 dear moves the plan to aspect 7.
    let dear: Efforts = (42..=47).map(|i| (format!("I{i}"), 10)).collect();
    let plan = cheapest(&rs, &v, &dear, "Sangat Baik").unwrap();
    assert!(plan
        .steps
        .iter()
        .all(|s| (32..=41).contains(&s.indicator[1..].parse::<u32>().unwrap())));
    assert_eq!(plan.effort, 18); // 0.495 / 0.0275 = 18 steps
}

#[test]
fn a_target_already_reached_needs_no_step_and_an_impossible_one_says_how_far_it_gets() {
    let rs = shipped("spbe");
    let v: Values = rs.indicators.iter().map(|i| (i.id.clone(), 4)).collect();
    let plan = cheapest(&rs, &v, &Efforts::new(), "Baik").unwrap();
    assert!(plan.steps.is_empty());
    assert_eq!((plan.effort, plan.after), (0, 4.0));
    assert_eq!(
        cheapest(&rs, &v, &Efforts::new(), "Luar Biasa"),
        Err(PlanError::UnknownBand("Luar Biasa".into()))
    );
    let tiny = RuleSet::parse("t", &small(&[(1, 2), (1, 2)], &[1.0, 1.5])).unwrap();
    let mut v = Values::new();
    v.insert("i0".into(), 1);
    // The top band starts at 1.5; both at their top give 2.0: reachable. Make it unreachable
    // by a band above what the scale gives.
    let high = RuleSet::parse("t", &small(&[(1, 2), (1, 3)], &[2.7])).unwrap();
    assert_eq!(
        cheapest(&high, &v, &Efforts::new(), "Top"),
        Err(PlanError::Unreachable { band: "Top".into(), best: 2.5 })
    );
    assert!(cheapest(&tiny, &v, &Efforts::new(), "Top").is_ok());
    let mut e = Efforts::new();
    e.insert("i9".into(), 1);
    assert_eq!(cheapest(&tiny, &v, &e, "Top"), Err(PlanError::UnknownIndicator("i9".into())));
    e.clear();
    e.insert("i0".into(), MAX_EFFORT + 1);
    assert!(matches!(cheapest(&tiny, &v, &e, "Top"), Err(PlanError::EffortTooHigh { .. })));
    // Effort limits keep the table bounded: 47 indicators × 4 steps × the highest effort fit.
    assert!(47 * 4 * u64::from(MAX_EFFORT) <= MAX_SPAN);
}

#[test]
fn within_a_budget_the_best_total_and_the_cheapest_way_to_it() {
    let rs = shipped("spbe");
    let v: Values = rs.indicators.iter().map(|i| (i.id.clone(), 3)).collect();
    let plan = best_within(&rs, &v, &Efforts::new(), 4).unwrap();
    // Four steps on aspect 8 (3 % each): +0.12.
    assert_eq!(plan.effort, 4);
    assert_eq!(plan.after, 3.12);
    let none = best_within(&rs, &v, &Efforts::new(), 0).unwrap();
    assert!(none.steps.is_empty());
    assert_eq!(none.after, 3.0);
    // A budget beyond what every raise costs spends only what is needed for the top.
    let all = best_within(&rs, &v, &Efforts::new(), 10_000).unwrap();
    assert_eq!((all.effort, all.after), (94, 5.0));
}

#[test]
fn an_unset_indicator_starts_below_its_first_level() {
    let rs = RuleSet::parse("t", &small(&[(1, 3)], &[1.0])).unwrap();
    let plan = cheapest(&rs, &Values::new(), &Efforts::new(), "Top").unwrap();
    assert_eq!(plan.steps.len(), 1);
    let s = &plan.steps[0];
    assert_eq!((s.from, s.to, s.steps, s.effort), (None, 1, 1, 1));
}

/// Every combination of raises (each indicator stays or goes to a higher option): the least
/// effort that reaches `need` units, and the most gained within `budget`.
fn exhaustive(
    rs: &RuleSet,
    v: &Values,
    efforts: &Efforts,
    target: usize,
    budget: u64,
) -> (Option<u64>, i64) {
    let mut best_effort: Option<u64> = None;
    let mut best_units = i64::MIN;
    let n = rs.indicators.len();
    let mut choice = vec![0usize; n];
    loop {
        let mut vals = v.clone();
        let mut effort = 0u64;
        let mut valid = true;
        for (k, ind) in rs.indicators.iter().enumerate() {
            if choice[k] == 0 {
                continue;
            }
            let at = v.get(&ind.id).and_then(|x| ind.scale.position(*x));
            let first = at.map_or(0, |p| p + 1);
            let to = first + choice[k] - 1;
            if to >= ind.scale.options.len() {
                valid = false;
                break;
            }
            effort +=
                u64::from(efforts.get(&ind.id).copied().unwrap_or(1)) * (to + 1 - first) as u64;
            vals.insert(ind.id.clone(), ind.scale.options[to]);
        }
        if valid {
            let s = score(rs, &vals);
            if s.band.as_ref().is_some_and(|b| b.index >= target) {
                best_effort = Some(best_effort.map_or(effort, |b| b.min(effort)));
            }
            if effort <= budget {
                best_units = best_units.max(s.units);
            }
        }
        // Next combination.
        let mut k = 0;
        loop {
            if k == n {
                return (best_effort, best_units);
            }
            choice[k] += 1;
            if choice[k] <= 5 {
                break;
            }
            choice[k] = 0;
            k += 1;
        }
    }
}

/// (indicators as (weight, levels), values, efforts per step, band starts, budget).
type Case = (Vec<(u32, i64)>, Vec<Option<i64>>, Vec<u32>, Vec<f64>, u64);

fn case() -> impl Strategy<Value = Case> {
    (1usize..=4).prop_flat_map(|n| {
        (
            proptest::collection::vec((1u32..=9, 2i64..=5), n),
            proptest::collection::vec(proptest::option::of(1i64..=5), n),
            proptest::collection::vec(0u32..=4, n),
            proptest::collection::btree_set(1u32..=480, 1..=3),
            0u64..=12,
        )
            .prop_map(|(inds, vals, efforts, cuts, budget)| {
                let top = inds.iter().map(|(_, n)| *n).max().unwrap_or(2) as f64;
                let bands =
                    cuts.into_iter().map(|c| c as f64 / 100.0).filter(|b| *b < top).collect();
                (inds, vals, efforts, bands, budget)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn plans_reach_their_target_and_none_is_cheaper((inds, vals, efforts, bands, budget) in case()) {
        let rs = RuleSet::parse("t", &small(&inds, &bands)).unwrap();
        let max_level = inds.iter().map(|(_, n)| *n).max().unwrap();
        let v: Values = vals.iter().enumerate()
            .filter_map(|(k, x)| x.filter(|x| *x <= inds[k].1).map(|x| (format!("i{k}"), x)))
            .collect();
        let e: Efforts = efforts.iter().enumerate().map(|(k, x)| (format!("i{k}"), *x)).collect();
        for (target, band) in rs.bands.iter().enumerate() {
            let (least, _) = exhaustive(&rs, &v, &e, target, budget);
            match cheapest(&rs, &v, &e, &band.name) {
                Ok(plan) => {
                    let after = score(&rs, &applied(&v, &plan));
                    prop_assert!(after.band.as_ref().is_some_and(|b| b.index >= target), "{plan:?} misses {}", band.name);
                    prop_assert_eq!(Some(plan.effort), least, "band {}", band.name);
                    prop_assert_eq!(plan.after, after.total);
                }
                Err(PlanError::Unreachable { .. }) => prop_assert_eq!(least, None),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
        let (_, most) = exhaustive(&rs, &v, &e, 0, budget);
        let plan = best_within(&rs, &v, &e, budget).unwrap();
        let after = score(&rs, &applied(&v, &plan));
        prop_assert!(plan.effort <= budget);
        prop_assert_eq!(after.units, most);
        prop_assert!(max_level >= 2);
    }
}
