//! Sync benchmarks on loopback against a real Balai Kota (release build, SQLite backend): one
//! office PC pushes a whole demo register (server intake), a second PC of the office makes its
//! first sync (pull end to end: fetch, merge, apply, index), then idle rounds (their time, and
//! their bytes on the wire through a counting relay, on a third PC); then the same push and
//! first sync against Balai Kota on PostgreSQL (a throwaway cluster). Writes
//! `target/bench/sync.json`, which `cargo xtask bench` puts into BENCHMARKS.md.

use balai_testkit::kota::{bin, Kota};
use balai_testkit::TestApp;
use serde_json::json;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A loopback relay to the city that counts the bytes crossing it both ways (HTTP headers
/// included), so an idle round's size on the wire is measured, not estimated.
struct CountingRelay {
    url: String,
    bytes: Arc<AtomicU64>,
}

impl CountingRelay {
    fn start(city: &str) -> CountingRelay {
        let target = city.trim_start_matches("http://").trim_end_matches('/').to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("relay");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        let bytes = Arc::new(AtomicU64::new(0));
        let counter = bytes.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(city) = TcpStream::connect(&target) else { continue };
                for (mut from, mut to) in [
                    (client.try_clone().expect("clone"), city.try_clone().expect("clone")),
                    (city, client),
                ] {
                    let counter = counter.clone();
                    std::thread::spawn(move || {
                        let mut buf = vec![0u8; 64 * 1024];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                            counter.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        CountingRelay { url, bytes }
    }
}

const RESIDENTS: u32 = 100_000;
const IDLE_ROUNDS: usize = 20;
/// Residents A registers after B's first sync, which B then pulls through the feed.
const MORE_RESIDENTS: u32 = 20_000;

/// What one city measured: a PC seeded with the register pushes all of it, then a fresh PC
/// of the office makes its first sync.
struct WholeRegister {
    waiting: u64,
    pushed: u64,
    push_s: f64,
    pulled: u64,
    applied: u64,
    first_s: f64,
    /// The PC that made the first sync (caught up).
    fresh: TestApp,
    /// The PC that pushed the register.
    origin: TestApp,
}

fn push_then_first_sync(kota: &Kota) -> WholeRegister {
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
    assert_eq!(first["held"], 0, "nothing held: {first}");
    WholeRegister {
        waiting,
        pushed,
        push_s,
        pulled: first["pulled"].as_u64().expect("pulled"),
        applied: first["applied"].as_u64().expect("applied"),
        first_s,
        fresh: b,
        origin: a,
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let kota = Kota::start_with(bin(true));
    let lite = push_then_first_sync(&kota);
    let b = &lite.fresh;
    let found = b.operator("residents.search", json!({"q": "a", "limit": 5})).expect("search on B");
    assert!(found.as_array().is_some_and(|f| !f.is_empty()), "B finds residents by name");

    // The feed after a first sync: PC A registers more residents (an import: people of another
    // kecamatan, so no NIK is taken), pushes them, and B pulls them page by page.
    let today = chrono::NaiveDate::from_ymd_opt(2026, 7, 1).expect("date");
    let more = balai_app::areas::demo::synthetic_register_csv(MORE_RESIDENTS, 11, today)
        .replace(";187204", ";187205")
        .replace("\n187204", "\n187205");
    let a = &lite.origin;
    let imported = a.operator("residents.import", json!({"content": more})).expect("import on A");
    assert_eq!(imported["imported"], MORE_RESIDENTS, "{imported}");
    a.operator("sync.now", json!({})).expect("A pushes the import");
    let start = Instant::now();
    let later = b.operator("sync.now", json!({})).expect("B pulls the import");
    let feed_s = start.elapsed().as_secs_f64();
    let feed_pulled = later["pulled"].as_u64().expect("pulled");
    assert!(feed_pulled >= MORE_RESIDENTS as u64, "{later}");
    // B's first sync compared digests seconds ago, so that round did not (hourly); the
    // comparison on its own: both sides sum the clocks of every field group.
    assert_eq!(later["digest"], "not_compared", "{later}");
    let start = Instant::now();
    let checked = b.operator("sync.now", json!({"check": true})).expect("B compares");
    let check_s = start.elapsed().as_secs_f64();
    assert_eq!(checked["digest"], "agreed", "{checked}");

    // A third PC of the office, caught up, then idle: its rounds go through the counting relay.
    let relay = CountingRelay::start(&kota.url);
    let c = TestApp::empty();
    c.operator("demo.seed", json!({"residents": 0})).expect("seed C");
    c.operator("sync.enrol", json!({"server": relay.url, "code": kota.code()})).expect("enrol C");
    c.operator("sync.now", json!({})).expect("C catches up");
    c.operator("sync.now", json!({})).expect("C settles");
    relay.bytes.store(0, Ordering::Relaxed);
    for _ in 0..IDLE_ROUNDS {
        let r = c.operator("sync.now", json!({})).expect("idle round of C");
        assert_eq!((r["pushed"].as_u64(), r["pulled"].as_u64()), (Some(0), Some(0)), "{r}");
    }
    let idle_bytes = relay.bytes.load(Ordering::Relaxed) as f64 / IDLE_ROUNDS as f64;

    let mut idle = Vec::new();
    for _ in 0..IDLE_ROUNDS {
        let start = Instant::now();
        let r = b.operator("sync.now", json!({})).expect("idle round");
        idle.push(start.elapsed().as_secs_f64() * 1000.0);
        assert_eq!((r["pushed"].as_u64(), r["pulled"].as_u64()), (Some(0), Some(0)), "{r}");
    }
    idle.sort_by(f64::total_cmp);

    // The same push and first sync against Balai Kota on PostgreSQL.
    let on_pg = Kota::start_on_postgres(bin(true), balai_testkit::pg::fresh_database());
    let pg = push_then_first_sync(&on_pg);
    assert_eq!(pg.pulled, lite.pulled, "the same register comes down from either backend");

    let out = json!({
        "residents": RESIDENTS,
        "changes_waiting": lite.waiting,
        "pushed": lite.pushed,
        "push_s": lite.push_s,
        "intake_per_s": lite.pushed as f64 / lite.push_s,
        "pulled": lite.pulled,
        "applied_groups": lite.applied,
        "first_sync_s": lite.first_s,
        "first_sync_per_s": lite.pulled as f64 / lite.first_s,
        "more_residents": MORE_RESIDENTS,
        "feed_pulled": feed_pulled,
        "feed_round_s": feed_s,
        "pull_per_s": feed_pulled as f64 / feed_s,
        "check_round_s": check_s,
        "idle_round_ms_median": idle[idle.len() / 2],
        "idle_rounds": IDLE_ROUNDS,
        "idle_round_bytes": idle_bytes,
        "pg_pushed": pg.pushed,
        "pg_push_s": pg.push_s,
        "pg_intake_per_s": pg.pushed as f64 / pg.push_s,
        "pg_pulled": pg.pulled,
        "pg_first_sync_s": pg.first_s,
        "pg_pull_per_s": pg.pulled as f64 / pg.first_s,
    });
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    std::fs::write(dir.join("sync.json"), out.to_string()).expect("write sync.json");
    println!("{out}");
}
