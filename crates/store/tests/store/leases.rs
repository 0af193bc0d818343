//! Letter-number leases on the PC: drawn oldest first, each serial once, only for the
//! enrolment they were granted to; a rolled-back issue gives its number back.

use crate::{ctx, open, temp_db};
use balai_store::leases::{add, left, take, Granted};
use balai_store::sync::{append_command, changes_after, COMMAND_TABLE};
use balai_store::{StoreError, Uuid};

fn lease(n: u128, series: &str, first: u32, last: u32) -> Granted {
    Granted { lease_id: Uuid::from_u128(n), series: series.into(), first, last }
}

#[test]
fn serials_come_from_the_oldest_lease_of_this_epoch_once_each_until_the_reserve_is_empty() {
    let (_dir, path) = temp_db();
    let store = open(&path);
    let leases = [
        lease(2, "2026/domisili", 30, 31),
        lease(1, "2026/domisili", 8, 9),
        lease(3, "2026/sktm", 1, 5),
        lease(4, "2026/domisili", 100, 120), // an older enrolment's: never drawn from
    ];
    store
        .write(&ctx(), |tx| {
            add(tx, 2, &leases[..3], 0)?;
            add(tx, 1, &leases[3..], 0)?;
            add(tx, 2, &leases[..1], 0) // a repeat changes nothing
        })
        .unwrap();
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(store.write(&ctx(), |tx| take(tx, "2026/domisili", 2)).unwrap());
    }
    let serials: Vec<Option<u32>> = got.iter().map(|g| g.map(|(_, s)| s)).collect();
    assert_eq!(serials, [Some(8), Some(9), Some(30), Some(31), None]);
    assert_eq!(got[0].unwrap().0, Uuid::from_u128(1));
    let reserve = store.read(|c| left(c, 2)).unwrap();
    assert_eq!(reserve, [("2026/domisili".to_string(), 0), ("2026/sktm".to_string(), 5)]);

    // A number taken by an issue that fails is not used up.
    let failed: Result<(), StoreError> = store.write(&ctx(), |tx| {
        assert_eq!(take(tx, "2026/sktm", 2)?.map(|(_, s)| s), Some(1));
        Err(StoreError::Corrupt("the PDF could not be made".into()))
    });
    assert!(failed.is_err());
    assert_eq!(
        store.write(&ctx(), |tx| take(tx, "2026/sktm", 2)).unwrap().map(|(_, s)| s),
        Some(1)
    );
}

#[test]
fn a_command_is_pushed_in_outbox_order_with_its_args_and_has_no_clock() {
    let (_dir, path) = temp_db();
    let store = open(&path);
    let letter = Uuid::from_u128(9);
    store
        .write(&ctx(), |tx| {
            append_command(tx, "issue_letter", letter, &serde_json::json!({"serial": 8}))
        })
        .unwrap();
    let changes = store.read(|c| changes_after(c, 0, 10)).unwrap();
    let last = changes.last().unwrap();
    assert_eq!(
        (last.tbl.as_str(), last.row_id, last.field_group.as_str(), last.value.as_str()),
        (COMMAND_TABLE, letter, "issue_letter", r#"{"serial":8}"#)
    );
    let clocks: i64 = store
        .read(|c| {
            c.query_row("SELECT count(*) FROM _sync_clock WHERE tbl = ?1", [COMMAND_TABLE], |r| {
                r.get(0)
            })
        })
        .unwrap();
    assert_eq!(clocks, 0);
}
