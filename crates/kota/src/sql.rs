//! The city's SQL on either backend: SQLite (one file, the default) or PostgreSQL (large
//! deployments). Every module writes its queries once, in the subset both understand, through
//! this module's few calls — the shape of rusqlite's (`execute`, `query_row`, `query_map`,
//! `prepare_cached`, `params!`, `.optional()`), so the code reads the same on both.
//!
//! What it does: `?N` placeholders become PostgreSQL's `$N`; values cross as four kinds
//! (integer, text, bytes, null) and are written in the column's own type (an `INTEGER` column
//! of PostgreSQL takes an `i32`); statements are prepared once per connection on both
//! backends; a PostgreSQL call made from inside the async server runs on a thread of its own
//! (the `postgres` client drives its own runtime and must not block one of tokio's).
//!
//! What it does not do: translate SQL. A query that needs a function the other backend spells
//! differently (`max(a, b)` is `greatest(a, b)`) chooses its text with [`Dialect::pick`]; the
//! schema of each backend is its own script (`crate::pg_schema` for PostgreSQL).

use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    #[error("query returned no rows")]
    NoRows,
    #[error("column {0}: {1}")]
    Value(usize, String),
}

impl SqlError {
    /// A UNIQUE, PRIMARY KEY or CHECK constraint refused the write.
    pub fn is_constraint_violation(&self) -> bool {
        match self {
            SqlError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.code == rusqlite::ErrorCode::ConstraintViolation
            }
            SqlError::Postgres(e) => e.code().is_some_and(|c| c.code().starts_with("23")),
            _ => false,
        }
    }
}

impl SqlError {
    /// What the server's log says of a failed statement: the database's code and message,
    /// never a row's values (PostgreSQL's DETAIL line quotes them: a NIK could be one).
    pub fn for_log(&self) -> String {
        match self {
            SqlError::Postgres(e) => match e.as_db_error() {
                Some(db) => format!("PostgreSQL {}: {}", db.code().code(), db.message()),
                None => format!("PostgreSQL: {e}"),
            },
            SqlError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                format!("SQLite {:?} ({})", f.code, f.extended_code)
            }
            other => other.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, SqlError>;

/// `.optional()` on a query of one row, as rusqlite's `OptionalExtension`.
pub trait Optional<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> Optional<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(SqlError::NoRows) => Ok(None),
            Err(SqlError::Sqlite(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Which backend a query runs on, for the few queries whose text differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn pick<'s>(self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        match self {
            Dialect::Sqlite => sqlite,
            Dialect::Postgres => postgres,
        }
    }
}

/// One value of a query's parameters.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
    Null,
}

pub trait ToCell: Sync {
    fn cell(&self) -> Cell<'_>;
}

macro_rules! int_cells {
    ($($t:ty),*) => {$(
        impl ToCell for $t {
            fn cell(&self) -> Cell<'_> {
                // Times in ms and sequence numbers: far inside i64.
                Cell::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_cells!(i64, i32, u32, u64, u16, usize);

impl ToCell for bool {
    fn cell(&self) -> Cell<'_> {
        Cell::Int(i64::from(*self))
    }
}
impl ToCell for str {
    fn cell(&self) -> Cell<'_> {
        Cell::Text(self)
    }
}
impl ToCell for String {
    fn cell(&self) -> Cell<'_> {
        Cell::Text(self)
    }
}
impl ToCell for [u8] {
    fn cell(&self) -> Cell<'_> {
        Cell::Blob(self)
    }
}
impl ToCell for Vec<u8> {
    fn cell(&self) -> Cell<'_> {
        Cell::Blob(self)
    }
}
impl<T: ToCell + ?Sized> ToCell for &T {
    fn cell(&self) -> Cell<'_> {
        (**self).cell()
    }
}
impl<T: ToCell> ToCell for Option<T> {
    fn cell(&self) -> Cell<'_> {
        match self {
            Some(v) => v.cell(),
            None => Cell::Null,
        }
    }
}

/// The parameters of one statement: `params![a, b]`, `[x]`, `[x, y]` or `[]`.
pub trait Params {
    fn cells(&self) -> Vec<Cell<'_>>;
}

impl Params for &[&dyn ToCell] {
    fn cells(&self) -> Vec<Cell<'_>> {
        self.iter().map(|c| c.cell()).collect()
    }
}
impl Params for [&dyn ToCell; 0] {
    fn cells(&self) -> Vec<Cell<'_>> {
        Vec::new()
    }
}
macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToCell> Params for [T; $n] {
            fn cells(&self) -> Vec<Cell<'_>> {
                self.iter().map(|c| c.cell()).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4);

#[macro_export]
macro_rules! params {
    () => { &[] as &[&dyn $crate::sql::ToCell] };
    ($($p:expr),+ $(,)?) => { &[$(&$p as &dyn $crate::sql::ToCell),+] as &[&dyn $crate::sql::ToCell] };
}
pub use crate::params;

impl rusqlite::ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match *self {
            Cell::Int(v) => ValueRef::Integer(v),
            Cell::Text(s) => ValueRef::Text(s.as_bytes()),
            Cell::Blob(b) => ValueRef::Blob(b),
            Cell::Null => ValueRef::Null,
        }))
    }
}

impl postgres::types::ToSql for Cell<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        use postgres::types::Type;
        match *self {
            Cell::Null => Ok(postgres::types::IsNull::Yes),
            Cell::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                _ => Err(format!("an integer for a {ty} parameter").into()),
            },
            Cell::Text(s) => s.to_sql(ty, out),
            Cell::Blob(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        // Checked in `to_sql`, by the parameter's type as the server inferred it.
        true
    }

    postgres::types::to_sql_checked!();
}

/// A column value read back: `row.get::<T>(index)`.
pub trait FromCell: Sized {
    fn from_lite(v: rusqlite::types::ValueRef<'_>, i: usize) -> Result<Self>;
    /// `None` for SQL NULL.
    fn from_pg(row: &postgres::Row, i: usize) -> Result<Option<Self>>;
    fn from_null(i: usize) -> Result<Self> {
        Err(SqlError::Value(i, "NULL".into()))
    }
}

fn bad(i: usize, what: impl std::fmt::Display) -> SqlError {
    SqlError::Value(i, what.to_string())
}

impl FromCell for i64 {
    fn from_lite(v: rusqlite::types::ValueRef<'_>, i: usize) -> Result<Self> {
        match v {
            rusqlite::types::ValueRef::Integer(n) => Ok(n),
            rusqlite::types::ValueRef::Null => Self::from_null(i),
            other => Err(bad(i, format!("{:?} is not an integer", other.data_type()))),
        }
    }
    fn from_pg(row: &postgres::Row, i: usize) -> Result<Option<Self>> {
        use postgres::types::Type;
        Ok(match *row.columns()[i].type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?,
            Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(i64::from),
            Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(i64::from),
            Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(i64::from),
            ref t => return Err(bad(i, format!("{t} is not an integer"))),
        })
    }
}

macro_rules! narrow_ints {
    ($($t:ty),*) => {$(
        impl FromCell for $t {
            fn from_lite(v: rusqlite::types::ValueRef<'_>, i: usize) -> Result<Self> {
                let n = i64::from_lite(v, i)?;
                <$t>::try_from(n).map_err(|e| bad(i, e))
            }
            fn from_pg(row: &postgres::Row, i: usize) -> Result<Option<Self>> {
                i64::from_pg(row, i)?.map(|n| <$t>::try_from(n).map_err(|e| bad(i, e))).transpose()
            }
        }
    )*};
}
narrow_ints!(i32, u32, u64, usize);

impl FromCell for bool {
    fn from_lite(v: rusqlite::types::ValueRef<'_>, i: usize) -> Result<Self> {
        Ok(i64::from_lite(v, i)? != 0)
    }
    fn from_pg(row: &postgres::Row, i: usize) -> Result<Option<Self>> {
        Ok(i64::from_pg(row, i)?.map(|n| n != 0))
    }
}

impl FromCell for String {
    fn from_lite(v: rusqlite::types::ValueRef<'_>, i: usize) -> Result<Self> {
        match v {
            rusqlite::types::ValueRef::Text(t) => {
                String::from_utf8(t.to_vec()).map_err(|e| bad(i, e))
            }
            rusqlite::types::ValueRef::Null => Self::from_null(i),
            other => Err(bad(i, format!("{:?} is not text", other.data_type()))),
        }
    }
    fn from_pg(row: &postgres::Row, i: usize) -> Result<Option<Self>> {
        Ok(row.try_get::<_, Option<String>>(i)?)
    }
}

impl FromCell for Vec<u8> {
    fn from_lite(v: rusqlite::types::ValueRef<'_>, i: usize) -> Result<Self> {
        match v {
            rusqlite::types::ValueRef::Blob(b) => Ok(b.to_vec()),
            rusqlite::types::ValueRef::Null => Self::from_null(i),
            other => Err(bad(i, format!("{:?} is not bytes", other.data_type()))),
        }
    }
    fn from_pg(row: &postgres::Row, i: usize) -> Result<Option<Self>> {
        Ok(row.try_get::<_, Option<Vec<u8>>>(i)?)
    }
}

impl<T: FromCell> FromCell for Option<T> {
    fn from_lite(v: rusqlite::types::ValueRef<'_>, i: usize) -> Result<Self> {
        match v {
            rusqlite::types::ValueRef::Null => Ok(None),
            v => T::from_lite(v, i).map(Some),
        }
    }
    fn from_pg(row: &postgres::Row, i: usize) -> Result<Option<Self>> {
        Ok(Some(T::from_pg(row, i)?))
    }
    fn from_null(_: usize) -> Result<Self> {
        Ok(None)
    }
}

/// One row of a result.
pub enum Row<'r> {
    Lite(&'r rusqlite::Row<'r>),
    Pg(&'r postgres::Row),
}

impl Row<'_> {
    /// Column `i` as text borrowed from the row (no copy): for reads of many rows.
    pub fn text(&self, i: usize) -> Result<&str> {
        match self {
            Row::Lite(r) => r.get_ref(i)?.as_str().map_err(|_| SqlError::Value(i, "text".into())),
            Row::Pg(r) => Ok(r.try_get::<_, &str>(i)?),
        }
    }

    pub fn get<T: FromCell>(&self, i: usize) -> Result<T> {
        match self {
            Row::Lite(r) => T::from_lite(r.get_ref(i)?, i),
            Row::Pg(r) => match T::from_pg(r, i)? {
                Some(v) => Ok(v),
                None => T::from_null(i),
            },
        }
    }
}

/// `?1` → `$1` (outside string literals), for PostgreSQL.
fn numbered_for_pg(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_string = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => in_string = !in_string,
            '?' if !in_string && chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push('$');
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// What runs PostgreSQL statements: the client itself (each statement its own transaction) or
/// a transaction of it.
pub trait PgRun {
    fn prepare(&mut self, sql: &str) -> std::result::Result<postgres::Statement, postgres::Error>;
    fn run(
        &mut self,
        st: &postgres::Statement,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> std::result::Result<Vec<postgres::Row>, postgres::Error>;
    fn run_count(
        &mut self,
        st: &postgres::Statement,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> std::result::Result<u64, postgres::Error>;
    fn batch(&mut self, script: &str) -> std::result::Result<(), postgres::Error>;
}

/// `Conn` holds the client it was lent.
impl<T: PgRun + ?Sized> PgRun for &mut T {
    fn prepare(&mut self, sql: &str) -> std::result::Result<postgres::Statement, postgres::Error> {
        (**self).prepare(sql)
    }
    fn run(
        &mut self,
        st: &postgres::Statement,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> std::result::Result<Vec<postgres::Row>, postgres::Error> {
        (**self).run(st, params)
    }
    fn run_count(
        &mut self,
        st: &postgres::Statement,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> std::result::Result<u64, postgres::Error> {
        (**self).run_count(st, params)
    }
    fn batch(&mut self, script: &str) -> std::result::Result<(), postgres::Error> {
        (**self).batch(script)
    }
}

macro_rules! pg_run {
    ($t:ty) => {
        impl PgRun for $t {
            fn prepare(
                &mut self,
                sql: &str,
            ) -> std::result::Result<postgres::Statement, postgres::Error> {
                postgres::GenericClient::prepare(self, sql)
            }
            fn run(
                &mut self,
                st: &postgres::Statement,
                params: &[&(dyn postgres::types::ToSql + Sync)],
            ) -> std::result::Result<Vec<postgres::Row>, postgres::Error> {
                postgres::GenericClient::query(self, st, params)
            }
            fn run_count(
                &mut self,
                st: &postgres::Statement,
                params: &[&(dyn postgres::types::ToSql + Sync)],
            ) -> std::result::Result<u64, postgres::Error> {
                postgres::GenericClient::execute(self, st, params)
            }
            fn batch(&mut self, script: &str) -> std::result::Result<(), postgres::Error> {
                postgres::GenericClient::batch_execute(self, script)
            }
        }
    };
}
pg_run!(postgres::Client);
pg_run!(postgres::Transaction<'_>);

/// A PostgreSQL connection and the statements prepared on it.
pub struct PgConn {
    pub(crate) client: postgres::Client,
    stmts: RefCell<HashMap<String, postgres::Statement>>,
    /// When a caller last had the connection (see `Db::with`).
    pub(crate) used_at: std::time::Instant,
}

impl PgConn {
    pub fn new(client: postgres::Client) -> PgConn {
        PgConn { client, stmts: RefCell::new(HashMap::new()), used_at: std::time::Instant::now() }
    }
}

/// Where statements go: an SQLite connection (or transaction), or a PostgreSQL client or
/// transaction.
#[derive(Clone, Copy)]
pub enum Exec<'a> {
    Lite(&'a rusqlite::Connection),
    Pg(&'a RefCell<dyn PgRun + 'a>, &'a RefCell<HashMap<String, postgres::Statement>>),
}

/// The calls every query uses, on a connection ([`Conn`]) or a transaction ([`Tx`]).
pub trait Query {
    fn exec(&self) -> Exec<'_>;

    fn dialect(&self) -> Dialect {
        match self.exec() {
            Exec::Lite(_) => Dialect::Sqlite,
            Exec::Pg(..) => Dialect::Postgres,
        }
    }

    fn prepare_cached(&self, sql: &str) -> Result<Stmt<'_>> {
        Ok(match self.exec() {
            Exec::Lite(c) => Stmt::Lite(c.prepare_cached(sql)?),
            Exec::Pg(run, stmts) => {
                let found = stmts.borrow().get(sql).cloned();
                let st = match found {
                    Some(st) => st,
                    None => {
                        let st = run.borrow_mut().prepare(&numbered_for_pg(sql))?;
                        stmts.borrow_mut().insert(sql.to_string(), st.clone());
                        st
                    }
                };
                Stmt::Pg(run, st)
            }
        })
    }

    fn prepare(&self, sql: &str) -> Result<Stmt<'_>> {
        self.prepare_cached(sql)
    }

    fn execute(&self, sql: &str, params: impl Params) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// A script of statements without parameters (a schema).
    fn batch(&self, script: &str) -> Result<()> {
        match self.exec() {
            // The server's schema scripts only; balai-store runs the desktop's.
            #[allow(clippy::disallowed_methods)]
            Exec::Lite(c) => c.execute_batch(script)?,
            Exec::Pg(run, _) => run.borrow_mut().batch(script)?,
        }
        Ok(())
    }
}

/// A prepared statement.
pub enum Stmt<'a> {
    Lite(rusqlite::CachedStatement<'a>),
    Pg(&'a RefCell<dyn PgRun + 'a>, postgres::Statement),
}

fn pg_params<'c>(cells: &'c [Cell<'c>]) -> Vec<&'c (dyn postgres::types::ToSql + Sync)> {
    cells.iter().map(|c| c as &(dyn postgres::types::ToSql + Sync)).collect()
}

impl Stmt<'_> {
    pub fn execute(&mut self, params: impl Params) -> Result<usize> {
        let cells = params.cells();
        Ok(match self {
            Stmt::Lite(st) => st.execute(rusqlite::params_from_iter(cells.iter()))?,
            Stmt::Pg(run, st) => run.borrow_mut().run_count(st, &pg_params(&cells))? as usize,
        })
    }

    pub fn query_row<T>(
        &mut self,
        params: impl Params,
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        let cells = params.cells();
        match self {
            Stmt::Lite(st) => {
                let mut rows = st.query(rusqlite::params_from_iter(cells.iter()))?;
                match rows.next()? {
                    Some(r) => f(&Row::Lite(r)),
                    None => Err(SqlError::NoRows),
                }
            }
            Stmt::Pg(run, st) => {
                let rows = run.borrow_mut().run(st, &pg_params(&cells))?;
                match rows.first() {
                    Some(r) => f(&Row::Pg(r)),
                    None => Err(SqlError::NoRows),
                }
            }
        }
    }

    /// Runs `f` on every row as it is read (SQLite streams; PostgreSQL's client reads the rows
    /// at once): for reads too large to collect first, such as a kelurahan's digest.
    pub fn for_each(
        &mut self,
        params: impl Params,
        mut f: impl FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        let cells = params.cells();
        match self {
            Stmt::Lite(st) => {
                let mut rows = st.query(rusqlite::params_from_iter(cells.iter()))?;
                while let Some(r) = rows.next()? {
                    f(&Row::Lite(r))?;
                }
            }
            Stmt::Pg(run, st) => {
                for r in run.borrow_mut().run(st, &pg_params(&cells))? {
                    f(&Row::Pg(&r))?;
                }
            }
        }
        Ok(())
    }

    /// Every row, mapped (read at once: the callers' results are bounded pages).
    pub fn query_map<T>(
        &mut self,
        params: impl Params,
        mut f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let cells = params.cells();
        let mut out = Vec::new();
        match self {
            Stmt::Lite(st) => {
                let mut rows = st.query(rusqlite::params_from_iter(cells.iter()))?;
                while let Some(r) = rows.next()? {
                    out.push(f(&Row::Lite(r)));
                }
            }
            Stmt::Pg(run, st) => {
                for r in run.borrow_mut().run(st, &pg_params(&cells))? {
                    out.push(f(&Row::Pg(&r)));
                }
            }
        }
        Ok(out.into_iter())
    }
}

/// A connection, lent to one call of `Db::with`.
pub struct Conn<'c> {
    inner: ConnInner<'c>,
}

enum ConnInner<'c> {
    Lite(&'c mut rusqlite::Connection),
    Pg(RefCell<&'c mut postgres::Client>, &'c RefCell<HashMap<String, postgres::Statement>>),
}

impl<'c> Conn<'c> {
    pub fn sqlite(c: &'c mut rusqlite::Connection) -> Conn<'c> {
        Conn { inner: ConnInner::Lite(c) }
    }

    pub fn postgres(c: &'c mut PgConn) -> Conn<'c> {
        let PgConn { client, stmts, .. } = c;
        Conn { inner: ConnInner::Pg(RefCell::new(client), stmts) }
    }

    /// The SQLite connection itself, for what only SQLite has (`VACUUM INTO`, pragmas).
    pub fn as_sqlite(&mut self) -> Option<&mut rusqlite::Connection> {
        match &mut self.inner {
            ConnInner::Lite(c) => Some(c),
            ConnInner::Pg(..) => None,
        }
    }

    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        Ok(Tx {
            inner: match &mut self.inner {
                ConnInner::Lite(c) => TxInner::Lite(c.transaction()?),
                ConnInner::Pg(client, stmts) => {
                    TxInner::Pg(RefCell::new(client.get_mut().transaction()?), stmts)
                }
            },
        })
    }
}

impl Query for Conn<'_> {
    fn exec(&self) -> Exec<'_> {
        match &self.inner {
            ConnInner::Lite(c) => Exec::Lite(c),
            ConnInner::Pg(client, stmts) => Exec::Pg(client, stmts),
        }
    }
}

/// A transaction: rolled back unless committed.
pub struct Tx<'c> {
    inner: TxInner<'c>,
}

enum TxInner<'c> {
    Lite(rusqlite::Transaction<'c>),
    Pg(RefCell<postgres::Transaction<'c>>, &'c RefCell<HashMap<String, postgres::Statement>>),
}

impl Tx<'_> {
    pub fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Lite(t) => t.commit()?,
            TxInner::Pg(t, _) => t.into_inner().commit()?,
        }
        Ok(())
    }
}

impl Query for Tx<'_> {
    fn exec(&self) -> Exec<'_> {
        match &self.inner {
            TxInner::Lite(t) => Exec::Lite(t),
            TxInner::Pg(t, stmts) => Exec::Pg(t, stmts),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::numbered_for_pg;

    #[test]
    fn placeholders_are_numbered_for_postgres_outside_string_literals() {
        assert_eq!(
            numbered_for_pg("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d IN (?3, ?12)"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d IN ($3, $12)"
        );
        assert_eq!(numbered_for_pg("SELECT '?' || ?1"), "SELECT '?' || $1");
    }
}
