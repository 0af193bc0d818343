//! Personal data (UU 27/2022): specific data audited when read, numbers masked in lists.

use crate::register::person;
use crate::{check, login_demo};
use balai_testkit::TestApp;
use serde_json::{json, Value};

/// The audit entries with `action`, oldest first, as `actor detail`.
fn audited(t: &TestApp, action: &str) -> Vec<String> {
    let list = t.operator("audit.list", json!({"limit": 1000})).unwrap();
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .map(|e| format!("{} {}", e["actor"].as_str().unwrap(), e["detail"].as_str().unwrap()))
        .collect();
    v.reverse();
    v
}

fn add(t: &TestApp, p: Value) -> String {
    let v = check(t, Some("petugas"), "residents.add", json!({"resident": p}), "ok");
    v["id"].as_str().unwrap().to_string()
}

#[test]
fn showing_a_record_with_specific_data_is_audited_by_category_never_by_value() {
    let t = TestApp::demo();
    let mut adult =
        person("1872040101800002", "Budi Santoso", "L", "01-01-1980", "Kepala Keluarga");
    let plain = add(&t, adult.clone());
    adult["nik"] = json!("1872045508900001");
    adult["full_name"] = json!("Siti Aminah");
    adult["sex"] = json!("P");
    adult["birth_date"] = json!("15-08-1990");
    adult["shdk"] = json!("Istri");
    adult["blood_type"] = json!("AB+");
    adult["disability"] = json!("CACAT RUNGU/WICARA");
    let health = add(&t, adult);
    // The test clock stands at 1 July 2026: born 2 July 2008, still 17.
    let child = add(&t, person("1872040207080003", "Bagus", "L", "02-07-2008", "Anak"));
    let turned_18 = add(&t, person("1872040107080004", "Bayu", "L", "01-07-2008", "Anak"));
    // Entering a record shows the writer nothing new: no read is audited.
    assert!(audited(&t, "residents.read_specific").is_empty());

    let shown =
        |user: &str, id: &str| check(&t, Some(user), "residents.show", json!({"key": id}), "ok");
    assert_eq!(shown("petugas", &plain)["specific"], json!([]));
    assert_eq!(shown("petugas", &turned_18)["specific"], json!([]));
    assert!(audited(&t, "residents.read_specific").is_empty());

    let v = shown("petugas", &health);
    assert_eq!(v["specific"], json!(["kesehatan", "disabilitas"]));
    assert_eq!(v["labels"]["blood_type"], "AB+");
    assert_eq!(shown("lurah", &child)["specific"], json!(["anak"]));
    shown("lurah", "1872045508900001");
    assert_eq!(
        audited(&t, "residents.read_specific"),
        [
            "petugas kategori=kesehatan+disabilitas",
            "lurah kategori=anak",
            "lurah kategori=kesehatan+disabilitas"
        ]
    );
    // The entry names the record by id; the trail holds no name, NIK or blood type.
    let trail = t.operator("audit.list", json!({"limit": 1000})).unwrap().to_string();
    for secret in ["Siti", "1872045508900001", "AB+", "RUNGU"] {
        assert!(!trail.contains(secret), "audit trail holds {secret}");
    }
    assert!(trail.contains(&health));
}

#[test]
fn search_lists_masked_numbers_and_the_record_has_them_in_full() {
    let t = TestApp::demo();
    let id =
        add(&t, person("1872040101800002", "Budi Santoso", "L", "01-01-1980", "Kepala Keluarga"));
    let tok = login_demo(&t, "petugas");
    for q in ["budi", "1872040101800002", "18720401"] {
        let hits = t.call(Some(&tok), "residents.search", json!({"q": q})).unwrap();
        assert_eq!(hits[0]["id"], json!(id), "{q}");
        assert_eq!(hits[0]["nik_masked"], "1872********0002");
        assert_eq!(hits[0]["no_kk_masked"], "1872********0007");
        let text = hits.to_string();
        assert!(!text.contains("1872040101800002") && !text.contains("1872041203150007"), "{text}");
    }
    let v = check(&t, Some("petugas"), "residents.show", json!({"key": id}), "ok");
    assert_eq!(v["resident"]["nik"], "1872040101800002");
}
