use crate::{ctx, open, temp_db};
use balai_domain::resident::{LifeStatus, ResidentInput};
use balai_store::register::{self, FamilyRow, SearchQuery};
use balai_store::sync::uncovered_columns;
use balai_store::{StoreError, Uuid};
use chrono::NaiveDate;

pub(crate) fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
}

pub(crate) fn input(nik: &str, name: &str, sex: &str, birth: &str) -> ResidentInput {
    ResidentInput {
        nik: nik.into(),
        no_kk: "1872041203150007".into(),
        full_name: name.into(),
        sex: sex.into(),
        birth_place: "Metro".into(),
        birth_date: birth.into(),
        religion: "1".into(),
        marital_status: "1".into(),
        shdk: "4".into(),
        rt: "3".into(),
        rw: "2".into(),
        ..Default::default()
    }
}

pub(crate) fn id(n: u8) -> Uuid {
    Uuid::from_bytes([n; 16])
}

/// Adds a family and residents; returns the family id.
pub(crate) fn seed(store: &balai_store::Store, people: &[(u8, ResidentInput)]) -> Uuid {
    let fam = id(200);
    store
        .write(&ctx(), |tx| {
            register::insert_family(
                tx,
                &FamilyRow {
                    id: fam,
                    no_kk: "1872041203150007".into(),
                    address: String::new(),
                    rt: 3,
                    rw: 2,
                    lingkungan: String::new(),
                },
                "2026-07-01T00:00:00Z",
            )?;
            for (n, p) in people {
                let r = p.validate(today()).unwrap();
                register::insert_resident(
                    tx,
                    id(*n),
                    fam,
                    &r,
                    LifeStatus::Hidup,
                    "2026-07-01T00:00:00Z",
                )?;
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    fam
}

/// Invariant: every column of every synced table is captured in exactly one field group or
/// marked local-only, so a new column can never silently stay out of sync.
#[test]
fn every_synced_column_is_captured_or_local_only() {
    let (_dir, path) = temp_db();
    let store = open(&path);
    let missing = store.read(|c| uncovered_columns(c)).unwrap();
    assert!(missing.is_empty(), "columns neither captured nor local-only: {missing:?}");
}

/// (table, field group, value) of every change a push would send, oldest first.
fn outbox(store: &balai_store::Store) -> Vec<(String, String, String)> {
    store
        .read(|c| balai_store::sync::changes_after(c, 0, 1_000_000))
        .unwrap()
        .into_iter()
        .map(|c| (c.tbl, c.field_group, c.value))
        .collect()
}

#[test]
fn changes_are_captured_per_field_group_in_the_same_transaction() {
    let (_dir, path) = temp_db();
    let store = open(&path);
    seed(&store, &[(1, input("1872045508900001", "Siti Aminah", "P", "15-08-1990"))]);
    let captured = outbox(&store);
    let groups: Vec<_> = captured.iter().map(|(t, g, _)| format!("{t}.{g}")).collect();
    assert_eq!(
        groups,
        ["families.*", "residents.*"],
        "an insert is one change holding every group"
    );
    let value: serde_json::Value = serde_json::from_str(&captured[1].2).unwrap();
    let mut keys: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "address",
            "civil",
            "documents",
            "family",
            "hold",
            "identity",
            "merge",
            "parents",
            "status"
        ]
    );
    assert_eq!(value["identity"]["nik"], "1872045508900001");
    assert_eq!(value["family"]["family_id"].as_str().unwrap().len(), 32, "blob ids travel as hex");
    // Changing the status captures only the status group, with a later clock.
    store.write(&ctx(), |tx| register::set_status(tx, id(1), LifeStatus::Mati, "t")).unwrap();
    let all = outbox(&store);
    let last = all.last().unwrap();
    assert_eq!((last.0.as_str(), last.1.as_str()), ("residents", "status"));
    assert_eq!(last.2, r#"{"status":"mati"}"#);
    // A write that fails leaves no captured change behind.
    let before = outbox(&store).len();
    let r: Result<(), StoreError> = store.write(&ctx(), |tx| {
        register::set_status(tx, id(1), LifeStatus::Hidup, "t")?;
        Err(StoreError::Corrupt("abort".into()))
    });
    assert!(r.is_err());
    assert_eq!(outbox(&store).len(), before);
    // The clocks only move forward, also across a reopen.
    let max_before: i64 =
        store.read(|c| c.query_row("SELECT max(hlc) FROM _sync_outbox", [], |r| r.get(0))).unwrap();
    drop(store);
    let store = open(&path);
    store.write(&ctx(), |tx| register::set_status(tx, id(1), LifeStatus::Hidup, "t")).unwrap();
    let max_after: i64 =
        store.read(|c| c.query_row("SELECT max(hlc) FROM _sync_outbox", [], |r| r.get(0))).unwrap();
    assert!(max_after > max_before);
}

#[test]
fn search_by_name_words_prefix_nik_and_kk_with_filters() {
    let (_dir, path) = temp_db();
    let store = open(&path);
    let mut maruf = input("1872040101800002", "Muhammad Ma'ruf", "L", "01-01-1980");
    maruf.rt = "7".into();
    seed(
        &store,
        &[
            (1, input("1872045508900001", "Siti  Aminah", "P", "15-08-1990")),
            (2, maruf),
            (3, input("1872044203050003", "Aminah Putri", "P", "02-03-2005")),
        ],
    );
    let names = |q: SearchQuery| -> Vec<String> {
        store.read(|c| register::search(c, &q)).unwrap().into_iter().map(|h| h.full_name).collect()
    };
    let q = |s: &str| SearchQuery { q: s.into(), ..Default::default() };
    assert_eq!(names(q("amin")), ["Aminah Putri", "Siti Aminah"]);
    assert_eq!(names(q("SITI ami")), ["Siti Aminah"]);
    assert_eq!(names(q("maruf")), ["Muhammad Ma'ruf"]);
    assert_eq!(names(q("ma'ruf")), ["Muhammad Ma'ruf"]);
    assert_eq!(names(q("187204010")), ["Muhammad Ma'ruf"]);
    assert_eq!(names(q("1872041203")).len(), 3, "No. KK prefix finds the whole family");
    assert_eq!(names(q("9999")), Vec::<String>::new());
    assert_eq!(names(SearchQuery { q: "amin".into(), rt: Some(3), ..Default::default() }).len(), 2);
    assert_eq!(names(SearchQuery { rt: Some(7), ..Default::default() }), ["Muhammad Ma'ruf"]);
    let born_before_2000 = NaiveDate::from_ymd_opt(2000, 1, 1);
    assert_eq!(
        names(SearchQuery {
            q: "aminah".into(),
            born_on_or_before: born_before_2000,
            ..Default::default()
        }),
        ["Siti Aminah"]
    );
    assert_eq!(names(q("\"); DROP TABLE residents; --")), Vec::<String>::new());
}

#[test]
fn likely_duplicates_are_found_by_name_and_birth_or_by_birth_place_and_mother() {
    let (_dir, path) = temp_db();
    let store = open(&path);
    let mut a = input("1872045508900001", "Siti Aminah", "P", "15-08-1990");
    a.mother_name = "Fatimah".into();
    let mut b = input("1872045508900009", "SITI AMINAH", "P", "15-08-1990");
    b.mother_name = "Fatimah".into();
    let mut c = input("1872045508900011", "Sity Aminah", "P", "15-08-1990");
    c.mother_name = "fatimah".into();
    let d = input("1872045608900012", "Siti Aminah", "P", "16-08-1990");
    seed(&store, &[(1, a), (2, b), (3, c), (4, d)]);
    let pairs = store.read(|conn| register::duplicates(conn, None)).unwrap();
    let found: Vec<_> =
        pairs.iter().map(|(x, y, r)| (x.as_bytes()[0], y.as_bytes()[0], *r)).collect();
    use register::DuplicateReason::*;
    assert_eq!(
        found,
        [(1, 2, NameAndBirthDate), (1, 3, BirthPlaceAndMother), (2, 3, BirthPlaceAndMother)]
    );
    // Merging 2 into 1 removes it from duplicates and from search.
    store.write(&ctx(), |tx| register::set_merged_into(tx, id(2), id(1), "t")).unwrap();
    assert_eq!(store.read(|conn| register::duplicates(conn, None)).unwrap().len(), 1);
}

/// Writes one family with `n` members (ids 1..=n), row by row or as a bulk write, plus a
/// status change of a resident that existed before.
fn write_people(store: &balai_store::Store, bulk: bool) {
    seed(store, &[(100, input("1872045508900100", "Sri Lestari", "P", "15-08-1990"))]);
    let people: Vec<(u8, ResidentInput)> = (1..=40u8)
        .map(|n| {
            let nik = format!("18720401018000{n:02}");
            (n, input(&nik, &format!("Warga Nomor {n}"), "L", "01-01-1980"))
        })
        .collect();
    let fam = id(201);
    let body = |tx: &balai_store::WriteTx| -> Result<(), StoreError> {
        register::insert_family(
            tx,
            &FamilyRow {
                id: fam,
                no_kk: "1872041203150099".into(),
                address: "Jl. Mawar".into(),
                rt: 1,
                rw: 1,
                lingkungan: String::new(),
            },
            "2026-07-01T00:00:00Z",
        )?;
        for (n, p) in &people {
            let r = p.validate(today()).unwrap();
            register::insert_resident(tx, id(*n), fam, &r, LifeStatus::Hidup, "t")?;
        }
        register::set_status(tx, id(100), LifeStatus::Pindah, "t")
    };
    store.write(&ctx(), |tx| if bulk { store.bulk(tx, body) } else { body(tx) }).unwrap();
}

/// Invariant: a bulk write leaves exactly what row-by-row writes leave — the same rows, the
/// same indexes, the same name search, and the same captured changes and clocks.
#[test]
fn a_bulk_write_stores_and_captures_what_row_by_row_writes_do() {
    let snapshot = |bulk: bool| {
        let (_dir, path) = temp_db();
        let store = open(&path);
        write_people(&store, bulk);
        store
            .read(|c| {
                let schema = balai_store::migrations::schema_dump(c).unwrap();
                let list = |sql: &str| -> rusqlite::Result<Vec<String>> {
                    let mut s = c.prepare(sql)?;
                    let rows = s.query_map([], |r| r.get::<_, String>(0))?;
                    rows.collect()
                };
                let residents = list(
                    "SELECT hex(id) || nik || full_name || status || hex(family_id) FROM residents ORDER BY id",
                )?;
                let outbox = list(
                    "SELECT tbl || ' ' || hex(row_id) || ' ' || field_group || ' ' || coalesce(value, '-') || ' ' || user_id
                     FROM _sync_outbox ORDER BY tbl, row_id, field_group",
                )?;
                let clocks = list(
                    "SELECT c.tbl || hex(c.row_id) || c.field_group || (c.hlc = o.hlc)
                     FROM _sync_clock c JOIN _sync_outbox o USING (tbl, row_id, field_group)
                     ORDER BY 1",
                )?;
                let found = list(
                    "SELECT hex(r.id) FROM residents_fts f JOIN residents r ON r.rowid = f.rowid
                     WHERE residents_fts MATCH 'nomor* AND 1*' ORDER BY r.id",
                )?;
                let integrity = list("PRAGMA integrity_check")?;
                Ok::<_, rusqlite::Error>((schema, residents, outbox, clocks, found, integrity))
            })
            .unwrap()
    };
    let by_row = snapshot(false);
    let bulk = snapshot(true);
    assert_eq!(by_row.5, ["ok"]);
    assert_eq!(bulk.5, ["ok"]);
    assert_eq!(bulk.0, by_row.0, "the same schema and indexes");
    assert_eq!(bulk.1, by_row.1, "the same rows");
    assert_eq!(bulk.1.len(), 41);
    assert_eq!(bulk.2, by_row.2, "the same captured changes");
    // 2 families + 41 residents inserted, and one status change.
    assert_eq!(bulk.2.len(), 44);
    assert_eq!(bulk.3, by_row.3, "every change has its clock");
    assert_eq!(bulk.3.len(), 44);
    assert_eq!(bulk.4, by_row.4, "the same name search");
    assert_eq!(bulk.4.len(), 11, "Warga Nomor 1, 10–19");
}

/// The writer's page cache grows for a bulk write and is given back when its transaction ends,
/// committed or not, so a desktop that imported a register does not keep 64 MiB for the day.
#[test]
fn a_bulk_write_gives_its_larger_cache_back_when_the_transaction_ends() {
    let (_dir, path) = temp_db();
    let store = open(&path);
    let cache = || {
        store
            .write(&ctx(), |tx| {
                tx.pragma_query_value(None, "cache_size", |r| r.get::<_, i64>(0))
                    .map_err(StoreError::from)
            })
            .unwrap()
    };
    let ordinary = cache();
    assert!(ordinary < 0 && ordinary >= -16 * 1024, "{ordinary}");
    let during = store
        .write(&ctx(), |tx| {
            store.bulk(tx, |tx| {
                tx.pragma_query_value(None, "cache_size", |r| r.get::<_, i64>(0))
                    .map_err(StoreError::from)
            })
        })
        .unwrap();
    assert!(during < ordinary, "bulk {during} vs ordinary {ordinary}");
    assert_eq!(cache(), ordinary);
    let failed: Result<(), StoreError> =
        store.write(&ctx(), |tx| store.bulk(tx, |_| Err(StoreError::Corrupt("stop".into()))));
    assert!(failed.is_err());
    assert_eq!(cache(), ordinary);
}
