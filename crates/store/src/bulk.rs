//! Bulk writes ([`Store::bulk`](crate::Store::bulk), and a first sync's snapshot): what is set
//! aside at the start and redone once, set-based, at the end.

use crate::sync::{self, Capture, Shared, SYNCED};
use crate::{register, Result};
use rusqlite::Transaction;

pub(crate) struct Marks {
    /// The highest rowid of each synced table before the bulk write.
    rowids: Vec<i64>,
    /// The highest outbox seq before the bulk write.
    seq: i64,
    /// SQL that recreates the secondary indexes dropped for the bulk write.
    indexes: Vec<String>,
}

pub(crate) fn begin(tx: &Transaction, state: &Shared) -> Result<Marks> {
    let mut rowids = Vec::with_capacity(SYNCED.len());
    for t in SYNCED {
        rowids.push(tx.query_row(
            &format!("SELECT coalesce(max(rowid), 0) FROM {}", t.name),
            [],
            |r| r.get(0),
        )?);
    }
    let seq = tx.query_row("SELECT coalesce(max(seq), 0) FROM _sync_outbox", [], |r| r.get(0))?;
    let indexes = register::drop_secondary_indexes(tx)?;
    let mut st = sync::lock(state);
    st.capture = Capture::InsertsDeferred;
    st.fts_live = false;
    Ok(Marks { rowids, seq, indexes })
}

pub(crate) fn finish(tx: &Transaction, state: &Shared, marks: Marks) -> Result<()> {
    {
        let mut st = sync::lock(state);
        st.capture = Capture::On;
        st.fts_live = true;
    }
    register::recreate_indexes(tx, &marks.indexes)?;
    register::rebuild_name_index(tx)?;
    for (t, since) in SYNCED.iter().zip(marks.rowids) {
        tx.execute(&sync::capture_inserts_sql(t), [since])?;
    }
    tx.execute(sync::CLOCKS_FROM_OUTBOX_SQL, [marks.seq])?;
    Ok(())
}

/// For rows that are not this PC's edits (a first sync's snapshot): only the indexes are set
/// aside (answered, to be given back to [`finish_unlogged`]); nothing is captured.
pub(crate) fn begin_unlogged(tx: &Transaction, state: &Shared) -> Result<Vec<String>> {
    let indexes = register::drop_secondary_indexes(tx)?;
    sync::lock(state).fts_live = false;
    Ok(indexes)
}

pub(crate) fn finish_unlogged(tx: &Transaction, state: &Shared, indexes: &[String]) -> Result<()> {
    sync::lock(state).fts_live = true;
    register::recreate_indexes(tx, indexes)?;
    register::rebuild_name_index(tx)?;
    Ok(())
}
