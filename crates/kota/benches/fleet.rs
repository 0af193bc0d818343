//! A city's whole fleet against one Balai Kota (release binary, SQLite, loopback): 2,000 office
//! PCs in 100 kelurahan, each making a sync round once a minute for two minutes, spread evenly
//! over the minute as PCs' timers are. A round is what an office PC does when little happens:
//! ask the time, push what it has (one edited field group in a fifth of the rounds), pull the
//! kelurahan's feed from its cursor. Every request is signed by the PC's own enrolled key.
//!
//! Measures each round's wall time at the PC (three requests, or two without a push) and counts
//! errors; writes `target/bench/fleet.json`, which `cargo xtask bench` puts into BENCHMARKS.md.
//! Target (issue 5): p99 under 300 ms with zero errors.

#![allow(clippy::print_stdout)] // a benchmark reports on stdout

use balai_kota::db::Db;
use balai_protocol::{
    request_message, EnrolRequest, Enrolled, Op, OpBody, PullResponse, PushRequest, PushResponse,
    ServerTime, Versions, AUTH_SCHEME, PROTOCOL,
};
use ed25519_dalek::{Signer, SigningKey};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const KELURAHAN: u32 = 100;
const PCS: u32 = 2_000;
const ROUNDS: u32 = 2;
const EVERY: Duration = Duration::from_secs(60);
/// Rounds run at once at most (each PC's own timer; 64 threads are plenty at 33 rounds/s).
const WORKERS: usize = 64;

struct Pc {
    key: SigningKey,
    id: Uuid,
    next_seq: u64,
    cursor: u64,
    row: Uuid,
}

fn versions() -> Versions {
    Versions { protocol: PROTOCOL, schema_version: 9, app_version: "bench".into() }
}

fn kelurahan_code(i: u32) -> String {
    format!("18.72.{:02}.{}", 1 + i / 20, 1001 + i % 20)
}

struct City {
    base: String,
    http: reqwest::blocking::Client,
}

impl City {
    fn signed(
        &self,
        pc: &Pc,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::blocking::Response, String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_millis() as u64;
        let msg = request_message(method.as_str(), path, now, &hex::encode(Sha256::digest(&body)));
        let sig = hex::encode(pc.key.sign(&msg).to_bytes());
        let auth = format!("{AUTH_SCHEME} {}:{now}:{sig}", pc.id);
        let r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Authorization", auth)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .map_err(|e| e.to_string())?;
        if r.status().is_success() {
            Ok(r)
        } else {
            Err(format!("{path}: {} {}", r.status(), r.text().unwrap_or_default()))
        }
    }

    /// One sync round of `pc`: time, push (if `edit`), pull to the end.
    fn round(&self, pc: &mut Pc, edit: bool) -> Result<(), String> {
        let time: ServerTime = self
            .http
            .get(format!("{}/v1/time", self.base))
            .send()
            .and_then(|r| r.json())
            .map_err(|e| e.to_string())?;
        if edit {
            let op = Op {
                device_seq: pc.next_seq,
                change_id: Uuid::now_v7(),
                user_id: "petugas".into(),
                body: OpBody::Set {
                    table: "residents".into(),
                    row_id: pc.row,
                    field_group: "address".into(),
                    value: json!({"rt": format!("{:03}", pc.next_seq % 20 + 1)}),
                    hlc: time.server_time_ms << 16 | pc.next_seq,
                },
            };
            let body = PushRequest {
                versions: versions(),
                device_id: pc.id,
                epoch: 1,
                ops: vec![op],
                seen_through: None,
            };
            let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
            let res: PushResponse = self
                .signed(pc, reqwest::Method::POST, "/v1/push", body)?
                .json()
                .map_err(|e| e.to_string())?;
            if res.acked_through != pc.next_seq {
                return Err(format!("push acked through {}", res.acked_through));
            }
            pc.next_seq += 1;
        }
        loop {
            let path = format!("/v1/pull?cursor={}&limit=500", pc.cursor);
            let page: PullResponse = self
                .signed(pc, reqwest::Method::GET, &path, Vec::new())?
                .json()
                .map_err(|e| e.to_string())?;
            pc.cursor = page.next_cursor;
            if !page.has_more {
                return Ok(());
            }
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("kota.sqlite");

    // The registry and one code per PC, written before the server starts.
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64;
    let codes: Vec<String> = {
        let db = Db::open(&db_path).expect("kota db");
        for k in 0..KELURAHAN {
            db.add_kelurahan(&kelurahan_code(k), &format!("Kelurahan {k}"), started).expect("add");
        }
        (0..PCS)
            .map(|i| db.new_enrol_code(&kelurahan_code(i % KELURAHAN), started).expect("code").code)
            .collect()
    };

    let mut server = Command::new(env!("CARGO_BIN_EXE_balai-kota"))
        .arg("--db")
        .arg(&db_path)
        .args(["--json", "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("serve");
    let mut line = String::new();
    BufReader::new(server.stdout.take().expect("stdout")).read_line(&mut line).expect("address");
    let base = serde_json::from_str::<serde_json::Value>(&line).expect("json")["address"]
        .as_str()
        .expect("address")
        .trim_end_matches('/')
        .to_string();
    let city = Arc::new(City {
        base,
        http: reqwest::blocking::Client::builder()
            .pool_max_idle_per_host(WORKERS)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client"),
    });

    // Enrolment of every PC (not measured).
    let pcs: Vec<Arc<Mutex<Pc>>> = codes
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&(i as u32 + 1).to_le_bytes());
            let key = SigningKey::from_bytes(&seed);
            let req = EnrolRequest {
                versions: versions(),
                code: code.clone(),
                public_key_hex: hex::encode(key.verifying_key().to_bytes()),
                hostname: format!("loket-{i}"),
                first_seq: 1,
                office_kelurahan: None,
                replaces: None,
            };
            let res: Enrolled = city
                .http
                .post(format!("{}/v1/enrol", city.base))
                .json(&req)
                .send()
                .and_then(|r| r.error_for_status())
                .and_then(|r| r.json())
                .expect("enrol");
            // The PCs of a kelurahan edit the same few residents.
            let row = Uuid::from_u128(
                0x019f_0000_0000_7000_8000_0000_0000_0000 | u128::from(i as u32 % 500),
            );
            Arc::new(Mutex::new(Pc { key, id: res.device_id, next_seq: 1, cursor: 0, row }))
        })
        .collect();

    // Each PC's rounds at its own second of the minute; a fifth of the rounds push an edit.
    let (jobs, queue) = mpsc::channel::<(usize, bool)>();
    let queue = Arc::new(Mutex::new(queue));
    let times = Arc::new(Mutex::new(Vec::with_capacity((PCS * ROUNDS) as usize)));
    let errors = Arc::new(AtomicU64::new(0));
    let late = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (queue, pcs, city) = (queue.clone(), pcs.clone(), city.clone());
            let (times, errors, first_error) = (times.clone(), errors.clone(), first_error.clone());
            std::thread::spawn(move || loop {
                let job = queue.lock().expect("queue").recv();
                let Ok((i, edit)) = job else { return };
                let mut pc = pcs[i].lock().expect("pc");
                let t = Instant::now();
                let r = city.round(&mut pc, edit);
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                match r {
                    Ok(()) => times.lock().expect("times").push(ms),
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        first_error.lock().expect("error").get_or_insert(e);
                    }
                }
            })
        })
        .collect();
    let t0 = Instant::now();
    for round in 0..ROUNDS {
        for i in 0..PCS {
            let at = EVERY * round + EVERY.mul_f64(f64::from(i) / f64::from(PCS));
            if let Some(wait) = at.checked_sub(t0.elapsed()) {
                std::thread::sleep(wait);
            } else if t0.elapsed() - at > Duration::from_millis(100) {
                late.fetch_add(1, Ordering::Relaxed);
            }
            let edit = (i + round * 7) % 5 == 0;
            jobs.send((i as usize, edit)).expect("a worker");
        }
    }
    drop(jobs);
    for w in workers {
        w.join().expect("worker");
    }
    let wall = t0.elapsed().as_secs_f64();
    let _ = server.kill();
    let _ = server.wait();

    let mut times = times.lock().expect("times").clone();
    times.sort_by(f64::total_cmp);
    let errors = errors.load(Ordering::Relaxed);
    if let Some(e) = first_error.lock().expect("error").as_ref() {
        println!("first error: {e}");
    }
    let out = json!({
        "pcs": PCS,
        "kelurahan": KELURAHAN,
        "rounds": times.len() as u64 + errors,
        "every_s": EVERY.as_secs(),
        "wall_s": wall,
        "round_ms_p50": percentile(&times, 0.50),
        "round_ms_p99": percentile(&times, 0.99),
        "round_ms_max": times.last().copied().unwrap_or(f64::NAN),
        "errors": errors,
        "dispatched_late": late.load(Ordering::Relaxed),
    });
    let bench = root.join("target/bench");
    std::fs::create_dir_all(&bench).expect("target/bench");
    std::fs::write(bench.join("fleet.json"), out.to_string()).expect("write fleet.json");
    println!("{out}");
}
