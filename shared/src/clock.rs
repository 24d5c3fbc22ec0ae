//! Wall-clock time as the API shows it: milliseconds since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// ISO 8601 / RFC 3339 text (UTC, whole seconds) for a time in ms since the epoch.
pub fn iso8601(ms: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The time as a handler sees it: the system clock, or in tests a manual one
/// that moves only when told, so that expiry rules (a confirmation link valid
/// for 48 hours) are tested without sleeping.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: a manual clock at this many ms since the epoch.
    manual: Option<std::sync::Arc<std::sync::atomic::AtomicI64>>,
}

impl Clock {
    pub fn system() -> Self {
        Clock { manual: None }
    }

    /// A clock that stands at `start_ms` until [`Clock::advance`] moves it.
    pub fn manual(start_ms: i64) -> Self {
        Clock { manual: Some(std::sync::Arc::new(std::sync::atomic::AtomicI64::new(start_ms))) }
    }

    pub fn now_ms(&self) -> i64 {
        match &self.manual {
            None => now_ms(),
            Some(at) => at.load(std::sync::atomic::Ordering::SeqCst),
        }
    }

    /// Moves a manual clock on by `ms` (every copy of it moves); the system clock cannot be moved.
    pub fn advance(&self, ms: i64) {
        match &self.manual {
            None => panic!("the system clock cannot be advanced"),
            Some(at) => {
                at.fetch_add(ms, std::sync::atomic::Ordering::SeqCst);
            }
        }
    }
}
