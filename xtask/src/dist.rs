//! `cargo xtask dist`: the installable files, in `target/dist/`.
//!
//! - `Balai_<version>_amd64.deb` — the desktop app (the Tauri bundler, from the Tauri CLI on
//!   npm), with the `balai` command line beside it in `/usr/bin`.
//! - `balai-kota_<version>_amd64.deb` — the city server with its hardened systemd units, a
//!   sample configuration and its README (`installers/kota/`), built with `dpkg-deb`.
//! - `balai-kota-<version>-x86_64-linux.tar.gz` — the same files for other Linux systems.
//!
//! Release builds, one cargo invocation for the three programs (their dependencies built once).
//! `cargo xtask test` packs the same files from its own (debug) build instead, into
//! `target/dist-test/`: the packaging, the install and the installed app are tested on every
//! run without a second, release, build of everything (which would double a cold CI run).
//! The Windows installer is built on Windows (`installers/windows/README.md`).

use crate::{must, npm, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Which build the files are packed from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Build {
    /// Built here, optimised: what is shipped (`target/dist/`).
    Release,
    /// The test suite's build, already made (`target/dist-test/`).
    Test,
}

impl Build {
    fn dir(self) -> &'static str {
        match self {
            Build::Release => "release",
            Build::Test => "debug",
        }
    }
}

/// What `dist` made.
pub struct Artifacts {
    pub desktop_deb: PathBuf,
    pub kota_deb: PathBuf,
    pub kota_tarball: PathBuf,
}

impl Artifacts {
    pub fn all(&self) -> [&Path; 3] {
        [&self.desktop_deb, &self.kota_deb, &self.kota_tarball]
    }
}

/// The workspace's version (`[workspace.package] version`).
fn version(root: &Path) -> Result<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| e.to_string())?;
    let package = manifest
        .split("[workspace.package]")
        .nth(1)
        .ok_or("Cargo.toml has no [workspace.package]")?;
    package
        .lines()
        .find_map(|l| l.trim().strip_prefix("version").map(str::trim))
        .and_then(|v| v.strip_prefix('=').map(|v| v.trim().trim_matches('"').to_string()))
        .ok_or_else(|| "no version in [workspace.package]".into())
}

pub fn run(root: &Path, build: Build) -> Result<Artifacts> {
    let version = version(root)?;
    let out = root.join(match build {
        Build::Release => "target/dist",
        Build::Test => "target/dist-test",
    });
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;

    if build == Build::Release {
        // The window's UI, then the three programs.
        must(
            npm(root)
                .args(["run", "build", "--", "--logLevel", "warn", "--outDir", "dist-tauri"])
                .env("VITE_TRANSPORT", "tauri"),
        )?;
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        must(Command::new(&cargo).current_dir(root).args([
            "build",
            "--release",
            "-p",
            "balai-desktop",
            "-p",
            "balai-cli",
            "-p",
            "balai-kota",
            "--bins",
        ]))?;
    }

    // The desktop .deb from the binary built (`tauri bundle` does not build again); the
    // command line beside it from the same build.
    let mut bundle = Command::new(root.join("ui/node_modules/.bin/tauri"));
    bundle.current_dir(root.join("src-tauri")).args(["bundle", "--bundles", "deb"]);
    if build == Build::Test {
        bundle.arg("--debug").arg("--config").arg(
            r#"{"bundle":{"linux":{"deb":{"files":{"/usr/bin/balai":"../target/debug/balai"}}}}}"#,
        );
    }
    must(&mut bundle)?;
    let bundled = root.join("target").join(build.dir()).join("bundle/deb");
    let desktop = std::fs::read_dir(&bundled)
        .map_err(|e| format!("{}: {e}", bundled.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.extension().is_some_and(|x| x == "deb") && p.to_string_lossy().contains(&version)
        })
        .ok_or("the Tauri bundler made no .deb")?;
    let desktop_deb = out.join(desktop.file_name().ok_or("no file name")?);
    std::fs::copy(&desktop, &desktop_deb).map_err(|e| e.to_string())?;

    let kota_deb = kota_deb(root, &out, &version, build)?;
    let kota_tarball = kota_tarball(root, &out, &version, build)?;
    let made = Artifacts { desktop_deb, kota_deb, kota_tarball };
    let mut sizes = serde_json::Map::new();
    for (key, a) in ["desktop_deb", "kota_deb", "kota_tarball"].into_iter().zip(made.all()) {
        let bytes = std::fs::metadata(a).map(|m| m.len()).unwrap_or(0);
        println!("dist: {} ({:.1} MB)", a.display(), bytes as f64 / 1e6);
        let name = a.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        sizes.insert(key.into(), serde_json::json!({ "name": name, "bytes": bytes }));
    }
    if build == Build::Release {
        // For BENCHMARKS.md (`cargo xtask bench --report`).
        let date = Command::new("date").arg("+%Y-%m-%d").output().map_err(|e| e.to_string())?;
        sizes.insert("date".into(), String::from_utf8_lossy(&date.stdout).trim().into());
        let bench = root.join("target/bench");
        std::fs::create_dir_all(&bench).map_err(|e| e.to_string())?;
        let text = serde_json::Value::Object(sizes).to_string();
        std::fs::write(bench.join("dist.json"), text).map_err(|e| e.to_string())?;
    }
    Ok(made)
}

fn copy(from: &Path, to: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    std::fs::copy(from, to).map_err(|e| format!("{} → {}: {e}", from.display(), to.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).map_err(|e| e.to_string())
}

/// Where each file of Balai Kota goes under a folder: as installed (the .deb) or as unpacked
/// (the tarball).
struct Layout {
    program: &'static str,
    units: &'static str,
    settings: &'static str,
    readme: &'static str,
    copyright: &'static str,
}

const INSTALLED: Layout = Layout {
    program: "usr/bin/balai-kota",
    units: "lib/systemd/system",
    settings: "etc/balai-kota/balai-kota.env",
    readme: "usr/share/doc/balai-kota/README.md",
    copyright: "usr/share/doc/balai-kota/copyright",
};

const UNPACKED: Layout = Layout {
    program: "bin/balai-kota",
    units: "systemd",
    settings: "balai-kota.env",
    readme: "README.md",
    copyright: "COPYRIGHT",
};

/// The files of Balai Kota placed under `dir` as `layout` says.
fn place_kota(root: &Path, dir: &Path, build: Build, layout: &Layout) -> Result<()> {
    let kota = root.join("installers/kota");
    let program = root.join("target").join(build.dir()).join("balai-kota");
    copy(&program, &dir.join(layout.program), 0o755)?;
    for unit in ["balai-kota.service", "balai-kota-backup.service", "balai-kota-backup.timer"] {
        copy(&kota.join(unit), &dir.join(layout.units).join(unit), 0o644)?;
    }
    copy(&kota.join("balai-kota.env"), &dir.join(layout.settings), 0o640)?;
    copy(&kota.join("README.md"), &dir.join(layout.readme), 0o644)?;
    copy(&kota.join("debian/copyright"), &dir.join(layout.copyright), 0o644)
}

fn kota_deb(root: &Path, out: &Path, version: &str, build: Build) -> Result<PathBuf> {
    let stage = out.join("stage/balai-kota");
    place_kota(root, &stage, build, &INSTALLED)?;
    let debian = root.join("installers/kota/debian");
    let installed_kib = du_kib(&stage)?;
    let control = std::fs::read_to_string(debian.join("control"))
        .map_err(|e| e.to_string())?
        .replace("@VERSION@", version)
        .replace("@INSTALLED_SIZE@", &installed_kib.to_string());
    let meta = stage.join("DEBIAN");
    std::fs::create_dir_all(&meta).map_err(|e| e.to_string())?;
    std::fs::write(meta.join("control"), control).map_err(|e| e.to_string())?;
    copy(&debian.join("conffiles"), &meta.join("conffiles"), 0o644)?;
    for script in ["preinst", "postinst", "prerm", "postrm"] {
        copy(&debian.join(script), &meta.join(script), 0o755)?;
    }
    let deb = out.join(format!("balai-kota_{version}_amd64.deb"));
    must(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&stage)
            .arg(&deb),
    )?;
    Ok(deb)
}

fn kota_tarball(root: &Path, out: &Path, version: &str, build: Build) -> Result<PathBuf> {
    let name = format!("balai-kota-{version}");
    let dir = out.join("stage").join(&name);
    place_kota(root, &dir, build, &UNPACKED)?;
    let tarball = out.join(format!("{name}-x86_64-linux.tar.gz"));
    must(
        Command::new("tar")
            .args(["--owner=0", "--group=0", "-czf"])
            .arg(&tarball)
            .arg("-C")
            .arg(out.join("stage"))
            .arg(&name),
    )?;
    Ok(tarball)
}

/// The size of what is under `dir`, in KiB (the .deb's Installed-Size).
fn du_kib(dir: &Path) -> Result<u64> {
    fn walk(p: &Path) -> u64 {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => std::fs::read_dir(p)
                .map(|d| d.filter_map(|e| e.ok()).map(|e| walk(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    Ok(walk(dir).div_ceil(1024))
}
