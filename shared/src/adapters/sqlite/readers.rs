//! Read connections. In WAL mode a reader sees the last committed transaction
//! and takes no lock a writer waits for, nor waits for one: reads go on while
//! this process's writer (or another process) holds the write lock.
//!
//! MEASURE: strategy chosen below.

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

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Inline,
    Blocking,
    InPlace,
}

fn mode() -> Mode {
    static MODE: std::sync::OnceLock<Mode> = std::sync::OnceLock::new();
    *MODE.get_or_init(|| match std::env::var("COC_SQLITE_READS").as_deref() {
        Ok("blocking") => Mode::Blocking,
        Ok("in_place") => Mode::InPlace,
        _ => Mode::Inline,
    })
}

impl Readers {
    pub(super) fn new(path: PathBuf, first: Connection) -> Self {
        Readers { inner: Arc::new(Inner { path, idle: Mutex::new(vec![first]) }) }
    }

    /// Runs a short read on a read connection.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, String>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        match mode() {
            Mode::Inline => self.inner.with(work),
            Mode::InPlace => {
                let flavor = tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor());
                if matches!(flavor, Ok(tokio::runtime::RuntimeFlavor::MultiThread)) {
                    tokio::task::block_in_place(|| self.inner.with(work))
                } else {
                    self.inner.with(work)
                }
            }
            Mode::Blocking => {
                let inner = self.inner.clone();
                tokio::task::spawn_blocking(move || inner.with(work))
                    .await
                    .map_err(|e| format!("sqlite read task failed: {e}"))?
            }
        }
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
