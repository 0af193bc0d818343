//! xtask: the two commands of Balai, and their helpers.
//!
//! - `cargo xtask run`   installs what is missing, builds, seeds a demo office on first run and
//!   opens the desktop app (or, with no display, serves the UI on loopback and prints the URL).
//! - `cargo xtask test`  installs what is missing and runs every suite, one summary line each.
//! - `cargo xtask bench` runs the criterion benchmarks and writes BENCHMARKS.md.
//! - `cargo xtask soak [SEEDS [STEPS]]` runs the sync simulation long (release; 200 seeds of
//!   1,000 steps by default) and the crash tests with 300 kills each, and prints what they did.
//! - `cargo xtask fuzz [S]` runs each fuzz target S seconds (60 by default).
//! - `cargo xtask deny`  `cargo deny`: licences, bans, sources, advisories (`BALAI_ADVISORY_DB`:
//!   a local clone of the RustSec database, for machines that cannot fetch it).
//! - `cargo xtask windows` runs balai-keys' tests built for Windows under Wine.
//! - `cargo xtask dist`  builds the installable files into `target/dist/` (`dist.rs`).
//! - `cargo xtask packages` packs them from the last test build, installs and drives them (as
//!   in `cargo xtask test`, after its build step).
//! - `cargo xtask tidy`  checks the dependency rule and test hygiene (also a test of its own).
//!
//! It shells out to apt, npm, cargo and node; it holds no product logic.

#![allow(clippy::print_stdout)] // a command-line tool that reports progress

mod bench;
mod dist;
mod fuzz;
mod setup;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(),
        Some("test") => test(),
        Some("bench") => bench::run(&root(), args.get(1).map(String::as_str) == Some("--report")),
        Some("soak") => soak(&args[1..]),
        Some("deny") => deny(&root()),
        Some("windows") => windows_keys(&root()),
        Some("dist") => dist::run(&root(), dist::Build::Release).map(|_| true),
        Some("packages") => packages(&root()),
        Some("fuzz") => fuzz::run(&root(), args.get(1).and_then(|s| s.parse().ok()).unwrap_or(60)),
        Some("tidy") => tidy::check(&root()).map(|problems| {
            if problems.is_empty() {
                println!("tidy: ok");
                true
            } else {
                for p in &problems {
                    println!("tidy: {p}");
                }
                false
            }
        }),
        _ => {
            eprintln!(
                "usage: cargo xtask run | test | bench | soak [SEEDS [STEPS]] | fuzz [S] | deny | windows | dist | packages | tidy"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

pub type Result<T> = std::result::Result<T, String>;

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

/// Runs a command, inheriting stdio; `Ok(success)`.
pub fn status(cmd: &mut Command) -> Result<bool> {
    cmd.status().map(|s| s.success()).map_err(|e| format!("cannot run {cmd:?}: {e}"))
}

pub fn must(cmd: &mut Command) -> Result<()> {
    if status(cmd)? {
        Ok(())
    } else {
        Err(format!("failed: {cmd:?}"))
    }
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// The path of a test binary of the workspace build (asking cargo for `--test NAME` alone
/// would resolve features for that one target and rebuild shared dependencies both ways).
fn test_binary(root: &Path, package: &str, name: &str) -> Result<PathBuf> {
    let out = cargo()
        .current_dir(root)
        .args(["test", "--workspace", "--no-run", "--message-format=json"])
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo test --no-run: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|m| {
            m["reason"] == "compiler-artifact"
                && m["target"]["name"] == name
                && m["target"]["kind"][0] == "test"
                && m["package_id"].as_str().is_some_and(|id| id.contains(package))
        })
        .and_then(|m| m["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| format!("no test binary {name} of {package} in the workspace build"))
}

fn npm(root: &Path) -> Command {
    let mut c = Command::new("npm");
    c.current_dir(root.join("ui"));
    c
}

/// Builds the UI twice: for `balai serve` (HTTP transport, ui/dist) and for the Tauri shell
/// (ui/dist-tauri), then the whole workspace with one cargo invocation.
pub(crate) fn build_all(root: &Path, release: bool) -> Result<()> {
    must(npm(root).args(["run", "build", "--", "--logLevel", "warn"]))?;
    must(
        npm(root)
            .args(["run", "build", "--", "--logLevel", "warn", "--outDir", "dist-tauri"])
            .env("VITE_TRANSPORT", "tauri"),
    )?;
    let mut c = cargo();
    c.current_dir(root).args(["build", "--workspace", "--bins"]);
    if release {
        c.arg("--release");
    }
    must(&mut c)
}

fn run() -> Result<bool> {
    let root = root();
    setup::ensure(&root, setup::Purpose::Run)?;
    build_all(&root, false)?;
    let bin = root.join("target/debug");
    let data = root.join(".balai");
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let db = data.join("demo.sqlite");
    if !db.exists() {
        println!("xtask: first run — creating the demo office in {}", db.display());
        must(Command::new(bin.join("balai")).arg("--db").arg(&db).args([
            "demo",
            "seed",
            "--residents",
            "2000",
        ]))?;
    }
    let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    if has_display {
        println!("xtask: opening Balai (demo users in README.md; database {})", db.display());
        status(Command::new(bin.join("balai-desktop")).arg("--db").arg(&db))
    } else {
        println!("xtask: no display — serving the same UI over loopback HTTP instead");
        status(
            Command::new(bin.join("balai"))
                .arg("--db")
                .arg(&db)
                .args(["serve", "--ui-dir"])
                .arg(root.join("ui/dist")),
        )
    }
}

struct Suite {
    name: &'static str,
    outcome: Option<bool>,
    seconds: f64,
}

/// The deterministic sync simulation (balai-sim), many seeds, release build; each fuzz target
/// for ten minutes; then the crash tests, 300 kills per case.
fn soak(args: &[String]) -> Result<bool> {
    let seeds = args.first().map_or("200", String::as_str);
    let steps = args.get(1).map_or("1000", String::as_str);
    let sim = status(
        cargo()
            .current_dir(root())
            .args(["test", "--release", "-p", "balai-sim", "--test", "sim", "--", "--nocapture"])
            .env("BALAI_SIM_SEEDS", seeds)
            .env("BALAI_SIM_STEPS", steps),
    )?;
    // Each fuzz target for ten minutes.
    let fuzzed = fuzz::run(&root(), 600)?;
    // The crash tests (SIGKILL during an import, a letter, a migration), 300 kills each.
    let crashes = status(
        cargo()
            .current_dir(root())
            .args(["test", "-p", "balai-cli", "--test", "cli", "--", "crashes", "--nocapture"])
            .env("BALAI_CRASH_ROUNDS", "300"),
    )?;
    Ok(sim && fuzzed && crashes)
}

/// `cargo deny` with `deny.toml`: every dependency's licence allowed, no wildcard versions, only
/// crates.io. The advisory database is fetched from GitHub, or read from a local clone named by
/// `BALAI_ADVISORY_DB`: where neither is there (this project's machines reach only the package
/// registries) the check says so and does not fail the suite; an advisory found does.
fn deny(root: &Path) -> Result<bool> {
    let deny = || {
        let mut c = cargo();
        c.current_dir(root).arg("deny");
        c
    };
    let policy = status(deny().args(["check", "licenses", "bans", "sources"]))?;
    let mut check = deny();
    // A local clone of the RustSec database (BALAI_ADVISORY_DB): checked offline against it.
    // cargo deny looks for the default database under its own directory name in `db-path`.
    let local = std::env::var_os("BALAI_ADVISORY_DB").map(PathBuf::from);
    let scratch = root.join("target/advisory-dbs");
    if let Some(clone) = &local {
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
        std::os::unix::fs::symlink(clone, scratch.join("advisory-db-3157b0e258782691"))
            .map_err(|e| e.to_string())?;
        let config = std::fs::read_to_string(root.join("deny.toml")).map_err(|e| e.to_string())?;
        let config = config.replacen(
            "[advisories]\n",
            &format!("[advisories]\ndb-path = \"{}\"\n", scratch.display()),
            1,
        );
        let path = scratch.join("deny.toml");
        std::fs::write(&path, config).map_err(|e| e.to_string())?;
        check.arg("--offline").arg("--config").arg(path);
        println!("cargo deny: advisories from {}", clone.display());
    }
    let advisories = check
        .args(["check", "advisories"])
        .output()
        .map_err(|e| format!("cannot run cargo deny: {e}"))?;
    let log = String::from_utf8_lossy(&advisories.stderr);
    let advisories_ok = if advisories.status.success() {
        println!("cargo deny: advisories ok");
        true
    } else if log.contains("failed to fetch advisory database") {
        println!("cargo deny: advisories NOT CHECKED: the RustSec database could not be fetched");
        true
    } else {
        println!("{log}");
        false
    };
    Ok(policy && advisories_ok)
}

/// balai-keys built for Windows and its tests run under Wine: the Credential Manager code path
/// (compiled only on Windows) against Wine's implementation of that API, in a Wine prefix of
/// the run's own. Wine 8 lacks `bcryptprimitives.dll`, where Rust's std takes random bytes: a
/// stand-in (`xtask/wine/bcryptprimitives.c`) is built into the prefix first.
fn windows_keys(root: &Path) -> Result<bool> {
    let prefix = root.join("target/wine-prefix");
    let _ = std::fs::remove_dir_all(&prefix);
    let wine = Path::new("/usr/lib/wine/wine64");
    let wine_env = |c: &mut Command| {
        c.env("WINEPREFIX", &prefix).env("WINEDEBUG", "-all");
    };
    let mut boot = Command::new(wine);
    wine_env(&mut boot);
    must(boot.args(["wineboot", "--init"]))?;
    // wineboot returns before the prefix is written; wait for its server to finish.
    let mut wait = Command::new("/usr/lib/wine/wineserver");
    wine_env(&mut wait);
    must(wait.arg("--wait"))?;
    let system32 = prefix.join("drive_c/windows/system32");
    must(
        Command::new("x86_64-w64-mingw32-gcc")
            .args(["-O2", "-shared", "-o"])
            .arg(system32.join("bcryptprimitives.dll"))
            .arg(root.join("xtask/wine/bcryptprimitives.c"))
            .arg("-ladvapi32"),
    )?;
    let mut c = cargo();
    wine_env(&mut c);
    c.current_dir(root)
        .args(["test", "--target", setup::WINDOWS_TARGET, "-p", "balai-keys"])
        .env("CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER", wine);
    status(&mut c)
}

/// The installable files packed (`dist`, from this run's build), installed on this machine
/// with dpkg, checked where
/// they landed (programs, units, the service's user and folders; the systemd units verified
/// and their exposure scored), the installed city server run from its path as its own user
/// with its settings from the environment, and the installed desktop app driven in its real
/// window through the desktop suite (log in, a resident by NIK, a letter issued and printed).
fn packages(root: &Path) -> Result<bool> {
    let made = dist::run(root, dist::Build::Test)?;
    let sudo = |program: &str| {
        if setup::is_root() {
            Command::new(program)
        } else {
            let mut c = Command::new("sudo");
            c.arg(program);
            c
        }
    };
    must(sudo("dpkg").arg("-i").arg(&made.desktop_deb).arg(&made.kota_deb))?;
    let mut problems = Vec::new();
    for file in [
        "/usr/bin/balai-desktop",
        "/usr/bin/balai",
        "/usr/bin/balai-kota",
        "/usr/share/applications/Balai.desktop",
        "/lib/systemd/system/balai-kota.service",
        "/lib/systemd/system/balai-kota-backup.timer",
        "/etc/balai-kota/balai-kota.env",
    ] {
        if !Path::new(file).exists() {
            problems.push(format!("not installed: {file}"));
        }
    }
    let state = std::fs::metadata("/var/lib/balai-kota").map_err(|e| e.to_string())?;
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let owner =
            Command::new("id").args(["-u", "balai-kota"]).output().map_err(|e| e.to_string())?;
        let uid: u32 = String::from_utf8_lossy(&owner.stdout).trim().parse().unwrap_or(u32::MAX);
        if state.uid() != uid || state.permissions().mode() & 0o777 != 0o700 {
            problems.push("/var/lib/balai-kota is not the service's own (0700)".into());
        }
    }
    let unit = "/lib/systemd/system/balai-kota.service";
    if !status(Command::new("systemd-analyze").args(["verify", "--man=no", unit]))? {
        problems.push(format!("systemd-analyze verify {unit} failed"));
    }
    // Exposure 0–10 (lower is safer); above 2.0 fails (systemd calls up to 3.9 "OK").
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=20", unit])
        .output()
        .map_err(|e| e.to_string())?;
    let report = String::from_utf8_lossy(&security.stdout);
    println!("packages: {}", report.lines().last().unwrap_or_default().trim());
    if !security.status.success() {
        problems.push(format!("{unit} is exposed more than 2.0"));
    }
    if !kota_runs_as_installed(&sudo)? {
        problems.push("the installed balai-kota did not serve".into());
    }
    for p in &problems {
        println!("packages: {p}");
    }
    let bins = Path::new("/usr/bin");
    let driven = status(
        Command::new("xvfb-run")
            .current_dir(root.join("ui"))
            .args(["-a", "-s", "-screen 0 1366x768x24", "npm", "run", "desktop"])
            .env("BALAI_BIN", bins.join("balai"))
            .env("BALAI_DESKTOP_BIN", bins.join("balai-desktop"))
            .env("BALAI_KOTA_BIN", bins.join("balai-kota"))
            .env("BALAI_SCREENSHOT_DIR", root.join("target/screenshots-installed"))
            .env("TAURI_DRIVER", setup::tauri_driver_path()),
    )?;
    Ok(problems.is_empty() && driven)
}

/// `/usr/bin/balai-kota` as the `balai-kota` user, configured through the environment as the
/// unit does: a kelurahan added, then `serve` on a free loopback port answering the public
/// verification page.
fn kota_runs_as_installed(sudo: &dyn Fn(&str) -> Command) -> Result<bool> {
    use std::io::{BufRead, Read, Write};
    let dir = std::env::temp_dir().join(format!("balai-kota-installed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    must(sudo("chown").arg("balai-kota:balai-kota").arg(&dir))?;
    let db = dir.join("kota.sqlite");
    let as_service = |args: &[&str]| {
        let mut c = sudo("runuser");
        c.args(["-u", "balai-kota", "--", "env"])
            .arg(format!("BALAI_KOTA_DB={}", db.display()))
            .arg("BALAI_KOTA_LISTEN=127.0.0.1:0")
            .arg("/usr/bin/balai-kota")
            .args(args);
        c
    };
    must(&mut as_service(&["kelurahan", "add", "--code", "18.72.04.1004", "--name", "Yosorejo"]))?;
    let mut server = as_service(&["--json", "serve"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().ok_or("no stdout")?)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let answered = (|| -> Result<bool> {
        let address: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("{line}: {e}"))?;
        let url = address["address"].as_str().ok_or("no address")?;
        let host = url.trim_start_matches("http://");
        let mut tcp = std::net::TcpStream::connect(host).map_err(|e| e.to_string())?;
        write!(tcp, "GET /verify HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
            .map_err(|e| e.to_string())?;
        let mut page = String::new();
        tcp.read_to_string(&mut page).map_err(|e| e.to_string())?;
        Ok(page.starts_with("HTTP/1.1 200") && page.contains("Periksa"))
    })();
    // runuser passes SIGTERM on to the server, which stops cleanly.
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    let _ = sudo("rm").arg("-rf").arg(&dir).status();
    answered
}

fn test() -> Result<bool> {
    let root = root();
    let started = Instant::now();
    setup::ensure(&root, setup::Purpose::Test)?;
    let mut suites: Vec<Suite> = Vec::new();
    let mut step = |name: &'static str, f: &mut dyn FnMut() -> Result<bool>| -> bool {
        println!("\n==> {name}");
        let t = Instant::now();
        let outcome = match f() {
            Ok(ok) => Some(ok),
            Err(e) => {
                println!("xtask: {name}: {e}");
                Some(false)
            }
        };
        let ok = outcome == Some(true);
        suites.push(Suite { name, outcome, seconds: t.elapsed().as_secs_f64() });
        ok
    };

    step("tidy", &mut || {
        let problems = tidy::check(&root)?;
        for p in &problems {
            println!("tidy: {p}");
        }
        Ok(problems.is_empty())
    });
    let built = step("build (UI + workspace)", &mut || build_all(&root, false).map(|_| true));
    step("cargo deny (licences, bans, sources, advisories)", &mut || deny(&root));
    let cargo_ok = built
        && step("rust (cargo test --workspace)", &mut || {
            status(cargo().current_dir(&root).args(["test", "--workspace", "--no-fail-fast"]))
        });
    let _ = cargo_ok;
    if built {
        // The city server's stories a second time, on PostgreSQL (a throwaway cluster the
        // test binary starts with initdb): the same behaviour on both backends.
        step("rust on PostgreSQL (balai-kota stories)", &mut || {
            let stories = test_binary(&root, "balai-kota", "kota")?;
            status(
                Command::new(stories)
                    .current_dir(root.join("crates/kota"))
                    .env("BALAI_KOTA_TEST_BACKEND", "postgres"),
            )
        });
    }
    step("windows key store (balai-keys on Wine)", &mut || windows_keys(&root));
    step("fuzz (cargo fuzz, 4 targets)", &mut || {
        let seconds = std::env::var("BALAI_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok());
        fuzz::run(&root, seconds.unwrap_or(20))
    });
    step("ui unit (svelte-check + vitest)", &mut || {
        Ok(status(npm(&root).args(["run", "check"]))? && status(npm(&root).args(["test"]))?)
    });
    let bins = root.join("target/debug");
    if built {
        step("browser e2e (Chromium + balai serve)", &mut || {
            status(npm(&root).args(["run", "e2e"]).env("BALAI_BIN", bins.join("balai")))
        });
        step("packages (.debs built, installed, the installed app driven)", &mut || {
            packages(&root)
        });
        step("desktop smoke (Tauri window, Xvfb, tauri-driver)", &mut || {
            status(
                Command::new("xvfb-run")
                    .current_dir(root.join("ui"))
                    .args(["-a", "-s", "-screen 0 1366x768x24", "npm", "run", "desktop"])
                    .env("BALAI_BIN", bins.join("balai"))
                    .env("BALAI_DESKTOP_BIN", bins.join("balai-desktop"))
                    .env("TAURI_DRIVER", setup::tauri_driver_path()),
            )
        });
    } else {
        for name in [
            "browser e2e (Chromium + balai serve)",
            "packages (.debs built, installed, the installed app driven)",
            "desktop smoke (Tauri window, Xvfb, tauri-driver)",
        ] {
            suites.push(Suite { name, outcome: None, seconds: 0.0 });
        }
    }

    println!("\n==> summary ({:.0} s in all)", started.elapsed().as_secs_f64());
    let mut passed = 0;
    let mut failed = 0;
    for s in &suites {
        let word = match s.outcome {
            Some(true) => {
                passed += 1;
                "passed"
            }
            Some(false) => {
                failed += 1;
                "FAILED"
            }
            None => {
                failed += 1;
                "DID NOT RUN"
            }
        };
        println!("suite {:<52} {word:<12} {:>6.1} s", s.name, s.seconds);
    }
    println!("suites: {passed} passed, {failed} failed");
    Ok(failed == 0)
}
