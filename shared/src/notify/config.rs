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
pub const SWEEP_GRACE_VAR: &str = "COC_NOTIFY_SWEEP_GRACE_MS";

/// The shortest sweep grace: below it the sweep would re-queue deliveries
/// whose delayed message is merely on time (SQS delays are whole seconds, and
/// the consumer tolerates 2 s early), doubling every message's reads.
pub const SWEEP_GRACE_MIN_MS: u64 = 5_000;
/// The longest: a day. A lost message waits at most this long to be re-sent.
pub const SWEEP_GRACE_MAX_MS: u64 = 86_400_000;

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
    /// The defaults, with `COC_NOTIFY_BACKOFF_MS`, `COC_NOTIFY_BACKOFF_CAP_MS`,
    /// `COC_NOTIFY_MAX_ATTEMPTS` and `COC_NOTIFY_SWEEP_GRACE_MS` where set;
    /// an error naming the variable for a value out of its range.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// As `from_env`, with the variables `var` gives.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let number = |name: &str, min: u64, max: u64| -> Result<Option<u64>, String> {
            match var(name).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(text) => match text.parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                    _ => Err(format!("{name}: not a whole number from {min} to {max}: {text}")),
                },
            }
        };
        let defaults = DeliveryConfig::default();
        let cap_ms = MAX_DELAY.as_millis() as u64;
        let millis = |name: &str, min: u64, max: u64, default: Duration| -> Result<Duration, String> {
            Ok(number(name, min, max)?.map(Duration::from_millis).unwrap_or(default))
        };
        let backoff_base = millis(BACKOFF_VAR, 1, cap_ms, defaults.backoff_base)?;
        let backoff_cap = millis(BACKOFF_CAP_VAR, 1, cap_ms, defaults.backoff_cap)?;
        let max_attempts = number(MAX_ATTEMPTS_VAR, 1, 20)?.map(|n| n as u32).unwrap_or(defaults.max_attempts);
        let sweep_grace = millis(SWEEP_GRACE_VAR, SWEEP_GRACE_MIN_MS, SWEEP_GRACE_MAX_MS, defaults.sweep_grace)?;
        Ok(DeliveryConfig {
            backoff_base,
            backoff_cap: backoff_cap.max(backoff_base),
            max_attempts,
            sweep_grace,
            ..defaults
        })
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

    fn with(vars: &[(&str, &str)]) -> Result<DeliveryConfig, String> {
        let vars: std::collections::HashMap<String, String> =
            vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        DeliveryConfig::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_sweep_grace_comes_from_its_variable() {
        assert_eq!(with(&[]).unwrap().sweep_grace, Duration::from_secs(120));
        assert_eq!(with(&[(SWEEP_GRACE_VAR, "")]).unwrap().sweep_grace, Duration::from_secs(120));
        assert_eq!(with(&[(SWEEP_GRACE_VAR, "5000")]).unwrap().sweep_grace, Duration::from_secs(5));
        assert_eq!(with(&[(SWEEP_GRACE_VAR, "600000")]).unwrap().sweep_grace, Duration::from_secs(600));
        assert_eq!(with(&[(SWEEP_GRACE_VAR, "86400000")]).unwrap().sweep_grace, Duration::from_secs(86_400));
        // The other settings keep their defaults.
        let config = with(&[(SWEEP_GRACE_VAR, "600000")]).unwrap();
        assert_eq!(DeliveryConfig { sweep_grace: Duration::from_secs(120), ..config }, DeliveryConfig::default());
    }

    #[test]
    fn a_sweep_grace_out_of_range_is_refused_naming_the_variable() {
        for bad in ["4999", "0", "-1", "86400001", "2m", "1e4"] {
            let err = with(&[(SWEEP_GRACE_VAR, bad)]).unwrap_err();
            assert!(
                err.starts_with("COC_NOTIFY_SWEEP_GRACE_MS: not a whole number from 5000 to 86400000"),
                "{bad}: {err}"
            );
        }
    }
}
