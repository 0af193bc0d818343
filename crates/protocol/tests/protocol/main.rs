//! The wire contract: each body's JSON shape is pinned, and bodies round-trip, including field
//! groups and columns this version does not know.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use balai_protocol::*;
use serde_json::{json, Value};
use uuid::Uuid;

fn versions() -> Versions {
    Versions { protocol: PROTOCOL, schema_version: 4, app_version: "0.1.0".into() }
}

/// `value` serialises to exactly `expect` and reads back equal.
fn check<T>(value: &T, expect: Value)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let got = serde_json::to_value(value).unwrap();
    assert_eq!(got, expect);
    let back: T = serde_json::from_value(got).unwrap();
    assert_eq!(&back, value);
}

const DEVICE: Uuid = Uuid::from_u128(0x019f_0000_0000_7000_8000_0000_0000_0001);
const ROW: Uuid = Uuid::from_u128(0x019f_0000_0000_7000_8000_0000_0000_00aa);
const CHANGE: Uuid = Uuid::from_u128(0x019f_0000_0000_7000_8000_0000_0000_0c01);
const EPOCH: Uuid = Uuid::from_u128(0x019f_0000_0000_7000_8000_0000_0000_e001);

#[test]
fn a_push_carries_versions_device_and_ops_tagged_by_kind() {
    let push = PushRequest {
        versions: versions(),
        device_id: DEVICE,
        epoch: 1,
        ops: vec![
            Op {
                device_seq: 7,
                change_id: CHANGE,
                user_id: "u1".into(),
                body: OpBody::Set {
                    table: "residents".into(),
                    row_id: ROW,
                    field_group: "address".into(),
                    value: json!({"rt": "003", "rw": "002"}),
                    hlc: 42,
                },
            },
            Op {
                device_seq: 8,
                change_id: CHANGE,
                user_id: "u1".into(),
                body: OpBody::Command { name: "void_letter".into(), args: json!({"id": "x"}) },
            },
        ],
        seen_through: Some(31),
    };
    check(
        &push,
        json!({
            "protocol": 1, "schema_version": 4, "app_version": "0.1.0",
            "device_id": DEVICE.to_string(), "epoch": 1,
            "ops": [
                {"device_seq": 7, "change_id": CHANGE.to_string(), "user_id": "u1", "kind": "set",
                 "table": "residents", "row_id": ROW.to_string(), "field_group": "address",
                 "value": {"rt": "003", "rw": "002"}, "hlc": 42},
                {"device_seq": 8, "change_id": CHANGE.to_string(), "user_id": "u1",
                 "kind": "command", "name": "void_letter", "args": {"id": "x"}},
            ],
            "seen_through": 31,
        }),
    );
}

#[test]
fn an_identity_difference_is_only_in_the_identity_fields_of_an_identity_group() {
    let a = json!({"nik": "1872045508900001", "full_name": "SITI", "sex": "P"});
    let mut b = a.clone();
    b["sex"] = json!("L");
    assert!(identity_differences("residents", "identity", &a, &b).is_empty(), "sex is no identity");
    b["full_name"] = json!("SITI AMINAH");
    b["nik"] = json!("1872045508900002");
    assert_eq!(identity_differences("residents", "identity", &a, &b), ["nik", "full_name"]);
    assert!(identity_differences("residents", "address", &a, &b).is_empty());
    let (kk, other_kk) = (json!({"no_kk": "1", "rt": "001"}), json!({"no_kk": "2", "rt": "001"}));
    assert_eq!(identity_differences("families", "family", &kk, &other_kk), ["no_kk"]);
    // A field missing on one side (an older version of the group) differs from one that is set.
    assert_eq!(identity_differences("families", "family", &json!({}), &kk), ["no_kk"]);
}

#[test]
fn push_results_say_ok_rejected_or_conflict_per_op() {
    let res = PushResponse {
        acked_through: 9,
        results: vec![
            OpResult { device_seq: 7, outcome: Outcome::Ok { clamped_hlc: None } },
            OpResult { device_seq: 8, outcome: Outcome::Ok { clamped_hlc: Some(5) } },
            OpResult {
                device_seq: 9,
                outcome: Outcome::Rejected {
                    code: "cross_tenant".into(),
                    message: "Baris milik kelurahan lain.".into(),
                },
            },
        ],
        server_time_ms: 1_796_000_000_000,
        server_epoch: EPOCH,
    };
    check(
        &res,
        json!({
            "acked_through": 9,
            "results": [
                {"device_seq": 7, "outcome": "ok"},
                {"device_seq": 8, "outcome": "ok", "clamped_hlc": 5},
                {"device_seq": 9, "outcome": "rejected", "code": "cross_tenant",
                 "message": "Baris milik kelurahan lain."},
            ],
            "server_time_ms": 1_796_000_000_000u64, "server_epoch": EPOCH.to_string(),
        }),
    );
}

#[test]
fn field_groups_and_columns_this_version_does_not_know_travel_unchanged() {
    // As a newer client would send it: an unknown group with unknown columns.
    let wire = json!({
        "server_seq": 12, "origin_device": DEVICE.to_string(), "kind": "set",
        "table": "residents", "row_id": ROW.to_string(), "field_group": "disability_v9",
        "value": {"kind": "rungu", "since": "2024"}, "hlc": 77,
    });
    let change: FeedChange = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(serde_json::to_value(&change).unwrap(), wire);
}

#[test]
fn pull_pages_errors_enrolment_and_digests_have_their_shapes() {
    check(
        &PullResponse {
            changes: vec![FeedChange {
                server_seq: 3,
                origin_device: DEVICE,
                body: OpBody::Delete { table: "residents".into(), row_id: ROW, hlc: 9 },
            }],
            next_cursor: 3,
            has_more: false,
            server_time_ms: 5,
            server_epoch: EPOCH,
            reference_seq: 0,
        },
        json!({
            "changes": [{"server_seq": 3, "origin_device": DEVICE.to_string(), "kind": "delete",
                         "table": "residents", "row_id": ROW.to_string(), "hlc": 9}],
            "next_cursor": 3, "has_more": false, "server_time_ms": 5,
            "server_epoch": EPOCH.to_string(),
        }),
    );
    check(
        &ErrorBody {
            code: "gap".into(),
            message: "Urutan terputus.".into(),
            expected_seq: Some(4),
        },
        json!({"code": "gap", "message": "Urutan terputus.", "expected_seq": 4}),
    );
    check(
        &EnrolRequest {
            versions: versions(),
            code: "K7Q2-MX9P".into(),
            public_key_hex: "ab".repeat(32),
            hostname: "loket-1".into(),
            first_seq: 41,
            office_kelurahan: Some("18.72.04.1004".into()),
            replaces: Some(DEVICE),
        },
        json!({"protocol": 1, "schema_version": 4, "app_version": "0.1.0", "code": "K7Q2-MX9P",
               "public_key_hex": "ab".repeat(32), "hostname": "loket-1", "first_seq": 41,
               "office_kelurahan": "18.72.04.1004", "replaces": DEVICE.to_string()}),
    );
    // An older client says nothing of them: its outbox starts at 1, its kelurahan unchecked.
    let old: EnrolRequest = serde_json::from_value(json!({"protocol": 1, "schema_version": 4,
        "app_version": "0.1.0", "code": "K", "public_key_hex": "ab", "hostname": "h"}))
    .unwrap();
    assert_eq!((old.first_seq, old.office_kelurahan, old.replaces), (1, None, None));
    check(
        &TableDigest { table: "residents".into(), rows: 2, hash_hex: "00ff".into() },
        json!({"table": "residents", "rows": 2, "hash_hex": "00ff"}),
    );
}

#[test]
fn a_digest_is_the_same_in_any_order_and_changes_with_any_clock() {
    let other = Uuid::from_u128(7);
    let entries =
        [(ROW, "identity", 5, DEVICE), (ROW, "address", 6, DEVICE), (other, "identity", 9, DEVICE)];
    let digest = |order: &[usize]| {
        let mut sum = DigestSum::default();
        for &i in order {
            let (row, group, hlc, device) = entries[i];
            sum.add("residents", row, group, hlc, device);
        }
        sum.finish("residents")
    };
    let a = digest(&[0, 1, 2]);
    assert_eq!(a, digest(&[2, 0, 1]));
    assert_eq!(a.rows, 2);
    assert_eq!(a.hash_hex.len(), 32);
    let mut changed = DigestSum::default();
    changed.add("residents", ROW, "identity", 5, DEVICE);
    changed.add("residents", ROW, "address", 7, DEVICE);
    changed.add("residents", other, "identity", 9, DEVICE);
    assert_ne!(changed.finish("residents"), a, "a later clock of one group");
    assert_ne!(digest(&[0, 1]), a, "a group missing");
    // Each entry is the first 16 bytes of the SHA-256 of `table|row|group|hlc|device` (an
    // older peer computes it so): the sum written out by hand agrees.
    let by_hand = entries.iter().fold(0u128, |acc, (row, group, hlc, device)| {
        use sha2::Digest;
        let hash = sha2::Sha256::digest(format!("residents|{row}|{group}|{hlc}|{device}"));
        acc.wrapping_add(u128::from_be_bytes(hash[..16].try_into().unwrap()))
    });
    assert_eq!(a.hash_hex, format!("{by_hand:032x}"));
    let mut large = DigestSum::default();
    large.add("residents", ROW, "identity", u64::MAX, DEVICE);
    let hash = {
        use sha2::Digest;
        sha2::Sha256::digest(format!("residents|{ROW}|identity|{}|{DEVICE}", u64::MAX))
    };
    let expect = u128::from_be_bytes(hash[..16].try_into().unwrap());
    assert_eq!(large.finish("residents").hash_hex, format!("{expect:032x}"));
}

#[test]
fn a_body_without_its_versions_is_refused_when_read() {
    let wire = json!({"device_id": DEVICE.to_string(), "epoch": 1, "ops": []});
    let err = serde_json::from_value::<PushRequest>(wire).unwrap_err();
    assert!(err.to_string().contains("protocol"), "{err}");
}

#[test]
fn a_lease_is_asked_per_series_and_granted_as_a_serial_range() {
    let req = LeaseRequest {
        versions: versions(),
        device_id: DEVICE,
        epoch: 2,
        wants: vec![
            LeaseWant {
                series: "2026/domisili".into(),
                size: 20,
                floor: 7,
                lease_id: None,
                ask_seq: None,
            },
            LeaseWant {
                series: "2026/sktm".into(),
                size: 1,
                floor: 0,
                lease_id: Some(CHANGE),
                ask_seq: Some(12),
            },
        ],
    };
    check(
        &req,
        json!({
            "protocol": 1, "schema_version": 4, "app_version": "0.1.0",
            "device_id": DEVICE.to_string(), "epoch": 2,
            "wants": [
                {"series": "2026/domisili", "size": 20, "floor": 7},
                {"series": "2026/sktm", "size": 1, "floor": 0, "lease_id": CHANGE.to_string(),
                 "ask_seq": 12},
            ],
        }),
    );
    let res = LeaseResponse {
        leases: vec![Lease { lease_id: ROW, series: "2026/domisili".into(), first: 8, last: 27 }],
        server_time_ms: 5,
        server_epoch: EPOCH,
    };
    check(
        &res,
        json!({
            "leases": [{"lease_id": ROW.to_string(), "series": "2026/domisili", "first": 8, "last": 27}],
            "server_time_ms": 5, "server_epoch": EPOCH.to_string(),
        }),
    );
    let issue = IssueLetter {
        letter_id: ROW,
        lease_id: CHANGE,
        series: "2026/*".into(),
        serial: 9,
        number: "470/009/YSR/XII/2026".into(),
        issued_on: "2026-12-03".into(),
    };
    check(
        &issue,
        json!({
            "letter_id": ROW.to_string(), "lease_id": CHANGE.to_string(), "series": "2026/*",
            "serial": 9, "number": "470/009/YSR/XII/2026", "issued_on": "2026-12-03",
        }),
    );
    check(
        &ReturnNumbers { lease_id: CHANGE, series: "2025/*".into(), first: 12, last: 20 },
        json!({"lease_id": CHANGE.to_string(), "series": "2025/*", "first": 12, "last": 20}),
    );
    assert_eq!(RETURN_NUMBERS, "return_numbers");
}

#[test]
fn keys_and_voids_travel_as_commands_without_the_reason() {
    check(
        &PublishKey { key_id: "0011223344556677".into(), public_hex: "ab".repeat(32) },
        json!({"key_id": "0011223344556677", "public_hex": "ab".repeat(32)}),
    );
    check(
        &VoidLetter {
            letter_id: ROW,
            number: "470/009/YSR/XII/2026".into(),
            voided_on: "2026-12-04".into(),
        },
        json!({"letter_id": ROW.to_string(), "number": "470/009/YSR/XII/2026", "voided_on": "2026-12-04"}),
    );
}

#[test]
fn online_requests_travel_down_and_their_claims_and_status_up() {
    check(
        &PublishLetterTypes {
            types: vec![LetterType {
                code: "domisili".into(),
                title: "Surat Keterangan Domisili".into(),
            }],
        },
        json!({"types": [{"code": "domisili", "title": "Surat Keterangan Domisili"}]}),
    );
    check(
        &OnlineRequest {
            request_id: ROW,
            tracking_code: "K7Q2M-X9PAB".into(),
            nik: "1872040101800002".into(),
            no_kk: "1872041203159991".into(),
            letter_type: "domisili".into(),
            purpose: "melamar kerja".into(),
            contact: "".into(),
            submitted_at_ms: 7,
        },
        json!({"request_id": ROW.to_string(), "tracking_code": "K7Q2M-X9PAB", "nik": "1872040101800002",
               "no_kk": "1872041203159991", "letter_type": "domisili", "purpose": "melamar kerja",
               "contact": "", "submitted_at_ms": 7}),
    );
    check(&ClaimRequest { request_id: ROW }, json!({"request_id": ROW.to_string()}));
    check(
        &RequestStatus {
            request_id: ROW,
            status: "selesai".into(),
            note: "Nomor 470/001".into(),
            device: Some(DEVICE),
        },
        json!({"request_id": ROW.to_string(), "status": "selesai", "note": "Nomor 470/001", "device": DEVICE.to_string()}),
    );
}

#[test]
fn a_snapshot_page_carries_rows_with_one_stamp_and_the_later_groups_named() {
    let groups =
        |pairs: &[(&str, Value)]| pairs.iter().map(|(g, v)| (g.to_string(), v.clone())).collect();
    let later = Stamped { hlc: 41, device: CHANGE };
    check(
        &SnapshotPage {
            as_of: 120,
            rows: vec![
                SnapshotRow {
                    table: "residents".into(),
                    row_id: ROW,
                    hlc: 40,
                    device: DEVICE,
                    groups: groups(&[
                        ("address", json!({"rt": "003"})),
                        ("name", json!({"full_name": "SITI"})),
                    ]),
                    stamps: [("name".to_string(), later)].into_iter().collect(),
                    deleted: None,
                },
                SnapshotRow {
                    table: "families".into(),
                    row_id: CHANGE,
                    hlc: 50,
                    device: DEVICE,
                    groups: groups(&[]),
                    stamps: Default::default(),
                    deleted: Some(Stamped { hlc: 50, device: DEVICE }),
                },
            ],
            commands: vec![FeedChange {
                server_seq: 0,
                origin_device: Uuid::nil(),
                body: OpBody::Command { name: ONLINE_REQUEST.into(), args: json!({"x": 1}) },
            }],
            next_after: String::new(),
            server_time_ms: 5,
            server_epoch: EPOCH,
        },
        json!({
            "as_of": 120,
            "rows": [
                {"table": "residents", "row_id": ROW.to_string(), "hlc": 40,
                 "device": DEVICE.to_string(),
                 "groups": {"address": {"rt": "003"}, "name": {"full_name": "SITI"}},
                 "stamps": {"name": {"hlc": 41, "device": CHANGE.to_string()}}},
                {"table": "families", "row_id": CHANGE.to_string(), "hlc": 50,
                 "device": DEVICE.to_string(), "groups": {},
                 "deleted": {"hlc": 50, "device": DEVICE.to_string()}},
            ],
            "commands": [{"server_seq": 0, "origin_device": Uuid::nil().to_string(),
                          "kind": "command", "name": "online_request", "args": {"x": 1}}],
            "next_after": "", "server_time_ms": 5, "server_epoch": EPOCH.to_string(),
        }),
    );
}

#[test]
fn a_scorecard_submission_carries_its_period_total_and_band() {
    check(
        &SubmitContestPeriod {
            ruleset: "spbe".into(),
            edition: "2020".into(),
            period: 2026,
            total: 3.04,
            band: "Baik".into(),
            submitted_by: "lurah".into(),
            submitted_at_ms: 1_780_000_000_000,
        },
        json!({"ruleset": "spbe", "edition": "2020", "period": 2026, "total": 3.04, "band": "Baik",
               "submitted_by": "lurah", "submitted_at_ms": 1_780_000_000_000u64}),
    );
    assert_eq!(SUBMIT_CONTEST_PERIOD, "submit_contest_period");
}

#[test]
fn the_reference_feed_names_its_items_and_a_pull_its_newest_only_when_there_is_one() {
    let with = |seq: u64| PullResponse {
        changes: vec![],
        next_cursor: 0,
        has_more: false,
        server_time_ms: 5,
        server_epoch: EPOCH,
        reference_seq: seq,
    };
    assert!(serde_json::to_value(with(0)).unwrap().get("reference_seq").is_none());
    assert_eq!(serde_json::to_value(with(4)).unwrap()["reference_seq"], 4);
    check(
        &ReferenceResponse {
            items: vec![ReferenceItem {
                seq: 1,
                kind: CONTEST_EDITION.into(),
                key: "lomba-kelurahan/2025".into(),
                body: "ruleset = \"lomba-kelurahan\"".into(),
            }],
            has_more: false,
        },
        json!({"items": [{"seq": 1, "kind": "contest_edition", "key": "lomba-kelurahan/2025",
               "body": "ruleset = \"lomba-kelurahan\""}], "has_more": false}),
    );
}
