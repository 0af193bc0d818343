//! Applying pulled changes: what another PC captured, applied here, leaves the same register.

use crate::register::{id, input, seed, today};
use crate::{ctx, open, temp_db};
use balai_domain::resident::{EventKind, LifeStatus};
use balai_store::pull::{held_counts, Applied, Pulled};
use balai_store::register::FamilyRow;
use balai_store::sync::{changes_after, state, SYNCED};
use balai_store::{register, Store, StoreError, Uuid, WriteCtx};
use serde_json::{json, Value};

const DEVICE_A: &str = "01890000-0000-7000-8000-00000000000a";
const DEVICE_B: &str = "01890000-0000-7000-8000-00000000000b";

fn office(device: &str) -> (tempfile::TempDir, Store) {
    let (dir, path) = temp_db();
    let store = open(&path);
    store.adopt_device_id(&ctx(), device, 1, &[]).unwrap();
    (dir, store)
}

fn at(ms: u64) -> WriteCtx {
    WriteCtx { now_ms: ms, user_id: "u-test".into() }
}

/// What `store` would push after outbox seq `after`, as the feed hands it to another PC.
fn feed_of(store: &Store, after: i64) -> Vec<Pulled> {
    store
        .read(|c| changes_after(c, after, 1_000_000))
        .unwrap()
        .into_iter()
        .map(|c| Pulled {
            table: c.tbl,
            row_id: c.row_id,
            field_group: c.field_group,
            value: serde_json::from_str(&c.value).unwrap(),
            hlc: c.hlc,
            device: Uuid::parse_str(&c.device_id).unwrap(),
            delete: false,
        })
        .collect()
}

fn last_seq(store: &Store) -> i64 {
    store
        .read(|c| c.query_row("SELECT coalesce(max(seq), 0) FROM _sync_outbox", [], |r| r.get(0)))
        .unwrap()
}

/// Every synced table's rows, every column but the local times, as text.
fn dump(store: &Store) -> String {
    let mut out = String::new();
    store
        .read(|c| {
            for t in SYNCED {
                let mut st = c.prepare(&format!("SELECT * FROM {} ORDER BY id", t.name))?;
                let names: Vec<String> = st.column_names().map(|s| s.to_string()).collect();
                let mut rows = st.query([])?;
                while let Some(r) = rows.next()? {
                    out.push_str(t.name);
                    for (i, n) in names.iter().enumerate() {
                        if n == "created_at" || n == "updated_at" {
                            continue;
                        }
                        let v: rusqlite::types::Value = r.get(i)?;
                        out.push_str(&format!(" {n}={v:?}"));
                    }
                    out.push('\n');
                }
            }
            Ok::<_, rusqlite::Error>(())
        })
        .unwrap();
    out
}

/// Applies a page, then checks that the name index holds exactly the register's names (FTS5's
/// own check of an index against its content table).
fn apply(store: &Store, page: &[Pulled]) -> Applied {
    let done = store.apply_pulled(&ctx(), page, &[]).unwrap();
    store.read(register::check_name_index).expect("the name index matches the register");
    done
}

/// The names a search for `q` finds.
fn found(store: &Store, q: &str) -> Vec<String> {
    let q = register::SearchQuery { q: q.into(), ..Default::default() };
    let rows = store.read(|c| register::search(c, &q)).unwrap();
    rows.into_iter().map(|r| r.full_name).collect()
}

/// New residents' names are indexed once at the end of a page; one renamed in the page that
/// brought it is indexed under its new name only, a rename of an older row moves it too, and a
/// page applied again change by change after a refusal keeps its new rows indexed.
#[test]
fn names_pulled_in_a_page_are_found_by_their_latest_name() {
    let (_a, a) = office(DEVICE_A);
    let (_b, b) = office(DEVICE_B);
    seed(&a, &[(1, input("1872045508900001", "Siti Aminah", "P", "15-08-1990"))]);
    apply(&b, &feed_of(&a, 0));
    let mark = last_seq(&a);
    let people = [(2, input("1872045508900002", "Warga Dua", "P", "15-08-1990"))];
    a.write(&ctx(), |tx| {
        let r = people[0].1.validate(today()).unwrap();
        register::insert_resident(tx, id(2), id(200), &r, LifeStatus::Hidup, "2026-07-01")?;
        for (n, name) in [(2, "Warga Kedua"), (1, "Siti Rahma")] {
            let p = input(&format!("18720455089000{n:02}"), name, "P", "15-08-1990");
            let r = p.validate(today()).unwrap();
            register::update_resident(tx, id(n), id(200), &r, "2026-07-02")?;
        }
        Ok::<_, StoreError>(())
    })
    .unwrap();
    let page = feed_of(&a, mark);
    assert!(page.len() >= 3, "an insert and two renames: {page:?}");
    apply(&b, &page);
    assert_eq!(found(&b, "kedua"), ["Warga Kedua"]);
    assert!(found(&b, "dua").is_empty(), "the first name is gone from the index");
    assert_eq!(found(&b, "rahma"), ["Siti Rahma"]);
    assert!(found(&b, "aminah").is_empty());

    // A page with a refused rename, applied again change by change: the new row it brought is
    // still found by name (its name is not indexed inside a savepoint that is rolled back).
    let mark = last_seq(&a);
    let third = input("1872045508900003", "Warga Tiga", "P", "15-08-1990");
    a.write(&ctx(), |tx| {
        let r = third.validate(today()).unwrap();
        register::insert_resident(tx, id(3), id(200), &r, LifeStatus::Hidup, "2026-07-03")
    })
    .unwrap();
    let mut page = feed_of(&a, mark);
    let mut rename = page[0].clone();
    rename.row_id = id(1);
    rename.field_group = "identity".into();
    rename.value = page[0].value["identity"].clone();
    rename.value["full_name"] = json!("Siti Salah");
    rename.value["sex"] = json!("X");
    page.push(rename);
    let done = apply(&b, &page);
    assert_eq!(done.held, 1, "{done:?}");
    assert_eq!(found(&b, "tiga"), ["Warga Tiga"]);
    assert!(found(&b, "salah").is_empty(), "the refused rename is held");
}

#[test]
fn another_pcs_changes_applied_here_leave_the_same_register_and_capture_nothing() {
    let (_a, a) = office(DEVICE_A);
    let (_b, b) = office(DEVICE_B);
    let mut widow = input("1872045508900001", "Siti Ma'ruf", "P", "15-08-1990");
    widow.mother_nik = "1872044101650002".into();
    widow.mother_name = "Aminah".into();
    widow.education = "5".into();
    seed(&a, &[(1, widow), (2, input("1872040101880003", "Budi Santoso", "L", "01-01-1988"))]);
    a.write(&ctx(), |tx| {
        register::set_status(tx, id(1), LifeStatus::Mati, "t")?;
        register::set_merged_into(tx, id(2), id(1), "t")?;
        let date = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        register::insert_event(tx, id(9), id(1), EventKind::Mati, date, "sakit", "u", "t")
    })
    .unwrap();
    let page = feed_of(&a, 0);
    let done = b.apply_pulled(&ctx(), &page, &[("pulled_through", "42")]).unwrap();
    assert_eq!(done.held, 0, "{done:?}");
    assert!(done.applied >= 5, "{done:?}");
    assert_eq!(dump(&a), dump(&b), "every synced column arrives as it was written");
    assert_eq!(last_seq(&b), 0, "a pulled change is not captured again");
    assert_eq!(b.read(|c| state(c, "pulled_through")).unwrap().as_deref(), Some("42"));
    // Found by name (the search index follows pulled rows).
    let hits = b
        .read(|c| {
            register::search(c, &register::SearchQuery { q: "maruf".into(), ..Default::default() })
        })
        .unwrap();
    assert_eq!(hits.len(), 1);
    // The same page again changes nothing.
    let again = apply(&b, &page);
    assert_eq!((again.applied, again.held), (0, 0), "{again:?}");
    assert_eq!(dump(&a), dump(&b));
}

#[test]
fn the_newer_edit_wins_on_both_pcs_whichever_arrives_first() {
    let t0 = ctx().now_ms;
    let (_a, a) = office(DEVICE_A);
    let (_b, b) = office(DEVICE_B);
    seed(&a, &[(1, input("1872045508900001", "Siti Aminah", "P", "15-08-1990"))]);
    apply(&b, &feed_of(&a, 0));
    let (a_mark, b_mark) = (last_seq(&a), last_seq(&b));
    // A moves her out at t0+1 s, B records her death at t0+2 s, both offline.
    a.write(&at(t0 + 1000), |tx| register::set_status(tx, id(1), LifeStatus::Pindah, "t")).unwrap();
    b.write(&at(t0 + 2000), |tx| register::set_status(tx, id(1), LifeStatus::Mati, "t")).unwrap();
    let from_a = feed_of(&a, a_mark);
    let from_b = feed_of(&b, b_mark);
    let on_b = apply(&b, &from_a);
    assert_eq!((on_b.applied, on_b.older), (0, 1), "B's later edit stays");
    let on_a = apply(&a, &from_b);
    assert_eq!((on_a.applied, on_a.older), (1, 0), "A takes B's later edit");
    assert_eq!(dump(&a), dump(&b));
    assert!(dump(&a).contains(r#"status=Text("mati")"#));
    // B's own edit still waits to be pushed: the server decides the same way.
    assert_eq!(feed_of(&b, b_mark).len(), 1);
}

#[test]
fn an_edit_made_after_a_pull_wins_even_on_a_pc_whose_clock_is_behind() {
    let t0 = ctx().now_ms;
    let (_a, a) = office(DEVICE_A);
    let (_b, b) = office(DEVICE_B);
    seed(&a, &[(1, input("1872045508900001", "Siti Aminah", "P", "15-08-1990"))]);
    let mark = last_seq(&a);
    a.write(&at(t0 + 5000), |tx| register::set_status(tx, id(1), LifeStatus::Pindah, "t")).unwrap();
    let page = feed_of(&a, 0);
    apply(&b, &page);
    // B's wall clock is a day behind; its edit was still made after it saw A's.
    let b_mark = last_seq(&b);
    b.write(&at(t0 - 86_400_000), |tx| register::set_status(tx, id(1), LifeStatus::Hidup, "t"))
        .unwrap();
    let b_edit = feed_of(&b, b_mark);
    assert!(b_edit[0].hlc > page.last().unwrap().hlc, "the clock ran ahead of what was pulled");
    assert_eq!(apply(&a, &b_edit).applied, 1);
    assert_eq!(apply(&b, &feed_of(&a, mark)).applied, 0);
    assert_eq!(dump(&a), dump(&b));
}

fn change(row: Uuid, group: &str, value: Value, hlc: u64) -> Pulled {
    Pulled {
        table: "residents".into(),
        row_id: row,
        field_group: group.into(),
        value,
        hlc,
        device: Uuid::parse_str(DEVICE_A).unwrap(),
        delete: false,
    }
}

#[test]
fn what_cannot_be_applied_yet_is_kept_and_the_rest_of_the_page_goes_in() {
    let (_a, a) = office(DEVICE_A);
    let (_b, b) = office(DEVICE_B);
    seed(&a, &[(1, input("1872045508900001", "Siti Aminah", "P", "15-08-1990"))]);
    let mut whole = feed_of(&a, 0);
    let resident = whole.pop().unwrap();
    apply(&b, &whole); // the family only
    let hlc = resident.hlc;
    let groups = resident.value.as_object().unwrap().clone();
    // A row whose identity has not arrived yet, a group from a newer Balai, a value the schema
    // refuses, a table this version lacks, a delete, and one good change.
    let mut without_identity = groups.clone();
    let identity = without_identity.remove("identity").unwrap();
    let mut bad = groups.clone();
    bad["identity"]["sex"] = json!("X");
    let page = vec![
        change(id(1), "*", Value::Object(without_identity), hlc),
        change(id(1), "hobby", json!({"hobby": "catur"}), hlc),
        change(id(3), "*", Value::Object(bad), hlc),
        Pulled { table: "parcels".into(), ..change(id(4), "*", json!({}), hlc) },
        Pulled { delete: true, value: Value::Null, ..change(id(5), "", Value::Null, hlc) },
    ];
    let done = apply(&b, &page);
    assert_eq!(done.applied, 0, "{done:?}");
    let counts = b.read(|c| held_counts(c)).unwrap();
    let counts: Vec<(&str, u64)> = counts.iter().map(|(r, n)| (r.as_str(), *n)).collect();
    assert_eq!(
        counts,
        [
            ("delete", 1),
            ("invalid", 1),
            ("row_incomplete", 8),
            ("unknown_group", 1),
            ("unknown_table", 1)
        ]
    );
    assert!(!dump(&b).contains("residents"), "nothing half-inserted");
    // The missing group arrives: the row is inserted whole, as A has it.
    let done = apply(&b, &[change(id(1), "identity", identity, hlc)]);
    assert_eq!(done.applied, 9, "{done:?}");
    assert_eq!(dump(&a), dump(&b));
    let left: u64 = b.read(|c| held_counts(c)).unwrap().iter().map(|(_, n)| n).sum();
    assert_eq!(left, 4, "the other held changes are still kept");
}

#[test]
fn a_page_and_its_cursor_are_one_transaction() {
    let (_b, b) = office(DEVICE_B);
    // Applying fails midway (here the table that keeps held changes is gone).
    let r: Result<(), StoreError> = b.write(&ctx(), |tx| {
        tx.execute("DROP TABLE _sync_held", [])?;
        Ok(())
    });
    r.unwrap();
    let page = vec![Pulled { table: "parcels".into(), ..change(id(4), "*", json!({}), 1 << 20) }];
    assert!(b.apply_pulled(&ctx(), &page, &[("pulled_through", "7")]).is_err());
    assert_eq!(b.read(|c| state(c, "pulled_through")).unwrap(), None, "no cursor without its page");
}

/// A snapshot staged page by page (each in its own commit, as a download goes) and applied at
/// once: as a bulk write or change by change, the register is the one the changes make one at
/// a time; the staged pages and the download's position go with the same commit; a page that
/// cannot be read leaves nothing applied and everything staged.
#[test]
fn a_snapshot_staged_in_pages_is_applied_at_once_and_all_or_nothing() {
    let (_a, a) = office(DEVICE_A);
    let people: Vec<_> = (1..=6u8)
        .map(|i| {
            (i, input(&format!("18720455089000{i:02}"), &format!("Warga {i}"), "P", "15-08-1990"))
        })
        .collect();
    seed(&a, &people);
    let page = feed_of(&a, 0);
    let (_by_change, by_change) = office(DEVICE_B);
    apply(&by_change, &page);

    // The staged pages are the changes' JSON, split in three.
    let thirds: Vec<Vec<u8>> = page
        .chunks(page.len().div_ceil(3))
        .map(|c| serde_json::to_vec(&wire(c)).unwrap())
        .collect();
    let decode = |body: &[u8]| -> Result<Vec<Pulled>, StoreError> {
        let v: Vec<Value> = serde_json::from_slice(body)
            .map_err(|e| StoreError::Corrupt(format!("halaman: {e}")))?;
        Ok(v.into_iter().map(unwire).collect())
    };
    for bulk in [true, false] {
        let (_b, b) = office(DEVICE_B);
        for (i, body) in thirds.iter().enumerate() {
            b.stage_snapshot_page(&ctx(), body, &[("snapshot_after", &i.to_string())]).unwrap();
        }
        // A page that does not read: nothing applied, nothing unstaged.
        let broken = |body: &[u8]| -> Result<Vec<Pulled>, StoreError> {
            if body == thirds[2].as_slice() {
                return Err(StoreError::Corrupt("rusak".into()));
            }
            decode(body)
        };
        assert!(b.apply_snapshot(&ctx(), bulk, broken, &[], &[]).is_err());
        assert_eq!(dump(&b), "", "bulk {bulk}: nothing of a failed snapshot is in the register");
        let done = b
            .apply_snapshot(&ctx(), bulk, decode, &[("pulled_through", "9")], &["snapshot_after"])
            .unwrap();
        assert_eq!(done.held, 0, "{done:?}");
        assert_eq!(dump(&b), dump(&by_change), "bulk {bulk}: the same register");
        let staged: i64 = b
            .read(|c| c.query_row("SELECT count(*) FROM _sync_snapshot", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(staged, 0, "the staged pages went with the commit");
        let (cursor, position) = b
            .read(|c| {
                Ok::<_, rusqlite::Error>((state(c, "pulled_through")?, state(c, "snapshot_after")?))
            })
            .unwrap();
        assert_eq!((cursor.as_deref(), position), (Some("9"), None));
        let q = register::SearchQuery { q: "warga".into(), ..Default::default() };
        let found = b.read(|c| register::search(c, &q)).unwrap();
        assert_eq!(found.len(), 6, "bulk {bulk}: the name index is whole");
    }
}

/// A value the schema refuses inside a snapshot (applied first without savepoints, then again
/// change by change): it is held, every other row goes in, and the name index keeps following
/// later writes (also after a bulk snapshot that failed: the next transaction turns it back on).
#[test]
fn a_refused_value_in_a_snapshot_is_held_and_the_rest_applied() {
    let (_a, a) = office(DEVICE_A);
    let people: Vec<_> = [1u8, 2, 3, 9]
        .map(|i| {
            (i, input(&format!("18720455089000{i:02}"), &format!("Warga {i}"), "P", "15-08-1990"))
        })
        .to_vec();
    seed(&a, &people);
    let mut page = feed_of(&a, 0);
    // The fourth resident comes later, through the feed.
    let at = page.iter().position(|c| c.table == "residents" && c.row_id == id(9)).unwrap();
    let later = vec![page.remove(at)];
    let second = page.iter_mut().find(|c| c.table == "residents" && c.row_id == id(2)).unwrap();
    second.value["identity"]["sex"] = json!("X");
    let body = serde_json::to_vec(&wire(&page)).unwrap();
    let decode = |body: &[u8]| -> Result<Vec<Pulled>, StoreError> {
        let v: Vec<Value> = serde_json::from_slice(body)
            .map_err(|e| StoreError::Corrupt(format!("halaman: {e}")))?;
        Ok(v.into_iter().map(unwire).collect())
    };
    let search = |store: &Store| {
        let q = register::SearchQuery { q: "warga".into(), ..Default::default() };
        store.read(|c| register::search(c, &q)).unwrap().len()
    };
    for bulk in [true, false] {
        let (_b, b) = office(DEVICE_B);
        b.stage_snapshot_page(&ctx(), &body, &[]).unwrap();
        let broken = |_: &[u8]| -> Result<Vec<Pulled>, StoreError> {
            Err(StoreError::Corrupt("rusak".into()))
        };
        assert!(b.apply_snapshot(&ctx(), bulk, broken, &[], &[]).is_err());
        // A resident registered here meanwhile is found by name.
        b.write(&ctx(), |tx| {
            let family = FamilyRow {
                id: id(201),
                no_kk: "1872041203150099".into(),
                address: String::new(),
                rt: 1,
                rw: 1,
                lingkungan: String::new(),
            };
            register::insert_family(tx, &family, "2026-07-01T00:00:00Z")?;
            let r = input("1872045508900050", "Warga Lima", "P", "15-08-1990")
                .validate(today())
                .unwrap();
            register::insert_resident(tx, id(50), id(201), &r, LifeStatus::Hidup, "2026-07-01")
        })
        .unwrap();
        assert_eq!(search(&b), 1, "bulk {bulk}: the name index follows a write after a failure");
        let done = b.apply_snapshot(&ctx(), bulk, decode, &[], &[]).unwrap();
        assert_eq!(done.held, 1, "bulk {bulk}: {done:?}");
        let counts = b.read(|c| held_counts(c)).unwrap();
        assert_eq!(counts, [("invalid".to_string(), 1)], "bulk {bulk}");
        assert_eq!(search(&b), 3, "bulk {bulk}: the other two are in and found by name");
        apply(&b, &later);
        assert_eq!(search(&b), 4, "bulk {bulk}: a later row is found by name too");
    }
}

fn wire(changes: &[Pulled]) -> Vec<Value> {
    changes
        .iter()
        .map(|c| {
            json!({"table": c.table, "row_id": c.row_id, "group": c.field_group, "value": c.value,
                   "hlc": c.hlc, "device": c.device})
        })
        .collect()
}

fn unwire(v: Value) -> Pulled {
    let text = |k: &str| v[k].as_str().expect("text").to_string();
    Pulled {
        table: text("table"),
        row_id: Uuid::parse_str(&text("row_id")).expect("row id"),
        field_group: text("group"),
        value: v["value"].clone(),
        hlc: v["hlc"].as_u64().expect("hlc"),
        device: Uuid::parse_str(&text("device")).expect("device"),
        delete: false,
    }
}

/// A command the city passes down, as the sync engine hands it over.
fn command(name: &str, args: Value) -> Pulled {
    Pulled {
        table: format!("command:{name}"),
        row_id: Uuid::nil(),
        field_group: String::new(),
        value: args,
        hlc: 0,
        device: Uuid::nil(),
        delete: false,
    }
}

#[test]
fn a_status_this_pc_moved_past_stays_and_an_identity_conflict_is_listed_until_its_first_review() {
    let (_a, a) = office(DEVICE_A);
    let request = "019f0000-0000-7000-8000-0000000000c1";
    let sent = json!({"request_id": request, "tracking_code": "ABCDE-FGHJK", "nik": "1872045508900001",
                      "no_kk": "1872041203159991", "letter_type": "domisili", "purpose": "kerja",
                      "contact": "", "submitted_at_ms": 1});
    let status = |s: &str, device: &str| {
        command(
            "request_status",
            json!({"request_id": request, "status": s, "note": "", "device": device}),
        )
    };
    apply(&a, &[command("online_request", sent), status("diproses", DEVICE_A)]);
    // Finished here; the city's older word on it (a first sync after enrolling again) arrives.
    let id = Uuid::parse_str(request).unwrap();
    a.write(&ctx(), |tx| {
        balai_store::requests::set_status(tx, id, "selesai", Some(DEVICE_A), "", 2)
    })
    .unwrap();
    let done = apply(&a, &[status("diproses", DEVICE_A)]);
    assert_eq!(done.older, 1);
    let here = a.read(|c| balai_store::requests::get(c, id)).unwrap().unwrap();
    assert_eq!(here.status, "selesai");
    // Handed over to another device, the request moves on whatever this PC had.
    apply(&a, &[status("diproses", DEVICE_B)]);
    let here = a.read(|c| balai_store::requests::get(c, id)).unwrap().unwrap();
    assert_eq!((here.status.as_str(), here.claimed_by.as_deref()), ("diproses", Some(DEVICE_B)));

    let conflict = "019f0000-0000-7000-8000-0000000000d1";
    let side = |name: &str, device: &str| json!({"value": {"nik": "1872045508900001", "full_name": name}, "hlc": 5, "device": device});
    let found = json!({"conflict_id": conflict, "table": "residents", "row_id": request,
                       "field_group": "identity", "fields": ["full_name"],
                       "kept": side("SITI AMINAH", DEVICE_B), "lost": side("SITI AMINA", DEVICE_A),
                       "at_ms": 9});
    let done = apply(
        &a,
        &[command("identity_conflict", found.clone()), command("identity_conflict", found)],
    );
    assert_eq!(done.held, 0);
    let open = a.read(balai_store::conflicts::open_count).unwrap();
    assert_eq!(open, 1, "a repeat is one conflict");
    let listed = a.read(balai_store::conflicts::list).unwrap();
    assert!(listed[0].kept.0.contains("SITI AMINAH") && listed[0].lost.2 == DEVICE_A);
    let review = |note: &str| {
        command(
            "review_conflict",
            json!({"conflict_id": conflict, "note": note, "reviewed_at_ms": 11}),
        )
    };
    apply(&a, &[review("Sesuai KK"), review("kedua")]);
    let listed = a.read(balai_store::conflicts::list).unwrap();
    assert_eq!((listed[0].reviewed_at_ms, listed[0].review_note.as_str()), (Some(11), "Sesuai KK"));
    assert_eq!(a.read(balai_store::conflicts::open_count).unwrap(), 0);
    // A conflict missing its sides is kept aside, not half-listed.
    let done = apply(&a, &[command("identity_conflict", json!({"conflict_id": conflict}))]);
    assert_eq!(done.held, 1);
}
