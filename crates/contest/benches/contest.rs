//! Scoring and planning a whole SPBE period (47 indicators, 5 levels): the figures the lurah's
//! scorecard page and planner wait on. `cargo xtask bench` runs it and writes BENCHMARKS.md.

use balai_contest::{best_within, cheapest, score, Efforts, RuleSet, Values};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn spbe() -> RuleSet {
    balai_contest::load_shipped()
        .expect("shipped")
        .into_iter()
        .find(|r| r.id == "spbe")
        .expect("spbe")
}

/// A period like Kota Metro's 2023 (Baik): levels 1–5 spread over the indicators.
fn period(rs: &RuleSet) -> Values {
    rs.indicators.iter().enumerate().map(|(k, i)| (i.id.clone(), 1 + (k as i64 * 7) % 5)).collect()
}

fn contest(c: &mut Criterion) {
    let rs = spbe();
    let v = period(&rs);
    c.bench_function("contest_score_spbe", |b| b.iter(|| score(black_box(&rs), black_box(&v))));
    // Efforts 1–5 per step, so the table is not the trivial one of all ones.
    let efforts: Efforts = rs
        .indicators
        .iter()
        .enumerate()
        .map(|(k, i)| (i.id.clone(), 1 + (k as u32 * 3) % 5))
        .collect();
    c.bench_function("contest_plan_spbe", |b| {
        b.iter(|| cheapest(black_box(&rs), black_box(&v), &efforts, "Memuaskan").expect("plan"))
    });
    c.bench_function("contest_plan_spbe_budget", |b| {
        b.iter(|| best_within(black_box(&rs), black_box(&v), &efforts, 60).expect("plan"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = contest
}
criterion_main!(benches);
