//! The fuzz targets of `fuzz/` (cargo fuzz, libFuzzer), each for a bounded time: 20 s in
//! `cargo xtask test` (BALAI_FUZZ_SECONDS), 10 minutes in `cargo xtask soak`. A run starts from
//! a copy of the committed seed corpus; a crash is kept in `fuzz/artifacts/<target>/` and fails
//! the step. Each target's executions are printed for the notes.

use crate::Result;
use std::path::Path;
use std::process::Command;

pub const TARGETS: [&str; 4] = ["import_file", "letter_template", "qr_payload", "sync_protocol"];

fn cargo_fuzz(root: &Path) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // cargo fuzz passes unstable codegen flags; the machine's one toolchain is stable.
    c.current_dir(root).env("RUSTC_BOOTSTRAP", "1").arg("fuzz");
    c
}

/// Builds every target, then runs each for `seconds`; true when none crashed.
pub fn run(root: &Path, seconds: u64) -> Result<bool> {
    if !crate::status(cargo_fuzz(root).args(["build", "--sanitizer", "none"]))? {
        return Ok(false);
    }
    let mut ok = true;
    for target in TARGETS {
        let corpus = tempfile_dir(target)?;
        copy_dir(&root.join("fuzz/corpus").join(target), &corpus)?;
        let out = cargo_fuzz(root)
            .args(["run", target, "--sanitizer", "none"])
            .arg(&corpus)
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-rss_limit_mb=2048",
                "-malloc_limit_mb=1024",
                "-max_len=262144",
                "-timeout=10",
                "-print_final_stats=1",
            ])
            .output()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        let log = String::from_utf8_lossy(&out.stderr);
        let runs = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .map(str::trim)
            .unwrap_or("?");
        let corpus_size = std::fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0);
        if out.status.success() {
            println!(
                "fuzz: {target}: {runs} executions in {seconds} s, corpus {corpus_size}, no crash"
            );
        } else {
            ok = false;
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            println!("fuzz: {target} FAILED after {runs} executions:");
            for line in tail.into_iter().rev() {
                println!("  {line}");
            }
        }
        let _ = std::fs::remove_dir_all(&corpus);
    }
    Ok(ok)
}

fn tempfile_dir(target: &str) -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("balai-fuzz-{target}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        std::fs::copy(entry.path(), to.join(entry.file_name())).map_err(|e| e.to_string())?;
    }
    Ok(())
}
