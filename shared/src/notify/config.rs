//! How hard delivery tries: the backoff between attempts, how many attempts,
//! and when an attempt in progress counts as lost.

use std::time::Duration;

use crate::ports::MAX_DELAY;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// The wait before the second attempt; it doubles for each later one.
    pub backoff_base: Duration,
    /// The longest wait (at most the queue's longest delay, 15 minutes on SQS).
    pub backoff_cap: Duration,
    /// Attempts before a delivery is given up as failed.
    pub max_attempts: u32,
    /// A claimed attempt older than this was lost with its consumer (at least
    /// the queue's visibility timeout, and longer than any send may take).
    pub claim_timeout: Duration,
    /// The sweep re-queues a pending delivery this long past its due time:
    /// its message was lost (a duplicate costs nothing, see `deliver`).
    pub sweep_grace: Duration,
}

pub const BACKOFF_VAR: &str = "COC_NOTIFY_BACKOFF_MS";
pub const BACKOFF_CAP_VAR: &str = "COC_NOTIFY_BACKOFF_CAP_MS";
pub const MAX_ATTEMPTS_VAR: &str = "COC_NOTIFY_MAX_ATTEMPTS";

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            backoff_base: Duration::from_secs(30),
            backoff_cap: MAX_DELAY,
            max_attempts: 6,
            claim_timeout: Duration::from_secs(120),
            sweep_grace: Duration::from_secs(120),
        }
    }
}

impl DeliveryConfig {
    /// The defaults, with `COC_NOTIFY_BACKOFF_MS`, `COC_NOTIFY_BACKOFF_CAP_MS`
    /// and `COC_NOTIFY_MAX_ATTEMPTS` where set.
    pub fn from_env() -> Result<Self, String> {
        let number = |name: &str, min: u64, max: u64| -> Result<Option<u64>, String> {
            match std::env::var(name).ok().filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(text) => match text.parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                    _ => Err(format!("{name}: not a whole number from {min} to {max}: {text}")),
                },
            }
        };
        let defaults = DeliveryConfig::default();
        let cap_ms = MAX_DELAY.as_millis() as u64;
        let backoff_base = number(BACKOFF_VAR, 1, cap_ms)?.map(Duration::from_millis).unwrap_or(defaults.backoff_base);
        let backoff_cap =
            number(BACKOFF_CAP_VAR, 1, cap_ms)?.map(Duration::from_millis).unwrap_or(defaults.backoff_cap);
        let max_attempts = number(MAX_ATTEMPTS_VAR, 1, 20)?.map(|n| n as u32).unwrap_or(defaults.max_attempts);
        Ok(DeliveryConfig { backoff_base, backoff_cap: backoff_cap.max(backoff_base), max_attempts, ..defaults })
    }

    /// The wait after attempt `attempts` failed: base, 2 × base, 4 × base … up to the cap.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        self.backoff_base.saturating_mul(1 << doublings).min(self.backoff_cap).min(MAX_DELAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = DeliveryConfig::default();
        let waits: Vec<u64> = (1..=7).map(|n| config.backoff(n).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900]);
    }
}
