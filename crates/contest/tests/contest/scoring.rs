//! Scores of a period: totals per area and overall, the band as shown, what is still lacking.

use crate::shipped;
use balai_contest::{check_value, readiness, score, RuleSet, ScoreError, Values};
use std::collections::BTreeMap;

fn all(rs: &RuleSet, level: i64) -> Values {
    rs.indicators.iter().map(|i| (i.id.clone(), level)).collect()
}

#[test]
fn every_spbe_indicator_at_one_level_scores_that_level() {
    let rs = shipped("spbe");
    for (level, band) in
        [(1, "Kurang"), (2, "Cukup"), (3, "Baik"), (4, "Sangat Baik"), (5, "Memuaskan")]
    {
        let s = score(&rs, &all(&rs, level));
        assert_eq!(s.total, level as f64);
        assert_eq!(s.band.as_ref().unwrap().name, band);
        assert_eq!(s.filled, 47);
        // Each domain gives its weight × level / 100, and is at level/5 of its most.
        let shares: Vec<f64> = s.areas.iter().map(|a| a.total).collect();
        let expect: Vec<f64> = [0.13, 0.25, 0.165, 0.455]
            .iter()
            .map(|w| ((w * level as f64) * 100.0).round() / 100.0)
            .collect();
        assert_eq!(shares, expect, "level {level}");
        assert!(s.areas.iter().all(|a| a.percent == (level * 20) as f64));
    }
}

#[test]
fn the_band_follows_the_total_as_shown_and_names_the_distance_to_the_next() {
    let rs = shipped("spbe");
    // Level 3 everywhere (3.00), then the Layanan domain (aspect 7: 10 × 2.75 %) raised to 4:
    // 3 + 0.275 = 3.275 → shown 3.28, Baik, 0.22 below Sangat Baik.
    let mut v = all(&rs, 3);
    for i in 32..=41 {
        v.insert(format!("I{i}"), 4);
    }
    let s = score(&rs, &v);
    assert_eq!(s.total, 3.28);
    assert_eq!(s.band.as_ref().unwrap().name, "Baik");
    let next = s.next.unwrap();
    assert_eq!((next.name.as_str(), next.from, next.needed), ("Sangat Baik", 3.5, 0.22));
    // + I42–I47 (aspect 8, 18 %) by one: 3.455; + I21 (1.5 %) by two: 3.485 → shown 3.49, Baik.
    for i in 42..=47 {
        v.insert(format!("I{i}"), 4);
    }
    v.insert("I21".into(), 5);
    let s = score(&rs, &v);
    assert_eq!(s.units, 3_485_000);
    assert_eq!((s.total, s.band.unwrap().name.as_str()), (3.49, "Baik"));
    // + I1 (1.3 %) by one: 3.498, shown 3.50 — and Sangat Baik, as printed beside it.
    v.insert("I1".into(), 4);
    let s = score(&rs, &v);
    assert_eq!(s.units, 3_498_000);
    assert_eq!((s.total, s.band.unwrap().name.as_str()), (3.5, "Sangat Baik"));
}

#[test]
fn missing_values_count_as_nothing_and_are_listed_as_lacking() {
    let rs = shipped("spbe");
    let empty = score(&rs, &Values::new());
    assert_eq!((empty.total, empty.filled), (0.0, 0));
    assert_eq!(empty.band.unwrap().name, "Kurang");
    let mut v = Values::new();
    v.insert("I1".into(), 5);
    let s = score(&rs, &v);
    assert_eq!(s.total, 0.07); // 1.3 % × 5 = 0.065 → 0.07 (half up)
    assert_eq!(s.areas[0].filled, 1);
    let mut evidence = BTreeMap::new();
    let gaps = readiness(&rs, &v, &evidence);
    assert_eq!(gaps.len(), 47);
    assert!(gaps[0].lacks_evidence && !gaps[0].lacks_value);
    assert!(gaps[1].lacks_evidence && gaps[1].lacks_value);
    evidence.insert("I1".to_string(), 2);
    let gaps = readiness(&rs, &v, &evidence);
    assert_eq!(gaps.len(), 46);
    assert_eq!(gaps[0].indicator, "I2");
}

#[test]
fn a_value_outside_the_scale_is_refused_by_name_and_ignored_in_a_score() {
    let rs = shipped("spbe");
    assert_eq!(
        check_value(&rs, "I3", 6),
        Err(ScoreError::NotAnOption {
            indicator: "I3".into(),
            value: 6,
            allowed: "1, 2, 3, 4, 5".into()
        })
    );
    assert_eq!(check_value(&rs, "I99", 1), Err(ScoreError::UnknownIndicator("I99".into())));
    assert_eq!(check_value(&rs, "I3", 5), Ok(()));
    let mut v = all(&rs, 2);
    v.insert("I3".into(), 9);
    let s = score(&rs, &v);
    assert_eq!(s.filled, 46);
    assert_eq!(s.total, 1.97); // 2 − 1.3 % × 2
}

#[test]
fn kelurahan_points_add_up_per_field() {
    let rs = shipped("epdeskel");
    let top: Values =
        rs.indicators.iter().map(|i| (i.id.clone(), *i.scale.options.last().unwrap())).collect();
    let s = score(&rs, &top);
    assert_eq!(s.total, 437.0);
    let fields: Vec<f64> = s.areas.iter().map(|a| a.total).collect();
    assert_eq!(fields, [124.0, 98.0, 215.0]);
    assert_eq!(s.band.unwrap().name, "Cepat Berkembang");
    assert_eq!(s.next, None);
    // Drop points until the total is 350, then 351.
    let mut v = top.clone();
    let mut total = 437;
    for i in &rs.indicators {
        if total == 350 {
            break;
        }
        let drop = (*i.scale.options.last().unwrap()).min(total - 350);
        v.insert(i.id.clone(), i.scale.options.last().unwrap() - drop);
        total -= drop;
    }
    let s = score(&rs, &v);
    assert_eq!((s.total, s.band.unwrap().name.as_str()), (350.0, "Berkembang"));
    assert_eq!(s.next.unwrap().needed, 1.0);
}
