//! The simulation's seeds: 6 short runs and the seeds that once found a bug in every `cargo xtask test`; `cargo xtask soak` runs
//! many more, longer (`BALAI_SIM_SEEDS`, `BALAI_SIM_STEPS`), and prints what they did.

use balai_sim::{run, Config};
use std::collections::BTreeMap;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

#[test]
fn every_seed_converges_loses_nothing_and_never_numbers_a_letter_twice() {
    let cfg = Config { steps: env("BALAI_SIM_STEPS", 300), ..Config::default() };
    let seeds = env("BALAI_SIM_SEEDS", 6) as u64;
    let first = env("BALAI_SIM_FIRST_SEED", 0) as u64;
    let mut total: BTreeMap<String, u64> = BTreeMap::new();
    let (mut letters, mut groups, mut rounds) = (0, 0, 0);
    let (mut leases, mut singles, mut unused, mut held) = (0, 0, 0, 0);
    let mut identity_conflicts = 0;
    // Seeds that once found a bug (at 300 steps, with this schedule), run with the usual ones:
    // 7 a hand-over lost to a restored copy's stale claim, 16 a replayed pull fencing an honest
    // PC, 21 a copy from before a lease ask never fenced, 31 a handed-over request unknown to
    // its new holder after a first sync, 48 a restored copy never receiving rows its old id
    // wrote, 52 letter numbers the city refused answered ok to a push repeated after a lost
    // answer. (A change to the schedule moves them; they still run as ordinary seeds.)
    let regressions: &[u64] = if cfg.steps == 300 { &[7, 16, 21, 31, 48, 52] } else { &[] };
    let mut all: Vec<u64> = (first..first + seeds).collect();
    let extra: Vec<u64> = regressions.iter().copied().filter(|s| !all.contains(s)).collect();
    all.extend(extra);
    let seeds = all.len();
    for seed in all {
        let report = run(seed, &cfg).unwrap_or_else(|e| match e.starts_with("seed ") {
            true => panic!("{e}"),
            false => panic!("seed {seed}: {e}"),
        });
        // A run that did nothing proves nothing.
        assert!(report.groups_compared > 0 && report.letters > 0, "{report:?}");
        assert!(report.faults.values().sum::<u64>() > 0, "{report:?}");
        for (k, v) in report.ops.iter().chain(report.faults.iter()) {
            *total.entry(k.clone()).or_default() += v;
        }
        letters += report.letters;
        groups += report.groups_compared;
        rounds = rounds.max(report.rounds_to_quiet);
        leases += report.leases_checked;
        singles += report.single_leases;
        unused += report.numbers_unused;
        held += report.numbers_held;
        identity_conflicts += report.identity_conflicts;
    }
    // The letters issued online took the city's next number, and the numbers of the year that
    // ended during the runs were given back: both paths ran.
    assert!(singles > 0 && unused > 0, "single leases {singles}, numbers unused {unused}");
    // Clerks at two PCs renamed one resident without seeing each other's: the review queue ran.
    assert!(identity_conflicts > 0, "no identity conflict in {seeds} seeds");
    let reviewed = total
        .iter()
        .filter(|(k, _)| k.ends_with("review conflict: ok"))
        .map(|(_, v)| v)
        .sum::<u64>();
    assert!(reviewed > 0, "no identity conflict reviewed in {seeds} seeds");
    eprintln!(
        "simulation: {seeds} seeds × {} steps, {} PCs each: {letters} letters, {groups} field groups compared, quiet within {rounds} rounds",
        cfg.steps,
        cfg.kelurahan * cfg.pcs_per_kelurahan
    );
    eprintln!(
        "  letter numbers: {leases} leases accounted for ({singles} of one number, leased at the counter); {unused} numbers recorded unused, {held} still held unissued by their PCs, 0 unaccounted"
    );
    eprintln!("  identity conflicts: {identity_conflicts} recorded, {reviewed} reviewed, each alike on every PC of its kelurahan");
    for (k, v) in &total {
        eprintln!("  {v:>7}  {k}");
    }
}
