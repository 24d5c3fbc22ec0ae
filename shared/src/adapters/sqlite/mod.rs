//! The embedded, durable default: one SQLite file holds the table and the queue.
//! WAL mode plus `BEGIN IMMEDIATE` transactions make it safe for several
//! processes at once (the local server and `cargo lambda watch` functions can
//! share a data directory).

mod queue;
mod range;
mod store;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

pub use queue::SqliteQueue;
pub use store::SqliteStore;

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
/// Created after the columns exist, which an older file gains in [`add_index_columns`].
const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS items_list ON items (list_pk, list_sk) WHERE list_pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_filter ON items (filter_pk, filter_sk) WHERE filter_pk IS NOT NULL;
";

/// Files made before the secondary indexes existed get their columns. Their
/// items are not in the indexes until they are written again.
fn add_index_columns(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('items')")?;
    let columns: Vec<String> = stmt.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
    for column in ["list_pk", "list_sk", "filter_pk", "filter_sk"] {
        if !columns.iter().any(|c| c == column) {
            conn.execute_batch(&format!("ALTER TABLE items ADD COLUMN {column} TEXT"))?;
        }
    }
    conn.execute_batch(INDEXES)
}

/// A connection to the database file, shared by the store and queue adapters.
#[derive(Clone)]
pub struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteDb {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open_dir(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))?;
        Self::open(&dir.join(DB_FILE))
    }

    pub fn open(path: &Path) -> Result<Self, String> {
        let open = || -> rusqlite::Result<Connection> {
            let conn = Connection::open(path)?;
            // Another process may hold the write lock for a moment; wait for it
            // rather than failing the request.
            conn.busy_timeout(Duration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            // FULL: a commit that returned survives power loss, not only a crash.
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.execute_batch(SCHEMA)?;
            add_index_columns(&conn)?;
            Ok(conn)
        };
        let conn = open().map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Ok(SqliteDb { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs blocking SQLite work off the async runtime.
    async fn run<T, F>(&self, work: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| "sqlite connection lock poisoned".to_string())?;
            work(&mut guard).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("sqlite task failed: {e}"))?
    }
}
