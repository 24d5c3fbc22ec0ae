//! The limits of alarm management (`/v1/alarm-mgmt/*`, ours and the SDK's).
//! The reference gives none for these operations; the bounds below keep every
//! request's reads and its one transaction small.

use super::{chars, items, range, Chars, Items, Range};

/// An alarm's public id (`AL` + 30 hex digits), in a path or a list of ids.
pub const ALARM_PUBLIC_ID: Chars = chars(1, 64);
/// The comma-separated `alarm_ids` of a clear: each alarm is its own write.
pub const ALARM_CLEAR_BATCH: Items = items(1, 50);
/// The `alarm_ids` of a transfer: every alarm, its history entry and the
/// incident are one transaction (≤ 25 operations, a notification's included).
pub const ALARM_TRANSFER_BATCH: Items = items(1, 10);
/// The text of `alarm_ids` (50 ids and their commas).
pub const ALARM_IDS_TEXT: Chars = chars(1, 3_300);
/// A clear's `remarks`.
pub const ALARM_REMARKS: Chars = chars(0, 1_000);
/// A page of an alarm's history…
pub const ALARM_HISTORY_PAGE: Range = range(1, 100);
/// … and how many entries it may skip (a skip reads the entries it skips).
pub const ALARM_HISTORY_OFFSET: Range = range(0, 1_000);
/// The tenant-wide list's time range (milliseconds since the epoch).
pub const ALARM_LIST_TIME: Range = range(0, 9_999_999_999_999);
/// The list's text filters (`status`, `importance`, `resource_id`).
pub const ALARM_LIST_FILTER: Chars = chars(1, 255);
/// Auto-process: the script's or job's id and name…
pub const ALARM_TASK_ID: Chars = chars(1, 64);
pub const ALARM_TASK_NAME: Chars = chars(0, 255);
/// … its parameters (`input_param`: name → value)…
pub const ALARM_TASK_PARAMS: Items = items(0, 20);
pub const ALARM_TASK_PARAM_VALUE: Chars = chars(0, 4_096);
/// … the hosts it runs on (`target_instances`).
pub const ALARM_TASK_TARGETS: Items = items(0, 10);
/// Auto-process: the region id and enterprise project of the request.
pub const ALARM_TASK_TEXT: Chars = chars(0, 255);
