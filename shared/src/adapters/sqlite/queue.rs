use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection};
use tokio::sync::Notify;

use super::SqliteDb;
use crate::clock::now_ms;
use crate::ports::{Queue, QueueError, ReceivedMessage, MAX_DELAY};

/// How often a waiting `receive` looks for new messages.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A named queue inside the database file. Like SQS: at-least-once delivery,
/// per-message delays, and a visibility timeout after which an unacknowledged
/// message is handed out again.
pub struct SqliteQueue {
    db: SqliteDb,
    name: String,
    visibility_timeout: Duration,
    /// Wakes receivers in this process when a message is sent from it; other
    /// processes sharing the file are found by polling.
    sent: Arc<Notify>,
}

impl SqliteQueue {
    pub fn new(db: SqliteDb, name: impl Into<String>, visibility_timeout: Duration) -> Self {
        SqliteQueue { db, name: name.into(), visibility_timeout, sent: Arc::default() }
    }

    /// Claims up to `max` visible messages. A read connection looks first, so
    /// an empty queue costs no write transaction (and no writer time); a claim
    /// is one write request, like any other.
    async fn receive_visible(&self, max: usize) -> Result<Vec<ReceivedMessage>, QueueError> {
        let name = self.name.clone();
        let any_due =
            self.db.readers.run(move |conn| any_due(conn, &name, now_ms())).await.map_err(QueueError::Backend)?;
        if !any_due {
            return Ok(Vec::new());
        }
        let name = self.name.clone();
        let hidden_for = self.visibility_timeout.as_millis() as i64;
        self.db
            .writer
            .run(name.len(), move |conn| claim(conn, &name, max, hidden_for).map(Ok::<_, QueueError>))
            .await
            .map_err(QueueError::Backend)?
    }
}

fn any_due(conn: &Connection, queue: &str, now: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM queue_messages WHERE queue = ?1 AND visible_at_ms <= ?2)")?
        .query_row(params![queue, now], |row| row.get(0))
}

/// The SQL of one claim, run by the writer: hides the due messages for the
/// visibility timeout and gives each a fresh receipt.
fn claim(conn: &Connection, queue: &str, max: usize, hidden_for: i64) -> rusqlite::Result<Vec<ReceivedMessage>> {
    let now = now_ms();
    let due: Vec<(i64, String, i64)> = {
        let mut stmt = conn.prepare_cached(
            "SELECT id, body, receive_count FROM queue_messages
             WHERE queue = ?1 AND visible_at_ms <= ?2 ORDER BY visible_at_ms, id LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![queue, now, max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut received = Vec::with_capacity(due.len());
    let mut hide = conn.prepare_cached(
        "UPDATE queue_messages SET visible_at_ms = ?1, receive_count = ?2, receipt = ?3 WHERE id = ?4",
    )?;
    for (id, body, count) in due {
        let receipt = format!("{id}:{}", uuid::Uuid::new_v4().simple());
        hide.execute(params![now + hidden_for, count + 1, receipt, id])?;
        received.push(ReceivedMessage { id: id.to_string(), body, receipt, receive_count: (count + 1) as u32 });
    }
    Ok(received)
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        if delay > MAX_DELAY {
            return Err(QueueError::Invalid(format!("delay {delay:?} is over {MAX_DELAY:?}")));
        }
        let (name, body) = (self.name.clone(), body.to_owned());
        let visible_at = now_ms() + delay.as_millis() as i64;
        let bytes = name.len() + body.len();
        let sent = self.db.writer.run(bytes, move |conn| {
            conn.prepare_cached("INSERT INTO queue_messages (queue, body, visible_at_ms) VALUES (?1, ?2, ?3)")?
                .execute(params![name, body, visible_at])
                .map(|_| Ok::<_, QueueError>(()))
        });
        sent.await.map_err(QueueError::Backend)??;
        if delay.is_zero() {
            self.sent.notify_waiters();
        }
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        if !(1..=10).contains(&max) {
            return Err(QueueError::Invalid(format!("max must be 1 to 10, got {max}")));
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a message sent while we look wakes us
            // (else it would wait for the next poll interval).
            let sent = self.sent.notified();
            tokio::pin!(sent);
            sent.as_mut().enable();
            let received = self.receive_visible(max).await?;
            if !received.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(received);
            }
            tokio::select! {
                _ = sent => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
        }
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        let (name, receipt) = (self.name.clone(), receipt.to_owned());
        let bytes = name.len() + receipt.len();
        let deleted = self.db.writer.run(bytes, move |conn| {
            conn.prepare_cached("DELETE FROM queue_messages WHERE queue = ?1 AND receipt = ?2")?
                .execute(params![name, receipt])
                .map(|_| Ok::<_, QueueError>(()))
        });
        deleted.await.map_err(QueueError::Backend)?
    }
}
