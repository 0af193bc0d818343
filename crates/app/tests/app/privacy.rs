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

    // A family of two adults, no child: nothing specific on its pages.
    let mut other = person("1872040303700005", "Karto", "L", "03-03-1970", "Kepala Keluarga");
    other["no_kk"] = json!("1872041203159999");
    let alone = add(&t, other);
    // Entering a record shows the writer nothing new: no read is audited.
    assert!(audited(&t, "residents.read_specific").is_empty());

    let shown =
        |user: &str, id: &str| check(&t, Some(user), "residents.show", json!({"key": id}), "ok");
    assert_eq!(shown("petugas", &alone)["specific"], json!([]));
    assert!(audited(&t, "residents.read_specific").is_empty());

    let v = shown("petugas", &health);
    assert_eq!(v["specific"], json!(["kesehatan", "disabilitas", "anak_dalam_kk"]));
    assert_eq!(v["labels"]["blood_type"], "AB+");
    assert_eq!(shown("lurah", &child)["specific"], json!(["anak"]), "no other child on the card");
    // An adult (18 yesterday) whose family card lists a child: the child's name, NIK and birth
    // date are on the page.
    assert_eq!(shown("lurah", &turned_18)["specific"], json!(["anak_dalam_kk"]));
    assert_eq!(shown("lurah", &plain)["specific"], json!(["anak_dalam_kk"]));
    shown("lurah", "1872045508900001");
    assert_eq!(
        audited(&t, "residents.read_specific"),
        [
            "petugas kategori=kesehatan+disabilitas+anak_dalam_kk",
            "lurah kategori=anak",
            "lurah kategori=anak_dalam_kk",
            "lurah kategori=anak_dalam_kk",
            "lurah kategori=kesehatan+disabilitas+anak_dalam_kk"
        ]
    );
    // The family card itself, when it lists a child.
    let card =
        |no_kk: &str| check(&t, Some("petugas"), "families.show", json!({"no_kk": no_kk}), "ok");
    card("1872041203159999");
    assert!(audited(&t, "families.read_specific").is_empty());
    card("1872041203150007");
    assert_eq!(audited(&t, "families.read_specific"), ["petugas kategori=anak_dalam_kk"]);
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

fn event(t: &TestApp, key: &str, kind: &str, date: &str, details: &str) {
    let args = json!({"key": key, "kind": kind, "date": date, "details": details});
    check(t, Some("petugas"), "residents.event", args, "ok");
}

fn due(t: &TestApp) -> Vec<String> {
    let r = check(t, Some("admin"), "privacy.retention", json!({}), "ok");
    r["due"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} held={}", d["kind"].as_str().unwrap(), d["held"]))
        .collect()
}

#[test]
fn records_past_their_retention_are_anonymised_unless_held_and_statistics_survive() {
    let t = TestApp::demo();
    let head =
        add(&t, person("1872040101500002", "Wiryo Sepuh", "L", "01-01-1950", "Kepala Keluarga"));
    let wife = add(&t, person("1872044203520003", "Sumirah Sepuh", "P", "02-03-1952", "Istri"));
    let mut moved = person("1872041506900004", "Joko Pindahan", "L", "15-06-1990", "Anak");
    moved["blood_type"] = json!("O-");
    let moved = add(&t, moved);
    let living = add(&t, person("1872045708950005", "Rina Tetap", "P", "17-08-1995", "Anak"));
    // Died and moved away long ago (the test clock stands at 1 July 2026); the wife died
    // recently: her record is kept.
    event(&t, &head, "mati", "10-02-2016", "sakit jantung");
    event(&t, &moved, "pindah_keluar", "01-05-2014", "ke Bandar Lampung");
    event(&t, &wife, "mati", "01-06-2026", "");
    assert_eq!(due(&t), ["penduduk_meninggal held=false", "penduduk_pindah held=false"]);

    // A legal hold (placed by the lurah; a clerk may not) keeps the moved resident as he is.
    let hold = json!({"key": moved, "reason": "Perkara perdata No. 12/Pdt.G/2026"});
    check(&t, Some("petugas"), "privacy.hold", hold.clone(), "err forbidden");
    check(
        &t,
        Some("lurah"),
        "privacy.hold",
        json!({"key": moved, "reason": " "}),
        "err invalid_input [reason:required]",
    );
    check(&t, Some("lurah"), "privacy.hold", hold, "ok");
    assert_eq!(due(&t), ["penduduk_meninggal held=false", "penduduk_pindah held=true"]);
    check(&t, Some("lurah"), "privacy.anonymise_due", json!({}), "err forbidden");
    let done = check(&t, Some("admin"), "privacy.anonymise_due", json!({}), "ok");
    assert_eq!(done, json!({"residents": 1, "requests": 0, "held": 1}));

    let gone = check(&t, Some("admin"), "residents.show", json!({"key": head}), "ok");
    let r = &gone["resident"];
    assert_eq!(
        (r["full_name"].as_str(), r["sex"].as_str(), r["birth_date"].as_str()),
        (Some("ANONIM"), Some("L"), Some("1950-01-01"))
    );
    assert!(r["nik"].as_str().unwrap().starts_with("99"), "{r}");
    assert_eq!((r["rt"].as_u64(), gone["status"].as_str()), (Some(3), Some("mati")));
    // On the family card, the member who died shows as ANONIM.
    let members: Vec<&str> = gone["family"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["full_name"].as_str().unwrap())
        .collect();
    assert!(members.contains(&"ANONIM") && members.contains(&"Sumirah Sepuh"), "{members:?}");
    assert_eq!(gone["events"][0]["details"], "", "the cause of death is gone");
    assert_eq!(gone["events"][0]["event_date"], "2016-02-10");
    let held = check(&t, Some("admin"), "residents.show", json!({"key": moved}), "ok");
    assert_eq!(held["resident"]["full_name"], "Joko Pindahan");
    assert_eq!(held["legal_hold"], "Perkara perdata No. 12/Pdt.G/2026");
    // Nothing of the anonymised resident is left in the file's register tables or name index.
    let db = crate::raw_db(&t);
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM residents WHERE full_name LIKE '%Wiryo%' OR nik = '1872040101500002'"), 0);
    assert_eq!(count("SELECT count(*) FROM residents_fts WHERE residents_fts MATCH 'wiryo'"), 0);
    assert_eq!(count("SELECT count(*) FROM resident_events WHERE details LIKE '%jantung%'"), 0);
    // The population statistics still count him.
    let dead = check(&t, Some("admin"), "residents.search", json!({"status": "mati"}), "ok");
    assert_eq!(dead.as_array().unwrap().len(), 2);

    // Released, the next run takes him too; a run with nothing due changes nothing.
    check(&t, Some("lurah"), "privacy.release", json!({"key": moved}), "ok");
    let done = check(&t, Some("admin"), "privacy.anonymise_due", json!({}), "ok");
    assert_eq!(done, json!({"residents": 1, "requests": 0, "held": 0}));
    let again = check(&t, Some("admin"), "privacy.anonymise_due", json!({}), "ok");
    assert_eq!(again, json!({"residents": 0, "requests": 0, "held": 0}));
    assert!(due(&t).is_empty());
    // Two anonymised records are not one person twice.
    let pairs = check(&t, Some("admin"), "residents.duplicates", json!({}), "ok");
    assert_eq!(pairs, json!([]));
    let shown = check(&t, Some("admin"), "residents.show", json!({"key": living}), "ok");
    assert_eq!(shown["resident"]["full_name"], "Rina Tetap");
    let actions = crate::audit_actions(&t);
    assert_eq!(actions.iter().filter(|a| *a == "privacy.anonymised").count(), 2);
    assert!(
        actions.contains(&"privacy.hold".to_string())
            && actions.contains(&"privacy.release".to_string())
    );
}

#[test]
fn a_closed_online_request_is_masked_after_its_period_and_an_open_one_is_kept() {
    let t = TestApp::demo();
    let db = crate::raw_db(&t);
    let ms = |y: i32| {
        chrono::NaiveDate::from_ymd_opt(y, 3, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis()
    };
    for (id, status, at) in [
        ("0000", "selesai", ms(2024)),
        ("0001", "diajukan", ms(2023)),
        ("0002", "ditolak", ms(2026)),
    ] {
        db.execute(
            "INSERT INTO online_requests (id, tracking_code, nik, no_kk, letter_type, purpose, contact,
                 submitted_at_ms, status, note, updated_at_ms)
             VALUES (?1, ?2, '1872045508900001', '1872041203150007', 'domisili', 'melamar kerja',
                     '0812-0000-0000', ?3, ?4, '', ?3)",
            rusqlite::params![uuid::Uuid::parse_str(&format!("00000000-0000-7000-8000-00000000{id}")).unwrap(), format!("TRK{id}"), at, status],
        )
        .unwrap();
    }
    assert_eq!(due(&t), ["permohonan_daring held=false"]);
    let done = check(&t, Some("admin"), "privacy.anonymise_due", json!({}), "ok");
    assert_eq!(done["requests"], 1);
    let rows: Vec<(String, String, String, String)> = db
        .prepare("SELECT tracking_code, nik, purpose, contact FROM online_requests ORDER BY tracking_code")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows[0],
        ("TRK0000".into(), "1872********0001".into(), String::new(), String::new())
    );
    assert_eq!(rows[1].1, "1872045508900001", "still open: kept");
    assert_eq!(rows[2].1, "1872045508900001", "closed this year: kept");
}

#[test]
fn a_data_subject_s_request_is_answered_within_three_days_and_erasure_keeps_the_living_register() {
    let t = TestApp::demo();
    let living =
        add(&t, person("1872040101800002", "Budi Santoso", "L", "01-01-1980", "Kepala Keluarga"));
    let left = add(&t, person("1872045508900001", "Siti Aminah", "P", "15-08-1990", "Istri"));
    event(&t, &left, "pindah_keluar", "01-03-2026", "");

    let ask = |kind: &str, key: &str| {
        let args = json!({"kind": kind, "key": key, "requester": "Yang bersangkutan", "details": "Mohon ditindaklanjuti."});
        check(&t, Some("petugas"), "privacy.subject_add", args, "ok")
    };
    let bad =
        json!({"kind": "lupakan", "key": "1872049999999999", "requester": "", "details": "x"});
    check(
        &t,
        Some("petugas"),
        "privacy.subject_add",
        bad,
        "err invalid_input [kind:subject_kind, requester:required, key:not_found]",
    );
    let access = ask("akses", &living);
    assert_eq!(
        (access["status"].as_str(), access["hours_left"].as_i64(), access["overdue"].as_bool()),
        (Some("diterima"), Some(72), Some(false))
    );
    let erase_living = ask("penghapusan", &living);
    let erase_left = ask("penghapusan", &left);
    t.clock.advance(chrono::Duration::hours(73));
    let list = check(&t, Some("petugas"), "privacy.subject_list", json!({}), "ok");
    assert!(list.as_array().unwrap().iter().all(|r| r["overdue"] == true), "{list}");

    let decide = |id: &Value, user: &str, status: &str, outcome: &str, expect: &str| {
        let args = json!({"id": id, "status": status, "outcome": outcome});
        check(&t, Some(user), "privacy.subject_decide", args, expect)
    };
    decide(&access["id"], "petugas", "dikabulkan", "Salinan diberikan.", "err forbidden");
    decide(&access["id"], "sekel", "dikabulkan", "", "err invalid_input [outcome:required]");
    let copy = check(&t, Some("sekel"), "privacy.subject_copy", json!({"key": living}), "ok");
    assert_eq!(copy["resident"]["resident"]["nik"], "1872040101800002");
    assert_eq!(copy["office"], "Yosorejo");
    let activity: Vec<&str> = copy["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(activity, ["residents.add", "privacy.subject_copy"], "who did what with the record");
    let done = decide(&access["id"], "sekel", "dikabulkan", "Salinan data diberikan.", "ok");
    assert_eq!(
        (done["status"].as_str(), done["overdue"].as_bool(), done["decided_by"].as_str()),
        (Some("dikabulkan"), Some(false), Some("sekel"))
    );
    decide(&access["id"], "lurah", "ditolak", "Berubah pikiran.", "err conflict");

    decide(
        &erase_living["id"],
        "lurah",
        "dikabulkan",
        "Dihapus.",
        "err invalid_input [status:register_must_be_kept]",
    );
    let kept = check(&t, Some("lurah"), "residents.show", json!({"key": living}), "ok");
    assert_eq!(kept["resident"]["full_name"], "Budi Santoso");
    decide(
        &erase_living["id"],
        "lurah",
        "ditolak",
        "Data penduduk yang tinggal wajib disimpan (UU 24/2013).",
        "ok",
    );
    decide(&erase_left["id"], "lurah", "dikabulkan", "Data dianonimkan.", "ok");
    let erased = check(&t, Some("lurah"), "residents.show", json!({"key": left}), "ok");
    assert_eq!(erased["resident"]["full_name"], "ANONIM");
    let actions = crate::audit_actions(&t);
    for a in [
        "privacy.subject_request",
        "privacy.subject_decided",
        "privacy.subject_copy",
        "privacy.anonymised",
    ] {
        assert!(actions.contains(&a.to_string()), "{a} audited");
    }
}

#[test]
fn a_breach_starts_the_three_day_clock_and_drafts_both_notices() {
    let t = TestApp::demo();
    // The test clock: 1 July 2026 08:00 UTC, 15:00 WIB in Metro.
    let open = |discovered: &str, expect: &str| {
        let args = json!({
            "discovered_at": discovered,
            "what_happened": "Laptop kantor berisi salinan data penduduk hilang dari ruang pelayanan.",
            "data_disclosed": "nama, NIK, alamat",
            "subjects_estimate": 350,
            "measures": "Kunci basis data diganti, laporan polisi dibuat."
        });
        check(&t, Some("lurah"), "privacy.breach_open", args, expect)
    };
    open("2026-07-01T16:00", "err invalid_input [discovered_at:in_future]");
    open("kemarin", "err invalid_input [discovered_at:datetime_format]");
    check(&t, Some("petugas"), "privacy.breaches", json!({}), "err forbidden");
    let b = open("2026-07-01T09:30", "ok");
    assert_eq!(b["discovered_at"], "2026-07-01T02:30:00.000Z");
    assert_eq!(b["deadline"], "2026-07-04T02:30:00.000Z");
    assert_eq!((b["hours_left"].as_i64(), b["late"].as_bool()), (Some(66), Some(false)));
    let subjects = b["drafts"]["subjects"].as_str().unwrap();
    for part in [
        "Kelurahan Yosorejo",
        "nama, NIK, alamat",
        "1 Juli 2026 pukul 09.30 WIB",
        "Laptop kantor",
        "Kunci basis data diganti",
        "Pasal 46",
        "Budi Contoh, S.STP",
    ] {
        assert!(subjects.contains(part), "{part} in {subjects}");
    }
    let authority = b["drafts"]["authority"].as_str().unwrap();
    assert!(
        authority.contains("350 orang")
            && authority.contains("Lembaga Penyelenggara Pelindungan Data Pribadi"),
        "{authority}"
    );

    t.clock.advance(chrono::Duration::hours(67));
    let late = &check(&t, Some("admin"), "privacy.breaches", json!({}), "ok")[0];
    assert_eq!((late["late"].as_bool(), late["hours_left"].as_i64()), (Some(true), Some(-1)));
    let mark = |moment: &str, expect: &str| {
        check(
            &t,
            Some("admin"),
            "privacy.breach_mark",
            json!({"id": b["id"], "moment": moment}),
            expect,
        )
    };
    mark("subjects_notified", "ok");
    mark("subjects_notified", "err conflict");
    mark("sent", "err invalid_input [moment:breach_moment]");
    let v = mark("authority_notified", "ok");
    assert_eq!(v["late"], false);
    assert!(v["authority_notified_at"].is_string());
    assert_eq!(
        crate::audit_actions(&t).iter().filter(|a| a.starts_with("privacy.breach")).count(),
        3
    );
}

/// Every table of `conn` whose rows hold `needle` (text, or bytes read as text), with the count.
fn tables_holding(conn: &rusqlite::Connection, needle: &str) -> Vec<String> {
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let needle = needle.to_lowercase();
    let mut found = Vec::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        let mut hits = 0;
        while let Some(row) = rows.next().unwrap() {
            for i in 0..n {
                let text = match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                        String::from_utf8_lossy(b).to_lowercase()
                    }
                    _ => continue,
                };
                if text.contains(&needle) {
                    hits += 1;
                }
            }
        }
        if hits > 0 {
            found.push(format!("{t}: {hits}"));
        }
    }
    found
}

#[test]
fn an_anonymised_resident_leaves_no_earlier_version_on_any_pc_or_at_the_city() {
    use balai_testkit::kota::Kota;
    let kota = Kota::start();
    let pc = || {
        let t = TestApp::empty();
        t.operator("demo.seed", json!({"residents": 0})).unwrap();
        t.operator("sync.enrol", json!({"server": kota.url, "code": kota.code()})).unwrap();
        t
    };
    let sync = |t: &TestApp| {
        let r = t.operator("sync.now", json!({})).unwrap();
        assert_eq!((r["pending"].as_u64(), r["rejected"].as_u64()), (Some(0), Some(0)), "{r}");
    };
    let (a, b) = (pc(), pc());
    const NIK: &str = "1872040101500002";
    let mut p = person(NIK, "Wiryo Sepuh", "L", "01-01-1950", "Kepala Keluarga");
    let id = add(&a, p.clone());
    // Edits on both PCs, so that each PC's outbox and the city's feed hold versions of the name.
    p["full_name"] = json!("Wiryo Sepuh Tua");
    check(&a, Some("petugas"), "residents.edit", json!({"id": id, "resident": p}), "ok");
    event(&a, &id, "mati", "10-02-2015", "sakit jantung");
    sync(&a);
    sync(&b);
    p["full_name"] = json!("Wirjo Sepuh Tua");
    check(&b, Some("petugas"), "residents.edit", json!({"id": id, "resident": p}), "ok");
    // A hold placed on B holds on A too.
    check(&b, Some("lurah"), "privacy.hold", json!({"key": id, "reason": "Sengketa waris"}), "ok");
    sync(&b);
    sync(&a);
    assert_eq!(due(&a), ["penduduk_meninggal held=true"]);
    assert_eq!(check(&a, Some("admin"), "privacy.anonymise_due", json!({}), "ok")["residents"], 0);
    check(&a, Some("lurah"), "privacy.release", json!({"key": id}), "ok");
    assert_eq!(check(&a, Some("admin"), "privacy.anonymise_due", json!({}), "ok")["residents"], 1);
    sync(&a);
    sync(&b);
    let on_b = check(&b, Some("admin"), "residents.show", json!({"key": id}), "ok");
    assert_eq!(on_b["resident"]["full_name"], "ANONIM");
    assert_eq!(on_b["events"][0]["details"], "");
    // A PC enrolled afterwards receives the record anonymised.
    let c = pc();
    sync(&c);
    let on_c = check(&c, Some("admin"), "residents.show", json!({"key": id}), "ok");
    assert_eq!(on_c["resident"]["full_name"], "ANONIM");

    let city = rusqlite::Connection::open(&kota.db).unwrap();
    for needle in ["Wiryo", "Wirjo", NIK, "jantung"] {
        for (name, conn) in [
            ("A", crate::raw_db(&a)),
            ("B", crate::raw_db(&b)),
            ("C", crate::raw_db(&c)),
            ("city", city_copy(&city)),
        ] {
            assert_eq!(tables_holding(&conn, needle), Vec::<String>::new(), "{needle} on {name}");
        }
    }
}

fn city_copy(c: &rusqlite::Connection) -> rusqlite::Connection {
    let dir = tempfile::tempdir().unwrap().keep();
    let path = dir.join("kota-copy.sqlite");
    c.execute("VACUUM INTO ?1", [path.to_str().unwrap()]).unwrap();
    rusqlite::Connection::open(path).unwrap()
}
