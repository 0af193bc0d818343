//! Letter benchmarks at the app boundary on a real database file: rendering one letter to PDF
//! (median, and its size), and issuing 1,000 letters in a row (allocate a number, store,
//! render, sign), checking that all 1,000 numbers are distinct. Writes
//! `target/bench/letters.json`, which `cargo xtask bench` puts into BENCHMARKS.md.

use balai_testkit::TestApp;
use serde_json::json;
use std::time::Instant;

const LETTERS: usize = 1_000;

fn main() {
    let t = TestApp::empty();
    t.operator("demo.seed", json!({"residents": 500})).expect("seed");
    let petugas = t.login("petugas", "demo-petugas");
    let lurah = t.login("lurah", "demo-lurah");
    let hits = t
        .call(Some(&petugas), "residents.search", json!({"q": "187", "limit": 200}))
        .expect("search");
    let niks: Vec<String> = hits
        .as_array()
        .expect("hits")
        .iter()
        .filter(|h| h["status"] == "hidup")
        .map(|h| h["nik"].as_str().expect("nik").to_string())
        .collect();

    // Render only: a representative letter rendered many times, with a real signed payload.
    let args = |nik: &str| json!({"letter_type": "domisili", "nik": nik, "fields": {"keperluan": "melamar pekerjaan"}});
    let first = t.call(Some(&lurah), "letters.issue", args(&niks[0])).expect("issue");
    let pdf_bytes = first["pdf_base64"].as_str().expect("pdf").len() * 3 / 4;
    let tpl = balai_letters::load_shipped()
        .expect("templates")
        .into_iter()
        .find(|x| x.code == "domisili")
        .expect("domisili");
    let content = sample_content(&tpl);
    let payload = first["qr_payload"].as_str().expect("payload").to_string();
    let mut render = Vec::new();
    for _ in 0..50 {
        let s = Instant::now();
        let pdf = balai_letters::pdf::render(&tpl, &content, balai_letters::Paper::F4, &payload)
            .expect("render");
        render.push(s.elapsed().as_secs_f64() * 1000.0);
        assert!(!pdf.is_empty());
    }
    render.sort_by(f64::total_cmp);

    // Issue 1,000 in a row.
    let start = Instant::now();
    let mut numbers = std::collections::BTreeSet::new();
    for i in 0..LETTERS {
        let out =
            t.call(Some(&lurah), "letters.issue", args(&niks[i % niks.len()])).expect("issue");
        numbers.insert(out["number"].as_str().expect("number").to_string());
    }
    let issue_s = start.elapsed().as_secs_f64();
    assert_eq!(numbers.len(), LETTERS, "every number distinct");
    let out = json!({
        "render_ms_median": render[render.len() / 2],
        "render_ms_max": render[render.len() - 1],
        "pdf_bytes": pdf_bytes,
        "issued": LETTERS,
        "issue_all_s": issue_s,
        "distinct_numbers": numbers.len(),
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).expect("bench dir");
    std::fs::write(dir.join("letters.json"), serde_json::to_string_pretty(&out).expect("json"))
        .expect("write");
    #[allow(clippy::print_stdout)]
    {
        println!("{out:#}");
    }
}

/// A domisili letter's content, as issuing builds it.
fn sample_content(t: &balai_letters::Template) -> balai_letters::LetterContent {
    let person: balai_letters::Person = [
        ("nama", "Siti Aminah"),
        ("nik", "1872045508900001"),
        ("alamat", "Jl. Mawar 1 RT 003 RW 002"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    balai_letters::LetterContent {
        template: t.code.clone(),
        template_version: t.version.clone(),
        title: t.title.clone(),
        number: "400.8.1/001/KEL/VII/2026".into(),
        issued: chrono::NaiveDate::from_ymd_opt(2026, 7, 1).expect("date"),
        valid_until: None,
        office: balai_letters::Office {
            kota: "Kota Metro".into(),
            kecamatan: "Metro Timur".into(),
            kelurahan: "Yosorejo".into(),
            provinsi: "Lampung".into(),
            alamat: "Jl. Kenanga 1".into(),
            place: "Metro".into(),
            emblem_png: None,
        },
        people: [("pemohon".to_string(), vec![person])].into_iter().collect(),
        fields: [("keperluan".to_string(), "melamar pekerjaan".to_string())].into_iter().collect(),
        signer: balai_letters::Signer {
            position_lines: vec!["Lurah Yosorejo".into()],
            name: "Drs. Ahmad Fauzi".into(),
            rank: "Pembina (IV/a)".into(),
            nip: "197805122005011003".into(),
        },
    }
}
