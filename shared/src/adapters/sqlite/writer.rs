//! The one writer of a process: a thread that owns the write connection and
//! commits the write requests that are waiting together, in one transaction
//! (group commit).
//!
//! Each request runs inside its own SAVEPOINT: a request whose condition fails
//! (or whose SQL errors) is rolled back alone, and the others of its group still
//! commit. Then one COMMIT, which with `synchronous=FULL` in WAL mode is one
//! fsync of the log, and only after it returned is any request of the group
//! answered: no caller hears "done" before its write is durable, and a caller
//! whose condition failed re-reads a state that already holds the winner.
//!
//! The writer never waits to fill a group: it takes what is queued when it
//! starts a transaction, so one request alone is committed at once and a burst
//! is committed in as few fsyncs as its size and the group bounds allow.
//! Callers wait on a oneshot channel, so no async runtime thread blocks.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

/// At most this many requests share one transaction: enough to turn a burst of
/// concurrent requests into a few fsyncs, few enough that the first of them is
/// not kept waiting long behind the others' SQL.
const MAX_GROUP: usize = 64;
/// And at most about this much payload, so a group of large items stays short.
const MAX_GROUP_BYTES: usize = 4 << 20;
/// Requests queued beyond this wait (asynchronously) for room: back-pressure
/// instead of unbounded memory when writes arrive faster than the disk syncs.
const QUEUE_DEPTH: usize = 4 * MAX_GROUP;

/// One queued write: its SQL, then its answer once the group's end is known.
trait Pending: Send {
    /// Runs the request's SQL inside its savepoint; whether its writes stay.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answers the caller, given how the group's transaction ended.
    fn answer(self: Box<Self>, committed: Result<(), String>);
}

struct Request {
    pending: Box<dyn Pending>,
    bytes: usize,
}

/// What the writer thread is sent: a write, or the question whether another
/// connection committed (answered between transactions, on the write
/// connection, whose `data_version` only other connections change; this
/// process's readers never write, so a change means another process).
enum Message {
    Write(Request),
    DataVersion(oneshot::Sender<Result<u64, String>>),
}

/// A request of `work`, answered through `reply`.
struct Job<F, T, E> {
    work: Option<F>,
    /// What `work` decided; `None` while it has not run.
    outcome: Option<Result<Result<T, E>, String>>,
    reply: oneshot::Sender<Result<Result<T, E>, String>>,
}

impl<F, T, E> Pending for Job<F, T, E>
where
    T: Send,
    E: Send,
    F: FnOnce(&Connection) -> rusqlite::Result<Result<T, E>> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else { return false };
        let outcome = match catch_unwind(AssertUnwindSafe(|| work(conn))) {
            Ok(outcome) => outcome.map_err(|e| e.to_string()),
            // Its savepoint is rolled back like any failed request's.
            Err(_) => Err("a write request panicked".to_string()),
        };
        let keep = matches!(outcome, Ok(Ok(_)));
        self.outcome = Some(outcome);
        keep
    }

    fn answer(self: Box<Self>, committed: Result<(), String>) {
        let outcome = self.outcome.unwrap_or_else(|| Err("not run: the write transaction was aborted".into()));
        // A caller that gave up (its request future was dropped) no longer listens.
        let _ = self.reply.send(committed.and(outcome));
    }
}

/// The handle requests are sent through; cheap to clone. The writer thread
/// ends when the last handle is dropped.
#[derive(Clone)]
pub(super) struct Writer {
    requests: mpsc::Sender<Message>,
    commits: Arc<AtomicU64>,
}

impl Writer {
    /// Starts the writer thread on `conn` (already configured: WAL, FULL sync, busy timeout).
    pub(super) fn start(conn: Connection) -> std::io::Result<Self> {
        let (requests, queued) = mpsc::channel(QUEUE_DEPTH);
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        std::thread::Builder::new().name("coc-sqlite-writer".into()).spawn(move || serve(conn, queued, &counter))?;
        Ok(Writer { requests, commits })
    }

    /// Runs `work` in the next group's transaction, inside its own savepoint,
    /// and answers once that transaction committed. `work` returns `Ok(Ok(v))`
    /// to keep its writes and answer `v`, `Ok(Err(e))` to undo them and answer
    /// `e` (a condition did not hold); an SQL error undoes them and is the
    /// answer. `bytes` is about how much the request writes (bounds the group).
    pub(super) async fn run<T, E, F>(&self, bytes: usize, work: F) -> Result<Result<T, E>, String>
    where
        T: Send + 'static,
        E: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<Result<T, E>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let pending = Box::new(Job { work: Some(work), outcome: None, reply });
        self.ask(Message::Write(Request { pending, bytes }), answer).await
    }

    /// The write connection's `PRAGMA data_version`: it changes when, and
    /// only when, another process committed to the file since the last look.
    pub(super) async fn data_version(&self) -> Result<u64, String> {
        let (reply, answer) = oneshot::channel();
        self.ask(Message::DataVersion(reply), answer).await
    }

    /// Sends `message` to the writer thread and waits for its `answer`.
    async fn ask<T>(&self, message: Message, answer: oneshot::Receiver<Result<T, String>>) -> Result<T, String> {
        self.requests.send(message).await.map_err(|_| "the sqlite writer has stopped".to_string())?;
        answer.await.map_err(|_| "the sqlite writer stopped before answering".to_string())?
    }

    /// How many transactions the writer has committed (or tried to): with
    /// group commit, fewer than the requests it answered.
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Requests sent and not yet taken into a group.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.requests.max_capacity() - self.requests.capacity()
    }
}

fn serve(conn: Connection, mut queued: mpsc::Receiver<Message>, commits: &AtomicU64) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut questions = Vec::new();
    while let Some(first) = queued.blocking_recv() {
        let mut bytes = 0;
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Message::Write(request) => {
                    bytes += request.bytes;
                    group.push(request);
                }
                Message::DataVersion(reply) => questions.push(reply),
            }
            if group.len() < MAX_GROUP && bytes < MAX_GROUP_BYTES {
                next = queued.try_recv().ok();
            }
        }
        if !group.is_empty() {
            commit_group(&conn, group.drain(..), commits);
        }
        // Outside any transaction: the value then tells of other connections' commits only.
        for reply in questions.drain(..) {
            let _ = reply.send(data_version(&conn).map_err(|e| e.to_string()));
        }
    }
}

fn data_version(conn: &Connection) -> rusqlite::Result<u64> {
    conn.prepare_cached("PRAGMA data_version")?.query_row([], |row| row.get::<_, i64>(0)).map(|v| v as u64)
}

fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// One transaction for the group; every request answered after its end.
fn commit_group(conn: &Connection, group: impl Iterator<Item = Request>, commits: &AtomicU64) {
    let mut ran: Vec<Box<dyn Pending>> = Vec::with_capacity(MAX_GROUP);
    // IMMEDIATE takes the write lock now (waiting up to the busy timeout for
    // another process), so no statement of the group meets a busy lock later.
    let mut aborted = exec(conn, "BEGIN IMMEDIATE").err().map(|e| format!("cannot start a write transaction: {e}"));
    for Request { mut pending, .. } in group {
        if aborted.is_none() {
            aborted = run_in_savepoint(conn, pending.as_mut()).err();
        }
        // After an abort the rest are not run, only answered.
        ran.push(pending);
    }
    let committed = match aborted {
        None => exec(conn, "COMMIT").map_err(|e| format!("commit failed: {e}")),
        Some(err) => Err(err),
    };
    if committed.is_err() && !conn.is_autocommit() {
        let _ = exec(conn, "ROLLBACK");
    }
    // Counted before anyone hears of it, so a caller always sees its own commit.
    commits.fetch_add(1, Ordering::Relaxed);
    for pending in ran {
        pending.answer(committed.clone());
    }
}

/// Runs one request; `Err` when the transaction cannot go on.
fn run_in_savepoint(conn: &Connection, pending: &mut dyn Pending) -> Result<(), String> {
    let aborted = |e: rusqlite::Error| format!("write transaction aborted: {e}");
    exec(conn, "SAVEPOINT request").map_err(aborted)?;
    if pending.run(conn) {
        exec(conn, "RELEASE request").map_err(aborted)?;
    } else {
        exec(conn, "ROLLBACK TO request").and_then(|()| exec(conn, "RELEASE request")).map_err(aborted)?;
    }
    // Some errors (I/O, disk full) make SQLite roll back the whole
    // transaction itself: then nothing of the group may be reported kept.
    if conn.is_autocommit() {
        return Err("write transaction aborted: sqlite rolled it back".into());
    }
    Ok(())
}
