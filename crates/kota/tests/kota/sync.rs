//! Push and pull between office PCs through a real Balai Kota process.

use crate::{cli, signed, Kota, KELURAHAN};
use balai_domain::merge::{Change, RowState, Stamp, Version};
use balai_protocol::PROTOCOL;
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// An enrolled office PC: its key, id and outbox counter.
pub(crate) struct Pc<'a> {
    pub(crate) kota: &'a Kota,
    pub(crate) key: SigningKey,
    pub(crate) id: String,
    pub(crate) next_seq: u64,
    pub(crate) cursor: u64,
}

const ROW: &str = "019f0000-0000-7000-8000-0000000000aa";

impl<'a> Pc<'a> {
    pub(crate) fn enrol(kota: &'a Kota, seed: u8) -> Pc<'a> {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let (status, v) = kota.enrol(&kota.code(), &key);
        assert_eq!(status, 200, "{v}");
        Pc { kota, key, id: v["device_id"].as_str().unwrap().into(), next_seq: 1, cursor: 0 }
    }

    /// A signed request with these extra headers and this body as bytes: (status, body text).
    pub(crate) fn send_raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        let auth = signed(&self.key, &self.id, method, path, self.kota.server_time(), body);
        let mut all = vec![("Authorization", auth.as_str())];
        all.extend_from_slice(headers);
        let (status, _, body) = self.kota.exchange(method, path, &all, body);
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    pub(crate) fn send(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let bytes = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
        let auth = signed(&self.key, &self.id, method, path, self.kota.server_time(), &bytes);
        self.kota.http(method, path, Some(&auth), &bytes)
    }

    /// An op body: a `set` of one field group.
    pub(crate) fn set(&mut self, group: &str, value: Value, hlc: u64) -> Value {
        let seq = self.next_seq;
        self.next_seq += 1;
        json!({"device_seq": seq, "change_id": uuid::Uuid::now_v7(), "user_id": "u1", "kind": "set",
               "table": "residents", "row_id": ROW, "field_group": group, "value": value, "hlc": hlc})
    }

    /// An op body: a command.
    pub(crate) fn command(&mut self, name: &str, args: Value) -> Value {
        let seq = self.next_seq;
        self.next_seq += 1;
        json!({"device_seq": seq, "change_id": uuid::Uuid::now_v7(), "user_id": "u1",
               "kind": "command", "name": name, "args": args})
    }

    /// Leases for `(series, size, floor)`: `(status, [(lease_id, first, last)] or the error)`.
    pub(crate) fn lease(&self, wants: &[(&str, u32, u32)]) -> (u16, Value) {
        let wants: Vec<Value> =
            wants.iter().map(|(s, n, f)| json!({"series": s, "size": n, "floor": f})).collect();
        let body = json!({"protocol": PROTOCOL, "schema_version": 4, "app_version": "0.1.0",
                          "device_id": self.id, "epoch": 1, "wants": wants});
        self.send("POST", "/v1/lease", &body)
    }

    /// The counter's single number of `series`, asked for under lease id `id`.
    pub(crate) fn lease_one(&self, series: &str, id: &str) -> (u16, Value) {
        let body = json!({"protocol": PROTOCOL, "schema_version": 4, "app_version": "0.1.0",
                          "device_id": self.id, "epoch": 1,
                          "wants": [{"series": series, "size": 1, "floor": 0, "lease_id": id}]});
        self.send("POST", "/v1/lease", &body)
    }

    pub(crate) fn push(&self, ops: &[Value]) -> (u16, Value) {
        let body = json!({"protocol": PROTOCOL, "schema_version": 4, "app_version": "0.1.0",
                          "device_id": self.id, "epoch": 1, "ops": ops});
        self.send("POST", "/v1/push", &body)
    }

    /// The counter's single number of `series` under lease id `id`, ask number `seq`.
    pub(crate) fn lease_numbered(&self, series: &str, id: &str, seq: u64) -> (u16, Value) {
        let body = json!({"protocol": PROTOCOL, "schema_version": 4, "app_version": "0.1.0",
                          "device_id": self.id, "epoch": 1,
                          "wants": [{"series": series, "size": 1, "floor": 0, "lease_id": id,
                                     "ask_seq": seq}]});
        self.send("POST", "/v1/lease", &body)
    }

    /// A push saying which feed position this PC's edits were made after.
    pub(crate) fn push_seen(&self, ops: &[Value], seen_through: u64) -> (u16, Value) {
        let body = json!({"protocol": PROTOCOL, "schema_version": 4, "app_version": "0.1.0",
                          "device_id": self.id, "epoch": 1, "ops": ops,
                          "seen_through": seen_through});
        self.send("POST", "/v1/push", &body)
    }

    /// Everything new in the feed, page by page, as one list.
    pub(crate) fn pull_all(&mut self, page: u32) -> Vec<Value> {
        let mut all = Vec::new();
        loop {
            let path = format!("/v1/pull?cursor={}&limit={page}", self.cursor);
            let (status, v) = self.send("GET", &path, &Value::Null);
            assert_eq!(status, 200, "{v}");
            all.extend(v["changes"].as_array().unwrap().iter().cloned());
            self.cursor = v["next_cursor"].as_u64().unwrap();
            if !v["has_more"].as_bool().unwrap() {
                return all;
            }
        }
    }
}

/// The row a replica builds from feed entries with the shared merge function.
fn replay(changes: &[Value]) -> BTreeMap<String, RowState<String>> {
    let mut rows: BTreeMap<String, RowState<String>> = BTreeMap::new();
    for c in changes {
        let device: [u8; 16] =
            *uuid::Uuid::parse_str(c["origin_device"].as_str().unwrap()).unwrap().as_bytes();
        let stamp = Stamp { hlc: c["hlc"].as_u64().unwrap(), device };
        let set = |group: &str, value: &Value| Change::Set {
            group: group.into(),
            version: Version { stamp, value: value.to_string() },
        };
        // A new row is one entry holding its groups.
        let changes = match (c["kind"].as_str().unwrap(), c["field_group"].as_str()) {
            ("set", Some("*")) => {
                c["value"].as_object().unwrap().iter().map(|(g, v)| set(g, v)).collect()
            }
            ("set", Some(group)) => vec![set(group, &c["value"])],
            _ => vec![Change::Delete(stamp)],
        };
        let row = rows.entry(c["row_id"].as_str().unwrap().into()).or_default();
        for change in changes {
            row.apply(change);
        }
    }
    rows
}

/// Whether any feed entry carries this value (read by a fresh PC from the start).
fn city_feed_has(kota: &Kota, value: &Value) -> bool {
    let mut fresh = Pc::enrol(kota, 77);
    fresh.pull_all(100).iter().any(|c| &c["value"] == value)
}

fn value_of(rows: &BTreeMap<String, RowState<String>>, group: &str) -> Option<Value> {
    rows.get(ROW)?.group(group).map(|v| serde_json::from_str(&v.value).unwrap())
}

#[test]
fn edits_from_two_pcs_merge_by_when_they_were_made_and_every_pc_pulls_the_same_row() {
    let kota = Kota::start();
    let mut a = Pc::enrol(&kota, 1);
    let mut b = Pc::enrol(&kota, 2);
    let mut city = Pc::enrol(&kota, 3);
    let now = kota.server_time() << 16;
    // A creates the row; B, offline, had edited the address earlier than A's later fix.
    let create =
        a.set("*", json!({"name": {"full_name": "Siti Aminah"}, "address": {"rt": "001"}}), now);
    let fix = a.set("address", json!({"rt": "003"}), now + 10);
    let (status, res) = a.push(&[create.clone(), fix.clone()]);
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["acked_through"], 2);
    let b_old = b.set("address", json!({"rt": "002"}), now + 5);
    let b_name = b.set("name", json!({"full_name": "Siti Aminah S."}), now + 20);
    let (status, res) = b.push(&[b_old, b_name]);
    assert_eq!((status, res["results"][0]["outcome"].as_str()), (200, Some("ok")), "{res}");

    // A's later address wins over B's earlier one, B's later name over A's: as every copy
    // that replays the feed with the shared merge function sees it.
    let rows = replay(&city.pull_all(2));
    assert_eq!(value_of(&rows, "address"), Some(json!({"rt": "003"})));
    assert_eq!(value_of(&rows, "name"), Some(json!({"full_name": "Siti Aminah S."})));
    // A PC's own changes are not sent back (it has them); B's losing address is not in the feed.
    for pc in [&mut a, &mut b] {
        let seen = pc.pull_all(2);
        let id = json!(pc.id);
        assert!(!seen.is_empty() && seen.iter().all(|c| c["origin_device"] != id), "{seen:?}");
    }
    assert!(!city_feed_has(&kota, &json!({"rt": "002"})));

    // A retried push (the answer was lost) is answered again and changes nothing.
    let (status, res) = a.push(&[create, fix]);
    assert_eq!((status, res["acked_through"].as_u64()), (200, Some(2)), "{res}");
    assert!(city.pull_all(10).is_empty(), "a repeat added nothing to the feed");
}

#[test]
fn one_push_that_makes_a_row_edits_it_and_runs_a_command_between_is_stored_as_merged_in_order() {
    let kota = Kota::start();
    let mut a = Pc::enrol(&kota, 11);
    let mut city = Pc::enrol(&kota, 12);
    let now = kota.server_time() << 16;
    // The city merges a push in memory and writes it when a command comes or the push ends:
    // the edits after the command must meet the row as the edits before it left it.
    let ops = [
        a.set("*", json!({"name": {"full_name": "Siti Aminah"}, "address": {"rt": "001"}}), now),
        a.set("address", json!({"rt": "003"}), now + 10),
        a.set("address", json!({"rt": "002"}), now + 5),
        a.command("no_such_command", json!({})),
        a.set("address", json!({"rt": "004"}), now + 1),
        a.set("name", json!({"full_name": "Siti Aminah S."}), now + 20),
    ];
    let (status, res) = a.push(&ops);
    assert_eq!((status, res["acked_through"].as_u64()), (200, Some(6)), "{res}");
    assert_eq!(res["results"][3]["outcome"], "rejected", "{res}");
    let seen = city.pull_all(100);
    // The row, the later address and the later name; the earlier addresses lost (one before
    // the command, one after) and are not sent.
    assert_eq!(seen.len(), 3, "{seen:?}");
    let seqs: Vec<u64> = seen.iter().map(|c| c["server_seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "one after another: {seqs:?}");
    let rows = replay(&seen);
    assert_eq!(value_of(&rows, "address"), Some(json!({"rt": "003"})));
    assert_eq!(value_of(&rows, "name"), Some(json!({"full_name": "Siti Aminah S."})));
    let stored = kota.db.rows(
        "SELECT field_group, value FROM row_groups WHERE row_id = ?1 ORDER BY field_group",
        ROW,
    );
    assert_eq!(
        stored,
        [
            [json!("address"), json!(r#"{"rt":"003"}"#)],
            [json!("name"), json!(r#"{"full_name":"Siti Aminah S."}"#)]
        ]
    );
}

#[test]
fn a_gap_is_refused_with_the_number_expected_and_a_future_clock_is_clamped() {
    let kota = Kota::start();
    let mut a = Pc::enrol(&kota, 4);
    let first = a.set("address", json!({"rt": "001"}), 1 << 16);
    a.set("address", json!({"rt": "lost"}), 2 << 16); // seq 2 never sent
    let third = a.set("address", json!({"rt": "003"}), 3 << 16);
    let (status, res) = a.push(&[first]);
    assert_eq!(status, 200, "{res}");
    let (status, res) = a.push(&[third]);
    assert_eq!(
        (status, res["code"].as_str(), res["expected_seq"].as_u64()),
        (409, Some("gap"), Some(2)),
        "{res}"
    );
    // Three years ahead: the server's time is used instead, and says so.
    let mut b = Pc::enrol(&kota, 5);
    let future = (kota.server_time() + 3 * 365 * 24 * 3600 * 1000) << 16;
    let op = b.set("name", json!({"full_name": "X"}), future);
    let (status, res) = b.push(&[op.clone()]);
    assert_eq!(status, 200, "{res}");
    let clamped = res["results"][0]["clamped_hlc"].as_u64().expect("clamped");
    assert!(clamped < future && clamped >> 16 <= res["server_time_ms"].as_u64().unwrap());
    // Sent again (the answer lost): the PC still learns the clock the city used.
    let (status, repeat) = b.push(&[op]);
    assert_eq!(status, 200, "{repeat}");
    assert_eq!(repeat["results"][0]["clamped_hlc"].as_u64(), Some(clamped), "{repeat}");
}

#[test]
fn a_pc_of_another_kelurahan_cannot_write_or_read_this_kelurahans_rows() {
    let kota = Kota::start();
    let mut a = Pc::enrol(&kota, 6);
    let op = a.set("address", json!({"rt": "001"}), 1 << 16);
    assert_eq!(a.push(&[op]).0, 200);
    // A second kelurahan with its own PC.
    let (ok, _, err) =
        cli(&kota.db, &["kelurahan", "add", "--code", "18.72.04.1005", "--name", "Hadimulyo"]);
    assert!(ok, "{err}");
    let (ok, code, err) = cli(&kota.db, &["enrol", "--kelurahan", "18.72.04.1005"]);
    assert!(ok, "{err}");
    let key = SigningKey::from_bytes(&[7; 32]);
    let (_, v) = kota.enrol(code["code"].as_str().unwrap(), &key);
    assert_eq!(v["kelurahan_code"], "18.72.04.1005");
    let mut other = Pc {
        kota: &kota,
        key,
        id: v["device_id"].as_str().unwrap().into(),
        next_seq: 1,
        cursor: 0,
    };
    let forged = other.set("address", json!({"rt": "999"}), u64::MAX >> 20);
    let (status, res) = other.push(&[forged]);
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["results"][0]["outcome"], "rejected", "{res}");
    assert_eq!(res["results"][0]["code"], "cross_tenant");
    // The rejection did not block its queue, and it reads nothing of the first kelurahan.
    assert_eq!(res["acked_through"], 1);
    assert!(other.pull_all(100).is_empty());
    // The first kelurahan's row is as its own PC left it.
    let mut city = Pc::enrol(&kota, 8);
    let rows = replay(&city.pull_all(100));
    assert_eq!(value_of(&rows, "address"), Some(json!({"rt": "001"})));
    let _ = KELURAHAN;
}

#[test]
fn a_push_for_another_device_or_epoch_is_fenced() {
    let kota = Kota::start();
    let mut a = Pc::enrol(&kota, 9);
    let op = a.set("address", json!({"rt": "001"}), 1 << 16);
    let body = json!({"protocol": PROTOCOL, "schema_version": 4, "app_version": "0.1.0",
                      "device_id": a.id, "epoch": 2, "ops": [op]});
    let (status, res) = a.send("POST", "/v1/push", &body);
    assert_eq!((status, res["code"].as_str()), (409, Some("epoch_fenced")), "{res}");
    let body = json!({"protocol": 0, "schema_version": 4, "app_version": "0.0.1",
                      "device_id": a.id, "epoch": 1, "ops": []});
    let (status, res) = a.send("POST", "/v1/push", &body);
    assert_eq!((status, res["code"].as_str()), (426, Some("update_required")), "{res}");
}

fn range(lease: &Value) -> (u64, u64) {
    (lease["first"].as_u64().unwrap(), lease["last"].as_u64().unwrap())
}

fn issue(pc: &mut Pc, lease: &Value, serial: u64, letter: &str) -> Value {
    let args = json!({"letter_id": letter, "lease_id": lease["lease_id"], "series": lease["series"],
                      "serial": serial, "number": format!("470/{serial:03}/YSR/XII/2026"),
                      "issued_on": "2026-12-03"});
    pc.command("issue_letter", args)
}

const LETTER_A: &str = "019f0000-0000-7000-8000-00000000a001";
const LETTER_B: &str = "019f0000-0000-7000-8000-00000000b001";

#[test]
fn two_pcs_get_disjoint_number_blocks_and_a_number_is_accepted_once_inside_its_own_lease() {
    let kota = Kota::start();
    let mut a = Pc::enrol(&kota, 1);
    let mut b = Pc::enrol(&kota, 2);
    // Before syncing, the office numbered 7 letters itself: the city continues above them.
    let (status, la) = a.lease(&[("2026/domisili", 20, 7), ("2026/sktm", 500, 0)]);
    assert_eq!(status, 200, "{la}");
    let (status, lb) = b.lease(&[("2026/domisili", 20, 3)]);
    assert_eq!(status, 200, "{lb}");
    let (a_dom, a_sktm, b_dom) = (&la["leases"][0], &la["leases"][1], &lb["leases"][0]);
    assert_eq!(range(a_dom), (8, 27));
    assert_eq!(range(a_sktm), (1, 100), "a lease holds at most 100 numbers");
    assert_eq!(range(b_dom), (28, 47), "B's block starts where A's ends, whatever its floor");
    let (status, bad) = a.lease(&[("domisili", 5, 0)]);
    assert_eq!((status, bad["code"].as_str()), (400, Some("bad_request")), "{bad}");

    let ok = issue(&mut a, a_dom, 8, LETTER_A);
    let again = issue(&mut a, a_dom, 8, LETTER_A);
    let taken = issue(&mut a, a_dom, 8, LETTER_B);
    let outside = issue(&mut a, a_dom, 28, LETTER_B);
    let not_mine = issue(&mut a, b_dom, 29, LETTER_B);
    let ops = [ok, again, taken, outside, not_mine];
    let (status, res) = a.push(&ops);
    assert_eq!(status, 200, "{res}");
    let outcomes: Vec<&str> =
        res["results"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["ok", "ok", "conflict", "conflict", "conflict"], "{res}");
    assert!(res["results"][2]["message"].as_str().unwrap().contains("sudah dipakai"), "{res}");
    assert!(res["results"][3]["message"].as_str().unwrap().contains("di luar rentang"), "{res}");
    assert!(res["results"][4]["message"].as_str().unwrap().contains("perangkat"), "{res}");
    // The answer lost on the way, the PC sends the same push again: each op is answered as it
    // was the first time (a refused number answered ok would be printed unrecorded), and
    // nothing is applied twice.
    let (status, repeat) = a.push(&ops);
    assert_eq!(status, 200, "{repeat}");
    assert_eq!(repeat["results"], res["results"]);

    // B issues its own first number; the city's register holds each serial once.
    let first_b = issue(&mut b, b_dom, 28, LETTER_B);
    let (status, res) = b.push(&[first_b]);
    assert_eq!((status, res["results"][0]["outcome"].as_str()), (200, Some("ok")), "{res}");
    let issued = kota.db.rows("SELECT series, serial FROM issued_numbers ORDER BY serial", "");
    assert_eq!(issued, [[json!("2026/domisili"), json!(8)], [json!("2026/domisili"), json!(28)]]);
}

const ASK_A: &str = "019f0000-0000-7000-8000-0000000a5c01";
const ASK_B: &str = "019f0000-0000-7000-8000-0000000b5c01";

fn give_back(pc: &mut Pc, lease: &Value, first: u64, last: u64) -> Value {
    let args = json!({"lease_id": lease["lease_id"], "series": lease["series"], "first": first,
                      "last": last});
    pc.command("return_numbers", args)
}

#[test]
fn a_counter_number_asked_twice_is_leased_once_and_numbers_given_back_or_left_void_are_unused() {
    let kota = Kota::start();
    let mut a = Pc::enrol(&kota, 1);
    let b = Pc::enrol(&kota, 2);
    let (_, reserve) = a.lease(&[("2025/domisili", 5, 0)]);
    let reserve = &reserve["leases"][0];
    assert_eq!(range(reserve), (1, 5));
    // The number for the letter at A's counter, asked again after its answer was lost: the same
    // lease, not a second number.
    let (status, one) = a.lease_one("2025/domisili", ASK_A);
    assert_eq!(status, 200, "{one}");
    let (_, again) = a.lease_one("2025/domisili", ASK_A);
    assert_eq!(
        (one["leases"][0]["lease_id"].as_str(), range(&one["leases"][0])),
        (Some(ASK_A), (6, 6))
    );
    assert_eq!(again["leases"], one["leases"], "asked twice, leased once");
    let (_, at_b) = b.lease_one("2025/domisili", ASK_B);
    assert_eq!(range(&at_b["leases"][0]), (7, 7), "the next counter number is the next serial");
    let (status, stolen) = b.lease_one("2025/domisili", ASK_A);
    assert_eq!((status, stolen["code"].as_str()), (400, Some("bad_request")), "{stolen}");

    // A issues 1 and 2 from its reserve and its counter number, then gives back 3–5 (the
    // year ended). A repeat is answered ok; a range holding an issued number is refused; a
    // number given back cannot be issued any more.
    let ops = [
        issue(&mut a, reserve, 1, LETTER_A),
        issue(&mut a, reserve, 2, LETTER_B),
        issue(&mut a, &one["leases"][0], 6, "019f0000-0000-7000-8000-00000000a006"),
        give_back(&mut a, reserve, 3, 5),
        give_back(&mut a, reserve, 3, 5),
        give_back(&mut a, reserve, 2, 5),
        give_back(&mut a, reserve, 5, 6),
        issue(&mut a, reserve, 4, "019f0000-0000-7000-8000-00000000a004"),
    ];
    let (status, res) = a.push(&ops);
    assert_eq!(status, 200, "{res}");
    let outcomes: Vec<&str> =
        res["results"].as_array().unwrap().iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(
        outcomes,
        ["ok", "ok", "ok", "ok", "ok", "rejected", "rejected", "conflict"],
        "{res}"
    );
    assert!(res["results"][5]["message"].as_str().unwrap().contains("sudah terbit"), "{res}");
    assert!(res["results"][6]["message"].as_str().unwrap().contains("di luar rentang"), "{res}");
    assert!(res["results"][7]["message"].as_str().unwrap().contains("tidak terpakai"), "{res}");

    // B is revoked holding its counter number: it is recorded unused, as void.
    let (ok, _, err) = cli(&kota.db, &["devices", "revoke", &b.id]);
    assert!(ok, "{err}");
    let unused = kota.db.rows("SELECT serial, why FROM unused_numbers ORDER BY serial", "");
    assert_eq!(
        unused,
        [
            [json!(3), json!("returned")],
            [json!(4), json!("returned")],
            [json!(5), json!("returned")],
            [json!(7), json!("void")]
        ]
    );
}

#[test]
fn a_restored_copy_is_fenced_when_it_reuses_an_op_number_or_holds_fewer_ops_and_enrols_again() {
    let kota = Kota::start();
    let now = kota.server_time() << 16;
    // A pushes two changes and leases numbers; then its database is restored from a backup
    // taken after the first, and the copy makes a different second change.
    let mut a = Pc::enrol(&kota, 1);
    let mut reader = Pc::enrol(&kota, 3);
    let (_, leased) = a.lease(&[("2026/domisili", 20, 0)]);
    let first = a.set("*", json!({"name": {"full_name": "Siti Aminah"}}), now);
    let second = a.set("address", json!({"rt": "003"}), now + 1);
    assert_eq!(a.push(&[first.clone(), second.clone()]).0, 200);
    let (status, again) = a.push(&[second.clone()]);
    assert_eq!((status, again["acked_through"].as_u64()), (200, Some(2)), "a repeat is fine");
    a.next_seq = 2;
    let other = a.set("address", json!({"rt": "009"}), now + 2);
    let (status, fenced) = a.push(&[other]);
    assert_eq!((status, fenced["code"].as_str()), (409, Some("epoch_fenced")), "{fenced}");
    let (status, _) = a.send("GET", "/v1/whoami", &Value::Null);
    assert_eq!(status, 409, "locked out until it enrols again");
    let seen = reader.pull_all(100);
    assert!(
        !seen.is_empty() && seen.iter().all(|c| c["value"] != json!({"rt": "009"})),
        "{seen:?}"
    );
    let lease = leased["leases"][0]["lease_id"].as_str().unwrap();
    let state = kota.db.rows("SELECT state FROM number_leases WHERE lease_id = ?1", lease);
    assert_eq!(state, [[json!("void")]]);

    // A copy that simply holds fewer ops than it had sent is fenced at its first pull.
    let mut b = Pc::enrol(&kota, 2);
    let ops = [
        b.set("*", json!({"name": {"full_name": "B"}}), now),
        b.set("name", json!({"full_name": "B2"}), now + 1),
    ];
    assert_eq!(b.push(&ops).0, 200);
    let (status, ok) = b.send("GET", "/v1/pull?cursor=0&limit=10&head=2", &Value::Null);
    assert_eq!(status, 200, "{ok}");
    let (status, fenced) = b.send("GET", "/v1/pull?cursor=0&limit=10&head=1", &Value::Null);
    assert_eq!((status, fenced["code"].as_str()), (409, Some("epoch_fenced")), "{fenced}");

    // A pull signed before a push and delivered after it (held up on the way, or replayed)
    // says the PC holds fewer ops than it does: stale, not a copy. Nothing is fenced.
    let mut c = Pc::enrol(&kota, 4);
    let path = "/v1/pull?cursor=0&limit=10&head=0";
    let early = signed(&c.key, &c.id, "GET", path, kota.server_time() - 5_000, b"");
    let op = c.set("*", json!({"name": {"full_name": "C"}}), now);
    assert_eq!(c.push(&[op]).0, 200);
    let (status, late) = kota.http("GET", path, Some(&early), b"");
    assert_eq!(status, 200, "{late}");
    let (status, _) = c.send("GET", "/v1/whoami", &Value::Null);
    assert_eq!(status, 200, "still enrolled");

    // Enrolled again (a new key, a new id), the copy goes on numbering where it was.
    let key = SigningKey::from_bytes(&[9; 32]);
    let (status, v) = kota.enrol_from(&kota.code(), &key, 2);
    assert_eq!(status, 200, "{v}");
    let mut again = Pc {
        kota: &kota,
        key,
        id: v["device_id"].as_str().unwrap().into(),
        next_seq: 2,
        cursor: 0,
    };
    let fix = again.set("address", json!({"rt": "009"}), now + 3);
    let (status, res) = again.push(&[fix]);
    assert_eq!((status, res["acked_through"].as_u64()), (200, Some(2)), "{res}");
    assert!(reader.pull_all(100).iter().any(|c| c["value"] == json!({"rt": "009"})));
    let events = kota.db.rows("SELECT kind FROM security_events WHERE kind = 'restored_copy'", "");
    assert_eq!(events.len(), 2, "{events:?}");
}

/// A `set` of `group` on `row` (an op body; `*` for a new row holding its groups).
fn set_on(pc: &mut Pc, row: &str, group: &str, value: Value, hlc: u64) -> Value {
    let mut op = pc.set(group, value, hlc);
    op["row_id"] = json!(row);
    op
}

/// Every snapshot page for `pc`, `limit` rows at a time: the rows in order, and the pages.
fn snapshot_all(pc: &Pc, limit: u32) -> (Vec<Value>, usize) {
    let (mut rows, mut pages, mut after) = (Vec::new(), 0, String::new());
    loop {
        let mut path = format!("/v1/snapshot?limit={limit}");
        if !after.is_empty() {
            path.push_str(&format!("&after={after}"));
        }
        let (status, page) = pc.send("GET", &path, &Value::Null);
        assert_eq!(status, 200, "{page}");
        let page: balai_protocol::SnapshotPage = serde_json::from_value(page).unwrap();
        pages += 1;
        rows.extend(page.rows.iter().map(|r| serde_json::to_value(r).unwrap()));
        if page.next_after.is_empty() {
            return (rows, pages);
        }
        after = page.next_after;
        assert!(pages < 100, "pages never end");
    }
}

#[test]
fn a_first_sync_reads_the_rows_by_key_in_pages_each_group_with_its_stamp_and_not_its_own() {
    let kota = Kota::start();
    let (mut a, mut b) = (Pc::enrol(&kota, 1), Pc::enrol(&kota, 2));
    let rows: Vec<String> =
        (1..=5).map(|i| format!("019f0000-0000-7000-8000-0000000001{i:02}")).collect();
    let ops: Vec<Value> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let value =
                json!({"address": {"rt": format!("00{i}")}, "name": {"full_name": "WARGA"}});
            set_on(&mut a, r, "*", value, 100 + i as u64)
        })
        .collect();
    let (status, v) = a.push(&ops);
    assert_eq!(status, 200, "{v}");
    // B renames the third row later.
    let later = set_on(&mut b, &rows[2], "name", json!({"full_name": "WARGA BARU"}), 500);
    let (status, v) = b.push(&[later]);
    assert_eq!(status, 200, "{v}");

    let c = Pc::enrol(&kota, 3);
    let (seen, pages) = snapshot_all(&c, 2);
    assert_eq!(pages, 3, "five rows in pages of two");
    let ids: Vec<&str> = seen.iter().map(|r| r["row_id"].as_str().unwrap()).collect();
    assert_eq!(ids, rows.iter().map(String::as_str).collect::<Vec<_>>(), "each row once, in order");
    let dev = |v: &Value| uuid::Uuid::parse_str(v.as_str().unwrap()).unwrap();
    let renamed = &seen[2];
    assert_eq!(
        (renamed["hlc"].as_u64(), dev(&renamed["device"]).to_string()),
        (Some(102), a.id.clone())
    );
    assert_eq!(renamed["groups"]["name"], json!({"full_name": "WARGA BARU"}));
    assert_eq!(renamed["groups"]["address"], json!({"rt": "002"}));
    assert_eq!(renamed["stamps"]["name"]["hlc"], 500, "{renamed}");
    assert_eq!(dev(&renamed["stamps"]["name"]["device"]).to_string(), b.id);
    assert!(seen[0].get("stamps").is_none(), "one change, one stamp: {}", seen[0]);

    // A's own versions are not sent back to it: only B's rename.
    let (mine, _) = snapshot_all(&a, 10);
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["row_id"], json!(rows[2]));
    assert_eq!(mine[0]["groups"], json!({"name": {"full_name": "WARGA BARU"}}));

    // Signed requests only, and a position that is a row key.
    let (status, _) = kota.http("GET", "/v1/snapshot?limit=2", None, &[]);
    assert_eq!(status, 401);
    let (status, err) = c.send("GET", "/v1/snapshot?after=residents", &Value::Null);
    assert_eq!((status, err["code"].as_str()), (400, Some("bad_request")), "{err}");
}

/// The `identity_conflict` entries among pulled feed entries, as (fields, kept, lost) values.
fn conflicts_in(seen: &[Value]) -> Vec<(Value, Value, Value)> {
    seen.iter()
        .filter(|c| c["kind"] == "command" && c["name"] == "identity_conflict")
        .map(|c| {
            let a = &c["args"];
            (a["fields"].clone(), a["kept"]["value"].clone(), a["lost"]["value"].clone())
        })
        .collect()
}

#[test]
fn concurrent_identity_overwrites_with_a_different_value_are_recorded_for_review_and_others_are_not(
) {
    let kota = Kota::start();
    let (mut a, mut b, mut c) = (Pc::enrol(&kota, 1), Pc::enrol(&kota, 2), Pc::enrol(&kota, 3));
    let mut city = Pc::enrol(&kota, 4);
    let now = kota.server_time() << 16;
    let who = |nik: &str, name: &str| json!({"nik": nik, "full_name": name, "sex": "P"});
    let make = a.set(
        "*",
        json!({"identity": who("1872045508900001", "SITI AMINAH"), "address": {"rt": "001"}}),
        now,
    );
    let (status, v) = a.push_seen(&[make], 0);
    assert_eq!(status, 200, "{v}");
    for pc in [&mut a, &mut b, &mut c] {
        pc.pull_all(100);
    }
    let (a_seen, b_seen) = (a.cursor, b.cursor);

    // B corrects the NIK; A, not having pulled it, types another NIK later: A's wins (later),
    // and B's value is recorded as lost.
    let b_fix = b.set("identity", who("1872045508900002", "SITI AMINAH"), now + 10);
    let (status, v) = b.push_seen(&[b_fix], b_seen);
    assert_eq!((status, v["results"][0]["outcome"].as_str()), (200, Some("ok")), "{v}");
    let a_fix = a.set("identity", who("1872045508900003", "SITI AMINAH"), now + 20);
    let (status, v) = a.push_seen(&[a_fix], a_seen);
    assert_eq!((status, v["results"][0]["outcome"].as_str()), (200, Some("ok")), "{v}");
    let seen = city.pull_all(100);
    assert_eq!(
        conflicts_in(&seen),
        [(
            json!(["nik"]),
            who("1872045508900003", "SITI AMINAH"),
            who("1872045508900002", "SITI AMINAH")
        )],
        "{seen:?}"
    );

    // C pulled everything first: its rename replaces A's NIK edit knowingly (no conflict); its
    // address edit is no identity.
    c.pull_all(100);
    let rename = c.set("identity", who("1872045508900003", "SITI AMINAH BINTI UMAR"), now + 30);
    let moved = c.set("address", json!({"rt": "002"}), now + 31);
    let (status, v) = c.push_seen(&[rename, moved], c.cursor);
    assert_eq!(status, 200, "{v}");
    // B, still offline, renames earlier than C did: it loses, and a different name is a conflict
    // even from an old client that says nothing of what it saw. The same name is none.
    let b_late = b.set("identity", who("1872045508900003", "SITI AMINA"), now + 25);
    let b_same = b.set("identity", who("1872045508900003", "SITI AMINAH BINTI UMAR"), now + 26);
    let (status, v) = b.push(&[b_late, b_same]);
    assert_eq!(status, 200, "{v}");
    let seen = city.pull_all(100);
    let found = conflicts_in(&seen);
    assert_eq!(
        found,
        [(
            json!(["full_name"]),
            who("1872045508900003", "SITI AMINAH BINTI UMAR"),
            who("1872045508900003", "SITI AMINA")
        )],
        "{seen:?}"
    );
    // Every PC hears of them, the one whose value lost too.
    assert_eq!(conflicts_in(&b.pull_all(100)).len(), 2);

    // A new PC's first sync brings the open conflicts; a review closes one for every PC, once.
    let ids: Vec<String> = kota
        .db
        .rows("SELECT conflict_id FROM identity_conflicts ORDER BY at_ms, conflict_id", "")
        .into_iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    let review = |pc: &mut Pc, id: &str| {
        let op =
            pc.command("review_conflict", json!({"conflict_id": id, "note": "NIK dicek di KK"}));
        let (status, v) = pc.push(&[op]);
        assert_eq!(status, 200, "{v}");
        v["results"][0].clone()
    };
    assert_eq!(review(&mut a, &ids[0])["outcome"], "ok");
    assert_eq!(review(&mut b, &ids[0])["outcome"], "ok", "a second review stands aside");
    let unknown = review(&mut b, "019f0000-0000-7000-8000-00000000ffff");
    assert_eq!(
        (unknown["outcome"].as_str(), unknown["code"].as_str()),
        (Some("rejected"), Some("not_found"))
    );
    let reviews: Vec<Value> =
        city.pull_all(100).into_iter().filter(|c| c["name"] == "review_conflict").collect();
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    assert_eq!(reviews[0]["args"]["conflict_id"], json!(ids[0]));
    assert_eq!(reviews[0]["args"]["note"], "NIK dicek di KK");
    let fresh = Pc::enrol(&kota, 5);
    let (status, last) = fresh.send("GET", "/v1/snapshot?limit=100", &Value::Null);
    assert_eq!(status, 200, "{last}");
    let open: Vec<&Value> = last["commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "identity_conflict")
        .collect();
    assert_eq!(open.len(), 1, "{last}");
    assert_eq!(open[0]["args"]["conflict_id"], json!(ids[1]));
}

#[test]
fn a_copy_from_before_a_lease_ask_is_fenced_by_its_next_ask_or_pull_and_its_numbers_recorded_unused(
) {
    let kota = Kota::start();
    let ask = |n: u32| format!("019f0000-0000-7000-8000-00000000a{n:03}");
    // The PC asks twice (asks 1 and 2); a copy of its database from between them asks its
    // "second" again under a new id: the number was the other lease's, so it is a copy.
    let a = Pc::enrol(&kota, 1);
    for n in 1..=2 {
        let (status, v) = a.lease_numbered("2026/domisili", &ask(n), u64::from(n));
        assert_eq!(status, 200, "{v}");
    }
    let (status, again) = a.lease_numbered("2026/domisili", &ask(2), 2);
    assert_eq!((status, again["leases"][0]["first"].as_u64()), (200, Some(2)), "a repeat: {again}");
    let (status, fenced) = a.lease_numbered("2026/domisili", &ask(3), 2);
    assert_eq!((status, fenced["code"].as_str()), (409, Some("epoch_fenced")), "{fenced}");
    let unused = kota.db.rows(
        "SELECT serial, why FROM unused_numbers WHERE series = '2026/domisili' ORDER BY serial",
        "",
    );
    assert_eq!(unused, [[json!(1), json!("void")], [json!(2), json!("void")]], "both its numbers");

    // Another PC's copy says in its pull that it asked once, while the city granted it two.
    let b = Pc::enrol(&kota, 2);
    let early = "/v1/pull?cursor=0&limit=10&head=0&asks=1";
    let stale = signed(&b.key, &b.id, "GET", early, kota.server_time() - 5_000, b"");
    for n in 11..=12 {
        let (status, v) = b.lease_numbered("2026/sktm", &ask(n), u64::from(n - 10));
        assert_eq!(status, 200, "{v}");
    }
    // Signed before the second ask and delivered after it: stale, not a copy.
    let (status, v) = kota.http("GET", early, Some(&stale), b"");
    assert_eq!(status, 200, "{v}");
    let (status, v) = b.send("GET", "/v1/pull?cursor=0&limit=10&head=0&asks=2", &Value::Null);
    assert_eq!(status, 200, "{v}");
    let (status, fenced) = b.send("GET", early, &Value::Null);
    assert_eq!((status, fenced["code"].as_str()), (409, Some("epoch_fenced")), "{fenced}");
}

#[test]
fn an_anonymised_resident_is_rewritten_through_the_feed_and_a_new_pc_never_receives_the_name() {
    let kota = Kota::start();
    let mut a = Pc::enrol(&kota, 1);
    let mut b = Pc::enrol(&kota, 2);
    let now = kota.server_time() << 16;
    let who = |name: &str, nik: &str| json!({"nik": nik, "full_name": name});
    let create = a.set(
        "*",
        json!({"identity": who("Wiryo Sepuh", "1872040101500002"), "address": {"address": "Jl. Mawar 3", "rt": "001"}}),
        now,
    );
    let rename = a.set("identity", who("Wiryo Sepuh Tua", "1872040101500002"), now + 10);
    // The event of his death names him by the row's hex id, with a note.
    let mut death = a.set("*", json!({"event": {"resident_id": uuid::Uuid::parse_str(ROW).unwrap().simple().to_string(), "kind": "mati", "details": "sakit jantung"}}), now + 11);
    death["table"] = json!("resident_events");
    death["row_id"] = json!("019f0000-0000-7000-8000-0000000000bb");
    assert_eq!(a.push(&[create, rename, death.clone()]).0, 200);
    // B had pulled it all before the anonymisation.
    assert!(b.pull_all(100).len() >= 3);

    let anon = a.set("identity", who("ANONIM", "9912345678901234"), now + 20);
    let moved = a.set("address", json!({"address": "", "rt": "001"}), now + 21);
    let mut note = a.set("event", json!({"resident_id": uuid::Uuid::parse_str(ROW).unwrap().simple().to_string(), "kind": "mati", "details": ""}), now + 22);
    note["table"] = json!("resident_events");
    note["row_id"] = death["row_id"].clone();
    let (status, res) = a.push(&[anon, moved, note]);
    assert_eq!(status, 200, "{res}");

    for needle in ["Wiryo", "1872040101500002", "Mawar", "jantung"] {
        for table in ["feed", "row_groups"] {
            let column = if table == "feed" { "body" } else { "value" };
            let rows = kota.db.rows(
                &format!("SELECT {column} FROM {table} WHERE {column} LIKE ?1"),
                &format!("%{needle}%"),
            );
            assert!(rows.is_empty(), "{needle} in {table}: {rows:?}");
        }
    }
    // A PC that reads the feed from the start gets the record anonymised; B, which had the old
    // versions, receives the anonymised ones (and the shared merge gives the same row).
    let mut fresh = Pc::enrol(&kota, 3);
    let seen = fresh.pull_all(100);
    assert!(!seen.iter().any(|c| c.to_string().contains("Wiryo")), "{seen:?}");
    let rows = replay(&seen);
    assert_eq!(value_of(&rows, "identity"), Some(who("ANONIM", "9912345678901234")));
    let rows_b = replay(&b.pull_all(100));
    assert_eq!(value_of(&rows_b, "identity"), Some(who("ANONIM", "9912345678901234")));
}
