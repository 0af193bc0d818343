use crate::register::person;
use crate::{check, content_of, login_demo, outcome};
use balai_testkit::TestApp;
use serde_json::{json, Value};

fn add(t: &TestApp, tok: &str, p: Value, event: Option<(&str, &str)>) -> Value {
    let mut args = json!({"resident": p});
    if let Some((kind, date)) = event {
        args["event"] = json!(kind);
        args["event_date"] = json!(date);
    }
    t.call(Some(tok), "residents.add", args).unwrap()
}

/// The clock stands at 2026-07-01: June 2026 is the last full month.
#[test]
fn the_monthly_report_counts_start_changes_and_end_by_sex() {
    let t = TestApp::demo();
    let tok = login_demo(&t, "petugas");
    // Registered before June without events: present throughout.
    add(&t, &tok, person("1872040101800002", "Budi", "L", "01-01-1980", "1"), None);
    add(&t, &tok, person("1872045508900001", "Siti", "P", "15-08-1990", "3"), None);
    // Born in June; moved in in May; a death in June; a move out in July (after the month).
    add(
        &t,
        &tok,
        person("1872044506260004", "Bayi", "P", "05-06-2026", "4"),
        Some(("lahir", "05-06-2026")),
    );
    let mut p = person("1872040303700005", "Pendatang", "L", "03-03-1970", "9");
    p["no_kk"] = json!("1872041203150099");
    p["shdk"] = json!("1");
    add(&t, &tok, p, Some(("pindah_masuk", "10-05-2026")));
    t.call(
        Some(&tok),
        "residents.event",
        json!({"key": "1872040101800002", "kind": "mati", "date": "20-06-2026"}),
    )
    .unwrap();
    t.clock.advance(chrono::Duration::days(5));
    let tok = login_demo(&t, "petugas");
    t.call(
        Some(&tok),
        "residents.event",
        json!({"key": "1872045508900001", "kind": "pindah_keluar", "date": "03-07-2026"}),
    )
    .unwrap();

    let r = check(&t, Some("lurah"), "reports.monthly", json!({"month": "2026-06"}), "ok");
    let pair = |k: &str| (r[k]["l"].as_i64().unwrap(), r[k]["p"].as_i64().unwrap());
    assert_eq!(pair("start"), (2, 1), "Budi, Pendatang, Siti");
    assert_eq!(pair("births"), (0, 1));
    assert_eq!(pair("deaths"), (1, 0));
    assert_eq!(pair("moves_in"), (0, 0));
    assert_eq!(pair("moves_out"), (0, 0));
    assert_eq!(pair("end"), (1, 2), "Pendatang, Siti, Bayi");
    let may = check(&t, Some("lurah"), "reports.monthly", json!({"month": "2026-05"}), "ok");
    assert_eq!((may["moves_in"]["l"].as_i64(), may["end"]["l"].as_i64()), (Some(1), Some(2)));
    check(
        &t,
        Some("lurah"),
        "reports.monthly",
        json!({"month": "2026-13"}),
        "err invalid_input [month:month_format]",
    );
    check(
        &t,
        Some("lurah"),
        "reports.monthly",
        json!({"month": "2027-01"}),
        "err invalid_input [month:month_in_future]",
    );
}

#[test]
fn demographics_count_the_living_by_age_band_and_code() {
    let t = TestApp::demo();
    let tok = login_demo(&t, "petugas");
    add(&t, &tok, person("1872040101800002", "Budi", "L", "01-01-1980", "1"), None);
    add(&t, &tok, person("1872045508900001", "Siti", "P", "15-08-1990", "3"), None);
    let d = check(&t, Some("lurah"), "reports.demographics", json!({}), "ok");
    assert_eq!((d["total"]["l"].as_i64(), d["total"]["p"].as_i64()), (Some(1), Some(1)));
    let band = |k: &str| {
        d["age_bands"].as_array().unwrap().iter().find(|b| b["key"] == k).cloned().unwrap()
    };
    assert_eq!(band("45-49")["l"], 1, "Budi is 46");
    assert_eq!(band("35-39")["p"], 1, "Siti is 35");
    assert_eq!(d["age_bands"].as_array().unwrap().len(), 16);
    assert_eq!(d["religion"][0]["key"], "ISLAM");
    assert_eq!(d["regions"][0]["key"], "RW 002 / RT 003");
}

#[test]
fn exports_are_masked_unless_the_role_allows_and_are_always_audited() {
    let t = TestApp::demo();
    let tok = login_demo(&t, "petugas");
    add(&t, &tok, person("1872040101800002", "=Budi", "L", "01-01-1980", "1"), None);
    let clerk = t.call(Some(&tok), "residents.export", json!({"full": true})).unwrap();
    assert_eq!(clerk["masked"], true);
    let text = clerk["content"].as_str().unwrap();
    assert!(text.contains("1872********0002"), "{text}");
    assert!(!text.contains("1872040101800002"));
    assert!(text.contains(";'=Budi;"), "formula-like names are neutralised: {text}");
    assert!(text.contains("01-01-1980"));
    let lurah = login_demo(&t, "lurah");
    let full = t.call(Some(&lurah), "residents.export", json!({"full": true})).unwrap();
    assert_eq!(full["masked"], false);
    assert!(full["content"].as_str().unwrap().contains("1872040101800002"));
    let actions = crate::audit_actions(&t);
    assert_eq!(actions.iter().filter(|a| *a == "residents.export").count(), 2);
    let log = t.operator("audit.list", json!({"limit": 3})).unwrap().to_string();
    assert!(log.contains("masked=true") && log.contains("masked=false"), "{log}");
    let by_name = t.call(Some(&tok), "residents.export", json!({"path": "/tmp/x.csv"}));
    assert_eq!(outcome(&by_name), "err invalid_input [path:path_not_allowed]");
    let bad = t.operator("residents.export", json!({"path": "/nonexistent-dir/x.csv"}));
    assert_eq!(outcome(&bad), "err invalid_input [path:unwritable]");
}

#[test]
fn a_full_export_reimports_as_unchanged() {
    let t = TestApp::demo();
    let tok = login_demo(&t, "petugas");
    add(&t, &tok, person("1872040101800002", "Budi Santoso", "L", "01-01-1980", "1"), None);
    add(&t, &tok, person("1872045508900001", "Siti Aminah", "P", "15-08-1990", "3"), None);
    let full =
        t.call(Some(&login_demo(&t, "admin")), "residents.export", json!({"full": true})).unwrap();
    let again = t
        .call(Some(&tok), "residents.import", json!({"content": full["content"], "dry_run": true}))
        .unwrap();
    assert_eq!(
        (again["unchanged"].as_u64(), again["rejected"].as_array().map(Vec::len)),
        (Some(2), Some(0)),
        "{again}"
    );
    assert_eq!(again["unknown_columns"], json!([]));
}

/// The shared strings of a workbook (the text an office would read), via an XLSX reader of
/// its own: the file is unzipped and its XML read, not trusted from our writer.
fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::{open_workbook_auto_from_rs, Reader};
    let mut wb = open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>().join("|"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_monthly_report_downloads_as_a_workbook_with_the_same_counts() {
    let t = TestApp::empty();
    t.operator("demo.seed", json!({"residents": 60})).unwrap();
    let json = check(&t, Some("petugas"), "reports.monthly", json!({"month": "2026-06"}), "ok");
    let out = check(&t, Some("petugas"), "reports.monthly_xlsx", json!({"month": "2026-06"}), "ok");
    let bytes = content_of(&out);
    let text = xlsx_text(&bytes);
    assert!(text.starts_with("LAPORAN MUTASI PENDUDUK"), "{text}");
    for (label, key) in [("Penduduk awal bulan", "start"), ("Penduduk akhir bulan", "end")] {
        let (l, p) = (json[key]["l"].as_u64().unwrap(), json[key]["p"].as_u64().unwrap());
        let row = text.lines().find(|r| r.starts_with(label)).expect(label);
        assert_eq!(row, format!("{label}|{l}|{p}|{}", l + p), "{text}");
    }
}

#[test]
fn the_monthly_report_prints_as_a_pdf_with_the_same_counts() {
    let t = TestApp::empty();
    t.operator("demo.seed", json!({"residents": 60})).unwrap();
    let json = check(&t, Some("petugas"), "reports.monthly", json!({"month": "2026-06"}), "ok");
    let out = check(&t, Some("petugas"), "reports.monthly_pdf", json!({"month": "2026-06"}), "ok");
    let pdf = content_of(&out);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.pdf");
    std::fs::write(&path, pdf).unwrap();
    let text = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.contains("LAPORAN MUTASI PENDUDUK"), "{text}");
    assert!(text.contains("Bulan 2026-06"));
    let end = &json["end"];
    let total = end["l"].as_u64().unwrap() + end["p"].as_u64().unwrap();
    let line = text.lines().find(|l| l.contains("Penduduk akhir bulan")).unwrap();
    let numbers: Vec<u64> = line.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert_eq!(numbers, [end["l"].as_u64().unwrap(), end["p"].as_u64().unwrap(), total], "{line}");
}
