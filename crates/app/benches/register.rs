//! Register benchmarks at the app boundary, on a real database file with 100,000 synthetic
//! residents: import time, and search latency percentiles (criterion reports means; the
//! targets are about p99, so this bench times each call itself). Writes
//! `target/bench/register.json`, which `cargo xtask bench` puts into BENCHMARKS.md.

use balai_testkit::TestApp;
use serde_json::json;
use std::time::{Duration, Instant};

const RESIDENTS: u32 = 100_000;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 7, 1).expect("date");
    let csv = balai_app::areas::demo::synthetic_register_csv(RESIDENTS, 7, today);

    // Import: three fresh databases, the median time.
    let mut import_times = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let t = TestApp::demo();
        let tok = t.login("petugas", "demo-petugas");
        let start = Instant::now();
        let r = t.call(Some(&tok), "residents.import", json!({"content": csv})).expect("import");
        import_times.push(start.elapsed());
        assert_eq!(r["imported"], RESIDENTS);
        last = Some(t);
    }
    import_times.sort();
    let t = last.expect("an app");
    let tok = t.login("petugas", "demo-petugas");

    // Queries a clerk types: name prefixes of 1–5 letters, two-word prefixes, NIK and KK prefixes.
    let names = [
        "s", "si", "sit", "siti", "b", "bu", "bud", "budi", "ag", "agus", "dewi", "ma'r", "nur",
        "rahm", "wij",
    ];
    let two = ["siti a", "budi s", "agus w", "dewi ha", "nur ra", "eko pr"];
    let mut queries: Vec<String> = Vec::new();
    for i in 0..2000 {
        queries.push(match i % 4 {
            0 => names[i % names.len()].to_string(),
            1 => two[i % two.len()].to_string(),
            2 => format!("187204{:0w$}", i % 10, w = 1 + i % 6),
            _ => format!("1872044{}", i % 10),
        });
    }
    // Warm up the caches once, as a running app would be.
    for q in queries.iter().take(100) {
        t.call(Some(&tok), "residents.search", json!({"q": q, "limit": 50})).expect("search");
    }
    let mut times = Vec::with_capacity(queries.len());
    let mut returned = 0usize;
    for q in &queries {
        let start = Instant::now();
        let r =
            t.call(Some(&tok), "residents.search", json!({"q": q, "limit": 50})).expect("search");
        times.push(start.elapsed());
        returned += r.as_array().map(Vec::len).unwrap_or(0);
    }
    times.sort();
    let out = json!({
        "residents": RESIDENTS,
        "import_ms_median": import_times[1].as_secs_f64() * 1000.0,
        "import_ms_all": import_times.iter().map(|d| d.as_secs_f64() * 1000.0).collect::<Vec<_>>(),
        "search_queries": times.len(),
        "search_results_per_query": returned as f64 / times.len() as f64,
        "search_ms_p50": percentile(&times, 0.50),
        "search_ms_p99": percentile(&times, 0.99),
        "search_ms_max": percentile(&times, 1.0),
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    std::fs::write(dir.join("register.json"), serde_json::to_string_pretty(&out).expect("json"))
        .expect("write");
    #[allow(clippy::print_stdout)]
    {
        println!("{out:#}");
    }
}
