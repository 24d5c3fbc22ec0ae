//! The embedded, durable default: one SQLite file holds the table and the queue.
//! WAL mode plus `BEGIN IMMEDIATE` transactions make it safe for several
//! processes at once (the local server and `cargo lambda watch` functions can
//! share a data directory).
//!
//! Within a process, every write goes through one writer thread that commits
//! concurrent requests together ([`writer`]), and reads run on a pool of read
//! connections that never wait for it ([`readers`]).

mod queue;
mod range;
mod readers;
mod store;
#[cfg(test)]
mod tests;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

use crate::ports::{ForeignWrites, StoreError};

pub use queue::SqliteQueue;
pub use store::SqliteStore;

use readers::Readers;
use writer::Writer;

/// The file name inside the data directory.
pub const DB_FILE: &str = "coc.sqlite3";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    list_pk TEXT,
    list_sk TEXT,
    filter_pk TEXT,
    filter_sk TEXT,
    tally INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    visible_at_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (queue, visible_at_ms);
";

/// The secondary indexes (DynamoDB's GSIs): partial, so unlisted items cost nothing.
/// Created after the columns exist, which an older file gains in [`add_missing_columns`].
const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS items_list ON items (list_pk, list_sk) WHERE list_pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_filter ON items (filter_pk, filter_sk) WHERE filter_pk IS NOT NULL;
";

/// Columns added to `items` after the first files were made, with their types.
const LATER_COLUMNS: [(&str, &str); 5] = [
    ("list_pk", "TEXT"),
    ("list_sk", "TEXT"),
    ("filter_pk", "TEXT"),
    ("filter_sk", "TEXT"),
    ("tally", "INTEGER NOT NULL DEFAULT 0"),
];

/// Files made before some columns existed get them. Their items are not in
/// the indexes until they are written again, and their tallies start at 0.
fn add_missing_columns(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('items')")?;
    let columns: Vec<String> = stmt.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
    for (column, kind) in LATER_COLUMNS {
        if !columns.iter().any(|c| c == column) {
            conn.execute_batch(&format!("ALTER TABLE items ADD COLUMN {column} {kind}"))?;
        }
    }
    conn.execute_batch(INDEXES)
}

/// Another process may hold the write lock for a moment; wait for it rather
/// than failing the request.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Prepared statements kept per connection: every statement the adapters run
/// (range reads come in a few shapes) fits, so none is parsed twice.
const STATEMENT_CACHE: usize = 64;

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// The connection the writer thread owns; it also creates the schema.
fn connect_writer(path: &Path) -> rusqlite::Result<Connection> {
    let conn = connect(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a commit that returned survives power loss, not only a crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute_batch(SCHEMA)?;
    add_missing_columns(&conn)?;
    Ok(conn)
}

fn connect_reader(path: &Path) -> rusqlite::Result<Connection> {
    let conn = connect(path)?;
    // A read connection never writes, even by mistake.
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

/// The database file, shared by the store and queue adapters: its writer and
/// its read connections.
#[derive(Clone)]
pub struct SqliteDb {
    writer: Writer,
    readers: Readers,
}

impl SqliteDb {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open_dir(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))?;
        Self::open(&dir.join(DB_FILE))
    }

    pub fn open(path: &Path) -> Result<Self, String> {
        let failed = |e: &dyn std::fmt::Display| format!("cannot open {}: {e}", path.display());
        let write_conn = connect_writer(path).map_err(|e| failed(&e))?;
        let read_conn = connect_reader(path).map_err(|e| failed(&e))?;
        let writer = Writer::start(write_conn).map_err(|e| failed(&e))?;
        Ok(SqliteDb { writer, readers: Readers::new(PathBuf::from(path), read_conn) })
    }

    /// How many write transactions this process has committed on the file.
    /// With group commit this is at most, and under load far below, the number
    /// of writes: operators and tests read it to see writes being grouped.
    pub fn commits(&self) -> u64 {
        self.writer.commits()
    }
}

/// Another process's commits show as a new `data_version` of this process's
/// write connection (its own commits and its readers leave it as it is).
#[async_trait::async_trait]
impl ForeignWrites for SqliteDb {
    async fn version(&self) -> Result<u64, StoreError> {
        self.writer.data_version().await.map_err(StoreError::Backend)
    }
}
