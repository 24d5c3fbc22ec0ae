//! Scheduled tasks (`/v1/schedule/task*`). Bounds are those of Huawei's
//! OpenAPI definition of `CreateScheduledTask` (ScheduledTaskRequestBody,
//! TriggerTime, ScheduleInstance), except where noted.

use super::{chars, items, range, Chars, Items, Range};

/// The definition's pattern allows 3 to 100 of letters, digits, `_`, `-` and CJK ideographs.
pub const TASK_NAME: Chars = chars(3, 100);
pub const TASK_VERSION_NO: Chars = chars(1, 32);
pub const TASK_ASSOCIATED_ID: Chars = chars(1, 256);
pub const TASK_ASSOCIATED_NAME: Chars = chars(0, 256);
pub const TASK_TIME_ZONE: Chars = chars(1, 128);
pub const TASK_CRON: Chars = chars(1, 256);
pub const TASK_PERIOD: Chars = chars(1, 256);
pub const TASK_PERIODIC_TIME: Chars = chars(1, 128);
pub const TASK_TIMESTAMP: Range = range(0, 9_000_000_000_000_000);
pub const TASK_REVIEWER_NAME: Chars = chars(0, 3200);
pub const TASK_ENTERPRISE_PROJECT: Chars = chars(1, 128);
pub const TASK_AGENCY: Chars = chars(1, 128);
/// Each entry of `target_instances` is one batch of a run, so the ticket's
/// batch rule applies (the definition allows 1,000 entries).
pub const TASK_BATCHES: Items = items(1, 20);
pub const TASK_BATCH_INSTANCES: Chars = chars(1, 100_000);
/// `input_param` entries: `timeout`, `success_rate`, `execute_user`, `script_params`, `confirm_high_risk`.
pub const TASK_INPUT_PARAMS: Items = items(1, 5);
pub const TASK_INPUT_VALUE: Chars = chars(0, 100_000);
pub const TASK_TICKET_INFOS: Items = items(0, 1000);
/// A cron expression must not fire more often than this: a task's runs are
/// tickets, and a sweep runs once a minute on AWS.
pub const TASK_MIN_INTERVAL_MS: i64 = 60_000;

// The lists: ListScheduledTask and ListScheduledTaskHistory.
pub const TASKS_PAGE: Range = range(1, 100);
pub const TASKS_PAGE_DEFAULT: usize = 10;
pub const TASKS_OFFSET: Range = range(0, 10_000);
pub const TASKS_MARKER: Chars = chars(1, 512);
pub const TASKS_FILTER_TEXT: Chars = chars(1, 256);

/// How many due tasks one sweep reads at a time (its reads past the last due
/// one are at most this many minus one).
pub const SWEEP_PAGE: usize = 20;
/// Missed due times counted for a catch-up's history message, at most.
pub const SWEEP_MISSED_COUNT: usize = 1_000;
pub const TASK_ID: Chars = chars(1, 64);
