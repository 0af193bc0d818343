//! A real Balai Kota process for tests and benchmarks: built by cargo if needed (debug, or
//! release for benchmarks), on its own database (a SQLite file in a temporary directory, or a
//! PostgreSQL database, see [`crate::pg`]), listening on 127.0.0.1:0 (or again on its address
//! after a restart), killed on drop.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The kelurahan every test server registers (the demo office's).
pub const KELURAHAN: &str = "18.72.04.1004";

pub struct Kota {
    pub url: String,
    /// The SQLite file (unused when `database_url` is set).
    pub db: PathBuf,
    /// The PostgreSQL database it runs on instead, if any.
    pub database_url: Option<String>,
    bin: PathBuf,
    /// Options of `serve` after `--listen`, kept across restarts.
    serve_args: Vec<String>,
    child: Child,
    _dir: tempfile::TempDir,
}

/// The `balai-kota` binary, built by cargo first (`release` for benchmarks).
pub fn bin(release: bool) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build.current_dir(&root).args(["build", "-q", "-p", "balai-kota"]);
    if release {
        build.arg("--release");
    }
    assert!(build.status().expect("cargo").success(), "cargo build -p balai-kota");
    root.join(if release { "target/release/balai-kota" } else { "target/debug/balai-kota" })
}

/// `balai-kota` on its database: the SQLite file or the PostgreSQL database.
fn on_database(bin: &Path, db: &Path, database_url: Option<&str>) -> Command {
    let mut c = Command::new(bin);
    match database_url {
        Some(url) => c.arg("--database-url").arg(url),
        None => c.arg("--db").arg(db),
    };
    c
}

fn serve(
    bin: &Path,
    (db, database_url): (&Path, Option<&str>),
    listen: &str,
    extra: &[String],
) -> (Child, String) {
    let mut child = on_database(bin, db, database_url)
        .args(["--json", "serve", "--listen", listen])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("address");
    let url = serde_json::from_str::<Value>(&line).expect("json")["address"]
        .as_str()
        .expect("address")
        .to_string();
    (child, url)
}

impl Kota {
    /// A debug build on a fresh database.
    pub fn start() -> Kota {
        Kota::start_with(bin(false))
    }

    /// A debug build on a fresh database, `serve` given these options too (e.g. `--tls-cert`).
    pub fn start_serving(serve_args: &[&str]) -> Kota {
        let mut k = Kota::start();
        k.restart_with(serve_args);
        k
    }

    /// The binary `bin` on a fresh SQLite database with the demo kelurahan.
    pub fn start_with(bin: PathBuf) -> Kota {
        Kota::start_on(bin, None)
    }

    /// The binary `bin` on this empty PostgreSQL database, with the demo kelurahan.
    pub fn start_on_postgres(bin: PathBuf, database_url: String) -> Kota {
        Kota::start_on(bin, Some(database_url))
    }

    fn start_on(bin: PathBuf, database_url: Option<String>) -> Kota {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("kota.sqlite");
        let ok = on_database(&bin, &db, database_url.as_deref())
            .args(["kelurahan", "add", "--code", KELURAHAN, "--name", "Yosorejo"])
            .status()
            .expect("kelurahan add");
        assert!(ok.success());
        let (child, url) = serve(&bin, (&db, database_url.as_deref()), "127.0.0.1:0", &[]);
        Kota { url, db, database_url, bin, serve_args: Vec::new(), child, _dir: dir }
    }

    /// Stops the server (SIGKILL): the office PCs find it unreachable.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops it and starts it again on the same address and database.
    pub fn restart(&mut self) {
        self.stop();
        let listen = self.url.split("://").nth(1).unwrap_or(&self.url).to_string();
        let database = (self.db.as_path(), self.database_url.as_deref());
        let (child, url) = serve(&self.bin, database, &listen, &self.serve_args);
        let address = |u: &str| u.split("://").nth(1).map(str::to_string);
        assert_eq!(address(&url), address(&self.url), "listening again on {listen}");
        self.url = url;
        self.child = child;
    }

    /// Restarts it with these options of `serve` (e.g. `--min-push-protocol 2`).
    pub fn restart_with(&mut self, serve_args: &[&str]) {
        self.serve_args = serve_args.iter().map(|a| a.to_string()).collect();
        self.restart();
    }

    /// `balai-kota --db … ARGS` (e.g. `admin add`), with `env`; its stdout.
    pub fn cli(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        on_database(&self.bin, &self.db, self.database_url.as_deref())
            .args(args)
            .envs(env.iter().copied())
            .output()
            .expect("balai-kota")
    }

    /// A one-time enrolment code for the kelurahan.
    pub fn code(&self) -> String {
        let out = self.cli(&["--json", "enrol", "--kelurahan", KELURAHAN], &[]);
        serde_json::from_slice::<Value>(&out.stdout).expect("json")["code"]
            .as_str()
            .expect("code")
            .to_string()
    }
}

impl Drop for Kota {
    fn drop(&mut self) {
        self.stop();
    }
}
