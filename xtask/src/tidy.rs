//! `cargo xtask tidy`: the rules of ARCHITECTURE.md that a machine can check.
//!
//! - The dependency rule: each crate depends only on the crates below it, and the heavy
//!   external crates are each confined to the one crate whose job they are.
//! - SQL lives only in balai-store (and later balai-kota).
//! - No test that cannot fail by construction: none ignored, none that expects a panic.
//! - Every library opens with a `//!` doc saying what it does and does not do.

use crate::Result;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Which workspace crates each crate may depend on (normal and build dependencies).
const LAYERS: &[(&str, &[&str])] = &[
    ("balai-domain", &[]),
    ("balai-store", &["balai-domain"]),
    ("balai-keys", &[]),
    ("balai-protocol", &[]),
    ("balai-contest", &[]),
    ("balai-kota", &["balai-domain", "balai-protocol", "balai-contest"]),
    ("balai-letters", &["balai-domain"]),
    ("balai-import", &["balai-domain"]),
    ("balai-sync", &["balai-domain", "balai-store", "balai-protocol"]),
    (
        "balai-app",
        &[
            "balai-domain",
            "balai-import",
            "balai-store",
            "balai-keys",
            "balai-letters",
            "balai-sync",
            "balai-protocol",
            "balai-contest",
        ],
    ),
    ("balai-cli", &["balai-app"]),
    ("balai-desktop", &["balai-app"]),
    ("balai-testkit", &["balai-app"]),
    (
        "balai-sim",
        &["balai-app", "balai-domain", "balai-kota", "balai-protocol", "balai-store", "balai-sync"],
    ),
    ("xtask", &[]),
];

/// External crates confined to the crates named (normal and build dependencies).
const CONFINED: &[(&str, &[&str], &str)] = &[
    ("tauri", &["balai-desktop"], "only the desktop shell uses tauri"),
    ("tauri-build", &["balai-desktop"], "only the desktop shell uses tauri"),
    ("reqwest", &["balai-sync"], "only the sync engine talks HTTP as a client"),
    ("printpdf", &["balai-letters"], "only balai-letters renders PDF"),
    ("rusqlite", &["balai-store", "balai-kota"], "only balai-store (and balai-kota) hold SQL"),
    ("axum", &["balai-cli", "balai-kota"], "HTTP serving lives in the binaries"),
    ("keyring-core", &["balai-keys"], "only balai-keys reaches the operating system's key store"),
];

/// Crates whose sources may contain SQL.
const SQL_CRATES: &[&str] = &["balai-store", "balai-kota"];

pub fn check(root: &Path) -> Result<Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let meta: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    let packages = meta["packages"].as_array().cloned().unwrap_or_default();
    let workspace: Vec<String> =
        packages.iter().filter_map(|p| p["name"].as_str().map(str::to_string)).collect();

    for p in &packages {
        let name = p["name"].as_str().unwrap_or_default();
        let manifest = Path::new(p["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest.parent().unwrap_or(root);
        let allowed = LAYERS.iter().find(|(n, _)| *n == name).map(|(_, a)| *a);
        if allowed.is_none() {
            problems
                .push(format!("{name}: not in the layer table of xtask/src/tidy.rs; add it there"));
        }
        for d in p["dependencies"].as_array().into_iter().flatten() {
            let dep = d["name"].as_str().unwrap_or_default();
            let dev = d["kind"].as_str() == Some("dev");
            if workspace.iter().any(|w| w == dep) && !dev && dep != "balai-testkit" {
                if let Some(allowed) = allowed {
                    if !allowed.contains(&dep) {
                        problems.push(format!(
                            "{name} depends on {dep}, which the dependency rule forbids"
                        ));
                    }
                }
            }
            if dep == "balai-testkit" && !dev {
                problems.push(format!("{name}: balai-testkit may only be a dev-dependency"));
            }
            if !dev {
                for (ext, owners, why) in CONFINED {
                    if dep == *ext && !owners.contains(&name) {
                        problems.push(format!("{name} depends on {ext}: {why}"));
                    }
                }
            }
        }
        check_sources(name, dir, &mut problems);
    }
    Ok(problems)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        let file_name = e.file_name();
        if p.is_dir() {
            if file_name != "target" && file_name != "node_modules" && file_name != "gen" {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

const SQL_MARKERS: &[&str] =
    &["SELECT ", "INSERT INTO", "DELETE FROM", "CREATE TABLE", "CREATE INDEX", "ALTER TABLE"];

fn check_sources(name: &str, dir: &Path, problems: &mut Vec<String>) {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    // Markers are split so that this file does not flag itself.
    let ignore_attr = format!("#[{}", "ignore");
    let panic_attr = format!("should_{}", "panic");
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        let rel = f.strip_prefix(dir).unwrap_or(&f).display().to_string();
        if text.contains(&ignore_attr) || text.contains(&panic_attr) {
            problems.push(format!("{name}/{rel}: tests must run and assert on Err, not be ignored or expected to panic"));
        }
        let in_src = rel.starts_with("src");
        if in_src && !SQL_CRATES.contains(&name) && name != "xtask" {
            for marker in SQL_MARKERS {
                if text.contains(&format!("\"{marker}")) {
                    problems.push(format!("{name}/{rel}: SQL (`{marker}`) outside balai-store"));
                }
            }
        }
        if rel == "src/lib.rs" && !text.trim_start().starts_with("//!") {
            problems.push(format!(
                "{name}/{rel}: a library opens with `//!` saying what it does and does not do"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    /// The repository as committed obeys its own rules.
    #[test]
    fn the_workspace_is_tidy() {
        let problems = super::check(&crate::root()).unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// The checker catches what it claims to: a crate that reaches past its layer, and SQL in
    /// a crate that may not hold it.
    #[test]
    fn the_checker_flags_violations() {
        let dir = tempfile_dir();
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "fn f() { let q = \"SELECT * FROM x\"; }\n")
            .unwrap();
        let mut problems = Vec::new();
        super::check_sources("balai-app", &dir, &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("SQL"));
        assert!(problems[1].contains("//!"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("balai-tidy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }
}
