//! Balai Kota as a real process on 127.0.0.1:0 with a real database, driven over HTTP and
//! through its command line.
//!
//! The same stories run on each backend: on SQLite (a file per test) by default, and on
//! PostgreSQL (a database per test in a throwaway cluster, balai-testkit's `pg.rs`) with
//! `BALAI_KOTA_TEST_BACKEND=postgres`, as `cargo xtask test` runs them a second time.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

mod compression;
mod contest;
mod dashboard;
mod hostile;
mod on_postgres;
#[path = "../../../testkit/src/pg.rs"]
mod pg;
mod sync;
mod verify;

use balai_protocol::{request_message, PROTOCOL};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const KELURAHAN: &str = "18.72.04.1004";

pub struct Kota {
    _dir: tempfile::TempDir,
    pub db: Store,
    child: Child,
    pub addr: String,
}

/// Where a test's server keeps its data.
#[derive(Clone)]
pub enum Store {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Store {
    /// A new, empty store on the backend this run tests.
    pub fn fresh(dir: &std::path::Path) -> Store {
        match std::env::var("BALAI_KOTA_TEST_BACKEND").as_deref() {
            Ok("postgres") => Store::Postgres(pg::fresh_database()),
            Ok("sqlite") | Err(_) => Store::Sqlite(dir.join("kota.sqlite")),
            Ok(other) => panic!("BALAI_KOTA_TEST_BACKEND={other}: sqlite or postgres"),
        }
    }

    /// `balai-kota` on this store.
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_balai-kota"));
        match self {
            Store::Sqlite(path) => c.arg("--db").arg(path),
            Store::Postgres(url) => c.arg("--database-url").arg(url),
        };
        c
    }

    /// The rows a query finds, each value as JSON (a test looking at what the server stored;
    /// the SQL is the same on both backends).
    pub fn rows(&self, sql: &str, param: &str) -> Vec<Vec<Value>> {
        match self {
            Store::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).unwrap();
                let mut st = c.prepare(sql).unwrap();
                let n = st.column_count();
                let params: &[&dyn rusqlite::ToSql] =
                    if sql.contains("?1") { &[&param] } else { &[] };
                st.query_map(params, |r| {
                    (0..n)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Integer(v) => json!(v),
                                rusqlite::types::ValueRef::Text(t) => {
                                    json!(String::from_utf8_lossy(t))
                                }
                                rusqlite::types::ValueRef::Null => Value::Null,
                                other => panic!("{other:?} in a test query"),
                            })
                        })
                        .collect()
                })
                .unwrap()
                .map(Result::unwrap)
                .collect()
            }
            Store::Postgres(url) => {
                let sql = sql.replace("?1", "$1");
                let mut c = pg::client(url);
                let rows = if sql.contains("$1") {
                    c.query(sql.as_str(), &[&param]).unwrap()
                } else {
                    c.query(sql.as_str(), &[]).unwrap()
                };
                rows.iter()
                    .map(|r| {
                        (0..r.len())
                            .map(|i| match *r.columns()[i].type_() {
                                postgres::types::Type::INT8 => json!(r.get::<_, Option<i64>>(i)),
                                postgres::types::Type::INT4 => json!(r.get::<_, Option<i32>>(i)),
                                _ => json!(r.get::<_, Option<String>>(i)),
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }
}

pub fn cli(db: &Store, args: &[&str]) -> (bool, Value, String) {
    let out = db.command().arg("--json").args(args).output().unwrap();
    let value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.success(), value, String::from_utf8_lossy(&out.stderr).into_owned())
}

impl Kota {
    pub fn start() -> Kota {
        let dir = tempfile::tempdir().unwrap();
        let db = Store::fresh(dir.path());
        Kota::start_on(dir, db, Stdio::inherit())
    }

    /// The server on `db` (in `dir`, kept as long as the server), its log to `stderr`.
    pub fn start_on(dir: tempfile::TempDir, db: Store, stderr: Stdio) -> Kota {
        let (ok, _, err) =
            cli(&db, &["kelurahan", "add", "--code", "1872041004", "--name", "Yosorejo"]);
        assert!(ok, "{err}");
        let mut child = db
            .command()
            .args(["--json", "serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        let addr = v["address"].as_str().unwrap().trim_start_matches("http://").to_string();
        Kota { _dir: dir, db, child, addr }
    }

    /// One HTTP/1.1 request; (status, JSON body).
    pub fn http(&self, method: &str, path: &str, auth: Option<&str>, body: &[u8]) -> (u16, Value) {
        let (status, text) = self.http_text(method, path, auth, body);
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// One HTTP/1.1 request; (status, body text).
    pub fn http_text(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: &[u8],
    ) -> (u16, String) {
        let auth = auth.map(|a| ("Authorization", a));
        let (status, _, body) = self.exchange(method, path, auth.as_slice(), body);
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// One HTTP/1.1 request with extra headers; (status, response head, body bytes with any
    /// chunked transfer undone).
    pub fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String, Vec<u8>) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.addr,
            body.len()
        );
        // JSON unless the test says otherwise.
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
            head.push_str("Content-Type: application/json\r\n");
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut body = raw[split + 4..].to_vec();
        let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            body = dechunk(&body);
        }
        (status, head, body)
    }

    pub fn code(&self) -> String {
        let (ok, v, err) = cli(&self.db, &["enrol", "--kelurahan", KELURAHAN]);
        assert!(ok, "{err}");
        v["code"].as_str().unwrap().to_string()
    }

    pub fn enrol(&self, code: &str, key: &SigningKey) -> (u16, Value) {
        self.enrol_from(code, key, 1)
    }

    /// Enrols with the outbox going on at `first_seq` (a PC enrolling again after a fence).
    pub fn enrol_from(&self, code: &str, key: &SigningKey, first_seq: u64) -> (u16, Value) {
        let body = json!({
            "protocol": PROTOCOL, "schema_version": 4, "app_version": "0.1.0", "code": code,
            "public_key_hex": hex::encode(key.verifying_key().to_bytes()), "hostname": "loket-1",
            "first_seq": first_seq,
        });
        self.http("POST", "/v1/enrol", None, body.to_string().as_bytes())
    }

    pub fn server_time(&self) -> u64 {
        self.http("GET", "/v1/time", None, b"").1["server_time_ms"].as_u64().unwrap()
    }
}

impl Kota {
    /// Asks the server to stop as a service manager does (SIGTERM); answers whether it exited
    /// cleanly.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let ok = Command::new("kill").arg(self.child.id().to_string()).status().unwrap();
        assert!(ok.success());
        self.child.wait().unwrap()
    }
}

impl Drop for Kota {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..eol]).unwrap().trim(), 16);
        let size = size.unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[eol + 2 + size + 2..];
    }
}

fn signed(
    key: &SigningKey,
    device: &str,
    method: &str,
    path: &str,
    time: u64,
    body: &[u8],
) -> String {
    let msg = request_message(method, path, time, &hex::encode(Sha256::digest(body)));
    format!("Balai-Device {device}:{time}:{}", hex::encode(key.sign(&msg).to_bytes()))
}

#[test]
fn an_office_pc_enrols_with_a_one_time_code_and_is_known_by_its_signature() {
    let kota = Kota::start();
    let key = SigningKey::from_bytes(&[7; 32]);
    let code = kota.code();
    let (status, enrolled) = kota.enrol(&code.to_lowercase(), &key);
    assert_eq!(status, 200, "{enrolled}");
    assert_eq!(enrolled["kelurahan_code"], KELURAHAN);
    assert_eq!(enrolled["kelurahan_name"], "Yosorejo");
    assert_eq!(enrolled["epoch"], 1);
    let device = enrolled["device_id"].as_str().unwrap();
    // The code is spent: a second PC with it is refused.
    let (status, body) = kota.enrol(&code, &SigningKey::from_bytes(&[8; 32]));
    assert_eq!((status, body["code"].as_str()), (400, Some("code_invalid")), "{body}");

    let now = kota.server_time();
    let auth = signed(&key, device, "GET", "/v1/whoami", now, b"");
    let (status, me) = kota.http("GET", "/v1/whoami", Some(&auth), b"");
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["device_id"].as_str(), me["kelurahan_code"].as_str()),
        (Some(device), Some(KELURAHAN))
    );
    let (ok, devices, _) = cli(&kota.db, &["devices", "list"]);
    assert!(ok);
    assert_eq!(devices[0]["hostname"], "loket-1");
    assert!(devices[0]["last_seen_ms"].as_u64().is_some(), "{devices}");
}

#[test]
fn a_request_not_signed_by_the_device_now_is_refused_and_a_revoked_device_is_locked_out() {
    let kota = Kota::start();
    let key = SigningKey::from_bytes(&[9; 32]);
    let (_, enrolled) = kota.enrol(&kota.code(), &key);
    let device = enrolled["device_id"].as_str().unwrap();
    let now = kota.server_time();
    let refused = |auth: &str| {
        let (status, body) = kota.http("GET", "/v1/whoami", Some(auth), b"");
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("unauthenticated")),
            "{auth}: {body}"
        );
    };
    // Another key, another path, a time outside the window, no header at all.
    refused(&signed(&SigningKey::from_bytes(&[1; 32]), device, "GET", "/v1/whoami", now, b""));
    refused(&signed(&key, device, "GET", "/v1/time", now, b""));
    refused(&signed(&key, device, "GET", "/v1/whoami", now - 11 * 60 * 1000, b""));
    refused("Bearer x");
    let (status, _) = kota.http("GET", "/v1/whoami", None, b"");
    assert_eq!(status, 401);
    // Revoked while the server runs: the next request is refused as revoked.
    let (ok, _, err) = cli(&kota.db, &["devices", "revoke", device]);
    assert!(ok, "{err}");
    let auth = signed(&key, device, "GET", "/v1/whoami", kota.server_time(), b"");
    let (status, body) = kota.http("GET", "/v1/whoami", Some(&auth), b"");
    assert_eq!((status, body["code"].as_str()), (403, Some("revoked")), "{body}");
}

#[test]
fn codes_are_given_only_for_registered_kelurahan() {
    let kota = Kota::start();
    let (ok, _, err) = cli(&kota.db, &["enrol", "--kelurahan", "18.72.04.1999"]);
    assert!(!ok);
    assert!(err.contains("belum terdaftar"), "{err}");
    let (ok, _, err) = cli(&kota.db, &["kelurahan", "add", "--code", "18.72", "--name", "x"]);
    assert!(!ok);
    assert!(err.contains("Kode kelurahan"), "{err}");
}
