//! Sync benchmarks on loopback against a real Balai Kota (release build, SQLite backend): one
//! office PC pushes a whole demo register (server intake), a second PC of the office makes its
//! first sync (pull end to end: fetch, merge, apply, index), then idle rounds. Writes
//! `target/bench/sync.json`, which `cargo xtask bench` puts into BENCHMARKS.md.

use balai_testkit::kota::{bin, Kota};
use balai_testkit::TestApp;
use serde_json::json;
use std::path::Path;
use std::time::Instant;

const RESIDENTS: u32 = 100_000;
const IDLE_ROUNDS: usize = 20;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let kota = Kota::start_with(bin(true));

    let a = TestApp::empty();
    a.operator("demo.seed", json!({"residents": RESIDENTS})).expect("seed");
    let waiting =
        a.operator("sync.status", json!({})).expect("status")["pending"].as_u64().expect("pending");
    a.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).expect("enrol A");
    let start = Instant::now();
    let pushed = a.operator("sync.now", json!({})).expect("push")["pushed"].as_u64().expect("n");
    let push_s = start.elapsed().as_secs_f64();

    let b = TestApp::empty();
    b.operator("demo.seed", json!({"residents": 0})).expect("seed B");
    b.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).expect("enrol B");
    let start = Instant::now();
    let first = b.operator("sync.now", json!({})).expect("first sync");
    let first_s = start.elapsed().as_secs_f64();
    let pulled = first["pulled"].as_u64().expect("pulled");
    let applied = first["applied"].as_u64().expect("applied");
    assert_eq!(first["held"], 0, "nothing held: {first}");
    let found = b.operator("residents.search", json!({"q": "a", "limit": 5})).expect("search on B");
    assert!(found.as_array().is_some_and(|f| !f.is_empty()), "B finds residents by name");

    let mut idle = Vec::new();
    for _ in 0..IDLE_ROUNDS {
        let start = Instant::now();
        let r = b.operator("sync.now", json!({})).expect("idle round");
        idle.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!((r["pushed"].as_u64(), r["pulled"].as_u64()), (Some(0), Some(0)), "{r}");
    }
    idle.sort_by(f64::total_cmp);

    let out = json!({
        "residents": RESIDENTS,
        "changes_waiting": waiting,
        "pushed": pushed,
        "push_s": push_s,
        "intake_per_s": pushed as f64 / push_s,
        "pulled": pulled,
        "applied_groups": applied,
        "first_sync_s": first_s,
        "pull_per_s": pulled as f64 / first_s,
        "idle_round_ms_median": idle[idle.len() / 2],
        "idle_rounds": IDLE_ROUNDS,
    });
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    std::fs::write(dir.join("sync.json"), out.to_string()).expect("write sync.json");
    println!("{out}");
}
