//! Read connections. In WAL mode a reader sees the last committed transaction
//! and takes no lock a writer waits for, nor waits for one: reads go on while
//! this process's writer (or another process) holds the write lock.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

/// Idle read connections kept open; more are opened while more reads run at once.
const MAX_IDLE: usize = 8;

#[derive(Clone)]
pub(super) struct Readers {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    pub(super) fn new(path: PathBuf, first: Connection) -> Self {
        Readers { inner: Arc::new(Inner { path, idle: Mutex::new(vec![first]) }) }
    }

    /// Runs a short read (one item, a bounded page) on a read connection,
    /// directly on the calling thread. Measured (debug build) on this machine (2
    /// cores, one `get` of a cached page, 20,000 of them on a 2-worker
    /// runtime): inline 9–11k gets/s from 1 client and 8–10k from 64;
    /// `spawn_blocking` 2.0–2.4k from 1 client (the hand-off to a pool thread
    /// and back dominates a read of a few microseconds) and 8–9k from 64;
    /// `block_in_place` 7–9k and 8–10k, and it panics on a current-thread
    /// runtime. A dedicated reader thread fed by a channel has the same two
    /// thread wake-ups as `spawn_blocking`. So inline: a short read holds the
    /// runtime thread for less time than handing it off would take.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.inner.with(work)
    }

    /// Runs a read that may be long (an unbounded range) off the runtime threads.
    pub(super) async fn run_long<T, F>(&self, work: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.with(work))
            .await
            .map_err(|e| format!("sqlite read task failed: {e}"))?
    }
}

impl Inner {
    fn with<T>(&self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, String> {
        let taken = self.idle.lock().map_err(|_| "sqlite reader pool poisoned".to_string())?.pop();
        let conn = match taken {
            Some(conn) => conn,
            None => super::connect_reader(&self.path).map_err(|e| e.to_string())?,
        };
        let result = work(&conn).map_err(|e| e.to_string());
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
        result
    }
}
