//! When a scheduled task is due: the SDK's `TriggerTime` (policy ONCE,
//! PERIODIC or CRON, in an IANA time zone, until an optional close time),
//! turned into the next due time after a given instant.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::limits;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Policy {
    /// Once, at `single_scheduled_time`.
    Once,
    /// On the weekdays of `period` ("1" is Sunday … "7" Saturday) at
    /// `periodic_scheduled_time` ("HH:MM:SS") in the time zone.
    Periodic,
    /// On a Quartz cron expression (`sec min hour day month weekday [year]`;
    /// a five-field Unix expression is read with second 0).
    Cron,
}

/// The SDK's TriggerTime, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerTime {
    pub time_zone: String,
    pub policy: Policy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_scheduled_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periodic_scheduled_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// No run is due after this time (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_close_time: Option<i64>,
    /// Ours, beside the SDK's fields: no run is due before this time (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_start_time: Option<i64>,
}

/// A checked trigger: its time zone and, for the repeating policies, its schedule.
#[derive(Debug, Clone)]
pub struct Timing {
    zone: Tz,
    kind: Kind,
    start: Option<i64>,
    close: Option<i64>,
}

#[derive(Debug, Clone)]
enum Kind {
    Once(i64),
    Repeating(Box<cron::Schedule>),
}

type Refusal = (String, String);

fn refuse(field: &str, problem: impl Into<String>) -> Refusal {
    (format!("trigger_time.{field}"), problem.into())
}

fn text<'a>(value: &'a Option<String>, field: &str, bounds: limits::Chars) -> Result<&'a str, Refusal> {
    let value = value.as_deref().ok_or_else(|| refuse(field, "is required by this policy"))?;
    bounds.check(value).map_err(|e| refuse(field, e))?;
    Ok(value)
}

fn timestamp(value: Option<i64>, field: &str) -> Result<Option<i64>, Refusal> {
    value.map(|ms| limits::TASK_TIMESTAMP.check(ms).map(|()| ms).map_err(|e| refuse(field, e))).transpose()
}

/// `"HH:MM:SS"` (or `"HH:MM"`) → (hour, minute, second).
fn time_of_day(text: &str) -> Option<(u32, u32, u32)> {
    let parts: Vec<&str> = text.split(':').collect();
    let number = |s: &str, max: u32| s.parse::<u32>().ok().filter(|n| *n <= max && s.len() == 2);
    match parts.as_slice() {
        [h, m] => Some((number(h, 23)?, number(m, 59)?, 0)),
        [h, m, s] => Some((number(h, 23)?, number(m, 59)?, number(s, 59)?)),
        _ => None,
    }
}

/// `"1,2,7"` → the weekdays in cron's numbering, which is the SDK's (1 = Sunday).
fn weekdays(text: &str) -> Option<String> {
    let mut days: Vec<u32> = Vec::new();
    for part in text.split(',') {
        let day: u32 = part.trim().parse().ok().filter(|d| (1..=7).contains(d))?;
        if !days.contains(&day) {
            days.push(day);
        }
    }
    days.sort_unstable();
    Some(days.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
}

fn cron_schedule(expression: &str) -> Result<cron::Schedule, String> {
    let fields = expression.split_whitespace().count();
    let quartz = if fields == 5 { format!("0 {expression}") } else { expression.to_owned() };
    cron::Schedule::from_str(&quartz).map_err(|e| format!("is not a cron expression this service reads: {e}"))
}

impl TriggerTime {
    /// Checks the trigger; the error names the field under `trigger_time`.
    pub fn check(&self) -> Result<Timing, Refusal> {
        limits::TASK_TIME_ZONE.check(&self.time_zone).map_err(|e| refuse("time_zone", e))?;
        let zone = Tz::from_str(&self.time_zone)
            .map_err(|_| refuse("time_zone", format!("{:?} is not an IANA time zone", self.time_zone)))?;
        let start = timestamp(self.scheduled_start_time, "scheduled_start_time")?;
        let close = timestamp(self.scheduled_close_time, "scheduled_close_time")?;
        if let (Some(start), Some(close)) = (start, close) {
            if close <= start {
                return Err(refuse("scheduled_close_time", "must be after scheduled_start_time"));
            }
        }
        let kind = match self.policy {
            Policy::Once => {
                let at = timestamp(self.single_scheduled_time, "single_scheduled_time")?
                    .ok_or_else(|| refuse("single_scheduled_time", "is required by policy ONCE"))?;
                Kind::Once(at)
            }
            Policy::Periodic => {
                let at = text(&self.periodic_scheduled_time, "periodic_scheduled_time", limits::TASK_PERIODIC_TIME)?;
                let (h, m, s) = time_of_day(at)
                    .ok_or_else(|| refuse("periodic_scheduled_time", format!("must be HH:MM:SS, got {at:?}")))?;
                let period = text(&self.period, "period", limits::TASK_PERIOD)?;
                let days = weekdays(period).ok_or_else(|| {
                    refuse(
                        "period",
                        format!("must list weekdays 1 (Sunday) to 7 (Saturday), comma-separated, got {period:?}"),
                    )
                })?;
                let schedule = cron_schedule(&format!("{s} {m} {h} ? * {days}")).map_err(|e| refuse("period", e))?;
                Kind::Repeating(Box::new(schedule))
            }
            Policy::Cron => {
                let expression = text(&self.cron, "cron", limits::TASK_CRON)?;
                let schedule = cron_schedule(expression).map_err(|e| refuse("cron", e))?;
                let timing =
                    Timing { zone, kind: Kind::Repeating(Box::new(schedule.clone())), start: None, close: None };
                timing.check_interval().map_err(|e| refuse("cron", e))?;
                Kind::Repeating(Box::new(schedule))
            }
        };
        Ok(Timing { zone, kind, start, close })
    }
}

fn utc(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

impl Timing {
    /// The first due time strictly after `after_ms` within the start and close
    /// times; `None` when the trigger has no more.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let after_ms = match self.start {
            // Due at the start itself counts: look from just before it.
            Some(start) if start > after_ms => start - 1,
            _ => after_ms,
        };
        let next = match &self.kind {
            Kind::Once(at) => Some(*at).filter(|at| *at > after_ms),
            Kind::Repeating(schedule) => {
                let from = utc(after_ms).with_timezone(&self.zone);
                schedule.after(&from).next().map(|t| t.timestamp_millis())
            }
        }?;
        match self.close {
            Some(close) if next > close => None,
            _ => Some(next),
        }
    }

    /// How many due times fall strictly between `from_ms` and `until_ms`, at
    /// most `cap` (for a catch-up's account of what it skipped).
    pub fn count_between(&self, from_ms: i64, until_ms: i64, cap: usize) -> usize {
        let mut count = 0;
        let mut at = from_ms;
        while count < cap {
            match self.next_after(at) {
                Some(next) if next < until_ms => {
                    count += 1;
                    at = next;
                }
                _ => break,
            }
        }
        count
    }

    /// A repeating schedule fires at most once a minute (checked over its next
    /// occurrences from now: enough for any expression whose seconds or minutes
    /// field repeats, which is what a too-frequent one does).
    fn check_interval(&self) -> Result<(), String> {
        let Kind::Repeating(schedule) = &self.kind else {
            return Ok(());
        };
        let times: Vec<i64> = schedule.upcoming(self.zone).take(8).map(|t| t.timestamp_millis()).collect();
        if times.is_empty() {
            return Err("never fires".to_owned());
        }
        if times.windows(2).any(|pair| pair[1] - pair[0] < limits::TASK_MIN_INTERVAL_MS) {
            return Err(format!("fires more often than once every {} seconds", limits::TASK_MIN_INTERVAL_MS / 1000));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigger(json: serde_json::Value) -> TriggerTime {
        serde_json::from_value(json).unwrap()
    }

    fn ms(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
    }

    #[test]
    fn cron_runs_in_the_task_time_zone() {
        // 02:30 every day in Shanghai (UTC+8) is 18:30 UTC the day before.
        let t = trigger(serde_json::json!({"time_zone": "Asia/Shanghai", "policy": "CRON", "cron": "0 30 2 * * ?"}));
        let timing = t.check().unwrap();
        assert_eq!(timing.next_after(ms("2026-12-01T00:00:00Z")), Some(ms("2026-12-01T18:30:00Z")));
        assert_eq!(timing.next_after(ms("2026-12-01T18:30:00Z")), Some(ms("2026-12-02T18:30:00Z")));
        // Five fields read as Unix cron with second 0.
        let unix = trigger(serde_json::json!({"time_zone": "UTC", "policy": "CRON", "cron": "15 10 * * *"}));
        assert_eq!(unix.check().unwrap().next_after(ms("2026-12-01T10:15:00Z")), Some(ms("2026-12-02T10:15:00Z")));
    }

    #[test]
    fn cron_follows_daylight_saving_time() {
        // 03:00 in Berlin is 02:00 UTC in winter, 01:00 UTC in summer.
        let t = trigger(serde_json::json!({"time_zone": "Europe/Berlin", "policy": "CRON", "cron": "0 0 3 * * ?"}));
        let timing = t.check().unwrap();
        assert_eq!(timing.next_after(ms("2026-03-28T12:00:00Z")), Some(ms("2026-03-29T01:00:00Z")));
        assert_eq!(timing.next_after(ms("2026-01-10T12:00:00Z")), Some(ms("2026-01-11T02:00:00Z")));
    }

    #[test]
    fn periodic_runs_on_the_weekdays_listed_with_sunday_as_one() {
        let t = trigger(serde_json::json!({"time_zone": "UTC", "policy": "PERIODIC",
            "periodic_scheduled_time": "06:00:00", "period": "1,7"}));
        let timing = t.check().unwrap();
        // 2026-12-02 is a Wednesday: next is Saturday the 5th, then Sunday the 6th.
        let sat = timing.next_after(ms("2026-12-02T00:00:00Z")).unwrap();
        assert_eq!(sat, ms("2026-12-05T06:00:00Z"));
        assert_eq!(timing.next_after(sat), Some(ms("2026-12-06T06:00:00Z")));
    }

    #[test]
    fn once_is_due_once_and_close_and_start_bound_repeating_ones() {
        let at = ms("2026-12-03T09:00:00Z");
        let once = trigger(serde_json::json!({"time_zone": "UTC", "policy": "ONCE", "single_scheduled_time": at}));
        let timing = once.check().unwrap();
        assert_eq!(timing.next_after(at - 1), Some(at));
        assert_eq!(timing.next_after(at), None);
        let bounded = trigger(serde_json::json!({"time_zone": "UTC", "policy": "CRON", "cron": "0 0 * * * ?",
            "scheduled_start_time": ms("2026-12-03T10:00:00Z"), "scheduled_close_time": ms("2026-12-03T12:00:00Z")}));
        let timing = bounded.check().unwrap();
        assert_eq!(timing.next_after(ms("2026-12-01T00:00:00Z")), Some(ms("2026-12-03T10:00:00Z")));
        assert_eq!(timing.next_after(ms("2026-12-03T11:00:00Z")), Some(ms("2026-12-03T12:00:00Z")));
        assert_eq!(timing.next_after(ms("2026-12-03T12:00:00Z")), None);
        assert_eq!(timing.count_between(ms("2026-12-03T09:00:00Z"), ms("2026-12-03T12:00:00Z"), 10), 2);
    }

    #[test]
    fn bad_triggers_name_their_field() {
        let field = |json: serde_json::Value| trigger(json).check().unwrap_err().0;
        assert_eq!(
            field(serde_json::json!({"time_zone": "Mars/Base", "policy": "CRON", "cron": "0 0 * * * ?"})),
            "trigger_time.time_zone"
        );
        assert_eq!(
            field(serde_json::json!({"time_zone": "UTC", "policy": "CRON", "cron": "every day"})),
            "trigger_time.cron"
        );
        assert_eq!(
            field(serde_json::json!({"time_zone": "UTC", "policy": "CRON", "cron": "*/10 * * * * ?"})),
            "trigger_time.cron"
        );
        assert_eq!(field(serde_json::json!({"time_zone": "UTC", "policy": "CRON"})), "trigger_time.cron");
        assert_eq!(
            field(serde_json::json!({"time_zone": "UTC", "policy": "ONCE"})),
            "trigger_time.single_scheduled_time"
        );
        assert_eq!(
            field(serde_json::json!({"time_zone": "UTC", "policy": "PERIODIC",
            "periodic_scheduled_time": "25:00:00", "period": "1"})),
            "trigger_time.periodic_scheduled_time"
        );
        assert_eq!(
            field(serde_json::json!({"time_zone": "UTC", "policy": "PERIODIC",
            "periodic_scheduled_time": "01:00:00", "period": "0,8"})),
            "trigger_time.period"
        );
        assert_eq!(
            field(serde_json::json!({"time_zone": "UTC", "policy": "CRON", "cron": "0 0 * * * ?",
            "scheduled_start_time": 10, "scheduled_close_time": 5})),
            "trigger_time.scheduled_close_time"
        );
    }
}
