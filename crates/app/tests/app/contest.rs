//! Scorecards through dispatch: entering values (and what is refused), evidence by content
//! hash with thumbnails, indicators computed from the letter log, the planner and its task
//! list, submitting (readiness, lock, roles), and the jury's report read back.

use crate::letters::{domisili, office};
use crate::{audit_actions, check, content_of, login_demo};
use balai_testkit::TestApp;
use serde_json::{json, Value};

fn set_all(t: &TestApp, ruleset: &str, period: i32, level: i64) {
    let rs = t.operator("contest.ruleset", json!({"ruleset": ruleset})).unwrap();
    for i in rs["indicators"].as_array().unwrap() {
        if i["computed"].is_null() {
            let args =
                json!({"ruleset": ruleset, "period": period, "indicator": i["id"], "value": level});
            t.operator("contest.set", args).unwrap();
        }
    }
}

fn score(t: &TestApp, ruleset: &str, period: i32) -> Value {
    t.operator("contest.score", json!({"ruleset": ruleset, "period": period})).unwrap()
}

/// A PNG of `w`×`h` grey pixels (a stand-in for a phone photo of a decree).
fn png(w: u32, h: u32, shade: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Grayscale);
    let mut wr = enc.write_header().unwrap();
    wr.write_image_data(&vec![shade; (w * h) as usize]).unwrap();
    wr.finish().unwrap();
    out
}

/// A scanned page saved as PDF: one `w`×`h` grey picture (no filter) filling the page.
fn scanned_pdf(w: u32, h: u32) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let pixels: Vec<u8> = (0..w * h).map(|i| (i % 251) as u8).collect();
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => w as i64, "Height" => h as i64,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
        },
        pixels,
    );
    let image_id = doc.add_object(image);
    let content = format!("q {w} 0 0 {h} 0 0 cm /Im0 Do Q");
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "MediaBox" => vec![0.into(), 0.into(), (w as i64).into(), (h as i64).into()],
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 },
        ),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A small PDF as evidence for every SPBE indicator of 2026 (what a submission needs).
fn attach_evidence_to_all(t: &TestApp) {
    for k in 1..=47 {
        let args = json!({"ruleset": "spbe", "period": 2026, "indicator": format!("I{k}"),
                          "file_name": "bukti.pdf", "data_base64": b64(b"%PDF-1.4\n%%EOF\n")});
        t.operator("contest.attach", args).unwrap();
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn the_lurah_enters_spbe_values_and_sees_the_total_and_band_move() {
    let t = TestApp::demo();
    let list = check(&t, Some("petugas"), "contest.rulesets", json!({}), "ok");
    let ids: Vec<&str> =
        list.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["spbe", "epdeskel", "lomba-kelurahan", "smart-city"]);

    set_all(&t, "spbe", 2026, 3);
    let s = score(&t, "spbe", 2026);
    assert_eq!(s["score"]["total"], 3.0);
    assert_eq!(s["score"]["band"]["name"], "Baik");
    assert_eq!(s["score"]["next"]["name"], "Sangat Baik");
    assert_eq!(s["indicators"][0]["entered_by"], "cli:test");

    // The lurah raises the six aspect-8 indicators (3 % each) to 5: +0.36 → 3.36.
    for i in 42..=47 {
        let args = json!({"period": 2026, "indicator": format!("I{i}"), "value": 5, "note": "aplikasi layanan terpadu"});
        let out = check(&t, Some("lurah"), "contest.set", args, "ok");
        assert_eq!(
            (out["value"].as_i64(), out["value_label"].as_str()),
            (Some(5), Some("Optimum"))
        );
        assert_eq!(out["entered_by"], "lurah");
    }
    let s = score(&t, "spbe", 2026);
    assert_eq!(s["score"]["total"], 3.36);
    assert_eq!(s["score"]["next"]["needed"], 0.14);
    assert_eq!(audit_actions(&t).iter().filter(|a| *a == "contest.set").count(), 47 + 6);

    // Last year at level 2 everywhere: the change and the two-year columns.
    set_all(&t, "spbe", 2025, 2);
    let s = score(&t, "spbe", 2026);
    assert_eq!(s["previous"]["total"], 2.0);
    assert_eq!(s["change"], 1.36);
    assert_eq!(s["indicators"][41]["previous"], 2);
    let trend: Vec<f64> =
        s["trend"].as_array().unwrap().iter().map(|p| p["total"].as_f64().unwrap()).collect();
    assert_eq!(trend, [2.0, 3.36]);
    // Clearing a value takes it out of the total.
    check(
        &t,
        Some("sekel"),
        "contest.set",
        json!({"period": 2026, "indicator": "I47", "value": null}),
        "ok",
    );
    assert_eq!(score(&t, "spbe", 2026)["score"]["total"], 3.21);
    let overview = check(&t, Some("petugas"), "contest.scores", json!({"period": 2026}), "ok");
    let spbe = overview.as_array().unwrap().iter().find(|o| o["ruleset"] == "spbe").unwrap();
    assert_eq!((spbe["total"].as_f64(), spbe["filled"].as_u64()), (Some(3.21), Some(46)));
    assert_eq!(
        check(&t, Some("petugas"), "contest.band", json!({"ruleset": "spbe", "score": 3.04}), "ok")
            ["band"],
        "Baik"
    );
}

#[test]
fn what_cannot_be_a_value_is_refused_naming_the_field() {
    let t = TestApp::demo();
    let set = |args: Value, expect: &str| check(&t, Some("lurah"), "contest.set", args, expect);
    set(
        json!({"period": 2026, "indicator": "I3", "value": 6}),
        "err invalid_input [value:not_an_option]",
    );
    set(
        json!({"period": 2026, "indicator": "X9", "value": 1}),
        "err invalid_input [ruleset:required]",
    );
    set(
        json!({"ruleset": "spbe", "period": 2026, "indicator": "X9", "value": 1}),
        "err invalid_input [indicator:unknown]",
    );
    set(
        json!({"ruleset": "pbb", "period": 2026, "indicator": "I3", "value": 1}),
        "err invalid_input [ruleset:unknown]",
    );
    set(json!({"period": 1999, "indicator": "I3", "value": 1}), "err invalid_input [period:range]");
    // Computed from the letter log, not typed.
    set(
        json!({"period": 2026, "indicator": "PM-B1", "value": 5}),
        "err invalid_input [value:computed]",
    );
    set(
        json!({"period": 2026, "indicator": "I3", "value": 1, "note": "x".repeat(1001)}),
        "err invalid_input [note:too_long]",
    );
    // The counter clerk reads scorecards but does not keep them.
    check(
        &t,
        Some("petugas"),
        "contest.set",
        json!({"period": 2026, "indicator": "I3", "value": 2}),
        "err forbidden",
    );
    check(&t, Some("petugas"), "contest.score", json!({"ruleset": "spbe", "period": 2026}), "ok");
    check(
        &t,
        Some("petugas"),
        "contest.band",
        json!({"ruleset": "spbe", "score": 7.0}),
        "err invalid_input [score:range]",
    );
    // Nothing refused was stored.
    assert_eq!(score(&t, "spbe", 2026)["score"]["filled"], 0);
}

#[test]
fn evidence_is_kept_once_by_content_with_a_thumbnail_and_only_as_pdf_png_or_jpeg() {
    let t = TestApp::demo();
    let photo = png(640, 480, 90);
    let attach = |indicator: &str, name: &str, bytes: &[u8], expect: &str| {
        let args = json!({"ruleset": "spbe", "period": 2026, "indicator": indicator, "file_name": name, "data_base64": b64(bytes)});
        check(&t, Some("sekel"), "contest.attach", args, expect)
    };
    let first = attach("I1", "C:\\Users\\sekel\\Foto SK.png", &photo, "ok");
    assert_eq!(first["file_name"], "Foto SK.png", "the path is not kept");
    assert_eq!(
        (first["media_type"].as_str(), first["thumbnail"].as_bool()),
        (Some("image/png"), Some(true))
    );
    attach("I2", "../../sk-lagi.png", &photo, "ok");
    attach("I1", "sama.png", &photo, "err conflict");
    attach("I1", "x.gif", b"GIF89a\x01\x00\x01\x00", "err invalid_input [file:type]");
    attach("I1", "kosong.pdf", b"", "err invalid_input [file:empty]");
    attach("I1", "sk.pdf", b"%PDF-1.4\n%%EOF\n", "ok");
    let s = score(&t, "spbe", 2026);
    let ev = |k: usize| s["indicators"][k]["evidence"].as_array().unwrap().clone();
    assert_eq!((ev(0).len(), ev(1).len()), (2, 1));
    assert_eq!(ev(0)[0]["sha256"], ev(1)[0]["sha256"], "one file, two attachments");
    let stored: i64 = crate::raw_db(&t)
        .query_row("SELECT count(*) FROM contest_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 2, "the photo once, the PDF once");
    // The thumbnail is a PNG at most 160 pixels wide; the file itself comes back whole.
    // The thumbnail, decoded: (width, height, grey pixels).
    let thumbnail = |sha: &Value| {
        let out = check(
            &t,
            Some("petugas"),
            "contest.evidence_file",
            json!({"sha256": sha, "thumbnail": true}),
            "ok",
        );
        let bytes = content_of(&out);
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
        let mut px = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut px).unwrap();
        (info.width as usize, info.height as usize, px)
    };
    let sha = ev(0)[0]["sha256"].clone();
    assert_eq!(thumbnail(&sha).0, 160);
    assert_eq!(thumbnail(&sha).1, 120);
    let whole = check(&t, Some("petugas"), "contest.evidence_file", json!({"sha256": sha}), "ok");
    // A scanned decree saved as PDF shows its page.
    let scan = attach("I3", "SK discan.pdf", &scanned_pdf(600, 800), "ok");
    assert_eq!(scan["thumbnail"], true);
    let (w, h, _) = thumbnail(&scan["sha256"]);
    assert_eq!((w, h), (120, 160));
    // A PDF of text (the jury's report, F4 portrait) shows its page: ink inside white margins.
    let report = content_of(
        &t.call(
            Some(&login_demo(&t, "lurah")),
            "contest.report",
            json!({"ruleset": "spbe", "period": 2026}),
        )
        .unwrap(),
    );
    let text = attach("I4", "laporan.pdf", &report, "ok");
    assert_eq!(text["thumbnail"], true);
    let (w, h, px) = thumbnail(&text["sha256"]);
    assert_eq!((w, h), (104, 160), "F4 is 215 × 330 mm");
    let ink = px.iter().filter(|p| **p < 128).count();
    assert!(ink > 100, "the text is drawn: {ink} dark pixels");
    let mut edges = (0..h).flat_map(|y| [px[y * w], px[y * w + w - 1]]);
    assert!(edges.all(|p| p > 230), "the side margins stay white");
    // A PDF without a page has no thumbnail.
    let pageless = balai_domain::sha256_hex(b"%PDF-1.4\n%%EOF\n");
    check(
        &t,
        Some("petugas"),
        "contest.evidence_file",
        json!({"sha256": pageless, "thumbnail": true}),
        "err not_found",
    );
    assert_eq!(content_of(&whole), photo);
    // Readiness: I1 and I2 have evidence but no value; the others lack both.
    let gaps = s["readiness"].as_array().unwrap();
    assert_eq!(gaps.len(), 47);
    assert_eq!(
        (gaps[0]["lacks_value"].as_bool(), gaps[0]["lacks_evidence"].as_bool()),
        (Some(true), Some(false))
    );
    // Detaching the last use of a file removes its bytes.
    let id = ev(1)[0]["id"].as_str().unwrap().to_string();
    check(&t, Some("sekel"), "contest.detach", json!({"id": id}), "ok");
    let pdf_id = ev(0)[1]["id"].as_str().unwrap().to_string();
    check(&t, Some("sekel"), "contest.detach", json!({"id": pdf_id}), "ok");
    let stored: i64 = crate::raw_db(&t)
        .query_row("SELECT count(*) FROM contest_files", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 3, "the photo (still on I1), the scan (on I3) and the report (on I4)");
}

#[test]
fn service_speed_and_online_share_are_computed_from_the_letter_log() {
    let (t, niks) = office();
    let s = score(&t, "lomba-kelurahan", 2026);
    let fast = &s["indicators"][3];
    assert_eq!(fast["id"], "PM-B1");
    assert_eq!(fast["computed"]["figure"], Value::Null);
    assert_eq!(fast["computed"]["explanation"], "Belum ada surat terbit tahun 2026.");
    // Two letters requested, signed 3 and 30 hours later: median 16.5 hours → level 3 (≤ 24 h).
    let mut ids = Vec::new();
    for nik in &niks[..2] {
        let r = check(&t, Some("petugas"), "letters.request", domisili(nik), "ok");
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    t.clock.advance(chrono::Duration::hours(3));
    check(&t, Some("lurah"), "letters.approve", json!({"id": ids[0]}), "ok");
    t.clock.advance(chrono::Duration::hours(27));
    check(&t, Some("lurah"), "letters.approve", json!({"id": ids[1]}), "ok");
    let s = score(&t, "lomba-kelurahan", 2026);
    let fast = &s["indicators"][3];
    assert_eq!(fast["computed"]["figure"], 16.5);
    assert_eq!(fast["value"], 3);
    assert!(
        fast["computed"]["explanation"].as_str().unwrap().contains("Median 16,5 jam"),
        "{fast}"
    );
    // No online request: 0 % → level 1.
    let online = &s["indicators"][4];
    assert_eq!(
        (online["computed"]["figure"].as_f64(), online["value"].as_i64()),
        (Some(0.0), Some(1))
    );
    let letters =
        s["profile"].as_array().unwrap().iter().find(|p| p["measure"] == "letters_issued").unwrap();
    assert_eq!((letters["current"].as_f64(), letters["previous"].as_f64()), (Some(2.0), Some(0.0)));
    let population =
        s["profile"].as_array().unwrap().iter().find(|p| p["measure"] == "population").unwrap();
    assert!(population["current"].as_f64().unwrap() > 0.0);
}

fn to_sangat_baik(t: &TestApp) -> Value {
    let args = json!({"period": 2026, "ruleset": "spbe", "target": "Sangat Baik"});
    check(t, Some("lurah"), "contest.plan", args, "ok")
}

#[test]
fn the_planner_finds_the_cheapest_raises_and_its_plan_becomes_a_task_list() {
    let t = TestApp::demo();
    set_all(&t, "spbe", 2026, 3);
    let plan = to_sangat_baik(&t);
    assert_eq!(plan["effort"], 17);
    assert_eq!(plan["band_after"], "Sangat Baik");
    // "Sangat Baik" is a band of three rule sets: the planner asks which.
    check(
        &t,
        Some("lurah"),
        "contest.plan",
        json!({"period": 2026, "target": "Sangat Baik"}),
        "err invalid_input [ruleset:ambiguous]",
    );
    check(
        &t,
        Some("lurah"),
        "contest.plan",
        json!({"period": 2026, "ruleset": "spbe", "target": "Luar Biasa"}),
        "err invalid_input [target:unknown]",
    );
    check(
        &t,
        Some("lurah"),
        "contest.plan",
        json!({"period": 2026, "ruleset": "spbe"}),
        "err invalid_input [target:required]",
    );
    // Aspect 8 made dear: the plan moves to aspect 7.
    for i in 42..=47 {
        check(
            &t,
            Some("lurah"),
            "contest.set_effort",
            json!({"ruleset": "spbe", "indicator": format!("I{i}"), "effort": 10}),
            "ok",
        );
    }
    let plan = to_sangat_baik(&t);
    assert_eq!(plan["effort"], 18);
    let budget = check(
        &t,
        Some("petugas"),
        "contest.plan",
        json!({"period": 2026, "ruleset": "spbe", "budget": 4}),
        "ok",
    );
    assert_eq!(budget["after"], 3.11); // four aspect-7 steps (2.75 % each) now that aspect 8 is dear
                                       // Accepted: one task per step; entering the target value closes its task.
    let tasks = check(
        &t,
        Some("lurah"),
        "contest.accept_plan",
        json!({"period": 2026, "ruleset": "spbe", "target": "Sangat Baik"}),
        "ok",
    );
    let tasks = tasks.as_array().unwrap().clone();
    assert!(!tasks.is_empty() && tasks.iter().all(|x| x["done_at_ms"].is_null()));
    let first = &tasks[0];
    check(
        &t,
        Some("lurah"),
        "contest.set",
        json!({"period": 2026, "indicator": first["indicator"], "value": first["target"]}),
        "ok",
    );
    let after = check(
        &t,
        Some("petugas"),
        "contest.tasks",
        json!({"period": 2026, "ruleset": "spbe"}),
        "ok",
    );
    let done: Vec<&Value> =
        after.as_array().unwrap().iter().filter(|x| !x["done_at_ms"].is_null()).collect();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["indicator"], first["indicator"]);
}

#[test]
fn a_period_is_submitted_only_when_ready_and_is_locked_after() {
    let t = TestApp::demo();
    check(
        &t,
        Some("lurah"),
        "contest.submit",
        json!({"ruleset": "spbe", "period": 2026}),
        "err invalid_input [readiness:not_ready]",
    );
    set_all(&t, "spbe", 2026, 4);
    check(
        &t,
        Some("lurah"),
        "contest.submit",
        json!({"ruleset": "spbe", "period": 2026}),
        "err invalid_input [readiness:not_ready]",
    );
    attach_evidence_to_all(&t);
    check(
        &t,
        Some("sekel"),
        "contest.submit",
        json!({"ruleset": "spbe", "period": 2026}),
        "err forbidden",
    );
    let card = check(
        &t,
        Some("lurah"),
        "contest.submit",
        json!({"ruleset": "spbe", "period": 2026}),
        "ok",
    );
    assert_eq!(card["submitted"]["total"], 4.0);
    assert_eq!(card["submitted"]["band"], "Sangat Baik");
    check(
        &t,
        Some("lurah"),
        "contest.set",
        json!({"period": 2026, "indicator": "I3", "value": 5}),
        "err conflict",
    );
    check(
        &t,
        Some("lurah"),
        "contest.submit",
        json!({"ruleset": "spbe", "period": 2026}),
        "err conflict",
    );
    let ev = card["indicators"][0]["evidence"][0]["id"].as_str().unwrap().to_string();
    check(&t, Some("lurah"), "contest.detach", json!({"id": ev}), "err conflict");
    // Next year is open.
    check(
        &t,
        Some("lurah"),
        "contest.set",
        json!({"period": 2027, "indicator": "I3", "value": 5}),
        "ok",
    );
    // The submission waits in the outbox for the city.
    let pending: i64 = crate::raw_db(&t)
        .query_row(
            "SELECT count(*) FROM _sync_outbox WHERE field_group = 'submit_contest_period'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pending, 1);
}

#[test]
fn the_jury_report_compares_two_years_in_pdf_and_xlsx() {
    let t = TestApp::demo();
    set_all(&t, "spbe", 2025, 2);
    set_all(&t, "spbe", 2026, 3);
    let tok = login_demo(&t, "lurah");
    let out =
        t.call(Some(&tok), "contest.report", json!({"ruleset": "spbe", "period": 2026})).unwrap();
    let pdf = content_of(&out);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let text = std::process::Command::new("pdftotext").arg(&path).arg("-").output().unwrap();
    let text =
        String::from_utf8_lossy(&text.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("INDEKS SPBE 2020 — PERIODE 2026"), "{text}");
    assert!(text.contains("I3 Tingkat Kematangan Kebijakan Internal Manajemen Data 2 (Terkelola) 3 (Terdefinisi) 0"), "{text}");
    assert!(text.contains("Jumlah Layanan SPBE 1,37"), "{text}");
    assert!(text.contains("NILAI AKHIR 2,00 3,00 — Baik"), "{text}");
    let xlsx = dir.path().join("r.xlsx");
    let args = json!({"ruleset": "spbe", "period": 2026, "format": "xlsx", "path": xlsx.display().to_string()});
    // A file named by path is the command line's (the operator's); the window downloads.
    check(
        &t,
        Some("lurah"),
        "contest.report",
        args.clone(),
        "err invalid_input [path:path_not_allowed]",
    );
    assert!(!xlsx.exists());
    t.operator("contest.report", args).unwrap();
    let bytes = std::fs::read(&xlsx).unwrap();
    assert!(bytes.starts_with(b"PK"), "an XLSX is a zip");
    check(
        &t,
        Some("lurah"),
        "contest.report",
        json!({"ruleset": "spbe", "period": 2026, "format": "doc"}),
        "err invalid_input [format:unknown]",
    );
    assert!(audit_actions(&t).contains(&"contest.report".to_string()));
}

#[test]
fn values_and_the_submission_reach_the_other_pc_of_the_office_through_the_city() {
    let kota = balai_testkit::kota::Kota::start();
    let a = TestApp::demo();
    let b = TestApp::demo();
    for t in [&a, &b] {
        t.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).unwrap();
    }
    set_all(&a, "spbe", 2026, 4);
    // B, offline, enters one of the same indicators earlier: the later entry (A's) wins on both.
    b.clock.advance(chrono::Duration::seconds(-60));
    check(
        &b,
        Some("lurah"),
        "contest.set",
        json!({"period": 2026, "indicator": "I1", "value": 1}),
        "ok",
    );
    b.clock.advance(chrono::Duration::seconds(60));
    for t in [&a, &b, &a] {
        let r = t.operator("sync.now", json!({})).unwrap();
        assert_eq!(r["rejected"], 0, "{r}");
    }
    let (on_a, on_b) = (score(&a, "spbe", 2026), score(&b, "spbe", 2026));
    assert_eq!(on_b["score"]["total"], 4.0, "{}", on_b["score"]);
    assert_eq!(on_a["score"], on_b["score"]);
    assert_eq!(on_b["indicators"][0]["entered_by"], "cli:test");

    attach_evidence_to_all(&a);
    check(&a, Some("lurah"), "contest.submit", json!({"ruleset": "spbe", "period": 2026}), "ok");
    // B's lurah, not yet synced, raises I1 and submits too: 4.013 → 4.01.
    attach_evidence_to_all(&b);
    check(
        &b,
        Some("lurah"),
        "contest.set",
        json!({"period": 2026, "indicator": "I1", "value": 5}),
        "ok",
    );
    let own = check(
        &b,
        Some("lurah"),
        "contest.submit",
        json!({"ruleset": "spbe", "period": 2026}),
        "ok",
    );
    assert_eq!(own["submitted"]["total"], 4.01);
    let r = a.operator("sync.now", json!({})).unwrap();
    assert_eq!((r["rejected"].as_u64(), r["pending"].as_u64()), (Some(0), Some(0)), "{r}");
    // The city took A's first: B's submission comes back as a conflict, and B holds A's.
    let r = b.operator("sync.now", json!({})).unwrap();
    assert_eq!(r["rejected"], 1, "{r}");
    let status = b.operator("sync.status", json!({})).unwrap();
    assert_eq!(status["rejected"][0]["code"], "conflict", "{status}");
    let on_b = score(&b, "spbe", 2026);
    assert_eq!(on_b["submitted"]["submitted_by"], "lurah", "{}", on_b["submitted"]);
    assert_eq!(on_b["submitted"]["total"], 4.0);
    check(
        &b,
        Some("lurah"),
        "contest.set",
        json!({"period": 2026, "indicator": "I2", "value": 5}),
        "err conflict",
    );
}

#[test]
fn an_edition_the_city_publishes_reaches_the_office_and_scores_its_period() {
    let kota = balai_testkit::kota::Kota::start();
    let t = TestApp::demo();
    t.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).unwrap();
    // The city's 2025 guideline: the Lomba's top band from 85 instead of 90.
    let shipped = include_str!("../../../../assets/contest/lomba-kelurahan/2024.toml");
    let text = shipped
        .replace("edition = \"2024\"", "edition = \"2025\"")
        .replace("below = 90", "below = 85")
        .replace("from = 90", "from = 85");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lomba-2025.toml");
    std::fs::write(&file, &text).unwrap();
    let out = kota.cli(&["contest", "publish", file.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let before = check(&t, Some("lurah"), "contest.rulesets", json!({}), "ok");
    let lomba = |v: &Value| {
        v.as_array().unwrap().iter().find(|r| r["id"] == "lomba-kelurahan").unwrap().clone()
    };
    assert_eq!(lomba(&before)["edition"], "2024");
    let r = t.operator("sync.now", json!({})).unwrap();
    assert_eq!(r["reference"], 1, "{r}");
    let after = check(&t, Some("lurah"), "contest.rulesets", json!({}), "ok");
    assert_eq!(lomba(&after)["edition"], "2025");
    assert_eq!(lomba(&after)["editions"], json!(["2024", "2025"]));
    // A second round takes nothing more.
    assert_eq!(t.operator("sync.now", json!({})).unwrap()["reference"], 0);

    // Every typed indicator at 5 but PM-A1 and PM-A2 at 3; the computed two have no value (no
    // letter and no request yet): (5·80 + 3·10) / 5 = 86: Istimewa under 2025, Sangat Baik
    // under 2024.
    for (period, band) in [(2025, "Istimewa"), (2024, "Sangat Baik")] {
        set_all(&t, "lomba-kelurahan", period, 5);
        for i in ["PM-A1", "PM-A2"] {
            let args =
                json!({"ruleset": "lomba-kelurahan", "period": period, "indicator": i, "value": 3});
            t.operator("contest.set", args).unwrap();
        }
        let s = score(&t, "lomba-kelurahan", period);
        assert_eq!(s["score"]["total"], 86.0, "{period}");
        assert_eq!(
            (s["ruleset"]["edition"].as_str(), s["score"]["band"]["name"].as_str()),
            (Some(if period == 2025 { "2025" } else { "2024" }), Some(band)),
            "{period}"
        );
    }
}
