//! Letters through dispatch: the workflow and its roles, numbering (also under concurrent
//! issuers), the PDF read back, and verification of the QR text.

use crate::{audit_actions, check, content_of, login_demo};
use balai_testkit::TestApp;
use serde_json::{json, Value};
use std::process::Command;

/// A demo office with a small register; returns (app, NIKs of a living woman, a living man).
pub(crate) fn office() -> (TestApp, Vec<String>) {
    let t = TestApp::empty();
    t.operator("demo.seed", json!({"residents": 40})).unwrap();
    let tok = login_demo(&t, "petugas");
    let hits = t.call(Some(&tok), "residents.search", json!({"q": "187", "limit": 40})).unwrap();
    let niks: Vec<String> = hits["hits"]
        .as_array()
        .or(hits.as_array())
        .unwrap()
        .iter()
        .filter(|h| h["status"] == "hidup")
        // A list masks the NIK; the record has it.
        .map(|h| {
            let shown = t.operator("residents.show", json!({"key": h["id"]})).unwrap();
            shown["resident"]["nik"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(niks.len() >= 5, "{niks:?}");
    (t, niks)
}

pub(crate) fn domisili(nik: &str) -> Value {
    json!({"letter_type": "domisili", "people": {"pemohon": [nik]}, "fields": {"keperluan": "melamar pekerjaan"}})
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext").arg(&path).arg("-").output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn pdf_of(v: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(v["pdf_base64"].as_str().unwrap()).unwrap()
}

#[test]
fn the_lurah_issues_at_the_counter_with_a_number_a_pdf_and_a_qr_that_verifies() {
    let (t, niks) = office();
    let out = check(&t, Some("lurah"), "letters.issue", domisili(&niks[0]), "ok");
    let number = out["number"].as_str().unwrap();
    // Demo settings: the default pattern, this year's first domisili letter, July.
    assert!(number.starts_with("400.8.1/001/"), "{number}");
    assert!(number.ends_with("/VII/2026"), "{number}");
    let text = pdftotext(&pdf_of(&out));
    assert!(text.contains("SURAT KETERANGAN DOMISILI"), "{text}");
    assert!(text.contains(&format!("Nomor: {number}")));
    assert!(text.contains(&niks[0]), "the letter names the applicant's NIK");
    let qr = out["qr_payload"].as_str().unwrap();
    assert!(!qr.contains(&niks[0]), "the QR never carries the full NIK");
    assert!(qr.contains(&format!("{}********{}", &niks[0][..4], &niks[0][12..])));
    let v = check(&t, Some("petugas"), "letters.verify", json!({"payload": qr}), "ok");
    assert_eq!(v["verdict"], "sah", "{v}");
    // One changed character: not valid.
    let forged = qr.replacen("/001/", "/002/", 1);
    let v = check(&t, Some("petugas"), "letters.verify", json!({"payload": forged}), "ok");
    assert_eq!(v["verdict"], "tidak_sah");
    assert_eq!(v["reason"], "bad_signature");
    // The next letter of the same type takes the next number; the register lists both.
    let second = check(&t, Some("lurah"), "letters.issue", domisili(&niks[1]), "ok");
    assert!(second["number"].as_str().unwrap().starts_with("400.8.1/002/"));
    let reg = check(&t, Some("petugas"), "letters.register", json!({"year": 2026}), "ok");
    let numbers: Vec<&str> =
        reg.as_array().unwrap().iter().map(|l| l["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, [number, second["number"].as_str().unwrap()]);
    assert!(reg[0]["subject_nik_masked"].as_str().unwrap().contains("********"));
    assert!(audit_actions(&t).iter().filter(|a| *a == "letters.issue").count() == 2);
}

#[test]
fn the_workflow_moves_by_role_and_records_who_and_when() {
    let (t, niks) = office();
    let req = check(&t, Some("petugas"), "letters.request", domisili(&niks[0]), "ok");
    let id = req["id"].as_str().unwrap();
    assert_eq!(req["status"], "diminta");
    // A clerk may not sign, nor void.
    check(&t, Some("petugas"), "letters.approve", json!({"id": id}), "err forbidden");
    check(&t, Some("petugas"), "letters.void", json!({"id": id, "reason": "x"}), "err forbidden");
    check(&t, Some("petugas"), "letters.mark_verified", json!({"id": id}), "ok");
    // The sekretaris signs on behalf of the lurah.
    let issued = check(&t, Some("sekel"), "letters.approve", json!({"id": id}), "ok");
    let text = pdftotext(&pdf_of(&issued));
    assert!(text.contains("a.n. Lurah"), "{text}");
    check(&t, Some("sekel"), "letters.approve", json!({"id": id}), "err conflict");
    let collected = check(&t, Some("petugas"), "letters.collect", json!({"id": id}), "ok");
    let history: Vec<&str> = collected["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["diminta", "diverifikasi", "terbit", "diambil"]);
    assert_eq!(collected["history"][2]["actor"], "sekel");
    // A correction voids the letter (with a reason) and issues a new one that refers to it.
    check(
        &t,
        Some("lurah"),
        "letters.void",
        json!({"id": id, "reason": ""}),
        "err invalid_input [reason:required]",
    );
    check(
        &t,
        Some("lurah"),
        "letters.void",
        json!({"id": id, "reason": "salah tulis alamat"}),
        "ok",
    );
    let qr = issued["qr_payload"].as_str().unwrap();
    let v = check(&t, Some("petugas"), "letters.verify", json!({"payload": qr}), "ok");
    assert_eq!(v["verdict"], "dibatalkan");
    let mut again = domisili(&niks[0]);
    again["replaces"] = json!(id);
    let new = check(&t, Some("lurah"), "letters.issue", again, "ok");
    assert_ne!(new["number"], issued["number"], "a voided number is never reused");
    assert_eq!(new["letter"]["replaces"], id);
    // Rejection needs a reason.
    let req2 = check(&t, Some("petugas"), "letters.request", domisili(&niks[1]), "ok");
    check(
        &t,
        Some("petugas"),
        "letters.reject",
        json!({"id": req2["id"], "reason": ""}),
        "err invalid_input [reason:required]",
    );
    check(
        &t,
        Some("petugas"),
        "letters.reject",
        json!({"id": req2["id"], "reason": "pengantar RT belum ada"}),
        "ok",
    );
}

#[test]
fn a_request_that_breaks_the_template_rules_is_refused_naming_each_problem() {
    let (t, niks) = office();
    check(
        &t,
        Some("petugas"),
        "letters.request",
        json!({"letter_type": "domisili", "people": {}, "fields": {}}),
        "err invalid_input [people.pemohon:required, fields.keperluan:required]",
    );
    check(
        &t,
        Some("petugas"),
        "letters.request",
        json!({"letter_type": "surat_sakti", "people": {}, "fields": {}}),
        "err invalid_input [letter_type:unknown_type]",
    );
    check(
        &t,
        Some("petugas"),
        "letters.request",
        json!({"letter_type": "domisili", "people": {"pemohon": ["1872000000000000"]}, "fields": {"keperluan": "x", "warna": "biru"}}),
        "err invalid_input [people.pemohon:not_found, fields.warna:unknown_field]",
    );
    // Ahli waris needs a deceased pewaris: a living one is refused.
    check(
        &t,
        Some("petugas"),
        "letters.request",
        json!({"letter_type": "ahli_waris", "people": {"pewaris": [niks[0]], "ahli_waris": [niks[1], niks[2]], "saksi1": [niks[3]], "saksi2": [niks[4]]}, "fields": {"tanggal_meninggal": "01-06-2026"}}),
        "err invalid_input [people.pewaris:status]",
    );
}

#[test]
fn issuing_a_death_certificate_records_the_death_in_the_register() {
    let (t, niks) = office();
    let args = json!({
        "letter_type": "kematian",
        "people": {"almarhum": [niks[0]], "pelapor": [niks[1]], "saksi1": [niks[2]], "saksi2": [niks[3]]},
        "fields": {"tanggal_meninggal": "28-06-2026", "tempat_meninggal": "Rumah", "sebab": "sakit biasa/tua", "hubungan_pelapor": "Anak"}
    });
    let out = check(&t, Some("lurah"), "letters.issue", args, "ok");
    assert!(out["number"].as_str().unwrap().starts_with("400.8.2/001/"));
    let r = check(&t, Some("petugas"), "residents.show", json!({"key": niks[0]}), "ok");
    assert_eq!(r["status"], "mati", "{r}");
}

#[test]
fn concurrent_issuers_never_get_the_same_number() {
    let (t, niks) = office();
    let lurah = login_demo(&t, "lurah");
    let sekel = login_demo(&t, "sekel");
    let numbers = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for (k, tok) in [&lurah, &sekel, &lurah, &sekel].into_iter().enumerate() {
            let (t, niks, numbers) = (&t, &niks, &numbers);
            s.spawn(move || {
                for i in 0..10 {
                    let nik = &niks[(k + i) % niks.len()];
                    let out = t.call(Some(tok), "letters.issue", domisili(nik)).unwrap();
                    numbers.lock().unwrap().push(out["number"].as_str().unwrap().to_string());
                }
            });
        }
    });
    let mut all = numbers.into_inner().unwrap();
    assert_eq!(all.len(), 40);
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 40, "every number distinct");
    let serials: std::collections::BTreeSet<u32> =
        all.iter().map(|n| n.split('/').nth(1).unwrap().parse().unwrap()).collect();
    assert_eq!(serials, (1..=40).collect(), "no gaps, no repeats");
}

#[test]
fn the_numbering_pattern_is_the_offices_and_bad_patterns_are_refused() {
    let (t, niks) = office();
    check(
        &t,
        Some("admin"),
        "letters.set_settings",
        json!({"number_pattern": "[kode]/[tahun]", "series": "single", "unit_code": "KEL-YSR", "paper": "a4"}),
        "err invalid_input [number_pattern:pattern]",
    );
    check(
        &t,
        Some("admin"),
        "letters.set_settings",
        json!({"number_pattern": "[nomor:4]/[unit]/[bulan]/[tahun]", "series": "single", "unit_code": "KEL-YSR", "paper": "a4"}),
        "ok",
    );
    let a = check(&t, Some("lurah"), "letters.issue", domisili(&niks[0]), "ok");
    assert_eq!(a["number"], "0001/KEL-YSR/07/2026");
    let sktm = json!({"letter_type": "sktm", "people": {"pemohon": [niks[1]]}, "fields": {"keperluan": "berobat"}});
    let b = check(&t, Some("lurah"), "letters.issue", sktm, "ok");
    assert_eq!(b["number"], "0002/KEL-YSR/07/2026", "one series for every type");
}

#[test]
fn the_outgoing_register_downloads_as_a_workbook_with_masked_niks() {
    let (t, niks) = office();
    let a = check(&t, Some("lurah"), "letters.issue", domisili(&niks[0]), "ok");
    let out = check(
        &t,
        Some("petugas"),
        "letters.register_xlsx",
        json!({"year": 2026, "month": 7}),
        "ok",
    );
    let bytes = content_of(&out);
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<String> = range.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(cells.iter().any(|c| c.contains("BUKU AGENDA SURAT KELUAR")), "{cells:?}");
    assert!(cells.contains(&a["number"].as_str().unwrap().to_string()), "{cells:?}");
    assert!(!cells.iter().any(|c| c == &niks[0]), "no full NIK in the register");
    assert!(audit_actions(&t).contains(&"letters.register_xlsx".to_string()));
}

#[test]
fn a_photo_of_the_letter_verifies_from_its_qr_code() {
    let (t, niks) = office();
    let out = check(&t, Some("lurah"), "letters.issue", domisili(&niks[0]), "ok");
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("l.pdf");
    std::fs::write(&pdf, pdf_of(&out)).unwrap();
    for format in ["-png", "-jpeg"] {
        let prefix = dir.path().join(format.trim_start_matches('-'));
        let ok = Command::new("pdftoppm")
            .args(["-r", "300", format, "-singlefile"])
            .arg(&pdf)
            .arg(&prefix)
            .status()
            .unwrap();
        assert!(ok.success());
        let ext = if format == "-png" { "png" } else { "jpg" };
        let image = std::fs::read(prefix.with_extension(ext)).unwrap();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&image);
        let v = check(&t, Some("petugas"), "letters.verify", json!({"image_base64": b64}), "ok");
        assert_eq!(v["verdict"], "sah", "{format}: {v}");
        assert_eq!(v["claims"]["number"], out["number"]);
    }
    // A picture without a letter's QR code says so.
    let blank = {
        let mut png = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut png, 64, 64);
            enc.set_color(png::ColorType::Grayscale);
            enc.write_header().unwrap().write_image_data(&[255u8; 64 * 64]).unwrap();
        }
        png
    };
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&blank);
    check(
        &t,
        Some("petugas"),
        "letters.verify",
        json!({"image_base64": b64}),
        "err invalid_input [image:no_qr]",
    );
}

/// A PDF holding one JPEG picture, as a scanner or phone app saves a scan: the picture is the
/// page at 200 dpi.
fn scan_as_pdf(jpeg: &[u8], width: u32, height: u32) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => width as i64,
            "Height" => height as i64, "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
            "Filter" => "DCTDecode",
        },
        jpeg.to_vec(),
    );
    let image_id = doc.add_object(image);
    let (w, h) = (width as f32 * 72.0 / 200.0, height as f32 * 72.0 / 200.0);
    let content = format!("q {w} 0 0 {h} 0 0 cm /Im0 Do Q");
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "MediaBox" => vec![0.into(), 0.into(), w.into(), h.into()],
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
fn the_pdf_of_a_letter_or_a_scan_saved_as_pdf_verifies_from_its_qr_code() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (t, niks) = office();
    let out = check(&t, Some("lurah"), "letters.issue", domisili(&niks[0]), "ok");
    let pdf = pdf_of(&out);
    // The PDF as Balai issued it.
    let v = check(&t, Some("petugas"), "letters.verify", json!({"image_base64": b64(&pdf)}), "ok");
    assert_eq!(v["verdict"], "sah", "{v}");
    assert_eq!(v["claims"]["number"], out["number"]);
    // The same letter printed and scanned at 200 dpi (scanners' default for documents) into a
    // PDF of JPEG pages.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let prefix = dir.path().join("scan");
    let ok = Command::new("pdftoppm")
        .args(["-r", "200", "-jpeg", "-singlefile"])
        .arg(&path)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(ok.success());
    let jpeg = std::fs::read(prefix.with_extension("jpg")).unwrap();
    let (w, h) = {
        let mut d = jpeg_decoder::Decoder::new(std::io::Cursor::new(&jpeg));
        d.read_info().unwrap();
        let i = d.info().unwrap();
        (i.width as u32, i.height as u32)
    };
    let scan = scan_as_pdf(&jpeg, w, h);
    let scan_path = dir.path().join("scan.pdf");
    std::fs::write(&scan_path, &scan).unwrap();
    let by_path = json!({"image_path": scan_path.display().to_string()});
    // A clerk's session may not have the app read a file by name (it uploads the scan).
    check(
        &t,
        Some("petugas"),
        "letters.verify",
        by_path.clone(),
        "err invalid_input [image:path_not_allowed]",
    );
    let v = t.operator("letters.verify", by_path).unwrap();
    assert_eq!(v["verdict"], "sah", "{v}");
    // Once voided, the same PDF says so.
    let id = out["id"].as_str().unwrap();
    check(&t, Some("lurah"), "letters.void", json!({"id": id, "reason": "salah ketik"}), "ok");
    let v = check(&t, Some("petugas"), "letters.verify", json!({"image_base64": b64(&pdf)}), "ok");
    assert_eq!(v["verdict"], "dibatalkan", "{v}");
    // A PDF without a letter's QR code (the outgoing register), and a broken PDF.
    let register = check(&t, Some("petugas"), "letters.register_pdf", json!({"year": 2026}), "ok");
    check(
        &t,
        Some("petugas"),
        "letters.verify",
        json!({"image_base64": register["content_base64"]}),
        "err invalid_input [image:no_qr]",
    );
    let broken = b"%PDF-1.7\nthis is not really a PDF\n%%EOF\n";
    check(
        &t,
        Some("petugas"),
        "letters.verify",
        json!({"image_base64": b64(broken)}),
        "err invalid_input [image:image_unreadable]",
    );
}

#[test]
fn the_outgoing_register_prints_as_a_pdf_on_the_letterhead() {
    let (t, niks) = office();
    let a = check(&t, Some("lurah"), "letters.issue", domisili(&niks[0]), "ok");
    let out = check(&t, Some("petugas"), "letters.register_pdf", json!({"year": 2026}), "ok");
    let pdf = content_of(&out);
    let text = pdftotext(&pdf);
    assert!(text.contains("BUKU AGENDA SURAT KELUAR"), "{text}");
    assert!(text.contains("KELURAHAN"), "on the letterhead");
    assert!(text.contains(a["number"].as_str().unwrap()), "{text}");
    assert!(!text.contains(&niks[0]), "no full NIK in the register");
}

#[test]
fn only_an_issued_letter_prints_and_a_printer_is_named_as_cups_names_it() {
    // Printing itself (CUPS, the page at F4, its QR) is tested through the CLI with a private
    // scheduler: crates/cli/tests/cli/letters.rs.
    let (t, niks) = office();
    let req = check(&t, Some("petugas"), "letters.request", domisili(&niks[0]), "ok");
    let id = req["id"].as_str().unwrap();
    check(&t, Some("petugas"), "letters.print", json!({"id": id}), "err conflict");
    check(&t, None, "letters.print", json!({"id": id}), "err unauthenticated");
    let out = check(&t, Some("lurah"), "letters.issue", domisili(&niks[1]), "ok");
    assert_eq!(out["letter"]["paper"], "f4");
    check(
        &t,
        Some("petugas"),
        "letters.print",
        json!({"id": out["id"], "printer": "Kantor; rm -rf /"}),
        "err invalid_input [printer:printer_name]",
    );
}

#[test]
fn an_svg_emblem_prints_in_the_letterhead_and_one_that_cannot_be_drawn_is_refused() {
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (t, niks) = office();
    let images = |pdf: &[u8]| -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.pdf");
        std::fs::write(&path, pdf).unwrap();
        let out = Command::new("pdfimages").arg("-list").arg(&path).output().unwrap();
        assert!(out.status.success());
        // page num type width height …: keep "width x height" of each picture (the rows that
        // start with a page number; the two header lines do not).
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<&str>>())
            .filter(|c| c.len() > 4 && c[0].parse::<u32>().is_ok())
            .map(|c| format!("{}x{}", c[3], c[4]))
            .collect()
    };
    let before = pdf_of(&check(&t, Some("lurah"), "letters.issue", domisili(&niks[0]), "ok"));
    let broken = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect"#;
    check(
        &t,
        Some("admin"),
        "profile.set_emblem",
        json!({"data_base64": b64(broken)}),
        "err invalid_input [emblem:svg_unreadable]",
    );
    let square = br##"<svg xmlns="http://www.w3.org/2000/svg" width="50" height="50"><circle cx="25" cy="25" r="24" fill="#c00000"/></svg>"##;
    check(&t, Some("admin"), "profile.set_emblem", json!({"data_base64": b64(square)}), "ok");
    let after = pdf_of(&check(&t, Some("lurah"), "letters.issue", domisili(&niks[1]), "ok"));
    let (was, now) = (images(&before), images(&after));
    // Drawn at 300 dpi for the 24 mm wide emblem box (listed twice: the colours and their
    // transparency mask); the QR is there both times.
    let emblem = |list: &[String]| list.iter().filter(|s| *s == "283x283").count();
    assert_eq!((emblem(&was), emblem(&now)), (0, 2), "{was:?} → {now:?}");
    assert_eq!(now.len(), was.len() + 2);
    // On the rendered page the emblem is red, top left, where the letter before had none.
    let red_top_left = |pdf: &[u8]| -> usize {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("l.pdf"), pdf).unwrap();
        let ok = Command::new("pdftoppm")
            .args(["-r", "50", "-png", "-singlefile", "-f", "1", "-l", "1"])
            .arg(dir.path().join("l.pdf"))
            .arg(dir.path().join("p"))
            .status()
            .unwrap();
        assert!(ok.success());
        let page = std::fs::read(dir.path().join("p.png")).unwrap();
        let mut d = png::Decoder::new(std::io::Cursor::new(page));
        d.set_transformations(png::Transformations::EXPAND);
        let mut r = d.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        let (w, h, n) = (info.width as usize, info.height as usize, info.color_type.samples());
        (0..h / 5)
            .flat_map(|y| (0..w / 3).map(move |x| (y * w + x) * n))
            .filter(|&i| buf[i] > 150 && buf[i + 1] < 60 && buf[i + 2] < 60)
            .count()
    };
    assert_eq!(red_top_left(&before), 0);
    assert!(red_top_left(&after) > 300, "{}", red_top_left(&after));
}

#[test]
fn a_letter_is_dated_by_the_office_s_own_time_zone_not_by_utc() {
    let (t, niks) = office();
    // 16:30 UTC on 1 July: 23:30 on 1 July in Lampung (WIB), 01:30 on 2 July in Jayapura (WIT).
    t.clock.advance(chrono::Duration::minutes(8 * 60 + 30));
    let in_wib = check(&t, Some("lurah"), "letters.issue", domisili(&niks[0]), "ok");
    assert_eq!(in_wib["letter"]["issued_on"], "2026-07-01", "{}", in_wib["letter"]);
    let mut profile = t.operator("profile.get", json!({})).unwrap()["profile"].clone();
    for (field, code) in [
        ("province_code", "91"),
        ("city_code", "91.71"),
        ("kecamatan_code", "91.71.01"),
        ("kelurahan_code", "91.71.01.1001"),
    ] {
        profile[field] = json!(code);
    }
    t.operator("profile.set", profile).unwrap();
    let in_wit = check(&t, Some("lurah"), "letters.issue", domisili(&niks[1]), "ok");
    assert_eq!(in_wit["letter"]["issued_on"], "2026-07-02", "{}", in_wit["letter"]);
    assert!(pdftotext(&pdf_of(&in_wit)).contains("2 Juli 2026"), "the date printed on it");
}

/// A letter (synthetic demo office) scanned at 200 dpi into a JPEG, as a scanner's default
/// gives it, whose QR code the reader missed: pixel-repeating enlargement and both thresholds
/// failed where Debian's zbarimg read it. Its key is not this test office's, so the verdict is
/// about the key; what matters is that the code is read.
#[test]
fn a_200_dpi_jpeg_scan_whose_code_the_reader_once_missed_is_read() {
    let t = TestApp::demo();
    use base64::Engine;
    let scan = std::fs::read("tests/app/scans/letter-200dpi.jpg").unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&scan);
    let v = check(&t, Some("petugas"), "letters.verify", json!({"image_base64": b64}), "ok");
    // The signer's key id comes from the code itself: it was read.
    assert_eq!(v["reason"], "unknown_key", "{v}");
    assert!(v["message"].as_str().unwrap().contains("4737f944bb735d84"), "{v}");
}
