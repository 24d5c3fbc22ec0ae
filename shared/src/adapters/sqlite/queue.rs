use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, TransactionBehavior};
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

    async fn receive_visible(&self, max: usize) -> Result<Vec<ReceivedMessage>, QueueError> {
        let name = self.name.clone();
        let hidden_for = self.visibility_timeout.as_millis() as i64;
        self.db
            .run(move |conn| {
                let now = now_ms();
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let due: Vec<(i64, String, i64)> = {
                    let mut stmt = tx.prepare_cached(
                        "SELECT id, body, receive_count FROM queue_messages
                         WHERE queue = ?1 AND visible_at_ms <= ?2 ORDER BY visible_at_ms, id LIMIT ?3",
                    )?;
                    let rows =
                        stmt.query_map(params![name, now, max as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                let mut received = Vec::with_capacity(due.len());
                for (id, body, count) in due {
                    let receipt = format!("{id}:{}", uuid::Uuid::new_v4().simple());
                    tx.execute(
                        "UPDATE queue_messages SET visible_at_ms = ?1, receive_count = ?2, receipt = ?3 WHERE id = ?4",
                        params![now + hidden_for, count + 1, receipt, id],
                    )?;
                    received.push(ReceivedMessage {
                        id: id.to_string(),
                        body,
                        receipt,
                        receive_count: (count + 1) as u32,
                    });
                }
                tx.commit()?;
                Ok(received)
            })
            .await
            .map_err(QueueError::Backend)
    }
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        if delay > MAX_DELAY {
            return Err(QueueError::Invalid(format!("delay {delay:?} is over {MAX_DELAY:?}")));
        }
        let (name, body) = (self.name.clone(), body.to_owned());
        let visible_at = now_ms() + delay.as_millis() as i64;
        self.db
            .run(move |conn| {
                conn.execute(
                    "INSERT INTO queue_messages (queue, body, visible_at_ms) VALUES (?1, ?2, ?3)",
                    params![name, body, visible_at],
                )
                .map(|_| ())
            })
            .await
            .map_err(QueueError::Backend)?;
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
        self.db
            .run(move |conn| {
                conn.execute("DELETE FROM queue_messages WHERE queue = ?1 AND receipt = ?2", params![name, receipt])
                    .map(|_| ())
            })
            .await
            .map_err(QueueError::Backend)
    }
}
