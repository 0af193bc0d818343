//! Installs what the two commands need on a fresh Debian 12 / Ubuntu machine: Debian packages
//! (with sudo when not root), the UI's npm packages, and tauri-driver, cargo-fuzz and cargo-deny
//! (from crates.io).

use crate::{must, status, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Run,
    Test,
}

/// To build: WebKitGTK for Tauri (the one package beyond a base image) and the usual tools
/// (`perl` and `make` build the OpenSSL inside SQLCipher; libdbus, for the Secret Service, comes
/// with WebKitGTK).
const BUILD_PACKAGES: &[&str] = &[
    "build-essential",
    "pkg-config",
    "perl",
    "libssl-dev",
    "file",
    "fonts-dejavu-core",
    "libwebkit2gtk-4.1-dev",
];
/// To test: a virtual display, WebKit's WebDriver, Debian's Chromium, PDF tools, `openssl`
/// (a throwaway CA and certificate for the HTTPS tests), PostgreSQL's server programs (the
/// city server's tests start a throwaway cluster with them), a session bus and gnome-keyring
/// (the real Secret Service the database key is kept in), mingw-w64 and Wine (the Windows build
/// of the key store, tested against Wine's Credential Manager).
const TEST_PACKAGES: &[&str] = &[
    "dbus-daemon",
    "gnome-keyring",
    "openssl",
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "chromium",
    "poppler-utils",
    "zbar-tools",
    "cups",
    "printer-driver-cups-pdf",
    "ghostscript",
    "postgresql",
    "gcc-mingw-w64-x86-64-posix",
    "wine64",
];

/// The Rust target of the Windows tests (run under Wine).
pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-gnu";

fn installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn apt(args: &[&str]) -> Command {
    let mut c = if is_root() {
        Command::new("apt-get")
    } else {
        let mut c = Command::new("sudo");
        c.arg("apt-get");
        c
    };
    c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    c
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

pub fn ensure(root: &Path, purpose: Purpose) -> Result<()> {
    let mut wanted: Vec<&str> = BUILD_PACKAGES.to_vec();
    if purpose == Purpose::Test {
        wanted.extend_from_slice(TEST_PACKAGES);
    }
    if !have("node") || !have("npm") {
        wanted.extend_from_slice(&["nodejs", "npm"]);
    }
    let missing: Vec<&str> = wanted.into_iter().filter(|p| !installed(p)).collect();
    if !missing.is_empty() {
        println!("xtask: installing Debian packages: {}", missing.join(" "));
        must(&mut apt(&["update", "-q"]))?;
        let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
        args.extend(missing.iter().copied());
        must(&mut apt(&args))?;
    }
    ensure_node_modules(root)?;
    if purpose == Purpose::Test
        && !Path::new(&tauri_driver_path()).exists()
        && !have("tauri-driver")
    {
        println!("xtask: installing tauri-driver from crates.io");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        must(Command::new(cargo).args(["install", "tauri-driver", "--version", "^2", "--locked"]))?;
    }
    if purpose == Purpose::Test && have("rustup") {
        let installed = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l == WINDOWS_TARGET))
            .unwrap_or(false);
        if !installed {
            println!("xtask: adding the Rust target {WINDOWS_TARGET}");
            must(Command::new("rustup").args(["target", "add", WINDOWS_TARGET]))?;
        }
    }
    for tool in ["cargo-fuzz", "cargo-deny"] {
        if purpose == Purpose::Test && !cargo_bin(tool).exists() && !have(tool) {
            println!("xtask: installing {tool} from crates.io");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            must(Command::new(cargo).args(["install", tool, "--locked"]))?;
        }
    }
    Ok(())
}

/// `npm ci` when node_modules is missing or older than package-lock.json.
fn ensure_node_modules(root: &Path) -> Result<()> {
    let ui = root.join("ui");
    let lock = ui.join("package-lock.json");
    let stamp = ui.join("node_modules/.package-lock.json");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = matches!((modified(&stamp), modified(&lock)), (Some(s), Some(l)) if s >= l);
    if !fresh {
        println!("xtask: installing the UI's npm packages (npm ci)");
        if !status(Command::new("npm").current_dir(&ui).args(["ci", "--no-audit", "--no-fund"]))? {
            return Err("npm ci failed in ui/".into());
        }
    }
    Ok(())
}

/// Where `cargo install` puts tauri-driver.
pub fn tauri_driver_path() -> PathBuf {
    cargo_bin("tauri-driver")
}

/// Where `cargo install` puts `name`.
fn cargo_bin(name: &str) -> PathBuf {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    cargo_home.join("bin").join(name)
}
