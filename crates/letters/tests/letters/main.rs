//! Every shipped template rendered with synthetic data and read back the way a person would:
//! the text (pdftotext), the page as an image (pdftoppm) and the QR code scanned from that
//! image (zbarimg) and verified with the office's public key.

use balai_domain::letter_payload::{self, LetterClaims, OfficeKey};
use balai_letters::content::validate_fields;
use balai_letters::template::{shipped, FieldKind};
use balai_letters::{load_shipped, pdf, LetterContent, Office, Paper, Person, Signer, Template};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn person(name: &str, nik: &str) -> Person {
    [
        ("nama", name),
        ("nik", nik),
        ("no_kk", "1872041203150007"),
        ("ttl", "Metro, 15 Agustus 1990"),
        ("tempat_lahir", "Metro"),
        ("tanggal_lahir", "15 Agustus 1990"),
        ("umur", "35 tahun"),
        ("jenis_kelamin", "Perempuan"),
        ("agama", "Islam"),
        ("pekerjaan", "Wiraswasta"),
        ("pendidikan", "SLTA/Sederajat"),
        ("status_kawin", "Kawin"),
        ("kewarganegaraan", "WNI"),
        ("hubungan", "Anak"),
        ("nama_ayah", "Budi Santoso"),
        ("nama_ibu", "Sri Lestari"),
        ("alamat", "Jl. Mawar No. 12 RT 003 RW 002"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A value that validates for each extra field of `t`.
fn fields(t: &Template) -> BTreeMap<String, String> {
    t.fields
        .iter()
        .map(|f| {
            let v = match f.kind {
                FieldKind::Text => "melamar pekerjaan".to_string(),
                FieldKind::Date => "01-07-2026".into(),
                FieldKind::Time => "08.30".into(),
                FieldKind::Number => "3".into(),
                FieldKind::Money => "Rp 1.500.000".into(),
                FieldKind::Choice => f.choices[0].clone(),
            };
            (f.key.clone(), v)
        })
        .collect()
}

fn content(t: &Template, heirs: usize) -> LetterContent {
    let mut people = BTreeMap::new();
    for (i, p) in t.people.iter().enumerate() {
        let n = if p.many { heirs } else { 1 };
        let list = (0..n)
            .map(|k| {
                person(&format!("Warga {} {}", p.label, k + 1), &format!("18720455089{i:02}{k:03}"))
            })
            .collect();
        people.insert(p.role.clone(), list);
    }
    LetterContent {
        template: t.code.clone(),
        template_version: t.version.clone(),
        title: t.title.clone(),
        number: format!("{}/015/KEL-YSR/VII/2026", t.classification),
        issued: NaiveDate::from_ymd_opt(2026, 7, 1).unwrap(),
        valid_until: NaiveDate::from_ymd_opt(2026, 9, 29),
        office: Office {
            kota: "Kota Metro".into(),
            kecamatan: "Metro Pusat".into(),
            kelurahan: "Yosorejo".into(),
            provinsi: "Lampung".into(),
            alamat: "Jl. Jenderal Sudirman No. 1, Metro 34111".into(),
            place: "Metro".into(),
            emblem_png: None,
        },
        people,
        fields: validate_fields(t, &fields(t)).expect("synthetic fields validate"),
        signer: Signer {
            position_lines: vec!["Lurah Yosorejo".into()],
            name: "Drs. Ahmad Fauzi".into(),
            rank: "Penata Tingkat I (III/d)".into(),
            nip: "197805122005011003".into(),
        },
    }
}

fn payload(c: &LetterContent, key: &OfficeKey) -> String {
    let claims = LetterClaims {
        letter_id: "019a0000000070008000000000000001".into(),
        number: c.number.clone(),
        letter_type: c.template.clone(),
        issued: c.issued,
        valid_until: c.valid_until,
        nik_masked: letter_payload::mask_nik("1872045508900000"),
        content_hash: letter_payload::content_hash(&c.canonical_bytes()),
        key_id: key.key_id(),
    };
    letter_payload::encode(&claims, key).unwrap()
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (pdftotext of every page, number of pages, QR text scanned from page 1…n).
fn read_back(pdf_bytes: &[u8], dir: &Path, name: &str) -> (String, usize, Vec<String>) {
    let pdf = dir.join(format!("{name}.pdf"));
    std::fs::write(&pdf, pdf_bytes).unwrap();
    let text = run(Command::new("pdftotext").args(["-layout"]).arg(&pdf).arg("-"));
    let prefix = dir.join(name);
    run(Command::new("pdftoppm").args(["-r", "150", "-png"]).arg(&pdf).arg(&prefix));
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with(&format!("{name}-")) && n.ends_with(".png")
        })
        .collect();
    pages.sort();
    let mut codes = Vec::new();
    for p in &pages {
        let out = Command::new("zbarimg").args(["--raw", "-q"]).arg(p).output().unwrap();
        codes.extend(String::from_utf8_lossy(&out.stdout).lines().map(str::to_string));
    }
    (text, pages.len(), codes)
}

#[test]
fn every_template_directory_is_shipped_and_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/letters");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = shipped().iter().map(|(d, _)| d.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "assets/letters and template::shipped() differ");
    let all = load_shipped().unwrap();
    assert_eq!(all.len(), 11);
    let mut codes: Vec<_> = all.iter().map(|t| t.code.clone()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), all.len(), "letter codes are unique");
}

#[test]
fn a_template_with_an_unknown_placeholder_or_person_is_refused() {
    let (dir, text) = shipped()[0];
    let broken = text.replace("{keperluan}", "{keperluannya}");
    let e = Template::parse(dir, &broken).unwrap_err().to_string();
    assert!(e.contains("keperluannya"), "{e}");
    let broken = text.replace("person = \"pemohon\"", "person = \"saksi\"");
    assert!(Template::parse(dir, &broken).is_err());
}

#[test]
fn every_shipped_template_renders_and_reads_back_with_a_verifiable_qr() {
    let key = OfficeKey::from_seed(&[3; 32]);
    let pk = letter_payload::public_key(&key.public_hex()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for t in load_shipped().unwrap() {
        for paper in [Paper::F4, Paper::A4] {
            let c = content(&t, 3);
            let qr = payload(&c, &key);
            let bytes = pdf::render(&t, &c, paper, &qr).unwrap();
            assert!(bytes.len() < 150_000, "{} is {} bytes", t.code, bytes.len());
            let again = pdf::render(&t, &c, paper, &qr).unwrap();
            if again != bytes {
                std::fs::write(dir.path().join("first.pdf"), &bytes).unwrap();
                std::fs::write("/tmp/letter-first.pdf", &bytes).unwrap();
                std::fs::write("/tmp/letter-again.pdf", &again).unwrap();
                panic!("{}: the same letter rendered to different bytes", t.code);
            }
            let name = format!("{}-{paper:?}", t.code);
            let (text, pages, codes) = read_back(&bytes, dir.path(), &name);
            if t.code == "domisili" && paper == Paper::F4 {
                // The picture of a letter in the docs is the rendered page itself.
                let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
                std::fs::create_dir_all(&shots).unwrap();
                let pdf_path = dir.path().join(format!("{name}.pdf"));
                run(Command::new("pdftoppm")
                    .args(["-r", "60", "-png", "-singlefile"])
                    .arg(&pdf_path)
                    .arg(shots.join("letter-domisili-f4")));
            }
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for expected in [
                "PEMERINTAH KOTA METRO",
                "KELURAHAN YOSOREJO",
                t.title.as_str(),
                &format!("Nomor: {}", c.number),
                "Drs. Ahmad Fauzi",
                "NIP. 197805122005011003",
                "Metro, 1 Juli 2026",
            ] {
                assert!(flat.contains(expected), "{name}: {expected:?} not in\n{text}");
            }
            let subject = &c.people[&t.people[0].role][0]["nama"];
            assert!(flat.contains(subject.as_str()), "{name}: subject {subject}");
            assert_eq!(codes, [qr.clone()], "{name}: the QR scans to the payload ({pages} pages)");
            let claims =
                letter_payload::verify(&codes[0], |id| (id == key.key_id()).then_some(pk)).unwrap();
            assert_eq!(claims.number, c.number);
        }
    }
}

#[test]
fn a_long_heir_list_flows_to_a_second_page_with_the_letterhead_only_on_the_first() {
    let t = load_shipped().unwrap().into_iter().find(|t| t.code == "ahli_waris").unwrap();
    let key = OfficeKey::from_seed(&[3; 32]);
    let c = content(&t, 40);
    let bytes = pdf::render(&t, &c, Paper::F4, &payload(&c, &key)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (text, pages, codes) = read_back(&bytes, dir.path(), "waris");
    std::fs::write(std::env::temp_dir().join("balai-waris.pdf"), &bytes).unwrap();
    assert!(pages >= 2, "{pages} pages");
    assert_eq!(text.matches("PEMERINTAH KOTA METRO").count(), 1, "letterhead once");
    assert!(text.contains(&format!("Halaman 1 dari {pages}")));
    assert!(text.contains("40. Warga Ahli waris"), "the last heir is numbered");
    assert!(text.contains("1872045508901039"), "the last heir's NIK is printed whole");
    assert!(text.contains("Camat Metro Pusat"), "the camat's co-signature block");
    assert_eq!(codes.len(), 1);
}

#[test]
fn extra_fields_are_validated_with_messages_naming_the_field() {
    let t = load_shipped().unwrap().into_iter().find(|t| t.code == "kematian").unwrap();
    let mut f = fields(&t);
    f.insert("tanggal_meninggal".into(), "31-02-2026".into());
    f.insert("sebab".into(), "entah".into());
    f.remove("tempat_meninggal");
    f.insert("warna".into(), "biru".into());
    let problems = validate_fields(&t, &f).unwrap_err();
    let keys: Vec<(&str, &str)> = problems.iter().map(|(k, c, _)| (k.as_str(), *c)).collect();
    assert!(keys.contains(&("tanggal_meninggal", "invalid")), "{keys:?}");
    assert!(keys.contains(&("sebab", "invalid")));
    assert!(keys.contains(&("tempat_meninggal", "required")));
    assert!(keys.contains(&("warna", "unknown_field")));
    // Accepted spellings are normalised.
    let ok = validate_fields(&t, &fields(&t)).unwrap();
    assert_eq!(ok["tanggal_meninggal"], "2026-07-01");
    assert_eq!(ok["jam_meninggal"], "08:30");
}

/// Decodes a PNG to (width, height, RGBA pixels).
fn rgba(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut d = png::Decoder::new(std::io::Cursor::new(png_bytes));
    d.set_transformations(png::Transformations::EXPAND);
    let mut r = d.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba);
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn an_svg_emblem_is_drawn_to_the_same_png_every_time_with_its_text_in_the_letters_font() {
    use balai_letters::emblem::svg_to_png;
    let shield = |text: &str| {
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 120" width="100" height="120">
                 <path d="M5 5 H95 V70 Q50 125 5 70 Z" fill="#c00000"/>
                 <text x="50" y="55" font-size="30" text-anchor="middle" fill="#ffd700">{text}</text>
               </svg>"##
        )
    };
    let png = svg_to_png(shield("METRO").as_bytes()).unwrap();
    assert_eq!(png, svg_to_png(shield("METRO").as_bytes()).unwrap(), "deterministic");
    let (w, h, px) = rgba(&png);
    // 24 × 26 mm at 300 dpi is 283 × 307 px; a 100 × 120 shield fits by its height.
    assert_eq!((w, h), (256, 307));
    let red = px.chunks(4).filter(|p| p[0] > 150 && p[1] < 40 && p[3] == 255).count();
    let gold = px.chunks(4).filter(|p| p[0] > 200 && p[1] > 150 && p[2] < 60).count();
    assert!(red > (w * h / 3) as usize, "the shield is drawn: {red}");
    assert!(gold > 500, "the word is drawn with the bundled font: {gold}");
    let (_, _, plain) = rgba(&svg_to_png(shield("").as_bytes()).unwrap());
    assert_ne!(px, plain);
    // Outside files are never fetched: the image is simply absent.
    let outside = r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><rect width="10" height="10"/><image href="/etc/passwd" width="10" height="10"/></svg>"#;
    assert!(svg_to_png(outside.as_bytes()).is_ok());
    for bad in [
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect"#,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>"#,
    ] {
        assert!(svg_to_png(bad.as_bytes()).is_err(), "{bad}");
    }
}
