//! Imports of the files offices really have, and of hostile ones.

use crate::{login_demo, outcome};
use balai_testkit::TestApp;
use serde_json::{json, Value};

const HEADER: &str = "NIK;No KK;Nama Lengkap;Jenis Kelamin;Tempat Lahir;Tanggal Lahir;Agama;Status Perkawinan;SHDK;RT;RW";

fn import(t: &TestApp, content: &str, dry_run: bool) -> Result<Value, balai_app::ApiError> {
    let tok = login_demo(t, "petugas");
    t.call(Some(&tok), "residents.import", json!({"content": content, "dry_run": dry_run}))
}

fn count(t: &TestApp) -> usize {
    let tok = login_demo(t, "lurah");
    t.call(Some(&tok), "residents.search", json!({"limit": 500})).unwrap().as_array().unwrap().len()
}

fn rejected(r: &Value) -> Vec<String> {
    r["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            format!(
                "{}:{}:{}",
                x["line"],
                x["column"].as_str().unwrap(),
                x["code"].as_str().unwrap()
            )
        })
        .collect()
}

fn family_file() -> String {
    format!(
        "{HEADER}\n\
         1872040101800002;1872041203150007;Budi Santoso;L;Metro;01-01-1980;Islam;Kawin;Kepala Keluarga;3;2\n\
         1872045508900001;1872041203150007;Siti Aminah;P;Metro;15/08/1990;islam;KAWIN;istri;003;002\n\
         1872040503200004;1872041203150007;Bagus Santoso;L;Metro;2020-03-05;1;1;4;3;2\n"
    )
}

#[test]
fn semicolons_bom_and_mixed_date_formats_import_and_reimport_changes_nothing() {
    let t = TestApp::demo();
    let file = format!("\u{feff}{}", family_file());
    let r = import(&t, &file, false).unwrap();
    assert_eq!(
        (r["imported"].as_u64(), r["rejected"].as_array().unwrap().len()),
        (Some(3), 0),
        "{r}"
    );
    let before = t.operator("audit.verify", json!({})).unwrap()["entries"].as_i64().unwrap();
    let again = import(&t, &file, false).unwrap();
    assert_eq!(
        (again["imported"].as_u64(), again["updated"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(0), Some(3))
    );
    assert_eq!(count(&t), 3);
    // The only new audit entries are the logins and the import summary itself.
    let after = t.operator("audit.verify", json!({})).unwrap()["entries"].as_i64().unwrap();
    assert!(after - before <= 4);
}

#[test]
fn comma_separated_with_quotes_and_a_changed_row_updates() {
    let t = TestApp::demo();
    import(&t, &family_file(), false).unwrap();
    let csv = "nik,no_kk,nama,jenis_kelamin,tempat_lahir,tanggal_lahir,agama,status_kawin,hubungan_keluarga,rt,rw,alamat\n\
               1872040101800002,1872041203150007,Budi Santoso,L,Metro,01-01-1980,Islam,Kawin,Kepala Keluarga,4,2,\"Jl. Mawar, No. 5\"\n";
    let r = import(&t, csv, false).unwrap();
    assert_eq!((r["updated"].as_u64(), r["imported"].as_u64()), (Some(1), Some(0)), "{r}");
    let tok = login_demo(&t, "lurah");
    let shown = t.call(Some(&tok), "residents.show", json!({"key": "1872040101800002"})).unwrap();
    assert_eq!(shown["resident"]["address"], "Jl. Mawar, No. 5");
    assert_eq!(shown["resident"]["rt"], 4);
}

#[test]
fn every_bad_row_is_reported_with_line_column_and_code_and_good_rows_still_import() {
    let t = TestApp::demo();
    let file = format!(
        "{HEADER};Hobi\n\
         1872040101800002;1872041203150007;Budi Santoso;L;Metro;01-01-1980;Islam;Kawin;Kepala Keluarga;3;2;catur\n\
         1872040101800002;1872041203150007;Budi Kembar;L;Metro;01-01-1980;Islam;Kawin;Anak;3;2;\n\
         1872040202820003;1872041203150007;Joko;L;Metro;02-02-1982;Islam;Kawin;Kepala Keluarga;3;2;\n\
         18720402028;1872041203150007;Andi;X;Metro;31-02-1982;Jedi;Kawin;Anak;3;2;\n\
         1872045508900001;1872041203150007;Siti;P;Metro;15-08-1990;Islam;Kawin;Istri;3;2;\n"
    );
    let r = import(&t, &file, false).unwrap();
    assert_eq!(
        rejected(&r),
        [
            "3:NIK:duplicate_nik_in_file",
            "4:SHDK:second_head",
            "5:NIK:nik_format",
            "5:Jenis Kelamin:sex_format",
            "5:Tanggal Lahir:date_format",
            "5:Agama:unknown_code"
        ]
    );
    let dup = &r["rejected"][0];
    assert!(dup["message"].as_str().unwrap().contains("baris 2"), "{dup}");
    let head = &r["rejected"][1];
    assert!(head["message"].as_str().unwrap().contains("baris 2"), "{head}");
    assert_eq!(r["rejected"][2]["value"], "18720402028");
    assert_eq!(r["unknown_columns"], json!(["Hobi"]));
    assert_eq!(r["imported"], 2);
    assert_eq!(count(&t), 2);
}

#[test]
fn a_dry_run_reports_the_same_and_writes_nothing() {
    let t = TestApp::demo();
    let r = import(&t, &family_file(), true).unwrap();
    assert_eq!((r["imported"].as_u64(), r["dry_run"].as_bool()), (Some(3), Some(true)));
    assert_eq!(count(&t), 0);
    let last = t.operator("audit.list", json!({"limit": 5})).unwrap();
    assert!(last.as_array().unwrap().iter().any(|e| e["action"] == "residents.import_dry_run"));
}

#[test]
fn broken_quotes_wrong_dates_and_windows_1252_do_not_stop_the_file() {
    let t = TestApp::demo();
    // An unclosed quote swallows the rest of its line into one field; the row is rejected,
    // the file is not.
    let file = format!(
        "{HEADER}\n\
         1872040101800002;1872041203150007;\"Budi Santoso;L;Metro;01-01-1980;Islam;Kawin;Kepala Keluarga;3;2\n"
    );
    let r = import(&t, &file, false).unwrap();
    assert_eq!(r["imported"], 0);
    assert!(!r["rejected"].as_array().unwrap().is_empty());
    let mut latin1 = format!("{HEADER}\n1872040101800002;1872041203150007;Jos").into_bytes();
    latin1.push(0xE9); // é in Windows-1252
    latin1.extend_from_slice(b";L;Metro;13-13-1980;Islam;Kawin;Kepala Keluarga;3;2\n");
    let content = latin1.iter().map(|b| char::from(*b)).collect::<String>();
    let r = import(&t, &content, false).unwrap();
    assert_eq!(rejected(&r), ["2:Tanggal Lahir:date_format"]);
}

#[test]
fn files_that_are_not_registers_are_refused_whole() {
    let t = TestApp::demo();
    assert_eq!(outcome(&import(&t, "", false)), "err invalid_input [file:file_empty]");
    assert_eq!(outcome(&import(&t, "   \n\n", false)), "err invalid_input [file:file_empty]");
    assert_eq!(outcome(&import(&t, HEADER, false)), "err invalid_input [file:file_empty]");
    assert_eq!(
        outcome(&import(&t, "\u{89}PNG\r\n\u{1a}\n\0\0\0\rIHDR", false)),
        "err invalid_input [file:not_a_spreadsheet]"
    );
    assert_eq!(
        outcome(&import(&t, "judul,isi\nrapat,besok\n", false)),
        "err invalid_input [file:not_a_spreadsheet]"
    );
    assert_eq!(
        outcome(&import(&t, "nik;nama\n1872040101800002;Budi\n", false)),
        "err invalid_input [file:missing_columns]"
    );
    assert_eq!(
        outcome(&import(&t, "PK\u{3}\u{4}xlsx", false)),
        "err invalid_input [file:not_a_spreadsheet]"
    );
    assert_eq!(count(&t), 0);
}

#[test]
fn a_refused_file_leaves_its_progress_failed_and_a_small_one_done() {
    let t = TestApp::demo();
    let tok = login_demo(&t, "petugas");
    let step = |id: &str| t.call(Some(&tok), "progress.get", json!({"id": id}));
    let r = t.call(Some(&tok), "residents.import", json!({"content": HEADER, "progress_id": "a"}));
    assert_eq!(outcome(&r), "err invalid_input [file:file_empty]");
    assert_eq!(step("a").unwrap()["phase"], "failed");
    let file = family_file();
    let r = t.call(Some(&tok), "residents.import", json!({"content": file, "progress_id": "b"}));
    assert_eq!(outcome(&r), "ok");
    assert_eq!(step("b").unwrap(), json!({"phase": "done", "done": 3, "total": 3}));
    assert_eq!(outcome(&step("c")), "err not_found");
}

#[test]
fn a_hundred_thousand_rows_import_in_one_transaction() {
    let t = TestApp::demo();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
    let csv = balai_app::areas::demo::synthetic_register_csv(100_000, 7, today);
    // The import runs on one thread while another asks how far it has got, as the UI does.
    let tok = login_demo(&t, "petugas");
    let args = json!({"content": csv, "progress_id": "impor-1"});
    let (r, seen) = std::thread::scope(|s| {
        let running = s.spawn(|| t.call(Some(&tok), "residents.import", args));
        let mut seen: Vec<Value> = Vec::new();
        while !running.is_finished() {
            if let Ok(step) = t.call(Some(&tok), "progress.get", json!({"id": "impor-1"})) {
                if seen.last() != Some(&step) {
                    seen.push(step);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        (running.join().unwrap(), seen)
    });
    let r = r.unwrap();
    assert_eq!(r["imported"], 100_000, "{}", r["rejected"][0]);
    let phases: Vec<&str> = seen.iter().map(|s| s["phase"].as_str().unwrap()).collect();
    let order = ["reading", "rows", "indexing", "saving", "done"];
    let rank = |p: &str| order.iter().position(|o| *o == p).unwrap_or_else(|| panic!("{p}"));
    assert!(phases.windows(2).all(|w| rank(w[0]) <= rank(w[1])), "{phases:?}");
    let partway = seen.iter().any(|s| {
        s["phase"] == "rows" && s["done"].as_u64() > Some(0) && s["done"].as_u64() < Some(100_000)
    });
    assert!(partway, "no step part-way through the rows: {seen:?}");
    assert!(seen.iter().all(|s| s["total"] == 100_000 || s["phase"] == "reading"), "{seen:?}");
    let last = t.call(Some(&tok), "progress.get", json!({"id": "impor-1"})).unwrap();
    assert_eq!(last, json!({"phase": "done", "done": 100_000, "total": 100_000}));
    // Another user cannot read someone else's task.
    let lurah = login_demo(&t, "lurah");
    let other = t.call(Some(&lurah), "progress.get", json!({"id": "impor-1"}));
    assert_eq!(outcome(&other), "err not_found");
    assert_eq!(r["rejected"], json!([]));
    let tok = login_demo(&t, "petugas");
    let hits = t.call(Some(&tok), "residents.search", json!({"q": "siti", "limit": 5})).unwrap();
    assert_eq!(hits.as_array().unwrap().len(), 5);
    let by_nik = t
        .call(Some(&tok), "residents.search", json!({"q": "187204", "rt": 3, "limit": 5}))
        .unwrap();
    assert_eq!(by_nik.as_array().unwrap().len(), 5);
    // The bulk path dropped and rebuilt the indexes: the schema is exactly a fresh one's.
    let dump = |p: &std::path::Path| {
        let s = balai_store::Store::open(p, t.key.bytes()).unwrap();
        s.read(|c| balai_store::migrations::schema_dump(c)).unwrap()
    };
    let fresh = tempfile::tempdir().unwrap();
    assert_eq!(dump(&t.db_path()), dump(&fresh.path().join("fresh.sqlite")));
}

/// A workbook as Excel users make it: NIK typed as a number, dates as date cells, a header
/// row, a second sheet that is ignored.
fn workbook() -> Vec<u8> {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in HEADER.split(';').enumerate() {
        sheet.write_string(0, c as u16, h).unwrap();
    }
    let date = Format::new().set_num_format("dd-mm-yyyy");
    let rows = [
        (1872040101800002.0, "Budi Santoso", "L", (1980, 1, 1), "Kepala Keluarga"),
        (1872045508900001.0, "Siti Aminah", "P", (1990, 8, 15), "Istri"),
        (1872040202820003.0, "Joko Kedua", "L", (1982, 2, 2), "Kepala Keluarga"),
    ];
    for (i, (nik, name, sex, (y, m, d), shdk)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_number(r, 0, *nik).unwrap();
        sheet.write_number(r, 1, 1872041203150007.0).unwrap();
        sheet.write_string(r, 2, *name).unwrap();
        sheet.write_string(r, 3, *sex).unwrap();
        sheet.write_string(r, 4, "Metro").unwrap();
        sheet
            .write_datetime_with_format(r, 5, ExcelDateTime::from_ymd(*y, *m, *d).unwrap(), &date)
            .unwrap();
        sheet.write_string(r, 6, "Islam").unwrap();
        sheet.write_string(r, 7, "Kawin").unwrap();
        sheet.write_string(r, 8, *shdk).unwrap();
        sheet.write_number(r, 9, 3.0).unwrap();
        sheet.write_number(r, 10, 2.0).unwrap();
    }
    wb.add_worksheet().write_string(0, 0, "catatan").unwrap();
    wb.save_to_buffer().unwrap()
}

#[test]
fn an_xlsx_workbook_imports_with_numbers_and_date_cells_and_exports_back() {
    use base64::Engine;
    let t = TestApp::demo();
    let tok = login_demo(&t, "petugas");
    let b64 = base64::engine::general_purpose::STANDARD.encode(workbook());
    let r = t.call(Some(&tok), "residents.import", json!({"content_base64": b64})).unwrap();
    assert_eq!(r["imported"], 2, "{r}");
    assert_eq!(rejected(&r), ["4:SHDK:second_head"]);
    let shown = t.call(Some(&tok), "residents.show", json!({"key": "1872045508900001"})).unwrap();
    assert_eq!(shown["resident"]["birth_date"], "1990-08-15");
    // Export as XLSX (full, as the lurah) and import that workbook again: nothing changes.
    let lurah = login_demo(&t, "lurah");
    let x =
        t.call(Some(&lurah), "residents.export", json!({"full": true, "format": "xlsx"})).unwrap();
    assert_eq!((x["rows"].as_u64(), x["masked"].as_bool()), (Some(2), Some(false)));
    let again = t
        .call(
            Some(&tok),
            "residents.import",
            json!({"content_base64": x["content_base64"], "dry_run": true}),
        )
        .unwrap();
    assert_eq!(
        (again["unchanged"].as_u64(), again["rejected"].as_array().map(Vec::len)),
        (Some(2), Some(0)),
        "{again}"
    );
    let bad = t.call(Some(&tok), "residents.import", json!({"content_base64": base64::engine::general_purpose::STANDARD.encode(b"PK\x03\x04not really a zip")}));
    assert_eq!(outcome(&bad), "err invalid_input [file:not_a_spreadsheet]");
}
