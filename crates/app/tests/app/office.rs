use crate::{audit_actions, check};
use balai_app::areas::demo::demo_profile;
use balai_testkit::TestApp;
use serde_json::json;

#[test]
fn an_invalid_profile_is_refused_field_by_field_and_nothing_is_saved() {
    let t = TestApp::demo();
    let mut p = serde_json::to_value(demo_profile()).unwrap();
    p["kelurahan_code"] = json!("18.72.04.10");
    p["postal_code"] = json!("3412");
    p["kelurahan_name"] = json!("Yosorejo Baru");
    check(
        &t,
        Some("admin"),
        "profile.set",
        p,
        "err invalid_input [kelurahan_code:region_code_format, postal_code:postal_code_format]",
    );
    let got = check(&t, Some("petugas"), "profile.get", json!({}), "ok");
    assert_eq!(got["profile"]["kelurahan_name"], "Yosorejo");
}

#[test]
fn a_valid_profile_is_saved_normalised_and_audited_by_field_name() {
    let t = TestApp::demo();
    let mut p = serde_json::to_value(demo_profile()).unwrap();
    p["kelurahan_code"] = json!("1872041004");
    p["address"] = json!("  Jl. Baru No. 2  ");
    check(&t, Some("admin"), "profile.set", p, "ok");
    let got = check(&t, Some("petugas"), "profile.get", json!({}), "ok");
    assert_eq!(got["profile"]["kelurahan_code"], "18.72.04.1004");
    assert_eq!(got["profile"]["address"], "Jl. Baru No. 2");
    let list = t.operator("audit.list", json!({"limit": 1000})).unwrap();
    let newest_set =
        list.as_array().unwrap().iter().find(|e| e["action"] == "profile.set").unwrap();
    assert_eq!(newest_set["detail"], "address", "only the changed field's name, not its value");
    assert_eq!(audit_actions(&t).iter().filter(|a| *a == "profile.set").count(), 2);
}

#[test]
fn setting_the_office_up_makes_its_signing_key_once() {
    let t = TestApp::empty();
    assert_eq!(t.operator("letters.keys", json!({})).unwrap(), json!([]));
    let profile = serde_json::to_value(demo_profile()).unwrap();
    t.operator("profile.set", profile.clone()).unwrap();
    let keys = t.operator("letters.keys", json!({})).unwrap();
    assert_eq!(keys.as_array().unwrap().len(), 1, "{keys}");
    assert_eq!(keys[0]["public_hex"].as_str().unwrap().len(), 64, "an Ed25519 public key");
    let mut changed = profile;
    changed["phone"] = json!("0725 41234");
    t.operator("profile.set", changed).unwrap();
    assert_eq!(t.operator("letters.keys", json!({})).unwrap(), keys, "later saves keep it");
}

#[test]
fn signatories_need_a_real_nip_and_keep_their_period() {
    let t = TestApp::demo();
    let base = json!({
        "name": "Pelaksana Harian Contoh",
        "post": "lurah",
        "capacity": "plh",
        "position": "Lurah Yosorejo",
        "nip": "19900101201501100",
        "rank": "Penata Muda (III/a)",
        "valid_from": "2026-07-01",
        "valid_to": "2026-06-30"
    });
    check(
        &t,
        Some("admin"),
        "signatories.save",
        base.clone(),
        "err invalid_input [nip:nip_length, valid_to:date_order]",
    );
    let mut ok = base.clone();
    ok["nip"] = json!("199001012015011001");
    ok["valid_to"] = json!("2026-07-10");
    check(&t, Some("petugas"), "signatories.save", ok.clone(), "err forbidden");
    let saved = check(&t, Some("admin"), "signatories.save", ok, "ok");
    let list = check(&t, Some("petugas"), "signatories.list", json!({}), "ok");
    assert_eq!(list.as_array().unwrap().len(), 3);
    let mut edit = saved.clone();
    edit["rank"] = json!("Penata Muda Tingkat I (III/b)");
    check(&t, Some("admin"), "signatories.save", edit, "ok");
    let mut ghost = saved;
    ghost["id"] = json!("01890000-0000-7000-8000-000000000000");
    check(&t, Some("admin"), "signatories.save", ghost, "err not_found");
    let list = check(&t, Some("petugas"), "signatories.list", json!({}), "ok");
    assert!(list.to_string().contains("Penata Muda Tingkat I (III/b)"));
    assert_eq!(list.as_array().unwrap().len(), 3);
}

#[test]
fn the_emblem_must_be_png_or_svg() {
    let t = TestApp::demo();
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    check(
        &t,
        Some("admin"),
        "profile.set_emblem",
        json!({"data_base64": b64(b"GIF89a....")}),
        "err invalid_input [emblem:emblem_format]",
    );
    check(
        &t,
        Some("admin"),
        "profile.set_emblem",
        json!({"data_base64": "%%%"}),
        "err invalid_input [emblem:base64]",
    );
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#;
    let info =
        check(&t, Some("admin"), "profile.set_emblem", json!({"data_base64": b64(svg)}), "ok");
    assert_eq!(info["mime"], "image/svg+xml");
    let got = check(&t, Some("petugas"), "profile.emblem", json!({}), "ok");
    assert_eq!(got["data_base64"], b64(svg));
}

#[test]
fn demo_seed_refuses_a_database_that_has_users() {
    let t = TestApp::demo();
    let r = t.operator("demo.seed", json!({}));
    assert_eq!(crate::outcome(&r), "err conflict");
    let r = TestApp::empty().operator("demo.seed", json!({"residents": 2_000_000}));
    assert_eq!(crate::outcome(&r), "err invalid_input [residents:too_many]");
}

#[test]
fn app_info_shows_the_office_before_login_and_nothing_personal() {
    let t = TestApp::empty();
    let info = check(&t, None, "app.info", json!({}), "ok");
    assert_eq!(info["initialized"], false);
    assert_eq!(info["has_users"], false);
    let t = TestApp::demo();
    let info = check(&t, None, "app.info", json!({}), "ok");
    assert_eq!(info["initialized"], true);
    assert_eq!(info["kelurahan_name"], "Yosorejo");
    assert_eq!(info["schema_version"], balai_app::SCHEMA_VERSION);
}

#[test]
fn the_first_start_sets_up_the_office_and_its_admin_from_the_window_once() {
    let t = TestApp::empty();
    let info = t.call(None, "app.info", json!({})).unwrap();
    assert_eq!((&info["initialized"], &info["has_users"]), (&json!(false), &json!(false)));
    let mut profile = serde_json::to_value(demo_profile()).unwrap();
    let admin = json!({"username": "bu.sari", "full_name": "Sari Wulandari", "password": "rahasia-kantor-1"});

    // Every problem of both forms at once, by field; nothing stored.
    profile["kelurahan_code"] = json!("18.72.04.10");
    let bad = t.call(
        None,
        "setup.start",
        json!({"profile": profile, "admin": {"username": "", "full_name": "", "password": "pendek"}}),
    );
    let fields: Vec<String> =
        bad.as_ref().unwrap_err().fields.iter().map(|f| f.field.clone()).collect();
    assert!(
        ["kelurahan_code", "username", "full_name", "password"]
            .iter()
            .all(|f| fields.contains(&f.to_string())),
        "{fields:?}"
    );
    let info = t.call(None, "app.info", json!({})).unwrap();
    assert_eq!((&info["initialized"], &info["has_users"]), (&json!(false), &json!(false)));

    // Right: the office is set up, the admin signed in, the signing key made.
    profile["kelurahan_code"] = json!("1872041004");
    let out = t.call(None, "setup.start", json!({"profile": profile, "admin": admin})).unwrap();
    assert_eq!(out["user"]["role"], "admin");
    let token = out["token"].as_str().unwrap();
    let me = t.call(Some(token), "auth.me", json!({})).unwrap();
    assert_eq!(me["username"], "bu.sari", "{me}");
    let got = t.call(Some(token), "profile.get", json!({})).unwrap();
    assert_eq!(got["profile"]["kelurahan_code"], "18.72.04.1004");
    assert_eq!(
        t.call(Some(token), "letters.keys", json!({})).unwrap().as_array().unwrap().len(),
        1
    );
    assert!(audit_actions(&t).iter().any(|a| a == "setup.start"));
    // The password is the admin's: it signs in again.
    t.login("bu.sari", "rahasia-kantor-1");

    // Once only: with an account, the setup screen is closed to everyone.
    let again = t.call(
        None,
        "setup.start",
        json!({"profile": demo_profile(), "admin": {"username": "penyusup", "full_name": "Penyusup", "password": "rahasia-kantor-2"}}),
    );
    assert_eq!(crate::outcome(&again), "err conflict");
    assert_eq!(t.operator("users.list", json!({})).unwrap().as_array().unwrap().len(), 1);
}
