use crate::{demo_db, run};

const FILE: &str = "nik;no_kk;nama;jenis_kelamin;tempat_lahir;tanggal_lahir;agama;status_kawin;hubungan_keluarga;rt;rw\n\
1872040101800002;1872041203159991;Wiryo Percobaan;L;Metro;01-01-1980;Islam;Kawin;Kepala Keluarga;3;2\n\
1872045508900001;1872041203159991;Sukma Percobaan;P;Metro;15-08-1990;Islam;Kawin;Istri;3;2\n\
1872045508900001;1872041203159991;Sukma Kembar;P;Metro;15-08-1990;Islam;Kawin;Anak;3;2\n";

#[test]
fn import_reports_in_the_documented_shape_and_dry_run_writes_nothing() {
    let (dir, db) = demo_db();
    let file = dir.path().join("penduduk.csv");
    std::fs::write(&file, format!("\u{feff}{FILE}")).unwrap();
    let f = file.to_str().unwrap();
    let dry = run(&db, &["--json", "residents", "import", f, "--dry-run"]);
    assert_eq!(dry.status, 0, "{}", dry.stderr);
    let r = dry.json();
    assert_eq!(
        (r["imported"].as_u64(), r["updated"].as_u64(), r["unchanged"].as_u64()),
        (Some(2), Some(0), Some(0))
    );
    assert_eq!(r["dry_run"], true);
    let rej = &r["rejected"][0];
    for key in ["line", "column", "value", "code", "message"] {
        assert!(rej.get(key).is_some(), "rejected row lacks `{key}`: {rej}");
    }
    assert_eq!(
        (rej["line"].as_u64(), rej["code"].as_str()),
        (Some(4), Some("duplicate_nik_in_file"))
    );
    assert_eq!(
        run(&db, &["--json", "residents", "search", "percobaan"]).json(),
        serde_json::json!([])
    );

    let real = run(&db, &["--json", "residents", "import", f]);
    assert_eq!(real.json()["imported"], 2);
    let again = run(&db, &["--json", "residents", "import", f]).json();
    assert_eq!((again["imported"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(2)));
}

#[test]
fn search_show_event_and_family_from_the_command_line() {
    let (dir, db) = demo_db();
    let file = dir.path().join("penduduk.csv");
    std::fs::write(&file, FILE).unwrap();
    run(&db, &["residents", "import", file.to_str().unwrap()]);
    let hits = run(&db, &["--json", "residents", "search", "wiryo"]).json();
    assert_eq!(hits[0]["nik_masked"], "1872********0002");
    let text = run(&db, &["residents", "search", "1872045508"]);
    assert!(text.stdout.contains("Sukma Percobaan"), "{}", text.stdout);
    assert!(text.stdout.contains("1872********0001"), "a list masks the NIK: {}", text.stdout);
    assert!(!text.stdout.contains("1872045508900001"), "{}", text.stdout);
    let ev = run(
        &db,
        &[
            "--json",
            "residents",
            "event",
            "1872040101800002",
            "--type",
            "mati",
            "--date",
            "01-06-2026",
        ],
    );
    assert_eq!(ev.status, 0, "{}", ev.stderr);
    assert_eq!(ev.json()["status"], "mati");
    let fam = run(&db, &["--json", "families", "show", "1872041203159991"]).json();
    assert_eq!(fam["members"].as_array().unwrap().len(), 2);
    let missing = run(&db, &["--json", "residents", "show", "1872049999999999"]);
    assert_eq!(missing.status, 4);
    let bad = run(
        &db,
        &[
            "--json",
            "residents",
            "event",
            "1872040101800002",
            "--type",
            "mati",
            "--date",
            "kemarin",
        ],
    );
    assert_eq!(bad.status, 2);
}

#[test]
fn demo_seed_fills_the_register() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let r = run(&db, &["--json", "demo", "seed", "--residents", "250", "--seed", "9"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.json()["residents"], 250);
    let all = run(&db, &["--json", "residents", "search", "", "--limit", "500"]).json();
    assert_eq!(all.as_array().unwrap().len(), 250);
}

#[test]
fn reports_and_export_from_the_command_line() {
    let (dir, db) = demo_db();
    let file = dir.path().join("penduduk.csv");
    std::fs::write(&file, FILE).unwrap();
    run(&db, &["residents", "import", file.to_str().unwrap()]);
    let monthly = run(&db, &["--json", "reports", "monthly", "--month", "2026-01"]);
    assert_eq!(monthly.status, 0, "{}", monthly.stderr);
    let m = monthly.json();
    for key in ["start", "births", "deaths", "moves_in", "moves_out", "other_departures", "end"] {
        assert!(m[key]["l"].is_i64() && m[key]["p"].is_i64(), "{key}: {m}");
    }
    let text = run(&db, &["reports", "monthly", "--month", "2026-01"]);
    assert!(text.stdout.contains("Akhir bulan"), "{}", text.stdout);
    let out = dir.path().join("ekspor.csv");
    let e = run(&db, &["--json", "residents", "export", out.to_str().unwrap()]);
    assert_eq!((e.json()["rows"].as_u64(), e.json()["masked"].as_bool()), (Some(2), Some(true)));
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.starts_with('\u{feff}'));
    assert!(csv.contains("1872********0002") && !csv.contains("1872040101800002"));
    let full = run(&db, &["--json", "residents", "export", out.to_str().unwrap(), "--full"]);
    assert_eq!(full.json()["masked"], false, "the operator acts as admin");
    assert!(std::fs::read_to_string(&out).unwrap().contains("1872040101800002"));
    // A name ending in .xlsx is a workbook (a zip), not CSV text under that name.
    let book = dir.path().join("ekspor.xlsx");
    let x = run(&db, &["--json", "residents", "export", book.to_str().unwrap()]);
    assert_eq!(x.status, 0, "{}", x.stderr);
    assert!(std::fs::read(&book).unwrap().starts_with(b"PK"), "an XLSX is a zip");
}

#[test]
fn the_monthly_report_is_written_as_a_workbook() {
    let (dir, db) = demo_db();
    let out = dir.path().join("mutasi.xlsx");
    let r = run(
        &db,
        &["--json", "reports", "monthly", "--month", "2026-01", "--xlsx", out.to_str().unwrap()],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.json()["path"], out.to_str().unwrap());
    assert!(std::fs::read(&out).unwrap().starts_with(b"PK\x03\x04"), "an XLSX is a zip");
}

#[test]
fn import_with_progress_prints_each_step_to_stderr_and_the_report_alone_to_stdout() {
    let (dir, db) = demo_db();
    let file = dir.path().join("besar.csv");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
    std::fs::write(&file, balai_app::areas::demo::synthetic_register_csv(30_000, 3, today))
        .unwrap();
    let out = run(&db, &["--json", "residents", "import", file.to_str().unwrap(), "--progress"]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert_eq!(out.json()["imported"], 30_000, "stdout is the report alone");
    let steps: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let order = ["reading", "rows", "indexing", "saving", "done"];
    let rank = |s: &serde_json::Value| {
        order.iter().position(|o| s["phase"] == *o).unwrap_or_else(|| panic!("{s}"))
    };
    assert!(steps.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])), "{steps:?}");
    assert!(
        steps.iter().any(|s| s["phase"] == "rows" && s["done"].as_u64() > Some(0)),
        "a step part-way through the rows: {steps:?}"
    );
    assert_eq!(
        steps.last().unwrap(),
        &serde_json::json!({"phase": "done", "done": 30_000, "total": 30_000})
    );
}
