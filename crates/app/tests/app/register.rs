use crate::{check, login_demo, outcome};
use balai_testkit::TestApp;
use serde_json::{json, Value};

pub fn person(nik: &str, name: &str, sex: &str, birth: &str, shdk: &str) -> Value {
    json!({
        "nik": nik, "no_kk": "1872041203150007", "full_name": name, "sex": sex,
        "birth_place": "Metro", "birth_date": birth, "religion": "Islam",
        "marital_status": "Kawin", "shdk": shdk, "rt": "3", "rw": "2",
        "mother_name": "Fatimah"
    })
}

fn add(t: &TestApp, token: &str, p: Value) -> Result<Value, balai_app::ApiError> {
    t.call(Some(token), "residents.add", json!({"resident": p}))
}

#[test]
fn a_clerk_registers_a_family_with_one_head() {
    let t = TestApp::demo();
    let tok = login_demo(&t, "petugas");
    let head = add(
        &t,
        &tok,
        person("1872040101800002", "Budi Santoso", "L", "01-01-1980", "Kepala Keluarga"),
    )
    .unwrap();
    assert_eq!(head["family"]["heads"], 1);
    add(&t, &tok, person("1872045508900001", "Siti Aminah", "P", "15-08-1990", "Istri")).unwrap();
    let second = add(&t, &tok, person("1872040202820003", "Joko", "L", "02-02-1982", "1"));
    assert_eq!(outcome(&second), "err invalid_input [shdk:second_head]");
    let fam = check(&t, Some("lurah"), "families.show", json!({"no_kk": "1872041203150007"}), "ok");
    let members: Vec<_> = fam["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["full_name"].as_str().unwrap())
        .collect();
    assert_eq!(members, ["Budi Santoso", "Siti Aminah"]);
    assert_eq!(fam["members"][0]["shdk_label"], "KEPALA KELUARGA");
}

#[test]
fn an_invalid_nik_is_refused_and_nothing_is_saved() {
    let t = TestApp::demo();
    let tok = login_demo(&t, "petugas");
    let r = add(&t, &tok, person("187204010180000", "Budi", "L", "01-01-1980", "1"));
    assert_eq!(outcome(&r), "err invalid_input [nik:nik_format]");
    let found = t.call(Some(&tok), "residents.search", json!({"q": "budi"})).unwrap();
    assert_eq!(found, json!([]));
    // A NIK that disagrees with the sex is a warning: refused until a reason is written.
    let r = add(&t, &tok, person("1872044101800002", "Budi", "L", "01-01-1980", "1"));
    assert_eq!(outcome(&r), "err invalid_input [nik:nik_sex_mismatch]");
    let mut p = person("1872044101800002", "Budi", "L", "01-01-1980", "1");
    p["nik_override_reason"] = json!("KTP-el tertulis demikian; sudah dicek ke Dukcapil.");
    let ok = add(&t, &tok, p).unwrap();
    assert_eq!(ok["resident"]["nik_warnings"], json!(["sex_mismatch"]));
    let audit = t.operator("audit.list", json!({"limit": 1})).unwrap();
    assert_eq!(audit[0]["action"], "residents.add");
    assert_eq!(audit[0]["detail"], "nik_override=nik_sex_mismatch");
    assert!(!audit.to_string().contains("Budi"), "no names in the audit trail");
}

#[test]
fn a_nik_belongs_to_one_record() {
    let t = TestApp::demo();
    let tok = login_demo(&t, "sekel");
    add(&t, &tok, person("1872040101800002", "Budi", "L", "01-01-1980", "1")).unwrap();
    let r = add(&t, &tok, person("1872040101800002", "Budi Lain", "L", "01-01-1980", "4"));
    assert_eq!(outcome(&r), "err invalid_input [nik:nik_taken]");
}

#[test]
fn life_events_set_the_status_and_are_kept() {
    let t = TestApp::demo();
    let tok = login_demo(&t, "petugas");
    add(&t, &tok, person("1872040101800002", "Budi", "L", "01-01-1980", "1")).unwrap();
    let future = t.call(
        Some(&tok),
        "residents.event",
        json!({"key": "1872040101800002", "kind": "mati", "date": "01-01-2099"}),
    );
    assert_eq!(outcome(&future), "err invalid_input [date:date_in_future]");
    let bad = t.call(
        Some(&tok),
        "residents.event",
        json!({"key": "1872040101800002", "kind": "menikah", "date": "01-06-2026"}),
    );
    assert_eq!(outcome(&bad), "err invalid_input [kind:event_kind]");
    let v = t
        .call(Some(&tok), "residents.event", json!({"key": "1872040101800002", "kind": "mati", "date": "30-06-2026", "details": "sakit"}))
        .unwrap();
    assert_eq!(v["status"], "mati");
    assert_eq!(v["events"][0]["kind"], "mati");
    assert_eq!(v["events"][0]["event_date"], "2026-06-30");
    let again = t.call(
        Some(&tok),
        "residents.event",
        json!({"key": "1872040101800002", "kind": "pergi", "date": "30-06-2026"}),
    );
    assert_eq!(outcome(&again), "err invalid_input [kind:already_dead]");
    let dead = t.call(Some(&tok), "residents.search", json!({"status": "mati"})).unwrap();
    assert_eq!(dead.as_array().unwrap().len(), 1);
}

#[test]
fn duplicates_are_listed_and_merging_keeps_both_histories() {
    let t = TestApp::demo();
    let tok = login_demo(&t, "petugas");
    let a =
        add(&t, &tok, person("1872045508900001", "Siti Aminah", "P", "15-08-1990", "1")).unwrap();
    let mut p = person("1872045508900009", "SITI  AMINAH", "P", "15-08-1990", "4");
    p["no_kk"] = json!("1872041203150099");
    let b = add(&t, &tok, p).unwrap();
    t.call(
        Some(&tok),
        "residents.event",
        json!({"key": b["id"], "kind": "pindah_keluar", "date": "01-06-2026"}),
    )
    .unwrap();
    let shown = t.call(Some(&tok), "residents.show", json!({"key": a["id"]})).unwrap();
    assert_eq!(shown["duplicates"][0]["reason"], "name_and_birth_date");
    let list = t.call(Some(&tok), "residents.duplicates", json!({})).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    // A clerk may not merge; the secretary may.
    let r = t.call(Some(&tok), "residents.merge", json!({"keep": a["id"], "drop": b["id"]}));
    assert_eq!(outcome(&r), "err forbidden");
    let sekel = login_demo(&t, "sekel");
    let merged =
        t.call(Some(&sekel), "residents.merge", json!({"keep": a["id"], "drop": b["id"]})).unwrap();
    assert_eq!(merged["duplicates"], json!([]));
    assert_eq!(
        merged["events"][0]["kind"], "pindah_keluar",
        "the dropped record's history is shown on the kept one"
    );
    let gone = t.call(Some(&tok), "residents.search", json!({"q": "siti aminah"})).unwrap();
    assert_eq!(gone.as_array().unwrap().len(), 1);
    let dropped = t.call(Some(&tok), "residents.show", json!({"key": b["id"]})).unwrap();
    assert_eq!(dropped["merged_into"], a["id"]);
}

#[test]
fn search_filters_by_age_sex_and_region() {
    let t = TestApp::demo();
    let tok = login_demo(&t, "petugas");
    add(&t, &tok, person("1872040101800002", "Budi", "L", "01-01-1980", "1")).unwrap();
    add(&t, &tok, person("1872045508900001", "Siti", "P", "15-08-1990", "3")).unwrap();
    let mut kid = person("1872040503200004", "Bagus", "L", "05-03-2020", "4");
    kid["rt"] = json!("5");
    add(&t, &tok, kid).unwrap();
    let names = |args: Value| -> Vec<String> {
        let v = t.call(Some(&tok), "residents.search", args).unwrap();
        v.as_array().unwrap().iter().map(|h| h["full_name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(json!({"max_age": 17})), ["Bagus"]);
    assert_eq!(names(json!({"min_age": 40})), ["Budi"]);
    assert_eq!(names(json!({"sex": "P"})), ["Siti"]);
    assert_eq!(names(json!({"rt": 5})), ["Bagus"]);
    assert_eq!(names(json!({"q": "b", "rw": 2})), ["Bagus", "Budi"]);
    let bad = t.call(Some(&tok), "residents.search", json!({"sex": "X"}));
    assert_eq!(outcome(&bad), "err invalid_input [sex:sex_format]");
}
