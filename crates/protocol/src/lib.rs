//! balai-protocol: what an office PC and Balai Kota say to each other (design.md "Sync";
//! sync-notes §3.8–3.10), as serde types shared by the desktop's sync engine and the server.
//!
//! What it does: the bodies of enrolment, push, pull, the first sync's snapshot, number leases and
//! digest, the per-operation results and
//! the error body, with the protocol version every request carries. JSON field names here are
//! the wire contract: they change only with [`PROTOCOL`], and a test pins their shape.
//!
//! What it does not do: no IO, no HTTP, no SQL, no merging (that is `balai_domain::merge`), no
//! authentication (the server takes the kelurahan from the authenticated device, never from a
//! body: no body here carries a kelurahan to write to).
//!
//! Forward compatibility: a field group's value is an open JSON object and groups are named by
//! strings, so a group or column this version does not know travels and is kept unchanged.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The protocol this build speaks. The server serves this one and the one before it; a client
/// below [`MIN_PUSH_PROTOCOL`] may still pull, but its pushes are held with `update_required`.
pub const PROTOCOL: u32 = 1;
/// The oldest protocol whose pushes the server applies.
pub const MIN_PUSH_PROTOCOL: u32 = 1;
/// Push batches start at this many bytes (compressed) and double on success…
pub const BATCH_START_BYTES: usize = 64 * 1024;
/// …up to this, well under the 1 MB a default nginx in front of the server accepts.
pub const BATCH_MAX_BYTES: usize = 512 * 1024;
/// A change's clock more than this ahead of the city's time is from a wrong clock: the city
/// caps it, and a PC re-stamps its unsent ones at its next contact.
pub const MAX_FUTURE_MS: u64 = 2 * 60 * 1000;

/// Sent with every request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    pub protocol: u32,
    /// The client's database schema (`PRAGMA user_version`).
    pub schema_version: u32,
    pub app_version: String,
}

/// `POST /v1/enrol`: a PC joins its kelurahan with the one-time code a city admin gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    #[serde(flatten)]
    pub versions: Versions,
    pub code: String,
    /// The device's Ed25519 public key, hex.
    pub public_key_hex: String,
    pub hostname: String,
    /// The number of the PC's next outbox entry: 1 on a first enrolment; after the PC was
    /// fenced (its database restored or copied), where its outbox goes on, since what it pushed
    /// before is already on the server under its old id.
    #[serde(default = "first_op")]
    pub first_seq: u64,
    /// The kelurahan in the office's own profile: a code for another kelurahan is refused
    /// (and stays unused) instead of tying this office's register to the wrong one.
    #[serde(default)]
    pub office_kelurahan: Option<String>,
    /// The device id this PC had before the city locked it out (its database restored or
    /// copied, or revoked): the residents' online requests that device held pass to the new
    /// one, if it was of the same kelurahan and is locked out (an active PC keeps its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Uuid>,
}

fn first_op() -> u64 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    /// Assigned by the server.
    pub device_id: Uuid,
    /// Starts at 1; a restored or cloned database is re-enrolled with the next one, and the
    /// leases of older epochs are void.
    pub epoch: u32,
    /// Kemendagri code of the kelurahan the device now writes for, e.g. `18.72.04.1004`.
    pub kelurahan_code: String,
    pub kelurahan_name: String,
    pub server_time_ms: u64,
    pub server_epoch: Uuid,
}

/// One operation of a device's outbox, numbered contiguously per device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    pub device_seq: u64,
    /// UUIDv7; the server keeps it unique, a second guard against applying anything twice.
    pub change_id: Uuid,
    /// The local user who made it (checked by the server against the device's kelurahan).
    pub user_id: String,
    #[serde(flatten)]
    pub body: OpBody,
}

/// What an operation does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpBody {
    /// Mergeable state: a new version of one field group of one row.
    Set {
        table: String,
        row_id: Uuid,
        field_group: String,
        /// The group's columns (`{"rt": "003", …}`); for an inserted row, group `*` holds every
        /// group: `{"address": {…}, "name": {…}}`.
        value: Value,
        hlc: u64,
    },
    /// Mergeable state: the row was deleted.
    Delete { table: String, row_id: Uuid, hlc: u64 },
    /// A command the server re-checks (issue or void a letter, claim a request, …).
    Command { name: String, args: Value },
}

/// `POST /v1/push`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    #[serde(flatten)]
    pub versions: Versions,
    pub device_id: Uuid,
    pub epoch: u32,
    /// In `device_seq` order.
    pub ops: Vec<Op>,
    /// The feed position this PC had pulled through when the oldest of its unpushed edits was
    /// made: a winning identity edit replacing a version written after it was made without
    /// sight of that version (an [`IdentityConflict`]). Absent from older clients: then only
    /// the identity edits that lose are recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_through: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    /// Every op at or below this is applied or answered; the client may forget them.
    pub acked_through: u64,
    pub results: Vec<OpResult>,
    pub server_time_ms: u64,
    pub server_epoch: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpResult {
    pub device_seq: u64,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The server's answer to one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Applied. A repeat of an op applied before (a retry after a lost answer) gets the answer
    /// the op got the first time, whichever it was, and is not applied again. `clamped_hlc`
    /// says the op's clock was in the future and the server used its own time instead.
    Ok {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        clamped_hlc: Option<u64>,
    },
    /// Refused for good, with a stable code (`cross_tenant`, `unknown_table`, `invalid`, …):
    /// the client lists it as rejected and goes on with the queue.
    Rejected { code: String, message: String },
    /// A command lost to another (a request another PC claimed first): `winner` says who.
    Conflict { winner: Value, message: String },
}

/// `GET /v1/pull?cursor=N&limit=M`: the kelurahan's feed after a cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    pub changes: Vec<FeedChange>,
    /// Store this with the applied page, in the same local transaction.
    pub next_cursor: u64,
    pub has_more: bool,
    pub server_time_ms: u64,
    pub server_epoch: Uuid,
    /// The newest item of the city-wide reference feed (`GET /v1/reference`); absent while the
    /// city has published none, so an idle round carries no byte for it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reference_seq: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// `GET /v1/reference?after=N` (signed): the city-wide reference feed — data only the city
/// writes and every office reads (sync-notes §3.1), in publishing order. Today: scorecard rule
/// set editions (`kind` [`CONTEST_EDITION`], `key` `ruleset/edition`, `body` the TOML text of
/// `assets/contest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceResponse {
    pub items: Vec<ReferenceItem>,
    pub has_more: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceItem {
    pub seq: u64,
    pub kind: String,
    pub key: String,
    pub body: String,
}

pub const CONTEST_EDITION: &str = "contest_edition";

/// The most reference items one answer carries (an edition is at most a few tens of KB).
pub const MAX_REFERENCE_ITEMS: u32 = 20;

/// One entry of a kelurahan's feed: the server sequence is assigned inside the writing
/// transaction, so commit order is cursor order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedChange {
    pub server_seq: u64,
    /// The device that made it (a client skips its own unless the server changed it).
    pub origin_device: Uuid,
    #[serde(flatten)]
    pub body: OpBody,
}

/// `GET /v1/snapshot?after=TABLE:ROW&limit=N` (signed): the kelurahan's state, row by row, for
/// a PC's first sync (sync-notes §3.8) in place of replaying the whole feed. Pages follow the
/// row order (table, row id), so a download cut off resumes at the page it was waiting for.
///
/// The first page's `as_of` is the feed position the snapshot starts from: the client pulls
/// the feed after it once every page is applied. A later page may hold newer versions than
/// `as_of` (it is read later); the feed then brings those changes again and the merge answers
/// them as repeats, so the end state is the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotPage {
    /// The kelurahan's feed position when this page was read.
    pub as_of: u64,
    pub rows: Vec<SnapshotRow>,
    /// The state that travels as commands (residents' online requests and where they stand),
    /// on the last page only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<FeedChange>,
    /// Where the next page starts (`after=` this); empty on the last page.
    pub next_after: String,
    pub server_time_ms: u64,
    pub server_epoch: Uuid,
}

/// One row as the city holds it: every field group's winning version (the requesting
/// device's own versions left out, as in the feed), and its delete, if any. Most rows were
/// written by one change, so the row carries one stamp, the lowest of its groups', and
/// `stamps` names the groups written later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotRow {
    pub table: String,
    pub row_id: Uuid,
    pub hlc: u64,
    pub device: Uuid,
    /// Each group's columns.
    pub groups: BTreeMap<String, Value>,
    /// The groups whose stamp is not the row's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stamps: BTreeMap<String, Stamped>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Stamped>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Stamped {
    pub hlc: u64,
    pub device: Uuid,
}

/// The most rows one snapshot page holds.
pub const MAX_SNAPSHOT_ROWS: u32 = 20_000;

/// `POST /v1/lease` (signed): blocks of letter numbers for this device and its epoch, one per
/// series asked for (sync-notes §3.5). Numbers of a lease are issued offline by that device
/// only; an `issue_letter` command outside a lease of the device's current epoch is a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRequest {
    #[serde(flatten)]
    pub versions: Versions,
    pub device_id: Uuid,
    pub epoch: u32,
    pub wants: Vec<LeaseWant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseWant {
    /// `2026/domisili`, or `2026/*` for one series for every letter type.
    pub series: String,
    /// How many numbers (the server caps it at [`MAX_LEASE`]).
    pub size: u32,
    /// The highest serial this office already issued in the series before it synced (numbered
    /// locally): the server's numbering continues above it.
    pub floor: u32,
    /// The lease's id, chosen by the PC when it asks for the number of the letter it is about to
    /// issue (the online fast path): asked again after a lost answer, the same lease comes back
    /// instead of a second one, so no number is granted that no PC holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_id: Option<Uuid>,
    /// The PC's running number of this ask (1, 2, …, never reused by one database): a copy of
    /// the database restored from before an ask numbers a new one the same, or says in its
    /// pulls (`asks=N`) that it asked fewer times than the city granted, and is fenced, its
    /// leases void and their numbers recorded unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask_seq: Option<u64>,
}

/// The most numbers one lease holds.
pub const MAX_LEASE: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub lease_id: Uuid,
    pub series: String,
    /// Serials `first..=last`.
    pub first: u32,
    pub last: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseResponse {
    pub leases: Vec<Lease>,
    pub server_time_ms: u64,
    pub server_epoch: Uuid,
}

/// The args of the `issue_letter` command: a number taken from a lease, pushed in the same
/// outbox as the letter's other changes. The server accepts it when the lease is the device's,
/// of its current epoch, holds the serial, and the serial was not issued before (a repeat of
/// the same letter is answered ok again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueLetter {
    pub letter_id: Uuid,
    pub lease_id: Uuid,
    pub series: String,
    pub serial: u32,
    /// The formatted number as printed.
    pub number: String,
    /// `YYYY-MM-DD`.
    pub issued_on: String,
}

/// The command name of [`IssueLetter`].
pub const ISSUE_LETTER: &str = "issue_letter";

/// The `return_numbers` command: serials `first..=last` of a lease that the PC will never
/// issue (the lease's year ended), given back so the city's register records them as
/// unused ("nomor tidak terpakai") rather than leaving a silent gap. Refused when any of
/// them was issued, or the lease is not the device's of its current epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnNumbers {
    pub lease_id: Uuid,
    pub series: String,
    pub first: u32,
    pub last: u32,
}

pub const RETURN_NUMBERS: &str = "return_numbers";

/// The `publish_key` command: the public half of an office's letter-signing key, so the city's
/// verification page can check the QR codes it signs. Refused when `key_id` is not the key's id
/// or the key is already another kelurahan's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishKey {
    pub key_id: String,
    pub public_hex: String,
}

pub const PUBLISH_KEY: &str = "publish_key";

/// The `void_letter` command: a letter the office voided no longer stands (the city's
/// verification page says so). The reason stays in the office: it may name people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoidLetter {
    pub letter_id: Uuid,
    pub number: String,
    /// `YYYY-MM-DD`.
    pub voided_on: String,
}

pub const VOID_LETTER: &str = "void_letter";

/// The `publish_letter_types` command: the letter types an office issues, so the city's public
/// request form offers them. Each publish replaces the kelurahan's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishLetterTypes {
    pub types: Vec<LetterType>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterType {
    pub code: String,
    pub title: String,
}

pub const PUBLISH_LETTER_TYPES: &str = "publish_letter_types";

/// Feed command `online_request` (city → the kelurahan's PCs): a resident asked for a letter on
/// the city's public form. Personal data: it travels only to the PCs of that kelurahan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineRequest {
    pub request_id: Uuid,
    /// What the resident was given to follow it (`XXXXX-XXXXX`).
    pub tracking_code: String,
    pub nik: String,
    pub no_kk: String,
    pub letter_type: String,
    pub purpose: String,
    /// A phone number or e-mail the resident gave, or empty.
    pub contact: String,
    pub submitted_at_ms: u64,
}

pub const ONLINE_REQUEST: &str = "online_request";

/// The `claim_request` command (a PC → the city): this PC takes the request. Exactly one PC
/// wins; the others are answered `conflict` with the winner's device id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRequest {
    pub request_id: Uuid,
}

pub const CLAIM_REQUEST: &str = "claim_request";

/// The `request_status` command: the claiming PC says where the request stands (`diproses`,
/// `selesai`, `ditolak`), and the city passes each change on to the kelurahan's other PCs (then
/// `device` is the PC that holds it). The resident sees the status on the city's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestStatus {
    pub request_id: Uuid,
    pub status: String,
    /// For the resident (e.g. the letter's number, or why it was refused): no other person's data.
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub device: Option<Uuid>,
}

pub const REQUEST_STATUS: &str = "request_status";

/// The `submit_contest_period` command (a PC → the city, then the city → the kelurahan's other
/// PCs): the lurah submitted a scorecard period, which locks it. The first submission of a
/// (kelurahan, rule set, period) is accepted; a later one from another PC is answered
/// `conflict`. The total and band are the submitting PC's score of the values it had synced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubmitContestPeriod {
    pub ruleset: String,
    pub edition: String,
    pub period: i32,
    pub total: f64,
    pub band: String,
    pub submitted_by: String,
    pub submitted_at_ms: u64,
}

pub const SUBMIT_CONTEST_PERIOD: &str = "submit_contest_period";

/// The fields whose silent overwrite would corrupt who a person or a family is (sync-notes
/// §3.6): (table, field group, the identity fields in it). A concurrent edit that replaces one
/// of them with a different value is merged as any other (last writer wins) and also recorded
/// for a supervisor's review.
pub const IDENTITY_FIELDS: &[(&str, &str, &[&str])] =
    &[("residents", "identity", &["nik", "full_name"]), ("families", "family", &["no_kk"])];

/// The identity fields of `table`'s `group` whose values differ between two versions of the
/// group (as JSON objects); empty when the group holds none or they agree.
pub fn identity_differences(table: &str, group: &str, a: &Value, b: &Value) -> Vec<&'static str> {
    IDENTITY_FIELDS
        .iter()
        .filter(|(t, g, _)| *t == table && *g == group)
        .flat_map(|(_, _, fields)| fields.iter().copied())
        .filter(|f| a.get(*f) != b.get(*f))
        .collect()
}

/// Feed command `identity_conflict` (city → every PC of the kelurahan): two PCs wrote
/// different identity values into one row without either seeing the other's. The merge kept
/// `kept`; `lost` is what the other PC's clerk typed. Listed on the sync page until a
/// supervisor reviews it ([`ReviewConflict`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentityConflict {
    pub conflict_id: Uuid,
    pub table: String,
    pub row_id: Uuid,
    pub field_group: String,
    /// The identity fields that differ (e.g. `["nik"]`).
    pub fields: Vec<String>,
    pub kept: ConflictSide,
    pub lost: ConflictSide,
    /// When the city saw it.
    pub at_ms: u64,
}

/// One of the two versions of an [`IdentityConflict`]: the group's value and who made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictSide {
    pub value: Value,
    pub hlc: u64,
    pub device: Uuid,
}

pub const IDENTITY_CONFLICT: &str = "identity_conflict";

/// The `review_conflict` command (a PC → the city, and on down the feed to the other PCs): a
/// supervisor looked at an [`IdentityConflict`] and settled it (correcting the row, if needed,
/// is an ordinary edit). The first review stands; a repeat is answered ok.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewConflict {
    pub conflict_id: Uuid,
    /// What the supervisor decided, for the other supervisors.
    #[serde(default)]
    pub note: String,
    /// Set by the city on the feed entry: when it took the review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at_ms: Option<u64>,
}

pub const REVIEW_CONFLICT: &str = "review_conflict";

/// Sent by a client in place of one change too large to travel (more than
/// [`BATCH_MAX_BYTES`] compressed): the server answers it `rejected` with `too_large`, so the
/// change is listed on the sync page and the queue goes on (sync-notes §3.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TooLarge {
    pub table: String,
    pub field_group: String,
    /// Its size, compressed.
    pub bytes: u64,
}

pub const TOO_LARGE: &str = "too_large";

/// Push bodies may be sent compressed with zstd (`Content-Encoding: zstd`); the signature is
/// over the bytes sent, so the server checks who sent them before it decompresses anything.
pub const ZSTD: &str = "zstd";
/// What a compressed push body may grow to once decompressed.
pub const MAX_DECODED_BYTES: usize = 8 * 1024 * 1024;

/// `POST /v1/digest` (signed): the field groups the client knows, per table; the city answers
/// a [`DigestResponse`] over those groups only (a newer app's groups are not counted against
/// an older one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestRequest {
    #[serde(flatten)]
    pub versions: Versions,
    pub tables: Vec<KnownGroups>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownGroups {
    pub table: String,
    pub groups: Vec<String>,
}

/// The kelurahan's state at feed position `as_of`: per table, its rows and an order-independent
/// hash of every (row, field group, clock). A client caught up to `as_of` with nothing waiting
/// computes the same from its own database; a difference is divergence (a bug), repaired by
/// pulling everything again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestResponse {
    pub as_of: u64,
    pub tables: Vec<TableDigest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDigest {
    pub table: String,
    pub rows: u64,
    pub hash_hex: String,
}

/// Builds a [`TableDigest`] from a table's (row, group, clock) entries in any order: the sum,
/// modulo 2^128, of the first 16 bytes of each entry's SHA-256, so the city and a PC get the
/// same digest however they read their rows.
#[derive(Debug, Default, Clone)]
pub struct DigestSum {
    rows: std::collections::BTreeSet<Uuid>,
    /// The row added last: entries mostly come grouped by row, and the set is then not touched.
    last: Option<Uuid>,
    sum: u128,
}

impl DigestSum {
    /// Adds the entry `{table}|{row_id}|{group}|{hlc}|{device}` (UUIDs hyphenated, lower case),
    /// hashed piece by piece: a digest of a whole kelurahan adds hundreds of thousands.
    pub fn add(&mut self, table: &str, row_id: Uuid, group: &str, hlc: u64, device: Uuid) {
        use sha2::Digest;
        let (mut row_text, mut device_text) = ([0u8; 36], [0u8; 36]);
        let mut hlc_text = [0u8; 20];
        let mut at = hlc_text.len();
        let mut n = hlc;
        loop {
            at -= 1;
            hlc_text[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let hash = sha2::Sha256::new()
            .chain_update(table)
            .chain_update(b"|")
            .chain_update(row_id.hyphenated().encode_lower(&mut row_text).as_bytes())
            .chain_update(b"|")
            .chain_update(group)
            .chain_update(b"|")
            .chain_update(&hlc_text[at..])
            .chain_update(b"|")
            .chain_update(device.hyphenated().encode_lower(&mut device_text).as_bytes())
            .finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&hash[..16]);
        self.sum = self.sum.wrapping_add(u128::from_be_bytes(first));
        if self.last != Some(row_id) {
            self.rows.insert(row_id);
            self.last = Some(row_id);
        }
    }

    pub fn finish(self, table: &str) -> TableDigest {
        TableDigest {
            table: table.to_string(),
            rows: self.rows.len() as u64,
            hash_hex: format!("{:032x}", self.sum),
        }
    }
}

/// The body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable: `unauthenticated`, `revoked`, `unknown_device`, `kelurahan_mismatch`,
    /// `update_required`, `gap`, `epoch_fenced` (the
    /// device's database was restored from a backup or copied, or it sent a stale epoch: it
    /// must enrol again),
    /// `bad_request`, `code_invalid`, `internal`.
    pub code: String,
    /// Indonesian, for the sync page.
    pub message: String,
    /// With `gap`: the `device_seq` the server expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<u64>,
}

/// The `Authorization` scheme of device requests: `Balai-Device <device_id>:<time_ms>:<sig>`,
/// where `sig` is the hex Ed25519 signature, by the device key, of [`request_message`].
pub const AUTH_SCHEME: &str = "Balai-Device";
/// How far a signed request's time may be from the server's (the client signs with its clock
/// corrected by the offset it learned from `GET /v1/time`, so a wrong PC clock does not lock
/// it out).
pub const AUTH_WINDOW_MS: u64 = 10 * 60 * 1000;

/// What a device signs for one request: method, path with query, time, and the SHA-256 (hex)
/// of the body, one per line.
pub fn request_message(method: &str, path: &str, time_ms: u64, body_sha256_hex: &str) -> Vec<u8> {
    format!("{method}\n{path}\n{time_ms}\n{body_sha256_hex}").into_bytes()
}

/// `GET /v1/time` (public): the server's clock, so a client can correct its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerTime {
    pub server_time_ms: u64,
    pub server_epoch: Uuid,
}

/// `GET /v1/whoami` (signed): the device as the server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhoAmI {
    pub device_id: Uuid,
    pub epoch: u32,
    pub kelurahan_code: String,
    pub server_time_ms: u64,
    /// The last of this device's ops the city holds: after the city was restored from a backup
    /// (a new server epoch), the PC sends again everything after it.
    #[serde(default)]
    pub last_applied: u64,
}
