//! Storage: embedded SQLite by default, PostgreSQL with the `postgres` feature.
//!
//! The hub writes SQL in the common subset of both dialects with `?` placeholders (rewritten to
//! `$n` for PostgreSQL). The schema is created by numbered migrations, one SQL file per backend
//! under `migrations/`, applied in order when a store is opened and recorded in the
//! `schema_migrations` table, so opening an older database upgrades it.

use crate::error::{HubError, Result};

/// A value bound to or read from a SQL statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (`BIGINT`).
    Int(i64),
    /// A double (`DOUBLE PRECISION` / `REAL`).
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes (`BYTEA` / `BLOB`).
    Blob(Vec<u8>),
}

impl Value {
    /// The integer, if this is one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The text, if this is text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Real(f)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row.
pub(crate) type Row = Vec<Value>;

/// Typed accessors on a row, with errors that name the column.
pub(crate) trait RowExt {
    fn text(&self, i: usize) -> Result<String>;
    fn opt_text(&self, i: usize) -> Result<Option<String>>;
    fn int(&self, i: usize) -> Result<i64>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>>;
}

impl RowExt for Row {
    fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i)?
            .ok_or_else(|| HubError::Corrupt(format!("column {i} is NULL")))
    }
    fn opt_text(&self, i: usize) -> Result<Option<String>> {
        match self.get(i) {
            Some(Value::Text(s)) => Ok(Some(s.clone())),
            Some(Value::Null) => Ok(None),
            other => Err(HubError::Corrupt(format!(
                "column {i}: expected text, got {other:?}"
            ))),
        }
    }
    fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i)?
            .ok_or_else(|| HubError::Corrupt(format!("column {i} is NULL")))
    }
    fn opt_int(&self, i: usize) -> Result<Option<i64>> {
        match self.get(i) {
            Some(Value::Int(n)) => Ok(Some(*n)),
            Some(Value::Null) => Ok(None),
            other => Err(HubError::Corrupt(format!(
                "column {i}: expected integer, got {other:?}"
            ))),
        }
    }
}

/// A numbered schema migration with its SQL for each backend.
struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "model artifacts in chunks",
        sqlite: include_str!("../migrations/sqlite/0002_model_chunks.sql"),
        postgres: include_str!("../migrations/postgres/0002_model_chunks.sql"),
    },
];

enum Backend {
    Sqlite(rusqlite::Connection),
    #[cfg(feature = "postgres")]
    Postgres(Box<postgres::Client>),
}

/// A hub database: SQLite (a file, or in memory) or PostgreSQL.
pub struct Store {
    backend: Backend,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.kind())
    }
}

/// True when `location` names a PostgreSQL database rather than a SQLite file: a
/// `postgres://` / `postgresql://` URL or a `key=value` connection string with `host=` or
/// `dbname=`.
pub fn is_postgres_location(location: &str) -> bool {
    let l = location.trim();
    l.starts_with("postgres://")
        || l.starts_with("postgresql://")
        || (l.contains('=') && (l.contains("host=") || l.contains("dbname=")))
}

/// `PRAGMA application_id` of a SQLite hub (`ai4i` in ASCII), set when the hub is created,
/// so that a SQLite database of another program is never taken for a hub and changed.
pub const APPLICATION_ID: i32 = 0x6169_3469;

/// How long a SQLite connection waits for another one holding the lock before failing.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Tables every hub has; an older hub made before [`APPLICATION_ID`] is known by them.
const HUB_TABLES: [&str; 2] = ["schema_migrations", "standards"];

/// Checks, writing nothing, that the SQLite database behind `conn` is a hub: it has the hub's
/// application id, or no tables yet (a new or empty file), or the hub's tables (a hub made
/// before the id was set; [`Store::open`] then marks it).
fn identify(conn: &rusqlite::Connection, location: &str) -> Result<()> {
    let not_a_hub = |reason: String| HubError::NotAHub {
        location: location.to_string(),
        reason,
    };
    let id: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => not_a_hub("not a SQLite database".into()),
            _ => e.into(),
        })?;
    if id == APPLICATION_ID {
        return Ok(());
    }
    if id != 0 {
        return Err(not_a_hub(format!(
            "a SQLite database of another program (application id {id:#x})"
        )));
    }
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?;
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if tables.is_empty() || HUB_TABLES.iter().all(|t| tables.iter().any(|x| x == t)) {
        Ok(())
    } else {
        Err(not_a_hub(format!(
            "a SQLite database with other tables ({})",
            tables.join(", ")
        )))
    }
}

impl Store {
    /// Opens the database at `location`: a PostgreSQL connection string (see
    /// [`is_postgres_location`]), `:memory:`, or a SQLite file path (created with its parent
    /// folder when missing). Applies pending migrations. A SQLite database that is not a hub
    /// (another program's, or not SQLite at all) is refused with [`HubError::NotAHub`] before
    /// anything is written to it.
    pub fn open(location: &str) -> Result<Store> {
        if is_postgres_location(location) {
            #[cfg(feature = "postgres")]
            {
                return Store::open_postgres(location, None);
            }
            #[cfg(not(feature = "postgres"))]
            {
                return Err(HubError::PostgresNotBuilt(location.to_string()));
            }
        }
        if location == ":memory:" {
            return Store::in_memory();
        }
        let path = std::path::Path::new(location);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let conn = rusqlite::Connection::open(path)?;
        identify(&conn, location)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Store::from_sqlite(conn)
    }

    /// Opens an existing hub for reading only: nothing is created, migrated or switched (no
    /// journal mode change, no application id). Fails when the hub's schema is older than this
    /// program's (open it once with [`Store::open`] to upgrade it) and, for SQLite, when the
    /// database is not a hub or the file does not exist.
    pub fn open_read_only(location: &str) -> Result<Store> {
        let mut store = if is_postgres_location(location) {
            #[cfg(feature = "postgres")]
            {
                Store {
                    backend: Backend::Postgres(Box::new(postgres::Client::connect(
                        location,
                        postgres::NoTls,
                    )?)),
                }
            }
            #[cfg(not(feature = "postgres"))]
            {
                return Err(HubError::PostgresNotBuilt(location.to_string()));
            }
        } else if location == ":memory:" {
            return Store::in_memory();
        } else {
            use rusqlite::OpenFlags;
            let conn = rusqlite::Connection::open_with_flags(
                location,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            identify(&conn, location)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            Store {
                backend: Backend::Sqlite(conn),
            }
        };
        let applied = store.schema_versions().unwrap_or_default();
        if let Some(m) = MIGRATIONS.iter().find(|m| !applied.contains(&m.version)) {
            return Err(HubError::NeedsUpgrade {
                location: location.to_string(),
                migration: format!("{} ({})", m.version, m.name),
            });
        }
        Ok(store)
    }

    /// A fresh SQLite database in memory (tests, benchmarks).
    pub fn in_memory() -> Result<Store> {
        Store::from_sqlite(rusqlite::Connection::open_in_memory()?)
    }

    fn from_sqlite(conn: rusqlite::Connection) -> Result<Store> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mut store = Store {
            backend: Backend::Sqlite(conn),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Connects to PostgreSQL with a libpq-style connection string or URL, optionally inside
    /// `schema` (created when missing; lets several hubs or test runs share one database).
    #[cfg(feature = "postgres")]
    pub fn open_postgres(conn: &str, schema: Option<&str>) -> Result<Store> {
        let mut client = postgres::Client::connect(conn, postgres::NoTls)?;
        client.batch_execute("SET client_min_messages TO WARNING")?;
        if let Some(schema) = schema {
            if schema.is_empty()
                || !schema
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(HubError::invalid(
                    "schema",
                    "use letters, digits and '_' only",
                ));
            }
            client.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
            ))?;
        }
        let mut store = Store {
            backend: Backend::Postgres(Box::new(client)),
        };
        store.migrate()?;
        Ok(store)
    }

    /// Drops `schema` and everything in it (tests and resets of a PostgreSQL-backed hub).
    #[cfg(feature = "postgres")]
    pub fn drop_postgres_schema(conn: &str, schema: &str) -> Result<()> {
        if schema.is_empty()
            || !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(HubError::invalid(
                "schema",
                "use letters, digits and '_' only",
            ));
        }
        let mut client = postgres::Client::connect(conn, postgres::NoTls)?;
        client.batch_execute(&format!(
            "SET client_min_messages TO WARNING; DROP SCHEMA IF EXISTS {schema} CASCADE"
        ))?;
        Ok(())
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => "postgres",
        }
    }

    /// The schema versions applied so far, in order.
    pub fn schema_versions(&mut self) -> Result<Vec<i64>> {
        self.query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )?
        .iter()
        .map(|r| r.int(0))
        .collect()
    }

    fn migrate(&mut self) -> Result<()> {
        match &self.backend {
            // Marks the database as a hub: new ones, and older hubs made before the id.
            Backend::Sqlite(c) => c.pragma_update(None, "application_id", APPLICATION_ID)?,
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => {}
        }
        self.batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (\
               version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        )?;
        let applied = self.schema_versions()?;
        for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
            let sql = match self.backend {
                Backend::Sqlite(_) => m.sqlite,
                #[cfg(feature = "postgres")]
                Backend::Postgres(_) => m.postgres,
            };
            self.transaction(|s| {
                s.batch(sql)?;
                s.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    &[
                        Value::Int(m.version),
                        m.name.into(),
                        crate::now_rfc3339().into(),
                    ],
                )?;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Runs several `;`-separated statements without parameters.
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        match &mut self.backend {
            Backend::Sqlite(c) => c.execute_batch(sql)?,
            #[cfg(feature = "postgres")]
            Backend::Postgres(c) => c.batch_execute(sql)?,
        }
        Ok(())
    }

    /// Runs `f` inside a transaction: committed when it returns `Ok`, rolled back otherwise.
    /// SQLite takes the write lock at once (`BEGIN IMMEDIATE`), so a writer that finds another
    /// one busy waits for it (busy timeout) instead of failing when it first writes.
    pub(crate) fn transaction<T>(&mut self, f: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        self.batch(match self.backend {
            Backend::Sqlite(_) => "BEGIN IMMEDIATE",
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => "BEGIN",
        })?;
        match f(self) {
            Ok(v) => {
                self.batch("COMMIT")?;
                Ok(v)
            }
            Err(e) => {
                // The rollback error, if any, is less useful than the original one.
                let _ = self.batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Executes one statement; returns the number of rows changed.
    pub(crate) fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        match &mut self.backend {
            Backend::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(c) => {
                let sql = pg::placeholders(sql);
                let refs = pg::refs(params);
                Ok(c.execute(sql.as_str(), &refs)?)
            }
        }
    }

    /// Runs a query and returns all rows.
    pub(crate) fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match &mut self.backend {
            Backend::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let ncols = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next()? {
                    let mut r = Vec::with_capacity(ncols);
                    for i in 0..ncols {
                        use rusqlite::types::ValueRef;
                        r.push(match row.get_ref(i)? {
                            ValueRef::Null => Value::Null,
                            ValueRef::Integer(n) => Value::Int(n),
                            ValueRef::Real(f) => Value::Real(f),
                            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into()),
                            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                        });
                    }
                    out.push(r);
                }
                Ok(out)
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(c) => {
                let sql = pg::placeholders(sql);
                let refs = pg::refs(params);
                c.query(sql.as_str(), &refs)?.iter().map(pg::row).collect()
            }
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

#[cfg(feature = "postgres")]
mod pg {
    use super::{Row, Value};
    use crate::error::{HubError, Result};
    use postgres::types::{IsNull, ToSql, Type};

    impl ToSql for Value {
        fn to_sql(
            &self,
            ty: &Type,
            out: &mut bytes::BytesMut,
        ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
            match self {
                Value::Null => Ok(IsNull::Yes),
                Value::Int(i) => i.to_sql(ty, out),
                Value::Real(f) => f.to_sql(ty, out),
                Value::Text(s) => s.to_sql(ty, out),
                Value::Blob(b) => b.to_sql(ty, out),
            }
        }

        fn accepts(_ty: &Type) -> bool {
            true
        }

        postgres::types::to_sql_checked!();
    }

    /// Rewrites `?` placeholders (outside quoted strings) to `$1`, `$2`, ….
    pub(super) fn placeholders(sql: &str) -> String {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        let mut in_str = false;
        for c in sql.chars() {
            match c {
                '\'' => {
                    in_str = !in_str;
                    out.push(c);
                }
                '?' if !in_str => {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                }
                _ => out.push(c),
            }
        }
        out
    }

    pub(super) fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
        params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
    }

    pub(super) fn row(r: &postgres::Row) -> Result<Row> {
        let mut out = Vec::with_capacity(r.len());
        for (i, col) in r.columns().iter().enumerate() {
            let ty = col.type_();
            let v = if *ty == Type::INT8 {
                r.try_get::<_, Option<i64>>(i)?.map(Value::Int)
            } else if *ty == Type::INT4 {
                r.try_get::<_, Option<i32>>(i)?
                    .map(|v| Value::Int(v.into()))
            } else if *ty == Type::INT2 {
                r.try_get::<_, Option<i16>>(i)?
                    .map(|v| Value::Int(v.into()))
            } else if *ty == Type::FLOAT8 {
                r.try_get::<_, Option<f64>>(i)?.map(Value::Real)
            } else if *ty == Type::FLOAT4 {
                r.try_get::<_, Option<f32>>(i)?
                    .map(|v| Value::Real(v.into()))
            } else if *ty == Type::BOOL {
                r.try_get::<_, Option<bool>>(i)?
                    .map(|v| Value::Int(v.into()))
            } else if *ty == Type::BYTEA {
                r.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob)
            } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(ty) {
                r.try_get::<_, Option<String>>(i)?.map(Value::Text)
            } else {
                return Err(HubError::Corrupt(format!(
                    "column {} has unsupported type {ty}",
                    col.name()
                )));
            };
            out.push(v.unwrap_or(Value::Null));
        }
        Ok(out)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn rewrites_placeholders() {
            assert_eq!(
                super::placeholders("SELECT '?' , ? , ?"),
                "SELECT '?' , $1 , $2"
            );
        }
    }
}
