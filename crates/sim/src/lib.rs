//! balai-sim: the deterministic whole-system simulation of sync (design.md "The proof";
//! sync-notes §5.2).
//!
//! What it does: one thread runs Balai Kota (its real router and SQLite database, in process:
//! `balai_kota::http::InProcess`) and several office PCs per kelurahan (real `balai_app::App`s
//! on real SQLite files) that reach the city through a [`balai_sync::Link`] of this crate. A
//! seeded RNG drives everything: what the clerks do (edit and rename hot residents, register newcomers,
//! duplicate NIKs across PCs, record life events, issue and void letters), when each PC syncs,
//! and the faults — requests dropped, answers lost after the city acted, requests repeated,
//! stale requests replayed later, PCs offline for hours, PCs and the city crashing and
//! restarting (their databases reopened), either the city restored from a backup it took
//! earlier in the run or one PC put back to an old copy of its database (fenced by the city and
//! enrolled again, as its admin would), PC clocks skewed (one an hour behind, three years
//! behind or two years ahead), residents' online requests sent through the city's form,
//! taken by a clerk at one PC and finished or refused there, and the lurah's scorecard values
//! (a few hot indicators entered or cleared on every PC). Time is
//! simulated. `BALAI_SIM_TRACE=1` prints every step and sync round. Then everything heals and syncs until quiet, and the run checks:
//! convergence (every PC of a kelurahan holds exactly the city's copy, field group by field
//! group with its clock, and no PC's own digest self-check ever had to repair), no lost write (every change a PC committed is in the final state or
//! was overwritten by a later one, or is listed as refused), letter numbers (never one twice in
//! a kelurahan; every one the PCs issued is the city's, for the same letter), tenancy (no row
//! of one kelurahan under another), online requests (every PC holds each of its kelurahan's
//! with the city's status, claimant and note), identity conflicts (every PC lists the city's
//! open ones and shows each reviewed one it has as reviewed; the lurah of each PC reviews one
//! once the first heal pass has spread them) and liveness (queues drain, nothing held).
//!
//! What it does not do yet: deletes, a PC enrolled after the city's backup (unknown to it once
//! restored), a cloned PC, schema migrations mid-run, shrinking a failing schedule (a failure
//! names its seed and the run is repeated from it), and the city restored and a PC put back
//! in the same run: that PC's writes made after its copy and sent after the city's backup are
//! then gone from both, while the other PCs keep what they pulled, so they differ from the
//! city (re-sending pulled rows after a city restore is not built). Row ids come from the real clock and randomness (UUIDv7), so
//! a repeated run has the same schedule, not byte-identical ids.

use balai_app::{dispatch, App, Caller};
use balai_kota::http::{InProcess, Server};
use balai_sync::{Answer, Link, LinkError, Request};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Whether `BALAI_SIM_TRACE` asks for every step, sync round and finding to be printed.
fn tracing() -> bool {
    std::env::var_os("BALAI_SIM_TRACE").is_some()
}

/// A PC's clock: the simulated time plus the PC's own error.
#[derive(Debug)]
struct PcClock(Mutex<chrono::DateTime<chrono::Utc>>);

impl PcClock {
    fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += by;
    }
}

impl balai_app::Clock for PcClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The size of one run.
#[derive(Debug, Clone)]
pub struct Config {
    pub kelurahan: usize,
    pub pcs_per_kelurahan: usize,
    /// Random steps (one clerk action, sync round or fault each).
    pub steps: usize,
    /// Residents in each kelurahan's register at the start.
    pub residents: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config { kelurahan: 2, pcs_per_kelurahan: 3, steps: 300, residents: 25 }
    }
}

/// What one run did: operations by kind (`ok` and refused), faults by kind, rounds to quiet.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub seed: u64,
    pub ops: BTreeMap<String, u64>,
    pub faults: BTreeMap<String, u64>,
    pub rounds_to_quiet: usize,
    pub letters: usize,
    pub groups_compared: usize,
    /// Online requests found alike on the city and a PC (counted per PC).
    pub requests_compared: usize,
    /// Online requests the PCs hold that the city lost when it was restored from its backup.
    pub requests_lost_by_city_restore: usize,
    /// Number leases whose every serial was accounted for, of them leases of one number (the
    /// online fast path), and their serials recorded unused or still held unissued.
    pub leases_checked: usize,
    pub single_leases: usize,
    pub numbers_unused: usize,
    pub numbers_held: usize,
    /// Identity conflicts the city recorded (each found alike on every PC of its kelurahan).
    pub identity_conflicts: usize,
}

impl Report {
    fn count(map: &mut BTreeMap<String, u64>, key: &str) {
        *map.entry(key.to_string()).or_default() += 1;
    }
}

/// Probabilities of the link's faults, per request.
const P_DROP: f64 = 0.05;
/// Rows per snapshot page at the simulation's city.
const SNAPSHOT_ROWS: u32 = 7;
const P_LOSE_ANSWER: f64 = 0.05;
const P_REPEAT: f64 = 0.05;
const P_KEEP_STALE: f64 = 0.05;

/// The city: its database file and, while it runs, the server on it.
struct City {
    db: PathBuf,
    now: Arc<AtomicU64>,
    running: Option<(Arc<Server>, InProcess)>,
    /// The one backup of the run, and whether it was restored already.
    backup: Option<PathBuf>,
    restored: bool,
}

impl City {
    fn start(&mut self) -> Result<(), String> {
        let db = balai_kota::db::Db::open(&self.db).map_err(|e| e.to_string())?;
        let now = self.now.clone();
        let server = Arc::new(Server {
            db,
            clock: Arc::new(move || now.load(Ordering::SeqCst)),
            min_push_protocol: balai_protocol::MIN_PUSH_PROTOCOL,
            limits: Default::default(),
            // A few rows a page: every first sync takes several requests, and the link loses
            // some of them, so downloads cut off and resumed are part of every run.
            snapshot_rows: SNAPSHOT_ROWS,
        });
        let local = InProcess::new(server.clone()).map_err(|e| e.to_string())?;
        self.running = Some((server, local));
        Ok(())
    }

    fn server(&self) -> Result<&Arc<Server>, String> {
        self.running.as_ref().map(|(s, _)| s).ok_or_else(|| "the city is down".to_string())
    }
}

/// The network between the PCs and the city: one lock, one RNG, so a run is reproducible.
struct Net {
    city: City,
    rng: StdRng,
    /// Requests kept to be delivered again later (a slow, duplicating network).
    stale: Vec<Request>,
    /// At the end of a run the network is healed: no more faults.
    healed: bool,
    faults: BTreeMap<String, u64>,
}

impl Net {
    fn deliver(&self, r: &Request) -> Option<(u16, Vec<u8>)> {
        let (_, local) = self.city.running.as_ref()?;
        let path = r.url.strip_prefix(CITY_URL).unwrap_or(&r.url);
        Some(local.handle(r.method, path, &r.headers, r.body.clone()))
    }
}

/// The run's one copy of a PC's database.
enum PcCopy {
    NotTaken,
    /// Of this PC, in this file.
    Taken(usize, PathBuf),
    PutBack,
}

/// The simulated city's address (a loopback one: plain HTTP is refused for any other).
const CITY_URL: &str = "http://127.0.0.1:8470";

/// One PC's way to the city, through the shared [`Net`].
struct SimLink {
    net: Arc<Mutex<Net>>,
    online: AtomicBool,
}

impl Link for SimLink {
    fn send(&self, r: Request) -> Result<Answer, LinkError> {
        let mut net = self.net.lock().unwrap_or_else(|p| p.into_inner());
        if !self.online.load(Ordering::SeqCst) {
            return Err(LinkError::Down("offline".into()));
        }
        let mut rolls: [f64; 4] = [net.rng.gen(), net.rng.gen(), net.rng.gen(), net.rng.gen()];
        if net.healed {
            rolls = [1.0; 4];
        }
        let snapshot = r.url.contains("/v1/snapshot");
        if snapshot && (rolls[0] < P_DROP || rolls[3] < P_LOSE_ANSWER) {
            Report::count(&mut net.faults, "snapshot page lost (first sync resumed)");
        }
        if rolls[0] < P_DROP {
            Report::count(&mut net.faults, "request dropped");
            return Err(LinkError::Timeout("dropped".into()));
        }
        let Some(mut answer) = net.deliver(&r) else {
            return Err(LinkError::Down("the city is down".into()));
        };
        if rolls[1] < P_REPEAT {
            Report::count(&mut net.faults, "request repeated");
            answer = net.deliver(&r).unwrap_or(answer);
        }
        if rolls[2] < P_KEEP_STALE {
            net.stale.push(r.clone());
        }
        if rolls[3] < P_LOSE_ANSWER {
            Report::count(&mut net.faults, "answer lost after the city acted");
            return Err(LinkError::Timeout("answer lost".into()));
        }
        Ok(Answer { status: answer.0, body: answer.1 })
    }
}

struct Pc {
    kelurahan: usize,
    db: PathBuf,
    clock: Arc<PcClock>,
    link: Arc<SimLink>,
    /// The database's key (each PC's its own, as in an office).
    key: balai_app::DbKey,
    app: Option<App>,
    /// NIKs this PC registered (other PCs of the kelurahan sometimes register one again).
    registered: Vec<String>,
    /// The lurah's session on this PC.
    lurah: Mutex<Option<String>>,
}

impl Pc {
    fn open(&mut self) -> Result<(), String> {
        let app = App::open_with_link(&self.db, &self.key, self.clock.clone(), self.link.clone())
            .map_err(|e| e.message)?;
        self.app = Some(app);
        *self.lurah.lock().map_err(|_| "lock")? = None;
        Ok(())
    }

    fn call(&self, command: &str, args: Value) -> Result<Value, String> {
        let app = self.app.as_ref().ok_or("the PC is off")?;
        dispatch(app, &Caller::Operator("sim".into()), command, args)
            .map_err(|e| describe(command, e))
    }

    /// A command of the lurah's (signing): logged in again when the session has lapsed.
    fn as_lurah(&self, command: &str, args: Value) -> Result<Value, String> {
        let app = self.app.as_ref().ok_or("the PC is off")?;
        let token = self.lurah.lock().map_err(|_| "lock")?.clone();
        if let Some(t) = token {
            match dispatch(app, &Caller::Session(Some(t)), command, args.clone()) {
                // The session lapsed or locked after idle time: log in again.
                Err(e)
                    if matches!(
                        e.code,
                        balai_app::ErrorCode::Unauthenticated | balai_app::ErrorCode::SessionLocked
                    ) => {}
                r => return r.map_err(|e| describe(command, e)),
            }
        }
        let login = json!({"username": "lurah", "password": "demo-lurah"});
        let t = dispatch(app, &Caller::Session(None), "auth.login", login)
            .map_err(|e| e.message)?["token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        *self.lurah.lock().map_err(|_| "lock")? = Some(t.clone());
        dispatch(app, &Caller::Session(Some(t)), command, args).map_err(|e| describe(command, e))
    }

    fn store(&self) -> Result<balai_store::Store, String> {
        balai_store::Store::open(&self.db, self.key.bytes()).map_err(|e| e.to_string())
    }
}

/// `command: "code" message [fields]`, for the counts and for a failing run's message.
fn describe(command: &str, e: balai_app::ApiError) -> String {
    let code = serde_json::to_string(&e.code).unwrap_or_default();
    let fields = serde_json::to_string(&e.fields).unwrap_or_default();
    format!("{command}: {code} {} {fields}", e.message)
}

fn kelurahan_code(k: usize) -> String {
    format!("18.72.04.{}", 1004 + k)
}

/// One run from `seed`: `Ok` with what it did, or `Err` naming the first violation.
pub fn run(seed: u64, cfg: &Config) -> Result<Report, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut rng = StdRng::seed_from_u64(seed);
    // An hour and a half before the year ends in the offices' time zone (WIB, UTC+7): letters
    // are numbered in December's and then January's series, leases for the new year are taken
    // ahead and the old year's unissued numbers given back.
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-31T15:30:00Z")
        .map_err(|e| e.to_string())?
        .to_utc();
    let now = Arc::new(AtomicU64::new(start.timestamp_millis() as u64));
    let mut city = City {
        db: dir.path().join("kota.sqlite"),
        now: now.clone(),
        running: None,
        backup: None,
        restored: false,
    };
    city.start()?;
    for k in 0..cfg.kelurahan {
        let s = city.server()?;
        s.db.add_kelurahan(&kelurahan_code(k), &format!("Kelurahan Simulasi {k}"), 0)
            .map_err(|e| e.to_string())?;
    }
    let net = Arc::new(Mutex::new(Net {
        city,
        rng: StdRng::seed_from_u64(seed ^ 0x5eed),
        stale: Vec::new(),
        healed: false,
        faults: BTreeMap::new(),
    }));
    let mut report = Report { seed, ..Report::default() };
    let mut pc_copy = PcCopy::NotTaken;
    // A run either restores the city from its backup or puts a PC back to an old copy, not
    // both: a PC's writes made after its copy and sent after the city's backup would be lost
    // on both, while the other PCs keep the copies they pulled (see the module docs).
    let puts_a_pc_back = rng.gen_bool(0.5);

    // The PCs: the first of each kelurahan holds the register, the others start empty; one PC
    // of the run has a clock an hour behind, three years behind or two years ahead; some are
    // two minutes off.
    let mut pcs = Vec::new();
    let slow_pc = rng.gen_range(0..cfg.kelurahan * cfg.pcs_per_kelurahan);
    for k in 0..cfg.kelurahan {
        for i in 0..cfg.pcs_per_kelurahan {
            let n = pcs.len();
            let skew = match (n == slow_pc, rng.gen_range(0..3)) {
                (true, 0) => chrono::Duration::hours(-1),
                (true, 1) => chrono::Duration::days(-3 * 365),
                (true, _) => chrono::Duration::days(2 * 365),
                (false, 0) => chrono::Duration::minutes(-2),
                (false, 1) => chrono::Duration::seconds(50),
                _ => chrono::Duration::zero(),
            };
            let link = Arc::new(SimLink { net: net.clone(), online: AtomicBool::new(true) });
            let mut pc = Pc {
                kelurahan: k,
                db: dir.path().join(format!("pc-{k}-{i}.sqlite")),
                clock: Arc::new(PcClock(Mutex::new(start + skew))),
                link,
                key: balai_app::DbKey::from_bytes([(k * 16 + i) as u8; 32]),
                app: None,
                registered: Vec::new(),
                lurah: Mutex::new(None),
            };
            pc.open()?;
            let residents = if i == 0 { cfg.residents } else { 0 };
            pc.call("demo.seed", json!({"residents": residents, "seed": seed + k as u64}))?;
            // The office profile names its kelurahan (the city refuses a code for another).
            let mut profile = pc.call("profile.get", json!({}))?["profile"].clone();
            profile["kelurahan_code"] = json!(kelurahan_code(k));
            profile["kelurahan_name"] = json!(format!("Kelurahan Simulasi {k}"));
            pc.call("profile.set", profile)?;
            let code = {
                let n = net.lock().map_err(|_| "lock")?;
                let s = n.city.server()?;
                s.db.new_enrol_code(&kelurahan_code(k), now.load(Ordering::SeqCst))
                    .map_err(|e| e.to_string())?
                    .code
            };
            // Enrolment is done by a person who retries until it works; the link may fail it.
            enrol(&pc, &code, &net)?;
            pcs.push(pc);
        }
    }

    for step in 0..cfg.steps {
        let advance = rng.gen_range(1_000..120_000);
        now.fetch_add(advance, Ordering::SeqCst);
        for pc in &pcs {
            pc.clock.advance(chrono::Duration::milliseconds(advance as i64));
        }
        let p = rng.gen_range(0..pcs.len());
        let roll = rng.gen_range(0..116);
        let kind = match roll {
            0..=29 => edit(&pcs[p], &mut rng),
            30..=37 => {
                let other = pcs
                    .iter()
                    .filter(|o| o.kelurahan == pcs[p].kelurahan)
                    .flat_map(|o| o.registered.iter().cloned())
                    .collect::<Vec<_>>();
                register(&mut pcs[p], &other, &mut rng, step)
            }
            38..=44 => event(&pcs[p], &mut rng),
            45..=59 => issue(&pcs[p], &mut rng),
            60..=62 => void(&pcs[p], &mut rng),
            63..=79 => sync(&pcs[p], &net)?,
            80..=85 => {
                let online = !pcs[p].link.online.load(Ordering::SeqCst);
                pcs[p].link.online.store(online, Ordering::SeqCst);
                if online { "fault: PC back online" } else { "fault: PC offline" }.to_string()
            }
            86..=88 => {
                pcs[p].app = None;
                pcs[p].open()?;
                "fault: PC crashed and restarted".to_string()
            }
            89 => {
                let mut n = net.lock().map_err(|_| "lock")?;
                n.city.running = None;
                n.city.start()?;
                "fault: city crashed and restarted".to_string()
            }
            90..=92 => {
                let mut n = net.lock().map_err(|_| "lock")?;
                if n.stale.is_empty() {
                    "fault: nothing stale to replay".to_string()
                } else {
                    let len = n.stale.len();
                    let i = n.rng.gen_range(0..len);
                    let r = n.stale.swap_remove(i);
                    let _ = n.deliver(&r);
                    "fault: stale request delivered again".to_string()
                }
            }
            // Once per run the city is backed up, and later restored from that backup (the
            // changes, leases and numbers of the time between are lost on the city's side).
            93 => {
                let mut n = net.lock().map_err(|_| "lock")?;
                if n.city.backup.is_some() || n.city.running.is_none() {
                    "idle".to_string()
                } else {
                    let path = dir.path().join("kota-backup.sqlite");
                    n.city.server()?.db.backup(&path, None).map_err(|e| e.to_string())?;
                    n.city.backup = Some(path);
                    "fault: city backed up".to_string()
                }
            }
            // Late in the run, so some PCs have nothing new to send after it (they must still
            // send again what the city lost).
            94..=96 if step > cfg.steps * 4 / 5 && !puts_a_pc_back => {
                let mut n = net.lock().map_err(|_| "lock")?;
                match n.city.backup.clone() {
                    Some(path) if !n.city.restored => {
                        n.city.running = None;
                        let at = now.load(Ordering::SeqCst);
                        balai_kota::backup::restore(&n.city.db, &path, None, at)
                            .map_err(|e| e.to_string())?;
                        n.city.restored = true;
                        n.city.start()?;
                        "fault: city restored from its backup".to_string()
                    }
                    _ => "idle".to_string(),
                }
            }
            // Once per run a copy of one PC's database is taken (a disk image, a copy on a
            // flash drive), and late in the run the PC is put back to it: everything it did
            // since is gone from it, its outbox numbers run again, and its lease is stale.
            97 if puts_a_pc_back && matches!(pc_copy, PcCopy::NotTaken) => {
                let path = dir.path().join("pc-copy.sqlite");
                pcs[p].store()?.backup_to(&path).map_err(|e| e.to_string())?;
                pc_copy = PcCopy::Taken(p, path);
                "fault: copy of a PC's database taken".to_string()
            }
            98..=99 if step > cfg.steps / 2 => {
                match std::mem::replace(&mut pc_copy, PcCopy::PutBack) {
                    PcCopy::Taken(c, path) => {
                        pcs[c].app = None;
                        for ext in ["-wal", "-shm"] {
                            let side = PathBuf::from(format!("{}{ext}", pcs[c].db.display()));
                            let _ = std::fs::remove_file(side);
                        }
                        std::fs::copy(&path, &pcs[c].db).map_err(|e| e.to_string())?;
                        pcs[c].open()?;
                        if tracing() {
                            eprintln!("  (the PC put back is PC {c})");
                        }
                        "fault: PC put back to an old copy of its database".to_string()
                    }
                    before => {
                        pc_copy = before;
                        "idle".to_string()
                    }
                }
            }
            100..=102 => {
                let n = net.lock().map_err(|_| "lock")?;
                match n.city.server() {
                    Ok(server) => submit_online(server, pcs[p].kelurahan, &mut rng, step)?,
                    Err(_) => "online request: city down".to_string(),
                }
            }
            103..=105 => claim(&pcs[p], &mut rng),
            106..=108 => resolve(&pcs[p], &mut rng),
            109..=111 => review_conflict(&pcs[p], &mut rng),
            112..=115 => score(&pcs[p], &mut rng),
            _ => "idle".to_string(),
        };
        if tracing() {
            eprintln!("step {step} PC {p}: {kind}");
        }
        let map = if kind.starts_with("fault") { &mut report.faults } else { &mut report.ops };
        Report::count(map, &kind);
    }

    // Heal: every PC online, the city up, sync until a whole pass moves nothing.
    for pc in &pcs {
        pc.link.online.store(true, Ordering::SeqCst);
    }
    {
        let mut n = net.lock().map_err(|_| "lock")?;
        if n.city.running.is_none() {
            n.city.start()?;
        }
        n.healed = true;
    }
    // A quiet pass: every PC's round succeeded and none moved anything.
    let mut quiet = false;
    let mut last_rounds: Vec<String> = Vec::new();
    for round in 0..20 {
        now.fetch_add(60_000, Ordering::SeqCst);
        for pc in &pcs {
            pc.clock.advance(chrono::Duration::minutes(1));
        }
        let mut moved = false;
        last_rounds.clear();
        // Once the first pass has brought every conflict to every PC, each PC's lurah reviews
        // one: the reviews must reach the other PCs before the run is quiet.
        if round == 1 {
            for pc in &pcs {
                let kind = review_conflict(pc, &mut rng);
                Report::count(&mut report.ops, &format!("heal: {kind}"));
            }
        }
        for pc in &pcs {
            // Each heal round compares digests (the hourly check would skip most of them): a
            // PC whose copy had to be repaired fails the run.
            let r = pc.call("sync.now", json!({"check": true}));
            if tracing() {
                eprintln!("  heal round {round}: {r:?}");
            }
            last_rounds.push(match &r {
                Ok(r) => format!(
                    "pushed {} pulled {} pending {} rejected {}",
                    r["pushed"], r["pulled"], r["pending"], r["rejected"]
                ),
                Err(e) => e.clone(),
            });
            match r {
                Ok(r) => {
                    moved |= r["pushed"] != 0 || r["pulled"] != 0 || r["pending"] != 0;
                    let digest =
                        format!("sync: ok, digest {}", r["digest"].as_str().unwrap_or("?"));
                    Report::count(&mut report.ops, &digest);
                }
                Err(_) => {
                    if is_fenced(pc) {
                        enrol_again(pc, &net)?;
                        Report::count(&mut report.ops, "PC enrolled again after a fence");
                    }
                    moved = true;
                }
            }
        }
        if !moved {
            report.rounds_to_quiet = round + 1;
            quiet = true;
            break;
        }
    }
    if !quiet {
        return Err(format!(
            "seed {seed}: sync never went quiet in 20 rounds (stuck queue); the last round of each PC: {last_rounds:#?}"
        ));
    }
    report.faults.extend(net.lock().map_err(|_| "lock")?.faults.clone());
    let n = net.lock().map_err(|_| "lock")?;
    let server = n.city.server()?;
    check(seed, &pcs, server, cfg, n.city.restored, &mut report)?;
    Ok(report)
}

fn enrol(pc: &Pc, code: &str, net: &Arc<Mutex<Net>>) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..20 {
        match pc.call("sync.enrol", json!({"server": CITY_URL, "code": code})) {
            Ok(_) => return Ok(()),
            Err(e) => last = e,
        }
        // A lost answer spent the code: ask the city for another (as a person would).
        if last.contains("code_invalid") || last.contains("Kode") {
            let n = net.lock().map_err(|_| "lock")?;
            let s = n.city.server()?;
            let code =
                s.db.new_enrol_code(&kelurahan_code(pc.kelurahan), s.clock.as_ref()())
                    .map_err(|e| e.to_string())?
                    .code;
            drop(n);
            return enrol(pc, &code, net);
        }
    }
    Err(format!("enrolment never went through: {last}"))
}

fn outcome(what: &str, r: Result<Value, String>) -> String {
    match r {
        Ok(_) => format!("{what}: ok"),
        Err(e) => {
            let code = e.split_whitespace().nth(1).unwrap_or("?").trim_matches('"').to_string();
            format!("{what}: refused ({code})")
        }
    }
}

/// A resident of the hot set (the first few of the register), as the register shows them.
fn hot_resident(pc: &Pc, rng: &mut StdRng) -> Option<Value> {
    let found = pc.call("residents.search", json!({"q": "", "limit": 12})).ok()?;
    let list = found.as_array()?;
    if list.is_empty() {
        return None;
    }
    let id = list[rng.gen_range(0..list.len())]["id"].as_str()?.to_string();
    pc.call("residents.show", json!({"key": id})).ok()
}

/// The resident as the edit form sends it back: every field as text.
fn as_input(shown: &Value) -> Value {
    let mut input = serde_json::Map::new();
    if let Some(r) = shown["resident"].as_object() {
        for (k, v) in r {
            let text = match v {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => (*b as u8).to_string(),
                _ => continue,
            };
            input.insert(k.clone(), Value::String(text));
        }
    }
    let known = serde_json::to_value(balai_domain::resident::ResidentInput::default())
        .unwrap_or(Value::Null);
    input.retain(|k, _| known.get(k).is_some());
    input.insert("no_kk".into(), shown["family"]["no_kk"].clone());
    Value::Object(input)
}

fn edit(pc: &Pc, rng: &mut StdRng) -> String {
    let Some(shown) = hot_resident(pc, rng) else { return "edit: no resident yet".into() };
    let mut input = as_input(&shown);
    let n = rng.gen_range(1..1000);
    let field =
        ["address", "mother_name", "birth_cert_no", "occupation", "full_name"][rng.gen_range(0..5)];
    let value = match field {
        "address" => format!("Jl. Simulasi No. {n}"),
        "full_name" => format!("Warga Simulasi Ganti {n}"),
        "mother_name" => format!("Ibu Contoh {n}"),
        "birth_cert_no" => format!("AL.{n:04}/2026"),
        _ => (1 + n % 80).to_string(),
    };
    input[field] = Value::String(value);
    let id = shown["id"].clone();
    outcome("edit", pc.call("residents.edit", json!({"id": id, "resident": input})))
}

/// The lurah enters a scorecard value: a few hot SPBE indicators of this year, entered on
/// every PC of the office (the same row at every PC, merged by the newest entry).
fn score(pc: &Pc, rng: &mut StdRng) -> String {
    let indicator = ["I1", "I2", "I42"][rng.gen_range(0..3)];
    let value = if rng.gen_range(0..8) == 0 { Value::Null } else { json!(rng.gen_range(1..=5)) };
    let args = json!({"ruleset": "spbe", "period": 2026, "indicator": indicator, "value": value});
    outcome("score", pc.as_lurah("contest.set", args))
}

/// A newcomer (head of a new family); now and then one another PC of the kelurahan registered
/// already (the same person at two counters while offline).
fn register(pc: &mut Pc, others: &[String], rng: &mut StdRng, step: usize) -> String {
    let (nik, twice) = if !others.is_empty() && rng.gen_bool(0.2) {
        (others[rng.gen_range(0..others.len())].clone(), true)
    } else {
        let day = rng.gen_range(1..=28u32);
        let month = rng.gen_range(1..=12u32);
        let year = rng.gen_range(1960..=2004u32);
        let serial = 5000 + (step % 5000) as u32;
        (format!("187204{day:02}{month:02}{:02}{serial:04}", year % 100), false)
    };
    let (day, month, yy) = (&nik[6..8], &nik[8..10], &nik[10..12]);
    let year =
        if yy.parse::<u32>().unwrap_or(0) > 26 { format!("19{yy}") } else { format!("20{yy}") };
    let input = json!({
        "nik": nik, "no_kk": format!("18720401012{:05}", step % 100_000),
        "full_name": format!("Warga Simulasi {}", &nik[12..]), "sex": "L",
        "birth_place": "Metro", "birth_date": format!("{year}-{month}-{day}"),
        "religion": "1", "marital_status": "1", "shdk": "1", "rt": "1", "rw": "1",
        "address": "Jl. Simulasi",
    });
    let r = pc.call("residents.add", json!({"resident": input}));
    if r.is_ok() && !twice {
        pc.registered.push(nik);
    }
    outcome(if twice { "register again elsewhere" } else { "register" }, r)
}

fn event(pc: &Pc, rng: &mut StdRng) -> String {
    let Some(shown) = hot_resident(pc, rng) else { return "event: no resident yet".into() };
    let kind = ["mati", "pindah_keluar", "hilang", "pergi"][rng.gen_range(0..4)];
    let date = pc.clock_date();
    let args = json!({"key": shown["id"], "kind": kind, "date": date, "details": "simulasi"});
    outcome("event", pc.call("residents.event", args))
}

impl Pc {
    fn clock_date(&self) -> String {
        use balai_app::Clock;
        self.clock.now().format("%d-%m-%Y").to_string()
    }
}

fn issue(pc: &Pc, rng: &mut StdRng) -> String {
    let Some(shown) = hot_resident(pc, rng) else { return "issue letter: no resident".into() };
    let nik = shown["resident"]["nik"].clone();
    let args = json!({"letter_type": "domisili", "people": {"pemohon": [nik]},
                      "fields": {"keperluan": "simulasi"}});
    outcome("issue letter", pc.as_lurah("letters.issue", args))
}

fn void(pc: &Pc, rng: &mut StdRng) -> String {
    let Ok(list) = pc.call("letters.list", json!({"status": "terbit"})) else {
        return "void letter: no list".into();
    };
    let Some(list) = list.as_array().filter(|l| !l.is_empty()) else {
        return "void letter: none issued".into();
    };
    let id = list[rng.gen_range(0..list.len())]["id"].clone();
    outcome("void letter", pc.as_lurah("letters.void", json!({"id": id, "reason": "salah ketik"})))
}

/// A sync round; a PC the city fenced (its database was put back to an old copy) is enrolled
/// again, as the office's admin would once the sync page says so.
fn sync(pc: &Pc, net: &Arc<Mutex<Net>>) -> Result<String, String> {
    let r = pc.call("sync.now", json!({}));
    if tracing() {
        eprintln!("  sync of a PC of kelurahan {}: {r:?}", pc.kelurahan);
    }
    match r {
        Ok(r) => Ok(format!("sync: ok, digest {}", r["digest"].as_str().unwrap_or("?"))),
        // Fenced by an earlier request (a letter number asked at the counter) while this round
        // could not reach the city: the admin enrols again once the network is back.
        Err(e) if is_fenced(pc) && !pc.link.online.load(Ordering::SeqCst) => {
            Ok(outcome("sync", Err(e)) + ", fenced (enrols again once online)")
        }
        Err(e) if is_fenced(pc) => {
            if tracing() {
                eprintln!("  fenced: {:?}", pc.call("sync.status", json!({})));
            }
            enrol_again(pc, net)?;
            if tracing() {
                eprintln!("  enrolled again: {:?}", pc.call("sync.status", json!({})));
            }
            Ok(outcome("sync", Err(e)) + ", enrolled again")
        }
        r => Ok(outcome("sync", r)),
    }
}

/// Whether the PC's sync page says only enrolling again helps (its copy was fenced).
fn is_fenced(pc: &Pc) -> bool {
    pc.call("sync.status", json!({})).is_ok_and(|s| !s["fenced"].is_null())
}

fn enrol_again(pc: &Pc, net: &Arc<Mutex<Net>>) -> Result<(), String> {
    let code = {
        let n = net.lock().map_err(|_| "lock")?;
        let s = n.city.server()?;
        s.db.new_enrol_code(&kelurahan_code(pc.kelurahan), s.clock.as_ref()())
            .map_err(|e| e.to_string())?
            .code
    };
    enrol(pc, &code, net)
}

/// A resident sends a request through the city's public form (the form's own function).
fn submit_online(
    server: &Server,
    k: usize,
    rng: &mut StdRng,
    step: usize,
) -> Result<String, String> {
    let (day, month, yy) =
        (rng.gen_range(1..=28u32), rng.gen_range(1..=12u32), rng.gen_range(60..=99u32));
    let form = balai_kota::requests::Form {
        kelurahan: kelurahan_code(k),
        nik: format!("187204{day:02}{month:02}{yy:02}{:04}", 1 + step % 9000),
        no_kk: format!("18720401013{:05}", step % 100_000),
        jenis: "domisili".into(),
        keperluan: "simulasi daring".into(),
        kontak: String::new(),
    };
    let now = server.clock.as_ref()();
    match balai_kota::requests::submit(&server.db, &form, now).map_err(|e| e.to_string())? {
        Ok(_) => Ok("online request: ok".into()),
        Err(problems) => {
            let fields: Vec<&str> = problems.keys().copied().collect();
            Ok(format!("online request: refused ({})", fields.join(", ")))
        }
    }
}

/// The id of a random request of this PC's queue with `status`, held by `held_by`.
fn pick_request(pc: &Pc, rng: &mut StdRng, status: &str, held_by: &str) -> Result<Value, String> {
    let list = pc.as_lurah("requests.list", json!({})).map_err(|e| format!("no list: {e}"))?;
    let found: Vec<&Value> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["status"] == status && r["held_by"] == held_by)
        .collect();
    if found.is_empty() {
        return Err(format!("none {status} held by {held_by}"));
    }
    Ok(found[rng.gen_range(0..found.len())]["id"].clone())
}

/// A clerk takes a waiting online request at this PC.
fn claim(pc: &Pc, rng: &mut StdRng) -> String {
    match pick_request(pc, rng, "diajukan", "none") {
        Ok(id) => outcome("claim", pc.as_lurah("requests.claim", json!({"id": id}))),
        Err(why) => format!("claim: {why}"),
    }
}

/// A clerk finishes or refuses a request this PC holds.
fn resolve(pc: &Pc, rng: &mut StdRng) -> String {
    let id = match pick_request(pc, rng, "diproses", "here") {
        Ok(id) => id,
        Err(why) => return format!("resolve: {why}"),
    };
    let (status, note) = if rng.gen_bool(0.7) {
        ("selesai", "Surat siap diambil")
    } else {
        ("ditolak", "KK tidak sesuai")
    };
    let args = json!({"id": id, "status": status, "note": note});
    outcome("resolve", pc.as_lurah("requests.resolve", args))
}

/// The lurah marks one open identity conflict reviewed.
fn review_conflict(pc: &Pc, rng: &mut StdRng) -> String {
    let open: Vec<Value> = match pc.as_lurah("sync.conflicts", json!({})) {
        Ok(Value::Array(all)) => {
            all.into_iter().filter(|c| c["reviewed_at_ms"].is_null()).collect()
        }
        Ok(_) => return "review conflict: bad answer".into(),
        Err(why) => return format!("review conflict: {why}"),
    };
    if open.is_empty() {
        return "review conflict: none open".into();
    }
    let id = open[rng.gen_range(0..open.len())]["id"].clone();
    let args = json!({"id": id, "note": "Dicek dengan KK"});
    outcome("review conflict", pc.as_lurah("sync.review_conflict", args))
}

/// The checks at the end of a run (each PC's file read beside its open app).
fn check(
    seed: u64,
    pcs: &[Pc],
    server: &Server,
    cfg: &Config,
    city_restored: bool,
    report: &mut Report,
) -> Result<(), String> {
    let fail = |what: String| Err(format!("seed {seed}: {what}"));
    // 0. The PCs' own self-check never found a difference from the city (a repair is a bug).
    for (op, n) in &report.ops {
        if op.contains("digest repaired") || op.contains("digest diverged") {
            return fail(format!("{n} × {op}"));
        }
    }
    let cross = balai_kota::feed::cross_tenant_rows(&server.db).map_err(|e| e.to_string())?;
    if cross > 0 {
        return fail(format!("{cross} rows of one kelurahan under another"));
    }
    let numbers = balai_kota::feed::issued_numbers(&server.db).map_err(|e| e.to_string())?;
    for k in 0..cfg.kelurahan {
        let code = kelurahan_code(k);
        let city: BTreeMap<(String, uuid::Uuid, String), (String, u64, uuid::Uuid)> =
            balai_kota::feed::replica(&server.db, &code)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|g| ((g.tbl, g.row_id, g.group), (g.value.to_string(), g.hlc, g.device)))
                .collect();
        let city_numbers: BTreeMap<&str, &str> = numbers
            .iter()
            .filter(|(kc, _, _)| *kc == code)
            .map(|(_, number, letter)| (number.as_str(), letter.as_str()))
            .collect();
        let mut numbers_seen: BTreeMap<String, String> = BTreeMap::new();
        let city_requests: BTreeMap<uuid::Uuid, (String, Option<String>, String)> =
            balai_kota::requests::states(&server.db, &code)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|r| (r.id, (r.status, r.claimed_by, r.note)))
                .collect();
        let held_conflicts =
            balai_kota::conflicts::of_kelurahan(&server.db, &code).map_err(|e| e.to_string())?;
        for c in &held_conflicts {
            let (kept, lost) = (&c.conflict.kept, &c.conflict.lost);
            let differ = balai_protocol::identity_differences(
                &c.conflict.table,
                &c.conflict.field_group,
                &kept.value,
                &lost.value,
            );
            if kept.device == lost.device
                || differ.is_empty()
                || (kept.hlc, kept.device) < (lost.hlc, lost.device)
            {
                return fail(format!(
                    "identity conflict {} pairs no concurrent different values",
                    c.conflict.conflict_id
                ));
            }
        }
        report.identity_conflicts += held_conflicts.len();
        let city_conflicts: BTreeMap<uuid::Uuid, (Option<u64>, String)> = held_conflicts
            .into_iter()
            .map(|c| (c.conflict.conflict_id, (c.reviewed_at_ms, c.note)))
            .collect();
        for (i, pc) in pcs.iter().enumerate().filter(|(_, pc)| pc.kelurahan == k) {
            let store = pc.store()?;
            let (dump, changes, rejected, held) = store
                .read(|c| {
                    Ok::<_, balai_store::StoreError>((
                        balai_store::sync::dump(c)?,
                        balai_store::sync::changes_after(c, 0, u32::MAX)?,
                        balai_store::sync::rejected(c)?,
                        balai_store::pull::held_counts(c)?,
                    ))
                })
                .map_err(|e| e.to_string())?;
            if !held.is_empty() {
                return fail(format!("PC {i} holds pulled changes aside: {held:?}"));
            }
            // The name index holds exactly the register's names (pulled rows are indexed a
            // page at a time, local ones row by row): FTS5's own check against its content.
            let names = store.read(balai_store::register::check_name_index);
            if let Err(e) = names {
                return fail(format!("PC {i}'s name index does not match its register: {e}"));
            }
            // 1. Convergence: this PC holds exactly the city's copy.
            let mine: BTreeMap<(String, uuid::Uuid, String), (String, u64, uuid::Uuid)> = dump
                .iter()
                .map(|g| {
                    let value: Value = serde_json::from_str(&g.value).unwrap_or(Value::Null);
                    let device = uuid::Uuid::parse_str(&g.device).unwrap_or_default();
                    (
                        (g.tbl.to_string(), g.row_id, g.group.to_string()),
                        (value.to_string(), g.hlc, device),
                    )
                })
                .collect();
            if mine != city {
                let only_pc: Vec<_> = mine.keys().filter(|g| !city.contains_key(*g)).collect();
                let only_city: Vec<_> = city.keys().filter(|g| !mine.contains_key(*g)).collect();
                let differ: Vec<_> = mine
                    .iter()
                    .filter_map(|(g, v)| city.get(g).filter(|c| *c != v).map(|c| (g, v, c)))
                    .collect();
                return fail(format!(
                    "PC {i} of kelurahan {k} differs from the city ({} vs {} groups): {} only on the PC, e.g. {:?}; {} only at the city, e.g. {:?}; {} differ, e.g. (group, PC, city) {:?}",
                    mine.len(),
                    city.len(),
                    only_pc.len(),
                    only_pc.first(),
                    only_city.len(),
                    only_city.first(),
                    differ.len(),
                    differ.first(),
                ));
            }
            report.groups_compared += mine.len();
            // 2. No lost write: each change this PC committed is the final version of its
            //    group or older than it, unless the city refused it.
            let refused: BTreeSet<i64> = rejected.iter().map(|r| r.seq).collect();
            for c in changes.iter().filter(|c| c.tbl != balai_store::sync::COMMAND_TABLE) {
                if refused.contains(&c.seq) {
                    continue;
                }
                let groups: Vec<&str> = if c.field_group == "*" {
                    balai_store::sync::SYNCED
                        .iter()
                        .find(|t| t.name == c.tbl)
                        .map(|t| t.groups.iter().map(|(g, _)| *g).collect())
                        .unwrap_or_default()
                } else {
                    vec![c.field_group.as_str()]
                };
                let device = uuid::Uuid::parse_str(&c.device_id).unwrap_or_default();
                for g in groups {
                    let Some((_, hlc, dev)) = mine.get(&(c.tbl.clone(), c.row_id, g.to_string()))
                    else {
                        return fail(format!("PC {i}: change {} of {}.{g} is gone", c.seq, c.tbl));
                    };
                    if (*hlc, *dev.as_bytes()) < (c.hlc, *device.as_bytes()) {
                        return fail(format!(
                            "PC {i}: change {} of {}.{g} lost to an older version",
                            c.seq, c.tbl
                        ));
                    }
                }
            }
            // 3. Letter numbers: never one twice in the kelurahan; each is the city's, for the
            //    same letter, unless the city refused it (then it is on the refused list).
            let conflicts = rejected.iter().filter(|r| r.code == "conflict").count();
            let letters = pc.call("letters.list", json!({"limit": 1000}))?;
            let mut unknown = 0;
            for l in letters.as_array().into_iter().flatten() {
                let (Some(number), Some(id)) = (l["number"].as_str(), l["id"].as_str()) else {
                    continue;
                };
                report.letters += 1;
                if let Some(other) = numbers_seen.insert(number.to_string(), id.to_string()) {
                    return fail(format!("letter number {number} issued twice ({other}, {id})"));
                }
                match city_numbers.get(number) {
                    Some(city_id) if city_id.replace('-', "") == id.replace('-', "") => {}
                    other => {
                        if tracing() {
                            let status = &l["status"];
                            eprintln!(
                                "  PC {i}: letter {id} {number} ({status}): the city has {other:?}"
                            );
                        }
                        unknown += 1
                    }
                }
            }
            if unknown > conflicts {
                return fail(format!(
                    "PC {i}: {unknown} letter numbers the city does not hold for that letter, {conflicts} refused"
                ));
            }
            // 4. Online requests: every one the city holds is on this PC with the city's
            //    status, claimant and note (so exactly one PC holds it, and the resident's
            //    status page says what the office did). A request only a PC holds is one the
            //    city lost by being restored from its backup.
            let mine: BTreeMap<uuid::Uuid, (String, Option<String>, String)> = store
                .read(|c| balai_store::requests::list(c))
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|r| (r.id, (r.status, r.claimed_by, r.note)))
                .collect();
            for (id, at_city) in &city_requests {
                match mine.get(id) {
                    Some(here) if here == at_city => report.requests_compared += 1,
                    here => {
                        return fail(format!(
                            "PC {i}: online request {id} is {here:?} here, {at_city:?} at the city"
                        ))
                    }
                }
            }
            let only_here = mine.keys().filter(|id| !city_requests.contains_key(id)).count();
            if only_here > 0 && !city_restored {
                return fail(format!("PC {i}: {only_here} online requests the city never had"));
            }
            report.requests_lost_by_city_restore =
                report.requests_lost_by_city_restore.max(only_here);
            // 6. Identity conflicts: this PC lists every one the city holds open for its
            //    kelurahan, open, and shows each reviewed one it has as reviewed with the
            //    reviewer's note, so every supervisor of the office sees the same queue (a PC
            //    whose first sync came after a review never had that conflict: it is history).
            let here: BTreeMap<uuid::Uuid, (Option<u64>, String)> = store
                .read(|c| balai_store::conflicts::list(c))
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|c| (c.id, (c.reviewed_at_ms, c.review_note)))
                .collect();
            for (id, (reviewed, note)) in &city_conflicts {
                match here.get(id) {
                    Some((r, n)) if r.is_some() == reviewed.is_some() && n == note => {}
                    None if reviewed.is_some() => {}
                    other => {
                        return fail(format!(
                            "PC {i}: identity conflict {id} is {other:?} here, ({reviewed:?}, {note:?}) at the city"
                        ))
                    }
                }
            }
            let only_here = here.keys().filter(|id| !city_conflicts.contains_key(id)).count();
            if only_here > 0 && !city_restored {
                return fail(format!("PC {i}: {only_here} identity conflicts the city never had"));
            }
        }
    }
    // 5. Every number the city leased is accounted for: issued, recorded unused, or still
    //    unissued in the lease at the PC it was leased to; a void lease (its PC put back and
    //    enrolled again) and a year that ended (by the city's clock in the offices' time zone)
    //    hold none unissued.
    let offset_ms = i64::from(balai_domain::dates::utc_offset_seconds(&kelurahan_code(0))) * 1000;
    let year = chrono::DateTime::from_timestamp_millis(server.clock.as_ref()() as i64 + offset_ms)
        .map_or(0, |t| chrono::Datelike::year(&t.date_naive()));
    let mut held: BTreeMap<uuid::Uuid, (String, (u32, u32))> = BTreeMap::new();
    for pc in pcs {
        let store = pc.store()?;
        let (device, leases) = store
            .read(|c| {
                Ok::<_, balai_store::StoreError>((
                    balai_store::sync::state(c, "server_device_id")?.unwrap_or_default(),
                    balai_store::leases::held(c)?,
                ))
            })
            .map_err(|e| e.to_string())?;
        for l in leases {
            held.insert(l.lease_id, (device.clone(), (l.next, l.last)));
        }
    }
    let ledger = balai_kota::leases::ledger(&server.db).map_err(|e| e.to_string())?;
    for l in ledger.iter().filter(|l| !l.recorded_again) {
        let ended = l.series.get(..4).and_then(|y| y.parse::<i32>().ok()).is_some_and(|y| y < year);
        let (holder, (next, last)) = held.get(&l.lease_id).cloned().unwrap_or_default();
        let holder_is_it = holder == l.device_id.to_string();
        for serial in l.first..=l.last {
            if l.issued.contains(&serial) || l.unused.contains(&serial) {
                report.numbers_unused += usize::from(l.unused.contains(&serial));
                continue;
            }
            let still_held = holder_is_it && !l.void && next <= serial && serial <= last;
            if !still_held || ended {
                return fail(format!(
                    "number {serial} of {} (lease {} {}..={} of device {}, {}, issued {:?}, unused {:?}) is neither issued, unused nor held by its PC{}: held by {holder:?} as {next}..={last}",
                    l.series,
                    l.lease_id,
                    l.first,
                    l.last,
                    l.device_id,
                    if l.void { "void" } else { "active" },
                    l.issued,
                    l.unused,
                    if ended { " (its year ended)" } else { "" }
                ));
            }
            report.numbers_held += 1;
        }
        report.leases_checked += 1;
        report.single_leases += usize::from(l.first == l.last);
    }
    Ok(())
}
