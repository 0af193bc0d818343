//! Sync at the app boundary against a real Balai Kota process on loopback.

use crate::letters::{domisili, office};
use crate::login_demo;
use balai_app::areas::letters::MAX_CLOCK_SKEW_MS;
use balai_protocol::{BATCH_MAX_BYTES, BATCH_START_BYTES, PROTOCOL};
use balai_testkit::kota::Kota;
use balai_testkit::TestApp;
use serde_json::json;

/// Issues a domisili letter as the lurah: the number, or the error's (code, message).
fn issue(t: &balai_testkit::TestApp, nik: &str) -> Result<String, (String, String)> {
    let lurah = login_demo(t, "lurah");
    t.call(Some(&lurah), "letters.issue", domisili(nik))
        .map(|v| v["number"].as_str().unwrap().to_string())
        .map_err(|e| {
            (serde_json::to_value(e.code).unwrap().as_str().unwrap().to_string(), e.message)
        })
}

#[test]
fn an_enrolled_pc_whose_clock_is_wrong_issues_no_letter_until_it_is_fixed_and_synced() {
    let kota = Kota::start();
    let (t, niks) = office();
    // The test clock stands at 1 July 2026; the city's is the real time, months later.
    t.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).unwrap();
    let offset = t.operator("sync.status", json!({})).unwrap()["clock_offset_ms"].as_i64().unwrap();
    assert!(offset > MAX_CLOCK_SKEW_MS, "the city's clock is ahead of the test's: {offset}");
    let (code, message) = issue(&t, &niks[0]).unwrap_err();
    assert_eq!(code, "conflict");
    assert!(message.contains("Jam komputer ini terlambat"), "{message}");

    // Set right and synced again: letters are issued, with the city reachable on the city's
    // next number (its reserve, 1–5, is kept for when it is not).
    t.clock.advance(chrono::Duration::milliseconds(offset));
    t.operator("sync.now", json!({})).unwrap();
    let number = issue(&t, &niks[0]).expect("a letter once the clock is right");
    assert!(number.contains("/006/"), "{number}");

    // Set back an hour after that contact: no letter until it is fixed again.
    t.clock.advance(chrono::Duration::hours(-1));
    let (code, message) = issue(&t, &niks[1]).unwrap_err();
    assert_eq!(code, "conflict");
    assert!(message.contains("mundur 60 menit"), "{message}");
    t.clock.advance(chrono::Duration::hours(1));
    assert!(issue(&t, &niks[1]).is_ok());
}

#[test]
fn a_large_register_goes_in_growing_compressed_batches_under_the_limit() {
    let kota = Kota::start();
    let t = TestApp::empty();
    t.operator("demo.seed", json!({"residents": 4000})).unwrap();
    let waiting = t.operator("sync.status", json!({})).unwrap()["pending"].as_u64().unwrap();
    // A second PC of the office, caught up with the city before A sends anything: it will
    // receive A's register through the feed, in more than one page.
    let b = TestApp::empty();
    b.operator("demo.seed", json!({"residents": 0})).unwrap();
    b.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).unwrap();
    b.operator("sync.now", json!({})).unwrap();
    t.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).unwrap();
    let r = t.operator("sync.now", json!({})).unwrap();
    assert!(r["pushed"].as_u64().unwrap() >= waiting, "{r}");
    assert_eq!((r["pending"].as_u64(), r["rejected"].as_u64()), (Some(0), Some(0)), "{r}");
    let (batches, largest) =
        (r["batches"].as_u64().unwrap(), r["largest_batch_bytes"].as_u64().unwrap() as usize);
    // 64 KB compressed, then 128, then up to 256: the budget grew, no body went over the limit.
    assert!(batches >= 3, "{r}");
    assert!(largest > BATCH_START_BYTES && largest <= BATCH_MAX_BYTES, "{r}");

    // The second PC receives all of it: feed pages come compressed, each fetched while the
    // one before is applied.
    let pulled = b.operator("sync.now", json!({})).unwrap();
    assert_eq!(pulled["held"], 0, "{pulled}");
    assert!(pulled["pulled"].as_u64().unwrap() > u64::from(balai_sync::PULL_PAGE), "{pulled}");
    let tok = login_demo(&b, "petugas");
    let all = b.call(Some(&tok), "residents.search", json!({"q": "", "limit": 5000})).unwrap();
    let on_a = t.call(
        Some(&login_demo(&t, "petugas")),
        "residents.search",
        json!({"q": "", "limit": 5000}),
    );
    assert_eq!(all, on_a.unwrap());
}

#[test]
fn a_pc_the_city_finds_too_old_keeps_its_changes_still_receives_and_sends_after_the_update() {
    let mut kota = Kota::start();
    let (a, niks) = office();
    a.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).unwrap();
    let b = TestApp::empty();
    b.operator("demo.seed", json!({"residents": 0})).unwrap();
    b.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).unwrap();
    a.operator("sync.now", json!({})).unwrap();

    // The city wants a protocol newer than this build's: A's new change waits, B's arrives.
    kota.restart_with(&["--min-push-protocol", &(PROTOCOL + 1).to_string()]);
    let petugas = login_demo(&a, "petugas");
    let death = json!({"key": niks[0], "kind": "mati", "date": "30-06-2026", "details": "sakit"});
    a.call(Some(&petugas), "residents.event", death).unwrap();
    let r = a.operator("sync.now", json!({})).unwrap();
    assert_eq!(
        (r["update_required"].as_bool(), r["pushed"].as_u64()),
        (Some(true), Some(0)),
        "{r}"
    );
    assert!(r["pending"].as_u64().unwrap() > 0, "{r}");
    let status = a.operator("sync.status", json!({})).unwrap();
    assert_eq!(status["update_required"], true, "{status}");

    // After the update (here: the city lowers its minimum again) the change goes through.
    kota.restart_with(&[]);
    let r = a.operator("sync.now", json!({})).unwrap();
    assert_eq!(
        (r["update_required"].as_bool(), r["pending"].as_u64()),
        (Some(false), Some(0)),
        "{r}"
    );
    assert_eq!(a.operator("sync.status", json!({})).unwrap()["update_required"], false);
    b.operator("sync.now", json!({})).unwrap();
    let on_b = b.call(Some(&login_demo(&b, "petugas")), "residents.show", json!({"key": niks[0]}));
    let on_b = on_b.unwrap();
    assert_eq!(on_b["status"], "mati", "{on_b}");
}

/// The newest stamp this PC holds, in milliseconds (its clocks and its outbox).
fn newest_stamp_ms(t: &TestApp) -> u64 {
    let c = crate::raw_db(t);
    let hlc: i64 = c
        .query_row(
            "SELECT max((SELECT max(hlc) FROM _sync_clock), (SELECT max(hlc) FROM _sync_outbox))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (hlc as u64) >> 16
}

#[test]
fn a_pc_whose_clock_runs_years_ahead_sends_its_work_stamped_on_the_city_s_time() {
    let kota = Kota::start();
    let t = TestApp::empty();
    // Three years ahead of the test's start, so well ahead of the city's real time.
    t.clock.advance(chrono::Duration::days(3 * 365));
    t.operator("demo.seed", json!({"residents": 40})).unwrap();
    let ahead = newest_stamp_ms(&t);
    t.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).unwrap();
    let round = t.operator("sync.now", json!({})).unwrap();
    let city_ms = round["server_time_ms"].as_u64().unwrap();
    assert!(ahead > city_ms + 365 * 24 * 3600 * 1000, "the register was stamped in the future");
    // What went to the city was re-stamped on its time, so the city took it as it was (no cap)
    // and this PC's copy is the city's.
    assert_eq!(round["rejected"], 0, "{round}");
    assert_eq!(round["digest"], "agreed", "{round}");
    let limit = city_ms + balai_protocol::MAX_FUTURE_MS;
    assert!(newest_stamp_ms(&t) <= limit, "{} > {limit}", newest_stamp_ms(&t));

    // An edit after the contact is stamped on the city's time too, and still wins locally.
    let found = t.operator("residents.search", json!({"q": "", "limit": 1})).unwrap();
    let id = found[0]["id"].clone();
    t.operator(
        "residents.event",
        json!({"key": id, "kind": "pergi", "date": "01-06-2029", "details": "uji"}),
    )
    .unwrap();
    assert!(newest_stamp_ms(&t) <= limit + 60_000);
    let round = t.operator("sync.now", json!({"check": true})).unwrap();
    assert!(round["pushed"].as_u64() >= Some(1), "{round}");
    assert_eq!(round["digest"], "agreed", "{round}");
}
