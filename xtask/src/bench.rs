//! `cargo xtask bench`: runs the criterion benchmarks and the window's benchmark, and writes
//! BENCHMARKS.md with the figure, the target it is held to, the machine and the date.
//! `cargo xtask bench --report` only rewrites BENCHMARKS.md from the last run's results.

use crate::{build_all, must, setup, Result};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// (criterion id, what it measures, target)
const BENCHES: &[(&str, &str, &str)] = &[
    (
        "login",
        "log in (Argon2id verify + session + audit entry)",
        "< 500 ms (deliberately slow hash)",
    ),
    ("profile_get", "read the office profile through dispatch", "< 1 ms"),
    ("profile_set", "validate + save the profile + audit entry (synchronous=FULL)", "< 20 ms"),
    ("audit_verify_10k", "verify a 10,000-entry audit chain", "< 200 ms"),
    ("contest_score_spbe", "score an SPBE period (47 indicators: areas, total, band)", "< 1 ms"),
    (
        "contest_plan_spbe",
        "exact cheapest plan to the top SPBE band (47 indicators × 5 levels, efforts 1–5)",
        "< 100 ms",
    ),
    ("contest_plan_spbe_budget", "exact best SPBE total within an effort budget of 60", "< 100 ms"),
];

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("PRETTY_NAME="))
                .map(|l| l[13..].trim_matches('"').to_string())
        })
        .unwrap_or_default();
    // Hosts sold under the same CPU name differ by 2× here: the BogoMIPS and cache tell them apart.
    let field = |name: &str| {
        std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(name))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
    };
    let bogomips = field("bogomips").unwrap_or_default();
    let cache = field("cache size").unwrap_or_default();
    format!("{os}, {cpu} (BogoMIPS {bogomips}, cache {cache}), {cores} cores, {mem_gib:.0} GiB RAM")
}

fn date() -> String {
    Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn human(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// What a benchmark wrote to `target/bench/<name>.json`, if it ran.
/// A section of BENCHMARKS.md measured by hand between these marks is kept by the report.
const KEPT_START: &str = "<!-- measured by hand: kept by cargo xtask bench -->";
const KEPT_END: &str = "<!-- end of what was measured by hand -->";

fn figures(root: &Path, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(root.join(format!("target/bench/{name}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

fn at_most(v: f64, target: f64) -> &'static str {
    if v <= target {
        "meets"
    } else {
        "**misses**"
    }
}

fn at_least(v: f64, target: f64) -> &'static str {
    if v >= target {
        "meets"
    } else {
        "**misses**"
    }
}

/// A heading and the head of its figures table.
fn section(md: &mut String, title: &str) {
    let _ = writeln!(md, "\n## {title}\n");
    let _ = writeln!(md, "| figure | measured | target | |");
    let _ = writeln!(md, "|---|---|---|---|");
}

pub fn run(root: &Path, report_only: bool) -> Result<bool> {
    if !report_only {
        measure(root)?;
    }
    write_report(root)
}

fn measure(root: &Path) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for (package, bench) in [
        ("balai-app", "foundation"),
        ("balai-contest", "contest"),
        ("balai-app", "register"),
        ("balai-app", "letters"),
        ("balai-app", "sync"),
        ("balai-kota", "fleet"),
    ] {
        must(
            Command::new(&cargo).current_dir(root).args(["bench", "-p", package, "--bench", bench]),
        )?;
    }
    // The window: release binaries and UI, Chromium and the real Tauri window under Xvfb.
    setup::ensure(root, setup::Purpose::Test)?;
    build_all(root, true)?;
    let release = root.join("target/release");
    must(
        Command::new("xvfb-run")
            .current_dir(root.join("ui"))
            .args(["-a", "-s", "-screen 0 1366x768x24", "node", "bench/desktop.mjs"])
            .env("BALAI_BIN", release.join("balai"))
            .env("BALAI_DESKTOP_BIN", release.join("balai-desktop"))
            .env("TAURI_DRIVER", setup::tauri_driver_path()),
    )
}

fn write_report(root: &Path) -> Result<bool> {
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(md, "Written by `cargo xtask bench` (criterion, release build). Re-run it after changing what these measure.\n");
    let _ = writeln!(md, "- Machine: {}", machine());
    let _ = writeln!(md, "- Date: {}\n", date());
    let _ = writeln!(md, "| benchmark | what | median | target |");
    let _ = writeln!(md, "|---|---|---|---|");
    for (id, what, target) in BENCHES {
        let path = root.join("target/criterion").join(id).join("new/estimates.json");
        let median = std::fs::read_to_string(&path)
            .ok()
            .and_then(|s| serde_json::from_str::<Value>(&s).ok())
            .and_then(|v| v["median"]["point_estimate"].as_f64())
            .map(human)
            .unwrap_or_else(|| "not measured".into());
        let _ = writeln!(md, "| `{id}` | {what} | {median} | {target} |");
    }
    if let Some(r) = figures(root, "register") {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        section(
            &mut md,
            &format!("Register ({} synthetic residents, at the app boundary)", r["residents"]),
        );
        let import_s = f("import_ms_median") / 1000.0;
        let _ = writeln!(md, "| import of the whole register from CSV (median of 3) | {import_s:.2} s | < 3 s | {} |", at_most(import_s, 3.0));
        let _ = writeln!(
            md,
            "| search, p50 over {} queries (name prefixes of 1–5 letters, two words, NIK/KK prefixes) | {:.2} ms | | |",
            r["search_queries"],
            f("search_ms_p50")
        );
        let _ = writeln!(
            md,
            "| search, p99 | {:.2} ms | < 2 ms | {} |",
            f("search_ms_p99"),
            at_most(f("search_ms_p99"), 2.0)
        );
        let _ = writeln!(md, "| search, slowest | {:.2} ms | | |", f("search_ms_max"));
        let _ = writeln!(
            md,
            "\nThe import is one transaction: each row is validated and written with its family, then, as a bulk write, the five secondary indexes and the FTS5 name index are built once and every inserted row is captured for sync in one set-based statement; then it commits with synchronous=FULL. Profiled on a slower host of the same description (perf, 2026-11-23): validating and writing the rows ~2.5 s, indexes ~0.9 s, the name index ~1.5 s, sync capture ~0.6 s, commit ~0.9 s."
        );
        let _ = writeln!(
            md,
            "\nThe figure depends on the host more than the name above says: runs up to 2026-12-04 on a host with the same description measured 3.7–5.6 s with the import code measured here in {import_s:.2} s (the `login` and `audit_verify_10k` rows, whose code did not change, were slower there by about the same factor). The 3 s target {}; what is left to try for slower machines: docs/adr/0005-bulk-writes-and-inserts-by-reference.md.",
            if import_s <= 3.0 { "is met on this run's host" } else { "is missed on this run's host" }
        );
    }
    if let Some(r) = figures(root, "ui") {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        section(
            &mut md,
            &format!(
                "The register's window ({} synthetic residents, release build)",
                r["residents"]
            ),
        );
        let keystrokes = format!(
            "keystroke to rendered results in Chromium on `balai serve` ({} keystrokes that change the results)",
            r["keystrokes_timed"]
        );
        for (which, key, target) in [
            ("p50", "keystroke_ms_p50", None),
            ("p95", "keystroke_ms_p95", None),
            ("p99", "keystroke_ms_p99", Some(50.0)),
            ("slowest", "keystroke_ms_max", None),
        ] {
            let v = f(key);
            let (target, verdict) = match target {
                Some(t) => (format!("< {t} ms"), at_most(v, t)),
                None => (String::new(), ""),
            };
            let _ = writeln!(md, "| {keystrokes}, {which} | {v:.1} ms | {target} | {verdict} |");
        }
        if r["launch_ms_median"].is_number() {
            let launch = f("launch_ms_median") / 1000.0;
            let _ = writeln!(md, "| Tauri window: launch to a usable login form, median of 3 (each: {}) | {launch:.2} s | < 1.5 s | {} |", r["launch_ms_each"], at_most(launch, 1.5));
            let _ = writeln!(
                md,
                "| Tauri window: log in to the first results | {:.0} ms | | |",
                f("login_to_results_ms")
            );
            let _ = writeln!(md, "| Tauri window: resident memory of the `balai-desktop` process after a dozen searches | {:.0} MiB (peak {:.0}) | < 200 MB | {} |", f("app_rss_mib"), f("app_peak_mib"), at_most(f("app_rss_mib") * 1.048_576, 200.0));
            let _ = writeln!(
                md,
                "| Tauri window: resident memory of its WebKit processes ({}) | {:.0} MiB | | |",
                r["webkit_processes"].as_array().map(|a| a.len()).unwrap_or(0),
                f("webkit_rss_mib")
            );
        }
        let _ = writeln!(
            md,
            "\nA keystroke is timed in the page from its `keydown` to the first animation frame after the results table holds exactly the rows the app answers for the new text (keys that leave the rows as they were are typed but not timed: {} of them). The window is driven through tauri-driver and WebKitWebDriver, so its launch time includes starting them: an upper bound. Resident memory counts shared libraries in each process.",
            r["keystrokes_unchanged"]
        );
    }
    if let Some(r) = figures(root, "letters") {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        section(&mut md, "Letters (domisili, F4, at the app boundary)");
        let _ = writeln!(
            md,
            "| render one letter to PDF (median of 50) | {:.1} ms | < 30 ms | {} |",
            f("render_ms_median"),
            at_most(f("render_ms_median"), 30.0)
        );
        let kb = f("pdf_bytes") / 1024.0;
        let _ = writeln!(md, "| PDF size | {kb:.0} KB | < 150 KB | {} |", at_most(kb, 150.0));
        let _ = writeln!(md, "| issue {} letters in a row (number, store, sign, render; synchronous=FULL) | {:.1} s | < 60 s | {} |", r["issued"], f("issue_all_s"), at_most(f("issue_all_s"), 60.0));
        let _ = writeln!(md, "| distinct numbers among them | {} | all | |", r["distinct_numbers"]);
    }
    if let Some(r) = figures(root, "sync") {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        section(
            &mut md,
            &format!(
                "Sync (loopback, release `balai-kota` on SQLite; demo register of {} residents)",
                r["residents"]
            ),
        );
        let _ = writeln!(md, "| server intake: PC A pushes its whole outbox ({} changes, {:.1} s, end to end) | {:.0} changes/s | ≥ 30,000/s | {} |", r["pushed"], f("push_s"), f("intake_per_s"), at_least(f("intake_per_s"), 30_000.0));
        let _ = writeln!(md, "| first sync of PC B: a snapshot of {} rows downloaded, applied ({} field groups) and checked, register searchable | {:.2} s | ≤ 3 s | {} |", r["pulled"], r["applied_groups"], f("first_sync_s"), at_most(f("first_sync_s"), 3.0));
        if r["feed_round_s"].is_number() {
            let _ = writeln!(md, "| pull end to end: B's round after A registered {} more residents ({} feed entries, {:.2} s) | {:.0} changes/s | ≥ 40,000/s | {} |", r["more_residents"], r["feed_pulled"], f("feed_round_s"), f("pull_per_s"), at_least(f("pull_per_s"), 40_000.0));
            if r["check_round_s"].is_number() {
                let _ = writeln!(md, "| digest self-check: B's round with `sync now --check` (every field group of the kelurahan summed on each side; hourly, or when asked) | {:.2} s | | |", f("check_round_s"));
            }
        } else {
            let _ = writeln!(
                md,
                "| pull end to end | {:.0} changes/s | ≥ 40,000/s | {} |",
                f("pull_per_s"),
                at_least(f("pull_per_s"), 40_000.0)
            );
        }
        let _ = writeln!(md, "| idle round (time, push check, pull, reserve check), median of {} | {:.1} ms | ≤ 5 ms server time | |", r["idle_rounds"], f("idle_round_ms_median"));
        if r["idle_round_bytes"].is_number() {
            let bytes = f("idle_round_bytes");
            let _ = writeln!(md, "| idle round on the wire (requests and answers with their HTTP headers), mean of {} | {bytes:.0} bytes | ≤ 1 KB | {} |", r["idle_rounds"], at_most(bytes, 1024.0));
        }
        if r["pg_intake_per_s"].is_number() {
            let _ = writeln!(md, "| on PostgreSQL: server intake, PC D pushes the same register ({} changes, {:.1} s) | {:.0} changes/s | reported | |", r["pg_pushed"], f("pg_push_s"), f("pg_intake_per_s"));
            let _ = writeln!(md, "| on PostgreSQL: first sync of PC E (a snapshot of {} rows) | {:.2} s ({:.0} rows/s) | | |", r["pg_pulled"], f("pg_first_sync_s"), f("pg_pull_per_s"));
        }
        let _ = writeln!(
            md,
            "\nThe rows of a kelurahan travel as one feed entry per inserted row (all its field groups); a push is signed, zstd-compressed batches (64 KB compressed, doubling per answer up to 512 KB), each applied in one server transaction with the shared merge per group; feed pages come zstd-compressed, each fetched and decoded on a second thread while the one before is applied. A first sync takes a snapshot of the kelurahan's rows instead of the feed: pages of 10,000 rows, each kept (compressed, on a second thread while the next is fetched) as it arrives so a cut-off download resumes, then all applied in one transaction as a bulk write (indexes and the name index built once), pages decoded on a second thread while the one before is applied. A round that moved something ends with the digest self-check when the PC's last comparison is an hour old (its first round always; ADR 0009), or in any round with `sync now --check`: each side sums the clocks of every field group, the PC's sum taken while the city's is on its way. Here the push and the first sync compare (each PC's first), the pull does not (B compared seconds before), and the self-check row times a round that compares and moves nothing. The idle round is wall time at the client (three requests), not server time alone; its bytes are counted by a loopback relay between a third PC and the city. The PostgreSQL rows run the same push and first sync against `balai-kota --database-url` on a throwaway PostgreSQL 15 cluster on the same machine (started by the benchmark, fsync off as in the tests: an upper bound for a real server's disk)."
        );
    }
    if let Some(r) = figures(root, "fleet") {
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        section(
            &mut md,
            &format!(
                "A city's fleet (loopback, release `balai-kota` on SQLite; {} PCs in {} kelurahan, each syncing every {} s)",
                r["pcs"], r["kelurahan"], r["every_s"]
            ),
        );
        let _ = writeln!(md, "| sync round at the PC (time, push of one edit in a fifth of rounds, pull), p50 over {} rounds | {:.1} ms | | |", r["rounds"], f("round_ms_p50"));
        let _ = writeln!(
            md,
            "| sync round, p99 | {:.1} ms | < 300 ms | {} |",
            f("round_ms_p99"),
            at_most(f("round_ms_p99"), 300.0)
        );
        let _ = writeln!(md, "| sync round, slowest | {:.1} ms | | |", f("round_ms_max"));
        let errors = f("errors");
        let _ = writeln!(md, "| errors | {errors:.0} | 0 | {} |", at_most(errors, 0.0));
        let _ = writeln!(
            md,
            "\nEach PC has its own enrolled key and signs every request; its rounds start at its own second of the minute (33 rounds a second in all), run by 64 client threads on the same 2 cores as the server, so the figures include the client's share of the CPU. `dispatched_late` in `target/bench/fleet.json` counts rounds the client started more than 100 ms after their time ({}).",
            r["dispatched_late"]
        );
    }
    if let Some(d) = figures(root, "dist") {
        section(
            &mut md,
            &format!(
                "Installers (`cargo xtask dist`, release build, {})",
                d["date"].as_str().unwrap_or("")
            ),
        );
        let mb = |k: &str| d[k]["bytes"].as_f64().unwrap_or(f64::NAN) / 1e6;
        let name = |k: &str| d[k]["name"].as_str().unwrap_or("").to_string();
        let desktop = mb("desktop_deb");
        let _ = writeln!(md, "| desktop app, `{}` (with the `balai` command line; WebView is the system's WebKitGTK) | {desktop:.1} MB | < 15 MB | {} |", name("desktop_deb"), at_most(desktop, 15.0));
        let _ =
            writeln!(md, "| city server, `{}` | {:.1} MB | | |", name("kota_deb"), mb("kota_deb"));
        let _ = writeln!(
            md,
            "| city server, `{}` | {:.1} MB | | |",
            name("kota_tarball"),
            mb("kota_tarball")
        );
        let _ = writeln!(md, "\nThe Windows installer is built on Windows (installers/windows/README.md): with the WebView2 offline installer embedded it is about 127 MB larger than the app; its size is not measured here.");
    }
    // Sections measured by hand (marked in BENCHMARKS.md) are kept as they are.
    let old = std::fs::read_to_string(root.join("BENCHMARKS.md")).unwrap_or_default();
    let mut rest = old.as_str();
    while let Some((_, after)) = rest.split_once(KEPT_START) {
        let (kept, tail) = after.split_once(KEPT_END).unwrap_or((after, ""));
        let _ = write!(md, "\n{KEPT_START}{kept}{KEPT_END}\n");
        rest = tail;
    }
    std::fs::write(root.join("BENCHMARKS.md"), md).map_err(|e| e.to_string())?;
    println!("xtask: wrote BENCHMARKS.md");
    Ok(true)
}
