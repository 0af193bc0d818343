//! Scorecards at the city: indicator values arrive as synced rows, the first submission of a
//! period is kept and passed to the office's other PCs, a second is a conflict, and the
//! dashboard ranks the kelurahan by score.

use crate::dashboard::{exchange, login_admin};
use crate::sync::Pc;
use crate::{cli, Kota, KELURAHAN};
use ed25519_dalek::SigningKey;
use serde_json::{json, Value};

/// A `contest_values` row (one field group, `value`), as a PC pushes it.
fn value(pc: &mut Pc, kelurahan: &str, indicator: &str, level: i64, hlc: u64) -> Value {
    let seq = pc.next_seq;
    pc.next_seq += 1;
    // Distinct per kelurahan and indicator, as the office's own ids are.
    let k: u128 = kelurahan.bytes().map(u128::from).sum();
    let i: u128 = indicator[1..].parse().unwrap();
    let row = uuid::Uuid::from_u128(0x019f_0000_0000_8000_8000_0000_0000_0000 + (k << 16) + i);
    json!({"device_seq": seq, "change_id": uuid::Uuid::now_v7(), "user_id": "u1", "kind": "set",
           "table": "contest_values", "row_id": row, "field_group": "*",
           "value": {"value": {"ruleset": "spbe", "edition": "2020", "period": 2026, "indicator": indicator,
                               "value": level, "note": "", "entered_by": "lurah", "entered_at_ms": 1}},
           "hlc": hlc})
}

fn submission(total: f64, band: &str) -> Value {
    json!({"ruleset": "spbe", "edition": "2020", "period": 2026, "total": total, "band": band,
           "submitted_by": "lurah", "submitted_at_ms": 1_780_000_000_000u64})
}

#[test]
fn the_first_submission_of_a_period_stands_and_the_dashboard_ranks_kelurahan_by_score() {
    let kota = Kota::start();
    let now = kota.server_time() << 16;
    // Yosorejo: every SPBE indicator at 4, submitted by one PC.
    let mut a = Pc::enrol(&kota, 21);
    let mut b = Pc::enrol(&kota, 22);
    let mut ops: Vec<Value> =
        (1..=47).map(|i| value(&mut a, KELURAHAN, &format!("I{i}"), 4, now)).collect();
    ops.push(a.command("submit_contest_period", submission(4.0, "Sangat Baik")));
    let (status, res) = a.push(&ops);
    assert_eq!(status, 200, "{res}");
    assert!(res["results"].as_array().unwrap().iter().all(|r| r["outcome"] == "ok"), "{res}");
    // The other PC of the office receives the values and the submission (and locks the period).
    let feed = b.pull_all(100);
    assert_eq!(feed.iter().filter(|c| c["table"] == "contest_values").count(), 47);
    let sub: Vec<&Value> = feed.iter().filter(|c| c["name"] == "submit_contest_period").collect();
    assert_eq!(sub.len(), 1);
    assert_eq!(sub[0]["args"]["total"], 4.0);
    // Its own submission of the same period is a conflict naming who submitted first.
    let op = b.command("submit_contest_period", submission(3.0, "Baik"));
    let (_, res) = b.push(&[op]);
    assert_eq!(res["results"][0]["outcome"], "conflict", "{res}");
    assert!(
        res["results"][0]["message"].as_str().unwrap().contains("sudah dikirim oleh lurah"),
        "{res}"
    );
    // An unknown edition is refused.
    let op = b.command(
        "submit_contest_period",
        json!({"ruleset": "spbe", "edition": "1999", "period": 2025,
        "total": 1.0, "band": "Kurang", "submitted_by": "lurah", "submitted_at_ms": 1}),
    );
    let (_, res) = b.push(&[op]);
    assert_eq!(res["results"][0]["code"], "unknown_ruleset", "{res}");

    // Hadimulyo: a draft at level 2 with 10 indicators (not submitted).
    let (ok, _, err) =
        cli(&kota.db, &["kelurahan", "add", "--code", "18.72.04.1005", "--name", "Hadimulyo"]);
    assert!(ok, "{err}");
    let (ok, code, err) = cli(&kota.db, &["enrol", "--kelurahan", "18.72.04.1005"]);
    assert!(ok, "{err}");
    let key = SigningKey::from_bytes(&[23; 32]);
    let (_, v) = kota.enrol(code["code"].as_str().unwrap(), &key);
    let mut h = Pc {
        kota: &kota,
        key,
        id: v["device_id"].as_str().unwrap().into(),
        next_seq: 1,
        cursor: 0,
    };
    let ops: Vec<Value> =
        (1..=10).map(|i| value(&mut h, "18.72.04.1005", &format!("I{i}"), 5, now)).collect();
    let (status, res) = h.push(&ops);
    assert_eq!(status, 200, "{res}");
    // It reads nothing of Yosorejo's scorecard.
    assert!(h.pull_all(100).is_empty());

    let cookie = login_admin(&kota);
    let (status, _, html) =
        exchange(&kota, "GET", "/admin?ruleset=spbe", &[("Cookie", &cookie)], "");
    assert_eq!(status, 200);
    // Each ranked row, from its opening tag (the page before the first is left out).
    let parts: Vec<&str> = html.split("<tr data-score=").collect();
    let rows = &parts[1..];
    assert_eq!(rows.len(), 2, "{html}");
    // Best first: Yosorejo's submitted 4 (Sangat Baik), then Hadimulyo's draft: ten indicators
    // at 5, 1.3 % each = 0.65, Kurang.
    assert!(rows[0].starts_with("\"18.72.04.1004\""), "{}", rows[0]);
    assert!(
        rows[0].contains("data-col=\"total\">4<")
            && rows[0].contains("Sangat Baik")
            && rows[0].contains("terkirim"),
        "{}",
        rows[0]
    );
    assert!(rows[1].starts_with("\"18.72.04.1005\""), "{}", rows[1]);
    assert!(
        rows[1].contains("data-col=\"total\">0.65<")
            && rows[1].contains(">Kurang<")
            && rows[1].contains("sementara"),
        "{}",
        rows[1]
    );
    assert!(rows[1].contains("10/47"), "{}", rows[1]);
    // Another rule set: nobody has values yet.
    let (_, _, html) =
        exchange(&kota, "GET", "/admin?ruleset=epdeskel", &[("Cookie", &cookie)], "");
    assert!(html.contains("Belum ada kelurahan yang mengisi penilaian ini."), "{html}");
}

/// The shipped Lomba Kelurahan edition re-issued as the city's `2025` guideline, with the top
/// band starting at 85 instead of 90.
pub(crate) fn lomba_2025() -> String {
    let shipped = include_str!("../../../../assets/contest/lomba-kelurahan/2024.toml");
    shipped
        .replace("edition = \"2024\"", "edition = \"2025\"")
        .replace("below = 90", "below = 85")
        .replace("from = 90", "from = 85")
}

#[test]
fn the_city_publishes_a_new_edition_to_every_office_and_never_changes_one() {
    let kota = Kota::start();
    let mut pc = Pc::enrol(&kota, 31);
    // Nothing published: the pull answer carries no reference position at all.
    let (status, v) = pc.send("GET", "/v1/pull?cursor=0&limit=10", &Value::Null);
    assert_eq!(status, 200);
    assert!(v.get("reference_seq").is_none(), "{v}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lomba-2025.toml");
    std::fs::write(&file, lomba_2025()).unwrap();
    let path = file.to_str().unwrap();
    let (ok, out, err) = cli(&kota.db, &["contest", "publish", path]);
    assert!(ok, "{err}");
    assert_eq!(
        (
            out["ruleset"].as_str(),
            out["edition"].as_str(),
            out["seq"].as_u64(),
            out["new"].as_bool()
        ),
        (Some("lomba-kelurahan"), Some("2025"), Some(1), Some(true))
    );
    // The same text again changes nothing; another text under the same name is refused.
    let (ok, out, _) = cli(&kota.db, &["contest", "publish", path]);
    assert!(ok && out["new"] == false, "{out}");
    std::fs::write(&file, lomba_2025().replace("notes = \"", "notes = \"Diubah. ")).unwrap();
    let (ok, _, err) = cli(&kota.db, &["contest", "publish", path]);
    assert!(!ok && err.contains("sudah diterbitkan dengan isi lain"), "{err}");
    // A shipped edition cannot be re-published, and a broken file names what is wrong.
    std::fs::write(&file, include_str!("../../../../assets/contest/spbe/2020.toml")).unwrap();
    let (ok, _, err) = cli(&kota.db, &["contest", "publish", path]);
    assert!(!ok && err.contains("sudah dibawa Balai"), "{err}");
    std::fs::write(
        &file,
        lomba_2025()
            .replace("edition = \"2025\"", "edition = \"2026\"")
            .replace("weight = 30", "weight = 31"),
    )
    .unwrap();
    let (ok, _, err) = cli(&kota.db, &["contest", "publish", path]);
    assert!(!ok && err.contains("area PM: its aspects weigh 30 but the area PM 31"), "{err}");

    // An office PC learns of it from its next pull and reads it from the reference feed.
    let (_, v) = pc.send("GET", "/v1/pull?cursor=0&limit=10", &Value::Null);
    assert_eq!(v["reference_seq"], 1, "{v}");
    let (status, r) = pc.send("GET", "/v1/reference?after=0", &Value::Null);
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        (r["items"][0]["kind"].as_str(), r["items"][0]["key"].as_str()),
        (Some("contest_edition"), Some("lomba-kelurahan/2025"))
    );
    assert_eq!(r["items"][0]["body"], lomba_2025());
    let (_, r) = pc.send("GET", "/v1/reference?after=1", &Value::Null);
    assert_eq!(r["items"], serde_json::json!([]));
    // Not without a device's signature.
    let (status, _) = kota.http("GET", "/v1/reference?after=0", None, b"");
    assert_eq!(status, 401);
    // A submission under the published edition is known to the city.
    let op = pc.command(
        "submit_contest_period",
        json!({"ruleset": "lomba-kelurahan", "edition": "2025", "period": 2025,
        "total": 87.0, "band": "Istimewa", "submitted_by": "lurah", "submitted_at_ms": 1}),
    );
    let (_, res) = pc.push(&[op]);
    assert_eq!(res["results"][0]["outcome"], "ok", "{res}");
}
