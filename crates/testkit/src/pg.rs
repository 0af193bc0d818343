//! A throwaway PostgreSQL cluster for this process (a test binary or a benchmark): made with
//! `initdb` in a temporary folder on the first call that asks, on a free port of 127.0.0.1,
//! without fsync; each caller gets a database of its own. The server dies with this process
//! (its parent-death signal is a fast shutdown), and a later run clears the folders that dead
//! runs left behind.
//!
//! Under root the cluster runs as the `postgres` account (PostgreSQL refuses root).
//!
//! Balai Kota's own tests include this file by path (`#[path]`): the city server is its own
//! tower and does not depend on balai-testkit (which depends on the desktop's app).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Cluster {
    port: u16,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static NEXT_DB: AtomicU32 = AtomicU32::new(1);

/// The address of a new, empty database sorting text as the city server needs (collation C).
pub fn fresh_database() -> String {
    fresh_database_with("C")
}

/// A new database with this collation (`C.UTF-8` to see the server refuse a wrong one).
pub fn fresh_database_with(collation: &str) -> String {
    let cluster = CLUSTER.get_or_init(start);
    let name = format!("kota_{}", NEXT_DB.fetch_add(1, Ordering::Relaxed));
    let mut admin = connect(cluster.port, "postgres").expect("the test cluster answers");
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' \
             LC_COLLATE '{collation}' LC_CTYPE '{collation}'"
        ))
        .expect("a test database");
    url(cluster.port, &name)
}

/// A client of a test database, for a test to look at what the server stored.
pub fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("the test database answers")
}

fn url(port: u16, db: &str) -> String {
    format!("postgres://test@127.0.0.1:{port}/{db}")
}

fn connect(port: u16, db: &str) -> Result<postgres::Client, postgres::Error> {
    postgres::Client::connect(&url(port, db), postgres::NoTls)
}

/// The folder of PostgreSQL's server programs (Debian keeps them out of PATH).
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (cargo xtask test installs it)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A command run as the cluster's owner, dying with the thread that started it.
fn as_owner(program: &Path, root: bool) -> Command {
    if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid", "postgres", "--regid", "postgres", "--init-groups"]);
        c.args(["--pdeathsig", "INT"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn clear_dead_runs(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("balai-kota-pg-") else { continue };
        if !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn start() -> Cluster {
    let tmp = std::env::temp_dir();
    clear_dead_runs(&tmp);
    let dir = tmp.join(format!("balai-kota-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the cluster's folder");
    let root = is_root();
    if root {
        let ok = Command::new("chown").arg("postgres:postgres").arg(&dir).status().expect("chown");
        assert!(ok.success(), "chown the cluster's folder to postgres");
    }
    let data = dir.join("data");
    let bin = bin_dir();
    let out = as_owner(&bin.join("initdb"), root)
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "test", "--locale=C", "-E", "UTF8", "--no-sync"])
        .output()
        .expect("initdb runs");
    assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let log = std::fs::File::create(dir.join("server.log")).expect("the server's log");
    if root {
        let owned = Command::new("chown")
            .arg("postgres:postgres")
            .arg(dir.join("server.log"))
            .status()
            .expect("chown");
        assert!(owned.success(), "chown the server's log to postgres");
    }
    let mut server = as_owner(&bin.join("postgres"), root);
    server
        .arg("-D")
        .arg(&data)
        .arg("-p")
        .arg(port.to_string())
        .arg("-k")
        .arg(&dir)
        .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
        .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
        .args(["-c", "max_connections=200"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    // The parent-death signal follows the thread that spawned the server, so a thread that
    // lives as long as this process spawns it (the test threads come and go).
    let (sent, got) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let child = server.spawn();
        let failed = child.is_err();
        let _ = sent.send(child.map(|_| ()));
        if !failed {
            loop {
                std::thread::park();
            }
        }
    });
    got.recv().expect("the spawning thread answers").expect("postgres starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match connect(port, "postgres") {
            Ok(_) => break,
            Err(e) if Instant::now() > deadline => {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                panic!("the test cluster did not answer: {e}\n{log}");
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    Cluster { port }
}
