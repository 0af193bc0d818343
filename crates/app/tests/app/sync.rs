//! Sync at the app boundary against a real Balai Kota process on loopback.

use crate::letters::{domisili, office};
use crate::login_demo;
use balai_app::areas::letters::MAX_CLOCK_SKEW_MS;
use balai_testkit::kota::Kota;
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

    // Set right and synced again: letters are issued (from the city's number leases).
    t.clock.advance(chrono::Duration::milliseconds(offset));
    t.operator("sync.now", json!({})).unwrap();
    let number = issue(&t, &niks[0]).expect("a letter once the clock is right");
    assert!(number.contains("/001/"), "{number}");

    // Set back an hour after that contact: no letter until it is fixed again.
    t.clock.advance(chrono::Duration::hours(-1));
    let (code, message) = issue(&t, &niks[1]).unwrap_err();
    assert_eq!(code, "conflict");
    assert!(message.contains("mundur 60 menit"), "{message}");
    t.clock.advance(chrono::Duration::hours(1));
    assert!(issue(&t, &niks[1]).is_ok());
}
