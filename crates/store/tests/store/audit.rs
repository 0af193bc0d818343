use crate::{open, temp_db};
use balai_domain::audit::ChainBreak;
use balai_store::audit::{append, verify, NewEntry};

fn entry<'a>(action: &'a str) -> NewEntry<'a> {
    NewEntry {
        at: "2026-07-01T08:00:00.000Z",
        actor_id: "",
        actor: "cli:test",
        action,
        entity: "office_profile",
        entity_id: "",
        detail: "address",
    }
}

#[test]
fn the_app_connection_cannot_update_or_delete_audit_rows() {
    let (_dir, path) = temp_db();
    let store = open(&path);
    store.write(&crate::ctx(), |tx| append(tx, &entry("profile.set"))).unwrap();
    let upd = store.write(&crate::ctx(), |tx| {
        tx.execute("UPDATE audit_log SET detail = 'x'", []).map_err(balai_store::StoreError::from)
    });
    assert!(upd.unwrap_err().to_string().contains("append-only"));
    let del = store.write(&crate::ctx(), |tx| {
        tx.execute("DELETE FROM audit_log", []).map_err(balai_store::StoreError::from)
    });
    assert!(del.unwrap_err().to_string().contains("append-only"));
    assert_eq!(store.read(|c| verify(c)).unwrap(), Ok(1));
}

#[test]
fn editing_the_file_behind_the_apps_back_breaks_the_chain() {
    let (_dir, path) = temp_db();
    {
        let store = open(&path);
        for a in ["a", "b", "c", "d"] {
            store.write(&crate::ctx(), |tx| append(tx, &entry(a))).unwrap();
        }
        assert_eq!(store.read(|c| verify(c)).unwrap(), Ok(4));
    }
    // Someone with the file drops the guard trigger and rewrites entry 3.
    {
        let conn = crate::keyed(&path, &crate::TEST_KEY);
        conn.execute("DROP TRIGGER audit_log_append_only_update", []).unwrap();
        conn.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3", []).unwrap();
    }
    let store = open(&path);
    assert_eq!(store.read(|c| verify(c)).unwrap(), Err(ChainBreak::HashMismatch { seq: 3 }));
}

#[test]
fn deleting_a_row_in_the_middle_breaks_the_chain() {
    let (_dir, path) = temp_db();
    {
        let store = open(&path);
        for a in ["a", "b", "c"] {
            store.write(&crate::ctx(), |tx| append(tx, &entry(a))).unwrap();
        }
    }
    {
        let conn = crate::keyed(&path, &crate::TEST_KEY);
        conn.execute("DROP TRIGGER audit_log_append_only_delete", []).unwrap();
        conn.execute("DELETE FROM audit_log WHERE seq = 2", []).unwrap();
    }
    let store = open(&path);
    assert_eq!(
        store.read(|c| verify(c)).unwrap(),
        Err(ChainBreak::Gap { expected_seq: 2, found_seq: 3 })
    );
}
