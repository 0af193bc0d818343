//! balai-sync: the office PC's side of sync with Balai Kota (design.md "Sync"), and the only
//! crate that speaks HTTP as a client.
//!
//! What it does: enrolment with a one-time code (the device key is made here and kept in the
//! office database's local-only `_sync_state`), signed requests with the PC's clock corrected
//! by the server's, and push of the outbox in zstd-compressed batches whose size adapts to the
//! link ([`Batching`]; a change too large to send even alone is refused, not stuck): each
//! answer is recorded in one local
//! transaction (acked through, rejected entries listed, the queue goes on); a gap reported by
//! the server moves the local mark to what the server expects, so a lost answer or a restored
//! server heals by re-sending. Then pull: the kelurahan's feed page by page, each page applied
//! with its cursor in one local transaction (balai-store's `pull`). With no cursor yet (a first
//! sync; a server whose epoch changed, restored from a backup; a repair after a digest
//! differed) the kelurahan's state comes as a snapshot instead: its pages are kept as they
//! arrive (a download cut off resumes at the next round), applied together in one transaction
//! (as a bulk write when large), and the feed is followed from where the snapshot began; the
//! merge makes taking anything twice harmless. A city older than the snapshot (its route
//! unknown there) gives its whole feed instead. Then the letter-number reserve: each series the
//! office issues in keeps a reserve leased from the city, sized to the office's volume of that
//! kind ([`reserve_size`]: 5 to 20 numbers) and refilled when less than 30 % is left, so letters are numbered offline without a duplicate; each number issued goes back as an
//! `issue_letter` command in the outbox (a refused one is listed with the rejected changes).
//! Before each push, the office's public signing keys, its voided letters and its letter types
//! not yet told to the city are appended as commands (for the verification page and the online
//! request form). Residents' online requests come down the feed (balai-store's `pull` keeps
//! them); taking and finishing one are commands like the others.
//! Status: pending count and age, last push and pull, rejections, held changes, the reserve,
//! whether the city wants a newer app before it takes this PC's changes (`update_required`:
//! the round still pulls).
//!
//! HTTPS with rustls: the system's roots, or only the city's own CA when one was given at
//! enrolment.
//!
//! Letter numbers online ([`lease_next_number`]): just before a letter is issued the city's
//! next number is leased singly (answered within [`NEXT_NUMBER_WITHIN`], else the reserve), so
//! letters issued while the city answers are numbered in order across the office's PCs. At the
//! first round of a new year (the city's clock in the office's time zone: WIB, WITA or WIT by
//! its kelurahan code) the numbers left in the ended year's leases are given back
//! (`return_numbers`) and the city records them unused.
//!
//! What it does not do yet: the OS keystore for the device key, background scheduling (the
//! desktop shell's timer calls [`sync_now`]).

use balai_protocol::{
    request_message, DigestRequest, DigestResponse, DigestSum, EnrolRequest, Enrolled, ErrorBody,
    FeedChange, KnownGroups, LeaseRequest, LeaseResponse, LeaseWant, LetterType, Op, OpBody,
    Outcome, PublishKey, PublishLetterTypes, PullResponse, PushRequest, PushResponse,
    ReferenceResponse, ReturnNumbers, ServerTime, SnapshotPage, TableDigest, TooLarge, Versions,
    VoidLetter, WhoAmI, AUTH_SCHEME, BATCH_MAX_BYTES, BATCH_START_BYTES, CONTEST_EDITION, PROTOCOL,
    PUBLISH_KEY, PUBLISH_LETTER_TYPES, RETURN_NUMBERS, TOO_LARGE, VOID_LETTER, ZSTD,
};
use balai_store::leases::Granted;
use balai_store::pull::Pulled;
use balai_store::sync::{self as store_sync, Pending};
use balai_store::{Store, StoreError, WriteCtx};
use ed25519_dalek::{Signer, SigningKey};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use uuid::Uuid;

mod link;
pub use link::{Answer, Http, Link, LinkError, Request};

/// How many feed entries one pull asks for.
pub const PULL_PAGE: u32 = 5000;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("Komputer ini belum terdaftar ke server kota.")]
    NotEnrolled,
    #[error("Komputer ini sudah terdaftar ke {0}.")]
    AlreadyEnrolled(String),
    #[error("Server kota tidak terjangkau: {0}")]
    Network(String),
    /// The server answered with an error body.
    #[error("{message}")]
    Server { status: u16, code: String, message: String, expected_seq: Option<u64> },
    #[error("Jawaban server tidak terbaca: {0}")]
    BadAnswer(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn sql(e: impl Into<StoreError>) -> SyncError {
    SyncError::Store(e.into())
}

fn answer<T: serde::de::DeserializeOwned>(res: Answer) -> Result<T, SyncError> {
    let (status, bytes) = (res.status, res.body);
    if (200..300).contains(&status) {
        return serde_json::from_slice(&bytes).map_err(|e| SyncError::BadAnswer(e.to_string()));
    }
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(e) => Err(SyncError::Server {
            status,
            code: e.code,
            message: e.message,
            expected_seq: e.expected_seq,
        }),
        Err(_) => Err(SyncError::BadAnswer(format!("HTTP {status}"))),
    }
}

fn network(e: LinkError) -> SyncError {
    SyncError::Network(e.to_string())
}

fn json_body(body: &impl serde::Serialize) -> Result<Vec<u8>, SyncError> {
    serde_json::to_vec(body).map_err(|x| SyncError::BadAnswer(x.to_string()))
}

fn versions(app_version: &str) -> Versions {
    Versions {
        protocol: PROTOCOL,
        schema_version: balai_store::migrations::LATEST as u32,
        app_version: app_version.to_string(),
    }
}

fn base(url: &str) -> String {
    url.trim().trim_end_matches('/').to_string()
}

/// What an admin gives to enrol a PC: the city's address, its CA when it has its own, the
/// one-time code from the city admin, and the PC's name.
#[derive(Debug, Clone, Copy)]
pub struct Joining<'a> {
    pub server_url: &'a str,
    /// The city's own CA certificate (PEM); `None`: the operating system's roots.
    pub trust: Option<&'a str>,
    pub code: &'a str,
    pub hostname: &'a str,
    /// The kelurahan in the office's profile (the city refuses a code for another).
    pub office_kelurahan: Option<&'a str>,
}

/// Enrols this office database with the city server using a one-time code.
pub fn enrol(
    store: &Store,
    link: &dyn Link,
    joining: Joining,
    app_version: &str,
    now_ms: u64,
) -> Result<Enrolled, SyncError> {
    let Joining { server_url, trust, code, hostname, office_kelurahan } = joining;
    let (url, fenced, was) = store.read(|c| {
        Ok::<_, SyncError>((
            store_sync::state(c, "server_url").map_err(sql)?,
            store_sync::state(c, "fenced").map_err(sql)?,
            store_sync::state(c, "server_device_id").map_err(sql)?,
        ))
    })?;
    if let (Some(url), None) = (url, &fenced) {
        return Err(SyncError::AlreadyEnrolled(url));
    }
    // A fenced PC enrols again as a new device; its outbox goes on where it was, since what it
    // pushed is on the server under its old id. Unless the server lost the old id (restored
    // from an older backup): then everything goes again (the merge makes repeats harmless).
    let first_seq = match fenced.as_deref() {
        Some("unknown_device") | None => 1,
        Some(_) => pushed_through(store)? as u64 + 1,
    };
    let server_url = base(server_url);
    let mut seed = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    let body = EnrolRequest {
        versions: versions(app_version),
        code: code.to_string(),
        public_key_hex: hex::encode(key.verifying_key().to_bytes()),
        hostname: hostname.to_string(),
        first_seq,
        office_kelurahan: office_kelurahan.map(str::to_string),
        // Locked out and enrolling again: the requests this PC held under its old id.
        replaces: fenced.as_ref().and(was.as_deref()).and_then(|d| Uuid::parse_str(d).ok()),
    };
    let res = link
        .send(Request {
            method: "POST",
            url: format!("{server_url}/v1/enrol"),
            headers: vec![("content-type", "application/json".into())],
            body: json_body(&body)?,
            trust: trust.map(str::to_string),
            within: None,
        })
        .map_err(network)?;
    let enrolled: Enrolled = answer(res)?;
    let ctx = WriteCtx { now_ms, user_id: "sync".into() };
    // One transaction: a crash leaves the PC either not enrolled or enrolled under the new id.
    let device_id = enrolled.device_id.to_string();
    let (epoch, server_epoch) = (enrolled.epoch.to_string(), enrolled.server_epoch.to_string());
    let (key_seed, offset) =
        (hex::encode(seed), (enrolled.server_time_ms as i64 - now_ms as i64).to_string());
    let (contact, pushed) = (now_ms.to_string(), (first_seq - 1).to_string());
    let mut state: Vec<(&str, &str)> = vec![
        ("server_url", &server_url),
        ("server_device_id", &device_id),
        ("epoch", &epoch),
        ("server_epoch", &server_epoch),
        ("key_seed", &key_seed),
        ("server_ca_pem", trust.unwrap_or_default()),
        ("kelurahan_code", &enrolled.kelurahan_code),
        ("clock_offset_ms", &offset),
        ("last_contact_ms", &contact),
        // What the city has of this PC's outbox under the new id.
        ("pushed_through", &pushed),
    ];
    // Locked out and enrolling again: this database may be a restored copy that lacks what its
    // old id wrote after the copy was taken, which the city never sends a device as its own.
    // The first sync under the new id reads the kelurahan whole (the merge keeps what is newer
    // here). In the same transaction as the new id, so a crash cannot keep the old cursor.
    if fenced.is_some() {
        state.push(("pulled_through", "0"));
    }
    store.adopt_device_id(&ctx, &device_id, first_seq, &state)?;
    Ok(enrolled)
}

struct Enrolment {
    server_url: String,
    device_id: Uuid,
    epoch: u32,
    key: SigningKey,
    /// The city's CA (PEM), when it was given at enrolment.
    trust: Option<String>,
}

fn enrolment(store: &Store) -> Result<Enrolment, SyncError> {
    store.read(|c| {
        let get = |k: &str| store_sync::state(c, k).map_err(sql);
        let (Some(url), Some(id), Some(epoch), Some(seed)) =
            (get("server_url")?, get("server_device_id")?, get("epoch")?, get("key_seed")?)
        else {
            return Err(SyncError::NotEnrolled);
        };
        let seed: [u8; 32] = hex::decode(seed)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| sql(StoreError::Corrupt("device key".into())))?;
        Ok(Enrolment {
            trust: get("server_ca_pem")?.filter(|p| !p.is_empty()),
            server_url: url,
            device_id: Uuid::parse_str(&id).map_err(|e| sql(StoreError::Corrupt(e.to_string())))?,
            epoch: epoch.parse().unwrap_or(1),
            key: SigningKey::from_bytes(&seed),
        })
    })
}

impl Enrolment {
    /// A signed JSON `POST` of `body` to `path`.
    fn post(
        &self,
        link: &dyn Link,
        path: &str,
        body: &impl serde::Serialize,
        time_ms: u64,
    ) -> Result<Answer, SyncError> {
        self.post_json(link, path, body, time_ms, None)
    }

    /// As [`Enrolment::post`], answered `within` (a clerk is waiting) or not at all.
    fn post_within(
        &self,
        link: &dyn Link,
        path: &str,
        body: &impl serde::Serialize,
        time_ms: u64,
        within: std::time::Duration,
    ) -> Result<Answer, SyncError> {
        self.post_json(link, path, body, time_ms, Some(within))
    }

    fn post_json(
        &self,
        link: &dyn Link,
        path: &str,
        body: &impl serde::Serialize,
        time_ms: u64,
        within: Option<std::time::Duration>,
    ) -> Result<Answer, SyncError> {
        let body = json_body(body)?;
        let auth = self.authorization("POST", path, &body, time_ms);
        link.send(Request {
            method: "POST",
            url: format!("{}{path}", self.server_url),
            headers: vec![("authorization", auth), ("content-type", "application/json".into())],
            body,
            trust: self.trust.clone(),
            within,
        })
        .map_err(network)
    }

    /// A signed `POST` of a zstd-compressed JSON body; the link's own error is kept so a
    /// timeout can shrink the next batch.
    fn post_compressed(
        &self,
        link: &dyn Link,
        path: &str,
        body: Vec<u8>,
        time_ms: u64,
    ) -> Result<Answer, LinkError> {
        let auth = self.authorization("POST", path, &body, time_ms);
        link.send(Request {
            method: "POST",
            url: format!("{}{path}", self.server_url),
            headers: vec![
                ("authorization", auth),
                ("content-type", "application/json".into()),
                ("content-encoding", ZSTD.into()),
            ],
            body,
            trust: self.trust.clone(),
            within: None,
        })
    }

    /// A signed `GET` of `path` (with its query).
    fn get(&self, link: &dyn Link, path: &str, time_ms: u64) -> Result<Answer, SyncError> {
        let auth = self.authorization("GET", path, b"", time_ms);
        link.send(Request {
            method: "GET",
            url: format!("{}{path}", self.server_url),
            headers: vec![("authorization", auth)],
            body: Vec::new(),
            trust: self.trust.clone(),
            within: None,
        })
        .map_err(network)
    }

    fn authorization(&self, method: &str, path: &str, body: &[u8], time_ms: u64) -> String {
        let msg = request_message(method, path, time_ms, &hex::encode(Sha256::digest(body)));
        let sig = hex::encode(self.key.sign(&msg).to_bytes());
        format!("{AUTH_SCHEME} {}:{time_ms}:{sig}", self.device_id)
    }
}

/// What one sync round did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Outbox entries the server took (applied or answered).
    pub pushed: u64,
    /// Of those, refused for good (listed in the status).
    pub rejected: u64,
    /// Push requests the server answered, and the largest body sent (compressed bytes).
    pub batches: u64,
    pub largest_batch_bytes: u64,
    /// The city no longer takes this app version's changes: they wait here until the update.
    pub update_required: bool,
    /// Still waiting.
    pub pending: u64,
    /// Feed entries received from the other PCs of the kelurahan.
    pub pulled: u64,
    /// Of their field groups: now in the register, older than what this PC had, kept aside.
    pub applied: u64,
    pub older: u64,
    pub held: u64,
    /// Items of the city-wide reference feed taken (rule set editions the city published).
    pub reference: u64,
    /// Letter numbers newly leased to this PC.
    pub leased: u64,
    /// After a round that moved something, this PC's state compared with the city's.
    pub digest: SelfCheck,
    pub server_time_ms: u64,
}

/// The self-check after a catch-up (sync-notes §3.8 "Digest").
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SelfCheck {
    /// Nothing moved, or the city moved on meanwhile, or something still waits or is held.
    NotCompared,
    /// Same rows, same clocks as the city.
    Agreed,
    /// It differed; pulling everything again made it agree (the repair is logged).
    Repaired,
    /// It still differs after the repair: listed in the status (`diverged`), a bug to report.
    Diverged,
}

/// One sync round: learn the server's time, push the whole outbox in batches, pull and apply
/// everything new from the kelurahan, then refill the letter-number reserve of each of
/// `series` (the series the office issues in, this year's and, in December, next year's).
pub fn sync_now(
    store: &Store,
    link: &dyn Link,
    app_version: &str,
    now_ms: u64,
    series: &[String],
    types: &[LetterType],
    check: Check,
) -> Result<Report, SyncError> {
    noting_fence(store, now_ms, round(store, link, app_version, now_ms, series, types, check))
}

/// Whether a round compares this PC's digest with the city's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Check {
    /// After a round that moved something, when the last comparison is [`SELF_CHECK_EVERY_MS`]
    /// old (or none was made, or the last one differed).
    #[default]
    WhenDue,
    /// In this round, whether or not anything moved (an admin asked for it).
    Now,
}

/// How often a PC compares its digest with the city's in rounds that moved something. Both
/// sides sum the clock of every field group of the kelurahan (about a second each for 100,000
/// residents): every round of every PC would make that the city's main work, for a check that
/// has never found anything outside a test. ADR 0009.
pub const SELF_CHECK_EVERY_MS: u64 = 3600 * 1000;

fn self_check_due(store: &Store, now_ms: u64) -> Result<bool, SyncError> {
    let (last, diverged) = store.read(|c| {
        Ok::<_, SyncError>((
            store_sync::state(c, "last_check_ms").map_err(sql)?,
            store_sync::state(c, "diverged").map_err(sql)?,
        ))
    })?;
    if diverged.is_some_and(|d| !d.is_empty()) {
        return Ok(true);
    }
    // A clock set back (now before the last check) counts as due.
    Ok(last
        .and_then(|v| v.parse::<u64>().ok())
        .is_none_or(|at| now_ms < at || now_ms - at >= SELF_CHECK_EVERY_MS))
}

/// Keeps a refusal that only enrolling again cures (`revoked`, `epoch_fenced`,
/// `unknown_device`) in the sync state: the sync page shows it, letters stop drawing on this PC's leases, and `enrol` is
/// allowed again.
fn noting_fence<T>(store: &Store, now_ms: u64, r: Result<T, SyncError>) -> Result<T, SyncError> {
    if let Err(SyncError::Server { code, .. }) = &r {
        if code == "revoked" || code == "epoch_fenced" || code == "unknown_device" {
            let ctx = WriteCtx { now_ms, user_id: "sync".into() };
            store.write(&ctx, |tx| store_sync::set_state(tx, &[("fenced", code)]).map_err(sql))?;
        }
    }
    r
}

fn round(
    store: &Store,
    link: &dyn Link,
    app_version: &str,
    now_ms: u64,
    series: &[String],
    types: &[LetterType],
    check: Check,
) -> Result<Report, SyncError> {
    let x = contact(store, link, app_version, now_ms)?;
    publish_letters(store, &x.ctx, types)?;
    settle_number_asks(&x)?;
    give_back_ended_years(&x)?;
    let pushed = match push(&x) {
        Ok(p) => p,
        // An app too old for the city's protocol keeps its changes (nothing is dropped) and
        // still pulls and keeps its reserve; the sync page asks for an update.
        Err(SyncError::Server { code, .. }) if code == "update_required" => {
            store.write(&x.ctx, |tx| {
                store_sync::set_state(tx, &[("update_required", "1")]).map_err(sql)
            })?;
            Pushed { update_required: true, ..Pushed::default() }
        }
        Err(x) => return Err(x),
    };
    let pulled = pull(&x)?;
    let reference = take_reference(&x, pulled.reference_seq)?;
    let moved = pulled.received > 0 || pushed.ops > 0;
    let digest = if check == Check::Now || (moved && self_check_due(store, now_ms)?) {
        self_check(&x)?
    } else {
        SelfCheck::NotCompared
    };
    let leased = refill(&x, series)?;
    let pending = pending(store)?.count;
    Ok(Report {
        pushed: pushed.ops,
        rejected: pushed.rejected,
        batches: pushed.batches,
        largest_batch_bytes: pushed.largest_batch_bytes,
        update_required: pushed.update_required,
        pending,
        pulled: pulled.received,
        applied: pulled.applied.applied,
        older: pulled.applied.older,
        held: pulled.applied.held,
        reference,
        leased,
        digest,
        server_time_ms: x.server_now,
    })
}

#[derive(Debug, Default)]
struct Pushed {
    ops: u64,
    rejected: u64,
    batches: u64,
    largest_batch_bytes: u64,
    update_required: bool,
}

/// How many outbox entries are read ahead at a time (batches are cut from them by size).
const READ_AHEAD: u32 = 5000;

/// The size of the next push batch (sync-notes §3.8): a budget of compressed bytes that starts
/// at [`BATCH_START_BYTES`], doubles after each answered batch up to [`BATCH_MAX_BYTES`], and
/// halves after a timeout or a `413`; batches are cut from the ops' JSON sizes with the
/// compression ratio of the batch before.
#[derive(Debug, Clone, PartialEq)]
pub struct Batching {
    pub budget: usize,
    /// Raw JSON bytes per compressed byte, as last measured.
    pub ratio: f64,
}

/// The smallest budget a slow link halves down to.
pub const BATCH_MIN_BYTES: usize = 8 * 1024;

impl Default for Batching {
    fn default() -> Self {
        Batching { budget: BATCH_START_BYTES, ratio: 3.0 }
    }
}

impl Batching {
    /// How many of the ops (by raw JSON size, oldest first) go in the next batch: at least one.
    pub fn count(&self, raw_sizes: impl IntoIterator<Item = usize>) -> usize {
        let allowed = self.budget as f64 * self.ratio;
        let mut total = 0usize;
        let mut n = 0usize;
        for size in raw_sizes {
            if n > 0 && (total + size) as f64 > allowed {
                break;
            }
            total += size;
            n += 1;
        }
        n
    }

    pub fn answered(&mut self, raw: usize, compressed: usize) {
        if compressed > 0 {
            self.ratio = (raw as f64 / compressed as f64).max(1.0);
        }
        self.budget = (self.budget * 2).min(BATCH_MAX_BYTES);
    }

    pub fn too_slow(&mut self) {
        self.budget = (self.budget / 2).max(BATCH_MIN_BYTES);
    }
}

/// The outbox entry as an op on the wire.
fn op_of(c: &store_sync::Change) -> Op {
    let value = serde_json::from_str(&c.value).unwrap_or(serde_json::Value::Null);
    let body = if c.tbl == store_sync::COMMAND_TABLE {
        OpBody::Command { name: c.field_group.clone(), args: value }
    } else {
        OpBody::Set {
            table: c.tbl.clone(),
            row_id: c.row_id,
            field_group: c.field_group.clone(),
            value,
            hlc: c.hlc,
        }
    };
    Op { device_seq: c.seq as u64, change_id: c.change_id, user_id: c.user_id.clone(), body }
}

/// Pushes the whole outbox in batches of [`Batching`]'s size, each compressed with zstd; every
/// answer is recorded in one local transaction.
fn push(x: &Exchange) -> Result<Pushed, SyncError> {
    let (store, e, link, ctx) = (x.store, &x.e, x.link, &x.ctx);
    let (app_version, server_now) = (x.app_version, x.server_now);
    let mut done = Pushed::default();
    let mut batching = Batching::default();
    // Read ahead, each op with its JSON size; cut into batches from the front.
    let mut ahead: std::collections::VecDeque<(Op, usize)> = Default::default();
    let mut slow_tries = 0;
    // Read once: it stays put while edits wait (balai-store's `follow_cursor`).
    let seen_through = store
        .read(|c| store_sync::state(c, "edits_seen_through"))
        .map_err(sql)?
        .and_then(|v| v.parse::<u64>().ok());
    loop {
        let mark = pushed_through(store)?;
        while ahead.front().is_some_and(|(op, _)| op.device_seq as i64 <= mark) {
            ahead.pop_front();
        }
        if ahead.front().is_some_and(|(op, _)| op.device_seq as i64 != mark + 1) {
            ahead.clear();
        }
        if ahead.is_empty() {
            let changes =
                store.read(|c| store_sync::changes_after(c, mark, READ_AHEAD)).map_err(sql)?;
            for c in &changes {
                let op = op_of(c);
                let size = serde_json::to_vec(&op).map_or(0, |v| v.len());
                ahead.push_back((op, size));
            }
        }
        if ahead.is_empty() {
            break;
        }
        let mut n = batching.count(ahead.iter().map(|(_, size)| *size));
        let (body, raw) = loop {
            let mut ops: Vec<Op> = ahead.iter().take(n).map(|(op, _)| op.clone()).collect();
            if n == 1 {
                ops[0] = fitting(&ops[0])?;
            }
            let req = PushRequest {
                versions: versions(app_version),
                device_id: e.device_id,
                epoch: e.epoch,
                ops,
                seen_through,
            };
            let raw = serde_json::to_vec(&req).map_err(|x| SyncError::BadAnswer(x.to_string()))?;
            let body = compress(&raw)?;
            // The ratio guessed from the batch before was too hopeful: cut the batch.
            if body.len() > BATCH_MAX_BYTES && n > 1 {
                n /= 2;
                continue;
            }
            break (body, raw.len());
        };
        let sent = body.len();
        let res = e.post_compressed(link, "/v1/push", body, server_now);
        let res: PushResponse = match res {
            Err(x @ LinkError::Timeout(_)) => {
                batching.too_slow();
                slow_tries += 1;
                if slow_tries > 3 {
                    return Err(SyncError::Network(x.to_string()));
                }
                continue;
            }
            Err(x) => return Err(network(x)),
            Ok(r) if r.status == 413 => {
                // A proxy in front of the server with a smaller limit.
                batching.too_slow();
                slow_tries += 1;
                if slow_tries > 3 {
                    return Err(SyncError::BadAnswer("HTTP 413".into()));
                }
                continue;
            }
            Ok(r) => match answer(r) {
                Ok(r) => r,
                // The server expects another number: an answer was lost (it has more) or it
                // was restored (it has less). Either way, continue from where it is.
                Err(SyncError::Server { code, expected_seq: Some(expected), .. })
                    if code == "gap" =>
                {
                    let at = expected.saturating_sub(1) as i64;
                    if at == mark {
                        return Err(SyncError::BadAnswer("gap at the current mark".into()));
                    }
                    store.write(ctx, |tx| {
                        store_sync::record_push(tx, at, &[], ctx.now_ms).map_err(sql)
                    })?;
                    continue;
                }
                Err(x) => return Err(x),
            },
        };
        batching.answered(raw, sent);
        done.batches += 1;
        done.largest_batch_bytes = done.largest_batch_bytes.max(sent as u64);
        let refused: Vec<(i64, String, String)> = res
            .results
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Rejected { code, message } => {
                    Some((r.device_seq as i64, code.clone(), message.clone()))
                }
                // A command that lost (a number the city refused): listed with the rejected
                // ones for a person to resolve; the queue goes on.
                Outcome::Conflict { message, .. } => {
                    Some((r.device_seq as i64, "conflict".into(), message.clone()))
                }
                Outcome::Ok { .. } => None,
            })
            .collect();
        // Acknowledged through what this batch sent, never further: the city may have applied
        // more under these numbers, but only from another copy of this database (this one was
        // put back to an older copy) — what this copy holds past here must still go.
        let sent_through = res.results.iter().map(|r| r.device_seq).max().unwrap_or(0);
        let acked = res.acked_through.min(sent_through) as i64;
        if acked <= mark {
            return Err(SyncError::BadAnswer("the server acknowledged nothing".into()));
        }
        store.write(ctx, |tx| {
            store_sync::record_push(tx, acked, &refused, ctx.now_ms).map_err(sql)?;
            store_sync::set_state(tx, &[("update_required", "")]).map_err(sql)
        })?;
        done.ops += (acked - mark) as u64;
        done.rejected += refused.len() as u64;
    }
    Ok(done)
}

/// The op itself, or when even alone it is too large to send, a `too_large` note in its place
/// (the server refuses it, so it is listed on the sync page and the queue goes on).
fn fitting(op: &Op) -> Result<Op, SyncError> {
    let raw = serde_json::to_vec(op).map_err(|x| SyncError::BadAnswer(x.to_string()))?;
    let bytes = compress(&raw)?.len();
    if bytes <= BATCH_MAX_BYTES {
        return Ok(op.clone());
    }
    let (table, field_group) = match &op.body {
        OpBody::Set { table, field_group, .. } => (table.clone(), field_group.clone()),
        OpBody::Delete { table, .. } => (table.clone(), String::new()),
        OpBody::Command { name, .. } => (store_sync::COMMAND_TABLE.to_string(), name.clone()),
    };
    let note = TooLarge { table, field_group, bytes: bytes as u64 };
    let args = serde_json::to_value(note).map_err(|x| SyncError::BadAnswer(x.to_string()))?;
    Ok(Op { body: OpBody::Command { name: TOO_LARGE.into(), args }, ..op.clone() })
}

fn compress(raw: &[u8]) -> Result<Vec<u8>, SyncError> {
    zstd::bulk::compress(raw, 3).map_err(|x| SyncError::BadAnswer(x.to_string()))
}

/// Pulls the feed after this PC's cursor until the server has no more; answers the entries
/// received and what applying them did.
/// What a pull brought: feed entries received, what applying them did, and the newest item of
/// the city-wide reference feed the city named.
struct PullDone {
    received: u64,
    applied: balai_store::pull::Applied,
    reference_seq: u64,
}

fn pull(x: &Exchange) -> Result<PullDone, SyncError> {
    let (store, e, link, ctx) = (x.store, &x.e, x.link, &x.ctx);
    let (server_now, server_epoch) = (x.server_now, x.server_epoch.as_str());
    let (cursor, known_epoch) = store.read(|c| {
        let get = |k: &str| store_sync::state(c, k).map_err(sql);
        Ok::<_, SyncError>((get("pulled_through")?, get("pull_epoch")?))
    })?;
    let mut cursor: u64 = cursor.and_then(|v| v.parse().ok()).unwrap_or(0);
    if known_epoch.as_deref().is_some_and(|k| k != server_epoch) {
        // A restored server numbers its feed anew: take all of it again.
        cursor = 0;
    }
    let (mut received, mut total) = (0u64, balai_store::pull::Applied::default());
    if cursor == 0 {
        // A first sync (or a restored city's): its state in one go, then the feed after it.
        // A city older than the snapshot has none: then its whole feed, page by page.
        if let Some((as_of, rows, applied)) = snapshot(x)? {
            (cursor, received, total) = (as_of, rows, applied);
        }
    }
    // The newest outbox number this PC holds: the server fences a copy holding fewer than it
    // already applied (restored from an older backup).
    // And its newest lease ask number: the same for a copy from before an ask.
    let head = store.read(store_sync::head_seq).map_err(sql)?;
    let asks = store.read(|c| store_sync::state(c, ASK_SEQ)).map_err(sql)?;
    let asks = asks.map(|n| format!("&asks={n}")).unwrap_or_default();
    let reference_seq = std::sync::atomic::AtomicU64::new(0);
    let fetch = |cursor: u64| -> Result<(Vec<Pulled>, u64, bool), SyncError> {
        let path = format!("/v1/pull?cursor={cursor}&limit={PULL_PAGE}&head={head}{asks}");
        let res: PullResponse = answer(e.get(link, &path, server_now)?)?;
        reference_seq.fetch_max(res.reference_seq, std::sync::atomic::Ordering::Relaxed);
        let more = res.has_more && res.next_cursor > cursor;
        Ok((res.changes.into_iter().map(pulled_of).collect(), res.next_cursor, more))
    };
    // The next page is fetched and decoded on a second thread while this one is applied; a
    // page that fails to apply leaves the one fetched ahead unused (the cursor stays put).
    std::thread::scope(|scope| -> Result<(), SyncError> {
        let mut page = fetch(cursor)?;
        loop {
            let (changes, next_cursor, more) = page;
            let ahead = more.then(|| scope.spawn(move || fetch(next_cursor)));
            received += changes.len() as u64;
            let next = next_cursor.to_string();
            let now = ctx.now_ms.to_string();
            total += store.apply_pulled(
                ctx,
                &changes,
                &[("pulled_through", &next), ("pull_epoch", server_epoch), ("last_pull_ms", &now)],
            )?;
            let Some(ahead) = ahead else { break };
            page = ahead.join().unwrap_or_else(|_| Err(SyncError::BadAnswer("pull".into())))?;
        }
        Ok(())
    })?;
    Ok(PullDone { received, applied: total, reference_seq: reference_seq.into_inner() })
}

/// Takes what is new in the city-wide reference feed (rule set editions the city published)
/// when the pull named a newer item than this PC holds; each answer is kept with its position
/// in one transaction. Items of a kind this build does not know are passed over.
fn take_reference(x: &Exchange, newest: u64) -> Result<u64, SyncError> {
    let have = x.store.read(|c| store_sync::state(c, "reference_through")).map_err(sql)?;
    let mut after: u64 = have.and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut taken = 0;
    while after < newest {
        let path = format!("/v1/reference?after={after}");
        let res: ReferenceResponse = answer(x.e.get(x.link, &path, x.server_now)?)?;
        let Some(last) = res.items.last().map(|i| i.seq) else { break };
        x.store.write(&x.ctx, |tx| {
            for item in &res.items {
                if item.kind == CONTEST_EDITION {
                    balai_store::contest::put_edition(tx, &item.key, &item.body, x.ctx.now_ms)?;
                }
            }
            store_sync::set_state(tx, &[("reference_through", &last.to_string())]).map_err(sql)?;
            Ok::<_, SyncError>(())
        })?;
        taken += res.items.len() as u64;
        if !res.has_more || last <= after {
            break;
        }
        after = last;
    }
    Ok(taken)
}

/// A feed entry as balai-store applies it.
fn pulled_of(c: FeedChange) -> Pulled {
    match c.body {
        OpBody::Set { table, row_id, field_group, value, hlc } => Pulled {
            table,
            row_id,
            field_group,
            value,
            hlc,
            device: c.origin_device,
            delete: false,
        },
        OpBody::Delete { table, row_id, hlc } => Pulled {
            table,
            row_id,
            field_group: String::new(),
            value: serde_json::Value::Null,
            hlc,
            device: c.origin_device,
            delete: true,
        },
        OpBody::Command { name, args } => Pulled {
            table: format!("command:{name}"),
            row_id: Uuid::nil(),
            field_group: String::new(),
            value: args,
            hlc: 0,
            device: c.origin_device,
            delete: false,
        },
    }
}

/// How many rows one snapshot page asks for.
pub const SNAPSHOT_PAGE: u32 = 10_000;

/// Where a snapshot download stands (`_sync_state`), forgotten once it is applied.
const SNAPSHOT_KEYS: [&str; 4] =
    ["snapshot_after", "snapshot_as_of", "snapshot_epoch", "snapshot_rows"];

/// From this many rows a snapshot is applied as a bulk write (indexes built once at the end);
/// below, rebuilding them would cost more than keeping them up to date row by row.
const BULK_FROM_ROWS: u64 = 1000;

/// The part of a snapshot page read while downloading; the rows are read when applied.
#[derive(serde::Deserialize)]
struct PageHead {
    as_of: u64,
    next_after: String,
    server_epoch: Uuid,
    /// Counted, not read.
    rows: Vec<serde::de::IgnoredAny>,
}

/// Downloads the kelurahan's state page by page (each page kept, compressed, with the
/// position, so a download cut off resumes where it stopped, in a later round if need be),
/// then applies all of it in one local transaction and sets the feed cursor to where the
/// snapshot began. Answers (that cursor, rows and commands received, what applying did).
/// The kelurahan's state from its snapshot, staged page by page and applied at once: `(feed
/// position it is as of, rows received, what applying did)`, or `None` from a city older than
/// the snapshot (it answers the route as unknown: a 404 that is not a Balai error).
fn snapshot(x: &Exchange) -> Result<Option<(u64, u64, balai_store::pull::Applied)>, SyncError> {
    let (store, e, link, ctx) = (x.store, &x.e, x.link, &x.ctx);
    let server_epoch = x.server_epoch.as_str();
    let [mut after, mut as_of, epoch, rows] = store.read(|c| {
        let get = |k: &str| store_sync::state(c, k).map_err(sql);
        let [a, b, c, d] = SNAPSHOT_KEYS;
        Ok::<_, SyncError>([get(a)?, get(b)?, get(c)?, get(d)?])
    })?;
    let mut rows: u64 = rows.and_then(|r| r.parse().ok()).unwrap_or(0);
    if epoch.as_deref().is_some_and(|k| k != server_epoch) {
        // Begun on the city before it was restored: start again on the one there is now.
        store.drop_snapshot(ctx, &SNAPSHOT_KEYS)?;
        (after, as_of, rows) = (None, None, 0);
    }
    // `after` is kept as "" once the last page is in (a round cut off before applying).
    // A second thread compresses and keeps each page, in order, while the next is fetched.
    let mut no_route = false;
    std::thread::scope(|scope| -> Result<(), SyncError> {
        let (send, receive) = std::sync::mpsc::sync_channel::<(Vec<u8>, [String; 4])>(1);
        let keeper = scope.spawn(move || -> Result<(), SyncError> {
            for (body, state) in receive {
                let packed = zstd::bulk::compress(&body, 1)
                    .map_err(|x| SyncError::BadAnswer(x.to_string()))?;
                let pairs: Vec<(&str, &str)> =
                    SNAPSHOT_KEYS.iter().copied().zip(state.iter().map(String::as_str)).collect();
                store.stage_snapshot_page(ctx, &packed, &pairs)?;
            }
            Ok(())
        });
        let fetched = (|| {
            while after.as_deref() != Some("") {
                let mut path = format!("/v1/snapshot?limit={SNAPSHOT_PAGE}");
                if let Some(a) = after.as_deref() {
                    path.push_str(&format!("&after={a}"));
                }
                let res = e.get(link, &path, x.server_now)?;
                if res.status == 404
                    && after.is_none()
                    && serde_json::from_slice::<ErrorBody>(&res.body).is_err()
                {
                    no_route = true;
                    break;
                }
                if !(200..300).contains(&res.status) {
                    return Err(answer::<PageHead>(res)
                        .err()
                        .unwrap_or(SyncError::BadAnswer("halaman snapshot tanpa isi".into())));
                }
                let head: PageHead = serde_json::from_slice(&res.body)
                    .map_err(|x| SyncError::BadAnswer(x.to_string()))?;
                if head.server_epoch.to_string() != server_epoch {
                    return Err(SyncError::BadAnswer(
                        "server kota berganti di tengah snapshot".into(),
                    ));
                }
                let first = as_of.get_or_insert_with(|| head.as_of.to_string()).clone();
                rows += head.rows.len() as u64;
                let state =
                    [head.next_after.clone(), first, server_epoch.to_string(), rows.to_string()];
                if send.send((res.body, state)).is_err() {
                    break; // the keeper stopped: its error is the one to tell
                }
                after = Some(head.next_after);
            }
            Ok(())
        })();
        drop(send);
        let kept = keeper.join().unwrap_or_else(|_| Err(SyncError::BadAnswer("snapshot".into())));
        kept.and(fetched)
    })?;
    if no_route {
        return Ok(None);
    }
    let cursor: u64 = as_of.as_deref().and_then(|a| a.parse().ok()).unwrap_or(0);
    let received = std::sync::atomic::AtomicU64::new(0);
    let decode = |body: &[u8]| -> Result<Vec<Pulled>, SyncError> {
        let raw =
            zstd::stream::decode_all(body).map_err(|x| SyncError::BadAnswer(x.to_string()))?;
        let page: SnapshotPage =
            serde_json::from_slice(&raw).map_err(|x| SyncError::BadAnswer(x.to_string()))?;
        let n = (page.rows.len() + page.commands.len()) as u64;
        received.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        Ok(pulled_of_page(page))
    };
    let (next, now) = (cursor.to_string(), ctx.now_ms.to_string());
    let applied = store.apply_snapshot(
        ctx,
        rows >= BULK_FROM_ROWS,
        decode,
        &[("pulled_through", &next), ("pull_epoch", server_epoch), ("last_pull_ms", &now)],
        &SNAPSHOT_KEYS,
    )?;
    Ok(Some((cursor, received.into_inner(), applied)))
}

/// A snapshot page as balai-store applies it: each row as an insert of all its groups at the
/// row's stamp, then each group written later as its own change (so the merge leaves every
/// group with its own stamp, whatever this PC held), its delete, then the commands.
fn pulled_of_page(page: SnapshotPage) -> Vec<Pulled> {
    use serde_json::Value;
    let mut out = Vec::with_capacity(page.rows.len() + page.commands.len());
    for row in page.rows {
        let change = |field_group: String, value: Value, hlc: u64, device: Uuid| Pulled {
            table: row.table.clone(),
            row_id: row.row_id,
            field_group,
            value,
            hlc,
            device,
            delete: false,
        };
        let later: Vec<Pulled> = row
            .stamps
            .iter()
            .filter_map(|(g, s)| {
                row.groups.get(g).map(|v| change(g.clone(), v.clone(), s.hlc, s.device))
            })
            .collect();
        let deleted = row.deleted.map(|d| Pulled {
            delete: true,
            ..change(String::new(), Value::Null, d.hlc, d.device)
        });
        if !row.groups.is_empty() {
            let all = Value::Object(row.groups.into_iter().collect());
            out.push(Pulled {
                table: row.table,
                row_id: row.row_id,
                field_group: "*".into(),
                value: all,
                hlc: row.hlc,
                device: row.device,
                delete: false,
            });
        }
        out.extend(later);
        out.extend(deleted);
    }
    out.extend(page.commands.into_iter().map(pulled_of));
    out
}

/// The groups this build syncs, per table, as the digest request names them.
fn known_groups() -> Vec<KnownGroups> {
    store_sync::SYNCED
        .iter()
        .map(|t| KnownGroups {
            table: t.name.to_string(),
            groups: t.groups.iter().map(|(g, _)| g.to_string()).collect(),
        })
        .collect()
}

/// This PC's digest of every synced table (the same sums the city makes).
fn local_digest(store: &Store) -> Result<Vec<TableDigest>, SyncError> {
    let clocks = store.read(store_sync::group_clocks).map_err(sql)?;
    let mut sums: std::collections::BTreeMap<&str, DigestSum> =
        store_sync::SYNCED.iter().map(|t| (t.name, DigestSum::default())).collect();
    for c in clocks {
        let device = Uuid::parse_str(&c.device).unwrap_or_default();
        if let Some(sum) = sums.get_mut(c.tbl) {
            sum.add(c.tbl, c.row_id, c.group, c.hlc, device);
        }
    }
    Ok(store_sync::SYNCED
        .iter()
        .filter_map(|t| sums.remove(t.name).map(|s| s.finish(t.name)))
        .collect())
}

/// How long after a city restore the self-check waits: the other PCs (offline for up to days)
/// send again what the city lost.
pub const RESTORE_GRACE_MS: u64 = 3 * 24 * 3600 * 1000;

/// Compares this PC's digest with the city's once it is caught up with nothing waiting or held;
/// on a difference pulls everything again (harmless under the merge) and compares once more.
fn self_check(x: &Exchange) -> Result<SelfCheck, SyncError> {
    let (store, e, link, ctx) = (x.store, &x.e, x.link, &x.ctx);
    let (server_now, app_version) = (x.server_now, x.app_version);
    // After the city was restored from a backup, the other PCs send again what it lost over
    // the following days; until then this PC rightly holds more than the city.
    let restored = store.read(|c| store_sync::state(c, "city_restored_ms")).map_err(sql)?;
    let restored: Option<u64> = restored.and_then(|v| v.parse().ok());
    if restored.is_some_and(|at| ctx.now_ms.saturating_sub(at) < RESTORE_GRACE_MS) {
        return Ok(SelfCheck::NotCompared);
    }
    let req = DigestRequest { versions: versions(app_version), tables: known_groups() };
    let mut repaired = false;
    loop {
        let (waiting, held, cursor) = store.read(|c| {
            let cursor = store_sync::state(c, "pulled_through").map_err(sql)?;
            Ok::<_, SyncError>((
                store_sync::pending(c, pushed_through_in(c)?).map_err(sql)?.count,
                balai_store::pull::held_counts(c)?.len(),
                cursor.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0),
            ))
        })?;
        if waiting > 0 || held > 0 {
            return Ok(SelfCheck::NotCompared);
        }
        // This PC sums its clocks while the city sums its own (a first sync: 800,000 each).
        let (city, mine) = std::thread::scope(|scope| {
            let mine = scope.spawn(|| local_digest(store));
            let city = e.post(link, "/v1/digest", &req, server_now);
            let mine = mine.join().unwrap_or_else(|_| Err(SyncError::BadAnswer("digest".into())));
            (city, mine)
        });
        let city: DigestResponse = answer(city?)?;
        if city.as_of != cursor {
            return Ok(SelfCheck::NotCompared);
        }
        let mine = mine?;
        let at = ctx.now_ms.to_string();
        if mine == city.tables {
            if repaired {
                store.write(ctx, |tx| {
                    store_sync::set_state(
                        tx,
                        &[("diverged", ""), ("last_repair_ms", &at), ("last_check_ms", &at)],
                    )
                    .map_err(sql)
                })?;
                return Ok(SelfCheck::Repaired);
            }
            store.write(ctx, |tx| {
                store_sync::set_state(tx, &[("last_check_ms", &at)]).map_err(sql)
            })?;
            return Ok(SelfCheck::Agreed);
        }
        if repaired {
            let tables: Vec<&str> = mine
                .iter()
                .filter(|t| !city.tables.contains(t))
                .map(|t| t.table.as_str())
                .collect();
            let tables = tables.join(",");
            store.write(ctx, |tx| {
                store_sync::set_state(tx, &[("diverged", &tables), ("last_check_ms", &at)])
                    .map_err(sql)
            })?;
            return Ok(SelfCheck::Diverged);
        }
        // Repair: the whole feed again, from the start.
        store
            .write(ctx, |tx| store_sync::set_state(tx, &[("pulled_through", "0")]).map_err(sql))?;
        pull(x)?;
        repaired = true;
    }
}

/// Appends, in one transaction, a command for every office key and every voided letter the
/// city has not been told of (the keys made and letters voided since the last round, or
/// before this PC was enrolled), so the city's verification page knows them. An idle round
/// only reads: it writes nothing when there is nothing new to tell.
fn publish_letters(store: &Store, ctx: &WriteCtx, types: &[LetterType]) -> Result<(), SyncError> {
    // The letter types the city's request form offers, sent again only when they change.
    let types = PublishLetterTypes { types: types.to_vec() };
    let fingerprint = serde_json::to_string(&types).map(|t| hex::encode(Sha256::digest(t)));
    let fingerprint = fingerprint.map_err(|x| SyncError::BadAnswer(x.to_string()))?;
    let (keys, voids, told) = store.read(|c| {
        Ok::<_, SyncError>((
            store_sync::unpublished_keys(c).map_err(sql)?,
            store_sync::unpublished_voids(c).map_err(sql)?,
            store_sync::state(c, "published_types").map_err(sql)?,
        ))
    })?;
    let types_changed = told.as_deref() != Some(fingerprint.as_str());
    if keys.is_empty() && voids.is_empty() && !types_changed {
        return Ok(());
    }
    store.write(ctx, |tx| {
        for (key_id, public_hex) in keys {
            let args = PublishKey { key_id: key_id.clone(), public_hex };
            store_sync::append_command(tx, PUBLISH_KEY, Uuid::nil(), &args)?;
            store_sync::mark_published(tx, "key", &key_id).map_err(sql)?;
        }
        if types_changed {
            store_sync::append_command(tx, PUBLISH_LETTER_TYPES, Uuid::nil(), &types)?;
            store_sync::set_state(tx, &[("published_types", &fingerprint)]).map_err(sql)?;
        }
        for v in voids {
            let voided_on = v.voided_at.get(..10).unwrap_or_default().to_string();
            let args = VoidLetter { letter_id: v.letter_id, number: v.number, voided_on };
            store_sync::append_command(tx, VOID_LETTER, v.letter_id, &args)?;
            store_sync::mark_published(tx, "void", &v.letter_id.simple().to_string())
                .map_err(sql)?;
        }
        Ok(())
    })
}

/// Each series' reserve is about two working days of the office's letters of that kind (those
/// of the last 30 days ÷ 10), at least [`RESERVE_MIN`] and at most [`RESERVE`] numbers
/// (sync-notes §3.5: sized to the volume, so a kind issued a few times a year does not leave
/// twenty numbers unused at the year's end now that letters issued online do not draw on it)…
pub const RESERVE: u32 = 20;
/// Never 1: a lease of one is the number of the letter at the counter, taken first.
pub const RESERVE_MIN: u32 = 5;
/// …refilled when less than 30 % of it is left.
pub fn reserve_size(issued_last_30_days: u32) -> (u32, u32) {
    let size = issued_last_30_days.div_ceil(10).clamp(RESERVE_MIN, RESERVE);
    (size, (size * 3).div_ceil(10))
}

/// Only the reserve part of a round (right after enrolment, so the first letter does not wait
/// for a whole sync): answers how many numbers were leased.
pub fn refill_reserve(
    store: &Store,
    link: &dyn Link,
    app_version: &str,
    now_ms: u64,
    series: &[String],
) -> Result<u64, SyncError> {
    let r = contact(store, link, app_version, now_ms).and_then(|x| refill(&x, series));
    noting_fence(store, now_ms, r)
}

/// What every step of a round shares: this PC's enrolment, the way to the city, the write
/// context, and the city's time and epoch as learned at the start of the round.
struct Exchange<'a> {
    store: &'a Store,
    e: Enrolment,
    link: &'a dyn Link,
    ctx: WriteCtx,
    app_version: &'a str,
    server_now: u64,
    server_epoch: String,
}

/// The start of every exchange: this PC's enrolment and the server's time (its offset from
/// this PC's clock is recorded for the sync page and used to sign requests).
fn contact<'a>(
    store: &'a Store,
    link: &'a dyn Link,
    app_version: &'a str,
    now_ms: u64,
) -> Result<Exchange<'a>, SyncError> {
    let e = enrolment(store)?;
    let time = Request {
        method: "GET",
        url: format!("{}/v1/time", e.server_url),
        headers: Vec::new(),
        body: Vec::new(),
        trust: e.trust.clone(),
        within: None,
    };
    let time: ServerTime = answer(link.send(time).map_err(network)?)?;
    let offset = time.server_time_ms as i64 - now_ms as i64;
    let ctx = WriteCtx { now_ms, user_id: "sync".into() };
    // With the time of this contact by this PC's clock: a clock set back since then is seen.
    // Stamps are taken on the city's time from now on; unsent ones from the future are redone.
    let at = now_ms.to_string();
    store.correct_clock(
        &ctx,
        offset,
        balai_protocol::MAX_FUTURE_MS,
        &[("last_contact_ms", &at)],
    )?;
    let epoch = time.server_epoch.to_string();
    let known = store.read(|c| store_sync::state(c, "server_epoch")).map_err(sql)?;
    if known.as_deref() != Some(epoch.as_str()) {
        // The city was restored from a backup (or this PC never noted its epoch): what it
        // holds of this PC's outbox may be less than was acknowledged, so the push goes on
        // from what it says it has (the outbox keeps every entry).
        let me: WhoAmI = answer(e.get(link, "/v1/whoami", time.server_time_ms)?)?;
        let mark = pushed_through(store)?;
        let from = (me.last_applied as i64).min(mark).to_string();
        // Noted only when an epoch was known: a first note is no restore.
        let restored_at = if known.is_some() { at.clone() } else { String::new() };
        store.write(&ctx, |tx| {
            store_sync::set_state(
                tx,
                &[
                    ("pushed_through", &from),
                    ("server_epoch", &epoch),
                    ("city_restored_ms", &restored_at),
                ],
            )
            .map_err(sql)
        })?;
    }
    Ok(Exchange {
        store,
        e,
        link,
        ctx,
        app_version,
        server_now: time.server_time_ms,
        server_epoch: time.server_epoch.to_string(),
    })
}

/// Leases numbers for every series of `series` whose reserve ran low; the leases are stored in
/// one local transaction. Answers how many numbers were leased.
fn refill(x: &Exchange, series: &[String]) -> Result<u64, SyncError> {
    let (store, e) = (x.store, &x.e);
    // Only this year, and in December the next, by the city's clock in the office's time zone:
    // a PC whose clock is years off asks for no numbers of a year no letter is issued in (it
    // issues none until its clock is right).
    let today = office_today(x)?;
    let year = chrono::Datelike::year(&today);
    let next_too = chrono::Datelike::month(&today) == 12;
    let current = |s: &str| {
        let y: Option<i32> = s.get(..4).and_then(|y| y.parse().ok());
        y == Some(year) || (next_too && y == Some(year + 1))
    };
    let since = (today - chrono::Duration::days(30)).format("%Y-%m-%d").to_string();
    let low: Vec<(String, u32)> = store.read(|c| {
        let left = balai_store::leases::left(c, e.epoch)?;
        let mut low = Vec::new();
        for s in series.iter().filter(|s| current(s)) {
            let have = left.iter().find(|(name, _)| name == s).map_or(0, |(_, n)| *n);
            let (size, refill_below) =
                reserve_size(balai_store::leases::issued_since(c, s, &since)?);
            if have < refill_below {
                low.push((s.clone(), size));
            }
        }
        Ok::<_, StoreError>(low)
    })?;
    if low.is_empty() {
        return Ok(0);
    }
    let asks = store.write(&x.ctx, |tx| {
        let mut asks = Asks::read(tx)?;
        let ids: Vec<(Uuid, Ask)> = low.iter().map(|(s, size)| asks.ask_for(s, *size)).collect();
        asks.write(tx)?;
        Ok::<_, SyncError>(ids)
    })?;
    ask_numbers(store, e, x.link, x.app_version, x.server_now, &x.ctx, &asks, false)
}

/// How long issuing a letter waits for the city's next number before it takes one from the
/// reserve (sync-notes §3.5: a clerk and a resident are waiting at the counter).
pub const NEXT_NUMBER_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);

/// The sync state key of the leases asked for and not yet stored: a JSON map of the lease id
/// this PC chose → [`Ask`].
const NUMBER_ASKS: &str = "number_asks";

/// The sync state key of the running number of this database's lease asks (the newest given).
const ASK_SEQ: &str = "ask_seq";

/// A lease asked for: `size` numbers of `series` (1: the number of the letter about to be
/// issued; more: a reserve), the ask's running number (`LeaseWant::ask_seq`; 0 for an ask
/// kept by an older Balai, sent without one).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Ask {
    series: String,
    size: u32,
    #[serde(default)]
    seq: u64,
}

/// The unanswered asks and the running number, read and written in one transaction.
struct Asks {
    open: BTreeMap<Uuid, Ask>,
    last_seq: u64,
}

impl Asks {
    fn read(c: &balai_store::ReadConn) -> Result<Asks, SyncError> {
        let last_seq = store_sync::state(c, ASK_SEQ).map_err(sql)?.and_then(|v| v.parse().ok());
        Ok(Asks { open: number_asks(c)?, last_seq: last_seq.unwrap_or(0) })
    }

    /// The id of the ask for `size` numbers of `series`: the one still unanswered, else a new
    /// one with the next running number.
    fn ask_for(&mut self, series: &str, size: u32) -> (Uuid, Ask) {
        let found = self.open.iter().find(|(_, a)| a.series == series && a.size == size);
        if let Some((id, ask)) = found {
            return (*id, ask.clone());
        }
        self.last_seq += 1;
        let ask = Ask { series: series.to_string(), size, seq: self.last_seq };
        let id = Uuid::now_v7();
        self.open.insert(id, ask.clone());
        (id, ask)
    }

    fn write(&self, tx: &balai_store::WriteTx) -> Result<(), SyncError> {
        let seq = self.last_seq.to_string();
        store_sync::set_state(tx, &[(NUMBER_ASKS, &asks_json(&self.open)), (ASK_SEQ, &seq)])
            .map_err(sql)
    }
}

/// The online fast path (sync-notes §3.5): just before a letter of `series` is issued, the
/// city's next number is leased to this PC singly and stored, and the issuing transaction takes
/// it before any reserve number (`balai_store::leases::take`), so the letters an office issues
/// while the city is reachable are numbered densely and in the order they were issued across
/// its PCs. Nothing is asked when such a number is already held (an issue that failed after its
/// lease). Every lease (this one and the reserve's) is asked under an id chosen here and kept
/// before it is sent, and the same id is asked again until its answer is stored (at the next
/// letter or sync round): a lost answer costs no number. An error means: issue from the
/// reserve.
pub fn lease_next_number(
    store: &Store,
    link: &dyn Link,
    app_version: &str,
    now_ms: u64,
    series: &str,
) -> Result<(), SyncError> {
    let r = next_number(store, link, app_version, now_ms, series);
    noting_fence(store, now_ms, r)
}

fn next_number(
    store: &Store,
    link: &dyn Link,
    app_version: &str,
    now_ms: u64,
    series: &str,
) -> Result<(), SyncError> {
    let e = enrolment(store)?;
    let (fenced, held, offset) = store.read(|c| {
        Ok::<_, StoreError>((
            store_sync::state(c, "fenced")?.is_some(),
            balai_store::leases::single_left(c, series, e.epoch)?,
            store_sync::state(c, "clock_offset_ms")?.and_then(|o| o.parse::<i64>().ok()),
        ))
    })?;
    if fenced || held {
        return Ok(());
    }
    let ctx = WriteCtx { now_ms, user_id: "sync".into() };
    let ask = store.write(&ctx, |tx| {
        let mut asks = Asks::read(tx)?;
        let ask = asks.ask_for(series, 1);
        asks.write(tx)?;
        Ok::<_, SyncError>(ask)
    })?;
    // Signed on the city's time as last learned: the fast path is one round trip.
    let server_now = (now_ms as i64 + offset.unwrap_or(0)).max(0) as u64;
    ask_numbers(store, &e, link, app_version, server_now, &ctx, &[ask], true).map(|_| ())
}

fn number_asks(c: &balai_store::ReadConn) -> Result<BTreeMap<Uuid, Ask>, SyncError> {
    let raw = store_sync::state(c, NUMBER_ASKS).map_err(sql)?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default())
}

fn asks_json(asks: &BTreeMap<Uuid, Ask>) -> String {
    serde_json::to_string(asks).unwrap_or_default()
}

/// Sends `asks` and stores what is granted, with the asks answered taken off the list, in one
/// transaction. Answers how many numbers were leased.
#[allow(clippy::too_many_arguments)]
fn ask_numbers(
    store: &Store,
    e: &Enrolment,
    link: &dyn Link,
    app_version: &str,
    server_now: u64,
    ctx: &WriteCtx,
    asks: &[(Uuid, Ask)],
    waiting: bool,
) -> Result<u64, SyncError> {
    let floors = store.read(|c| {
        asks.iter()
            .map(|(_, a)| balai_store::leases::local_floor(c, &a.series))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let req = LeaseRequest {
        versions: versions(app_version),
        device_id: e.device_id,
        epoch: e.epoch,
        wants: asks
            .iter()
            .zip(floors)
            .map(|((id, a), floor)| LeaseWant {
                series: a.series.clone(),
                size: a.size,
                floor,
                lease_id: Some(*id),
                ask_seq: (a.seq > 0).then_some(a.seq),
            })
            .collect(),
    };
    let answer_of = if waiting {
        e.post_within(link, "/v1/lease", &req, server_now, NEXT_NUMBER_WITHIN)?
    } else {
        e.post(link, "/v1/lease", &req, server_now)?
    };
    let res: LeaseResponse = answer(answer_of)?;
    let granted: Vec<Granted> = res
        .leases
        .into_iter()
        .map(|l| Granted { lease_id: l.lease_id, series: l.series, first: l.first, last: l.last })
        .collect();
    store.write(ctx, |tx| {
        balai_store::leases::add(tx, e.epoch, &granted, ctx.now_ms)?;
        let mut left = number_asks(tx)?;
        left.retain(|id, _| !granted.iter().any(|g| g.lease_id == *id));
        store_sync::set_state(tx, &[(NUMBER_ASKS, &asks_json(&left))]).map_err(sql)?;
        Ok::<_, SyncError>(())
    })?;
    Ok(granted.iter().map(|g| u64::from(g.last + 1 - g.first)).sum())
}

/// In a round: asks whose answer was lost are asked again (the city answers with the lease it
/// granted), so every number the city granted is held here: issued or, at the year's end,
/// given back.
fn settle_number_asks(x: &Exchange) -> Result<(), SyncError> {
    let asks: Vec<(Uuid, Ask)> = x.store.read(number_asks)?.into_iter().collect();
    if asks.is_empty() {
        return Ok(());
    }
    ask_numbers(x.store, &x.e, x.link, x.app_version, x.server_now, &x.ctx, &asks, false)
        .map(|_| ())
}

/// In a round: the numbers left in leases of a year that has ended (by the city's clock in the
/// office's time zone: no letter of that year is issued any more) are given back with `return_numbers`
/// commands, the leases emptied in the same transaction; the city records them as unused.
fn give_back_ended_years(x: &Exchange) -> Result<(), SyncError> {
    let year = chrono::Datelike::year(&office_today(x)?);
    let epoch = x.e.epoch;
    let ended = x.store.read(|c| balai_store::leases::left_before(c, epoch, year))?;
    if ended.is_empty() {
        return Ok(());
    }
    x.store.write(&x.ctx, |tx| {
        for u in &ended {
            let args = ReturnNumbers {
                lease_id: u.lease_id,
                series: u.series.clone(),
                first: u.first,
                last: u.last,
            };
            store_sync::append_command(tx, RETURN_NUMBERS, u.lease_id, &args)?;
            balai_store::leases::give_back(tx, u.lease_id)?;
        }
        Ok(())
    })
}

/// The office's date by the city's clock, in the office's time zone (its letters are dated
/// and their series' year taken by it).
fn office_today(x: &Exchange) -> Result<chrono::NaiveDate, SyncError> {
    let profile = x.store.read(balai_store::profile::get)?;
    let offset = balai_domain::dates::utc_offset_seconds(
        profile.as_ref().map_or("", |p| p.kelurahan_code.as_str()),
    );
    Ok(chrono::DateTime::from_timestamp_millis(x.server_now as i64 + i64::from(offset) * 1000)
        .map(|t| t.date_naive())
        .unwrap_or_default())
}

fn pushed_through(store: &Store) -> Result<i64, SyncError> {
    store.read(pushed_through_in)
}

fn pushed_through_in(c: &balai_store::ReadConn) -> Result<i64, SyncError> {
    Ok(store_sync::state(c, "pushed_through")
        .map_err(sql)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

fn pending(store: &Store) -> Result<Pending, SyncError> {
    let mark = pushed_through(store)?;
    store.read(|c| store_sync::pending(c, mark)).map_err(sql)
}

/// The sync page: where this PC stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    pub enrolled: bool,
    pub server_url: Option<String>,
    pub device_id: Option<String>,
    pub kelurahan_code: Option<String>,
    pub pending: u64,
    /// When the oldest waiting change was made (ms since the epoch).
    pub oldest_pending_ms: Option<u64>,
    pub last_push_ms: Option<u64>,
    pub last_pull_ms: Option<u64>,
    /// Server time minus this PC's time at the last contact.
    pub clock_offset_ms: Option<i64>,
    pub rejected: Vec<Rejected>,
    /// Pulled changes kept aside (not applied yet), counted by reason.
    pub held: Vec<Held>,
    /// Letter numbers this PC may still issue offline, per series.
    pub reserve: Vec<Reserve>,
    /// `revoked`, `epoch_fenced` (its database was restored or copied) or `unknown_device` (the
    /// city was restored from a backup older than this PC's enrolment) when the city locked
    /// this PC out: an admin enrols it again with a new code; nothing waiting is lost.
    pub fenced: Option<String>,
    /// The city takes this app version's changes no more: they wait until Balai is updated.
    pub update_required: bool,
    /// Tables whose digest still differed from the city's after a full re-pull (a bug signal;
    /// empty normally).
    pub diverged: Vec<String>,
    /// A first sync's snapshot that is still downloading: the rows received so far (they are
    /// applied together when the last page is in; the next round goes on from them).
    pub first_sync_rows: Option<u64>,
    /// Identity conflicts the city found that no supervisor has reviewed yet.
    pub identity_conflicts: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reserve {
    pub series: String,
    pub left: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Held {
    pub reason: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejected {
    pub seq: i64,
    pub table: String,
    pub code: String,
    pub message: String,
    pub at_ms: i64,
}

pub fn status(store: &Store) -> Result<Status, SyncError> {
    let p = pending(store)?;
    store.read(|c| {
        let get = |k: &str| store_sync::state(c, k).map_err(sql);
        let rejected = store_sync::rejected(c)
            .map_err(sql)?
            .into_iter()
            .map(|r| Rejected {
                seq: r.seq,
                table: r.table,
                code: r.code,
                message: r.message,
                at_ms: r.at_ms,
            })
            .collect();
        let server_url = get("server_url")?;
        let epoch = get("epoch")?.and_then(|v| v.parse().ok()).unwrap_or(1);
        Ok(Status {
            enrolled: server_url.is_some(),
            server_url,
            device_id: get("server_device_id")?,
            kelurahan_code: get("kelurahan_code")?,
            pending: p.count,
            oldest_pending_ms: p.oldest_hlc.map(|h| h >> 16),
            last_push_ms: get("last_push_ms")?.and_then(|v| v.parse().ok()),
            last_pull_ms: get("last_pull_ms")?.and_then(|v| v.parse().ok()),
            clock_offset_ms: get("clock_offset_ms")?.and_then(|v| v.parse().ok()),
            rejected,
            held: balai_store::pull::held_counts(c)?
                .into_iter()
                .map(|(reason, count)| Held { reason, count })
                .collect(),
            fenced: get("fenced")?,
            update_required: get("update_required")?.as_deref() == Some("1"),
            diverged: get("diverged")?
                .unwrap_or_default()
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
            reserve: balai_store::leases::left(c, epoch)?
                .into_iter()
                .map(|(series, left)| Reserve { series, left })
                .collect(),
            first_sync_rows: get(SNAPSHOT_KEYS[3])?.and_then(|v| v.parse().ok()),
            identity_conflicts: balai_store::conflicts::open_count(c)?,
        })
    })
}
