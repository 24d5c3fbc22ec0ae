//! The local SMS and voice provider: each message is appended as one JSON
//! line to a file the operator reads (`{COC_DATA_DIR}/outbox/sms.jsonl`,
//! `voice.jsonl`), and counts as sent only once the line is on disk (fsync).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use crate::clock::now_ms;
use crate::ports::{Outbound, SendError, Sender};

/// One outbox file, appended to by one writer at a time.
#[derive(Clone)]
pub struct Outbox {
    path: PathBuf,
    lock: Arc<std::sync::Mutex<()>>,
}

impl Outbox {
    /// The outbox of `channel_file` (`sms.jsonl`, `voice.jsonl`) in `data_dir/outbox`.
    pub fn in_data_dir(data_dir: &Path, channel_file: &str) -> Self {
        Outbox { path: data_dir.join("outbox").join(channel_file), lock: Arc::default() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append(&self, line: &str) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        file.write_all(line.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()
    }
}

#[async_trait]
impl Sender for Outbox {
    async fn send(&self, outbound: &Outbound<'_>) -> Result<(), SendError> {
        let line = serde_json::json!({
            "at": crate::clock::iso8601(now_ms()),
            "notification_id": outbound.notification_id,
            "channel": outbound.channel,
            "to": outbound.address,
            "text": outbound.message.as_text(),
        })
        .to_string();
        let outbox = self.clone();
        tokio::task::spawn_blocking(move || outbox.append(&line))
            .await
            .map_err(|e| SendError::transient(format!("outbox writer stopped: {e}")))?
            .map_err(|e| SendError::transient(format!("cannot write {}: {e}", self.path.display())))
    }
}
