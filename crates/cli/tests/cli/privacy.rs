//! Personal-data duties from the command line, as a city IT script or a cron job runs them.

use crate::{demo_db, run};

const FILE: &str = "nik;no_kk;nama;jenis_kelamin;tempat_lahir;tanggal_lahir;agama;status_kawin;hubungan_keluarga;rt;rw\n\
1872040101500002;1872041203159991;Wiryo Sepuh;L;Metro;01-01-1950;Islam;Kawin;Kepala Keluarga;3;2\n\
1872044203520003;1872041203159991;Sumirah Sepuh;P;Metro;02-03-1952;Islam;Kawin;Istri;3;2\n";

#[test]
fn a_cron_job_anonymises_what_is_due_a_held_record_stays_and_a_breach_is_drafted() {
    let (dir, db) = demo_db();
    let file = dir.path().join("penduduk.csv");
    std::fs::write(&file, FILE).unwrap();
    assert_eq!(run(&db, &["residents", "import", file.to_str().unwrap()]).status, 0);
    for (nik, date) in [("1872040101500002", "10-02-2012"), ("1872044203520003", "11-03-2013")] {
        let r = run(&db, &["residents", "event", nik, "--type", "mati", "--date", date]);
        assert_eq!(r.status, 0, "{}", r.stderr);
    }
    let hold = run(&db, &["privacy", "hold", "1872044203520003", "--reason", "Sengketa waris"]);
    assert_eq!(hold.status, 0, "{}", hold.stderr);
    let text = run(&db, &["privacy", "retention"]);
    assert!(text.stdout.contains("2 catatan lewat masa simpan (1 ditahan)"), "{}", text.stdout);
    let done = run(&db, &["--json", "privacy", "retention", "--apply"]);
    assert_eq!(done.status, 0, "{}", done.stderr);
    assert_eq!(done.json(), serde_json::json!({"residents": 1, "requests": 0, "held": 1}));
    // Run again by cron: nothing more to do.
    let again = run(&db, &["privacy", "retention", "--apply"]);
    assert!(
        again.stdout.contains("0 penduduk dan 0 permohonan dianonimkan; 1 ditahan"),
        "{}",
        again.stdout
    );
    let shown = run(&db, &["--json", "residents", "search", "sepuh"]).json();
    assert_eq!(
        shown.as_array().map(Vec::len),
        Some(1),
        "only the held one is still named: {shown}"
    );

    let bad = run(
        &db,
        &[
            "--json",
            "privacy",
            "request",
            "--kind",
            "lupakan",
            "--requester",
            "Warga",
            "--details",
            "x",
        ],
    );
    assert_ne!(bad.status, 0);
    assert_eq!(bad.error_json()["error"]["fields"][0]["field"], "kind");
    let breach = run(
        &db,
        &[
            "--json",
            "privacy",
            "breach",
            "--discovered-at",
            "2026-01-05T09:00",
            "--what-happened",
            "Flashdisk berisi salinan register hilang.",
            "--data-disclosed",
            "nama dan NIK",
            "--subjects-estimate",
            "120",
            "--measures",
            "Kunci basis data diganti.",
        ],
    );
    assert_eq!(breach.status, 0, "{}", breach.stderr);
    let b = breach.json();
    assert!(
        b["drafts"]["subjects"].as_str().unwrap().contains("5 Januari 2026 pukul 09.00 WIB"),
        "{b}"
    );
    let list = run(&db, &["--json", "privacy", "breaches"]).json();
    assert_eq!(list[0]["id"], b["id"]);
}
