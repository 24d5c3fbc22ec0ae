//! Every limit on a request field, in one place. The bounds are the API
//! reference's (`shared/spec/coc-api-reference.txt`, table named per entry),
//! except where a real client needs more (README, "Where we differ from the
//! reference") and for our own endpoints, which the reference does not cover.
//!
//! Validators take their bounds from the constants below; [`TABLE`] lists every
//! constrained field with the operation it belongs to, and its test builds for
//! each entry a request at the limit (accepted) and one past it (rejected with a
//! message naming the field).

use crate::routes::Operation;

mod attachments;
mod schedules;
mod war_rooms;
pub use attachments::*;
pub use schedules::*;
pub use war_rooms::*;
// tags and resources
mod tags;
pub use tags::*;

/// A text length in characters (not bytes), both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chars {
    pub min: usize,
    pub max: usize,
}

/// A whole number, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub min: i64,
    pub max: i64,
}

/// An array length, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Items {
    pub min: usize,
    pub max: usize,
}

const fn chars(min: usize, max: usize) -> Chars {
    Chars { min, max }
}

const fn range(min: i64, max: i64) -> Range {
    Range { min, max }
}

const fn items(min: usize, max: usize) -> Items {
    Items { min, max }
}

impl Chars {
    /// Checks a text; the caller puts the field's name in front of the message.
    pub fn check(self, value: &str) -> Result<(), String> {
        let len = value.chars().count();
        if len < self.min || len > self.max {
            Err(if self.min == 0 {
                format!("must be at most {} characters, got {len}", self.max)
            } else {
                format!("must be {} to {} characters, got {len}", self.min, self.max)
            })
        } else {
            Ok(())
        }
    }
}

impl Range {
    pub fn check(self, value: i64) -> Result<(), String> {
        if (self.min..=self.max).contains(&value) {
            Ok(())
        } else {
            Err(format!("must be {} to {}, got {value}", self.min, self.max))
        }
    }

    /// Decodes a JSON whole number (for `deserialize_with`) and checks it, so
    /// the decoder's error names the field.
    pub fn deserialize_u32<'de, D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<u32, D::Error> {
        let value = <i64 as serde::Deserialize>::deserialize(deserializer)?;
        self.check(value).map_err(serde::de::Error::custom)?;
        u32::try_from(value).map_err(serde::de::Error::custom)
    }
}

impl Items {
    pub fn check(self, len: usize, what: &str) -> Result<(), String> {
        if len < self.min || len > self.max {
            Err(if self.min == 0 {
                format!("at most {} {what} are allowed, got {len}", self.max)
            } else {
                format!("{} to {} {what} are allowed, got {len}", self.min, self.max)
            })
        } else {
            Ok(())
        }
    }
}

// Scripts: spec 4.2.1 and 4.2.4, tables 4-5 to 4-8 and 4-19 to 4-22.
pub const SCRIPT_NAME: Chars = chars(1, 64);
pub const SCRIPT_DESCRIPTION: Chars = chars(1, 256);
pub const SCRIPT_CONTENT: Chars = chars(1, 4096);
pub const SCRIPT_VERSION: Chars = chars(1, 10);
pub const REVIEWERS: Items = items(0, 5);
pub const REVIEWER_NAME: Chars = chars(1, 64);
pub const REVIEWER_ID: Chars = chars(0, 32);
/// Table 4-19 says 0 to 5 for an edit, table 4-5 and the text of 4.2.4 say 20: 20 for both.
pub const SCRIPT_PARAMS: Items = items(0, 20);
pub const PARAM_NAME: Chars = chars(1, 64);
pub const PARAM_VALUE: Chars = chars(0, 1024);
pub const PARAM_DESCRIPTION: Chars = chars(0, 256);
pub const PARAM_ORDER: Range = range(1, 20);
/// Ours: not constrained by the reference; bounded so a record cannot grow without limit.
pub const ENTERPRISE_PROJECT_ID: Chars = chars(1, 64);
/// The SDK's accept_script (not in the reference).
pub const REVIEW_COMMENTS: Chars = chars(0, 256);
/// Ours: a tenant's id, which goes into store keys.
pub const PROJECT_ID: Chars = chars(1, 64);

// The script list query: table 4-10.
pub const SCRIPTS_PAGE: Range = range(1, 100);
pub const SCRIPTS_MARKER: Range = range(0, i64::MAX);
pub const NAME_LIKE: Chars = chars(1, 32);
pub const CREATOR_FILTER: Chars = chars(1, 64);

// Executing a script: tables 4-30 to 4-34.
pub const TIMEOUT_SECS: Range = range(5, 1800);
/// Percent, with at most one decimal place.
pub const SUCCESS_RATE: Range = range(1, 100);
pub const EXECUTE_USER: Chars = chars(1, 32);
pub const EXECUTE_BATCHES: Items = items(1, 20);
pub const BATCH_INDEX: Range = range(1, 20);
pub const BATCH_HOSTS: Items = items(1, 10);
/// Spec 4.2.6: "A maximum of 200 hosts can be delivered at a time."
pub const TICKET_HOSTS: usize = 200;
pub const RESOURCE_ID: Chars = chars(1, 64);
pub const AGENT_SN: Chars = chars(1, 32);
pub const TARGET_PROJECT_ID: Chars = chars(1, 32);
pub const REGION_ID: Chars = chars(1, 32);

// Script tickets: tables 4-47, 4-48, 4-53 and 4-58.
/// The reference caps it at 50; the Terraform provider asks for 100.
pub const BATCH_PAGE: Range = range(1, 100);
pub const BATCH_MARKER: Range = range(0, 2_147_483_647);
pub const ORDERS_PAGE: Range = range(1, 100);
pub const ORDERS_MARKER: Range = range(1, 2_147_483_647);
/// The reference caps start_time and end_time at 2147483647, but they are
/// millisecond timestamps like every other time of the API (today's is past 1.7e12).
pub const ORDERS_TIME: Range = range(1, i64::MAX);
pub const INSTANCE_ID: Range = range(1, i64::MAX);

// How list endpoints read (README, "Access patterns").
/// The smallest read of a walk whose filter may discard rows.
pub const LIST_WALK_MIN_CHUNK: usize = 25;
/// A `total` no counter answers (several filters, or a substring) is counted by
/// reading at most this many candidates; beyond it, `total` is an upper bound.
pub const LIST_COUNT_WALK: usize = 1_000;
/// The read size of such a count.
pub const LIST_COUNT_CHUNK: usize = 100;
/// Ticket ids are issued just before the ticket's creation time is taken, so
/// by id (newest first) creation times are in order up to this much: a
/// `start_time` walk stops at the first ticket created this long before it.
pub const ORDER_CLOCK_SLACK_MS: i64 = 60_000;
// How a compliance report is saved (README, "Patch compliance reports").
/// Item writes (transactions of 25) a save keeps in flight: a report of
/// 10,000 packages is 400 of them, too slow one after another on DynamoDB.
pub const PATCH_SAVE_WRITES_IN_FLIGHT: usize = 8;
/// A save not finished this long after it started is taken for crashed: its
/// items are collected by a later save of the report (and should it still be
/// running, its switch to them fails). Far beyond what a save takes (seconds)
/// and the API function's 29 s.
pub const PATCH_SAVE_ABANDONED_MS: i64 = 10 * 60 * 1000;
/// Item deletes a save does after its switch: the generation that dropped out
/// (at most the largest inventory) and some of what crashed saves left.
pub const PATCH_SAVE_DELETES: usize = 12_500;
/// Generation marks of one report a save reads to find what to collect.
pub const PATCH_SAVE_MARKS_READ: usize = 16;
/// Our own lists (integrations, alarms): page size and the opaque marker.
pub const OWN_PAGE: Range = range(1, 100);
pub const OWN_PAGE_DEFAULT: usize = 100;
pub const OWN_MARKER: Chars = chars(1, 512);
/// Path ids of notifications: we issue 26 (`NT` + time + hex).
pub const NOTIFICATION_ID: Chars = chars(1, 64);

// Resources: table 4-1.
pub const RESOURCES_PAGE: Range = range(1, 100);

// Incidents: tables 4-59 and 4-63.
/// region, enterprise_project, current_cloud_service, incident_assignee: "only one … is supported".
pub const INCIDENT_LIST: Items = items(0, 1);
pub const INCIDENT_LIST_ITEM: Chars = chars(0, 255);
/// current_cloud_service is mandatory ("Array length: 0 to 1" notwithstanding):
/// its one element must name the application.
pub const APPLICATION_LIST: Items = items(1, 1);
pub const APPLICATION_ID: Chars = chars(1, 255);
/// The reference allows 0 characters for the mandatory title and description; an
/// incident nobody can name is no use, so at least one.
pub const INCIDENT_TITLE: Chars = chars(1, 200);
pub const INCIDENT_DESCRIPTION: Chars = chars(1, 600);
/// assignee_scene, assignee_role, incident_ownership (the SDK's, not in the reference's table).
pub const INCIDENT_TEXT: Chars = chars(0, 255);
/// creator (the reference allows 0: a ticket must say who opened it) and the handle's operator.
pub const INCIDENT_USER: Chars = chars(1, 255);
/// The enumerated keys (incident_level, incident_type, incident_source, mtm_type).
pub const INCIDENT_KEY: Chars = chars(0, 255);
/// Table 4-66 allows 0 characters; an empty path segment is another route.
pub const INCIDENT_NUM: Chars = chars(1, 255);
pub const CAUSE: Chars = chars(1, 10_000);
pub const SOLUTION: Chars = chars(1, 10_000);
pub const CONFIRM_COMMENT: Chars = chars(1, 300);
// Incident lists and histories (v2, the SDK's ListTicketParamsWithPageV2 and
// ListTicketParamsV2; the ticket-history list of ListTicketParams).
/// `page` and `per_page` of `POST /v2/incidents/list`, the documented ranges.
pub const INCIDENT_PAGE: Range = range(1, 1_000_000);
pub const INCIDENT_PER_PAGE: Range = range(1, 200);
pub const INCIDENT_PER_PAGE_DEFAULT: usize = 10;
/// Ours: a page number is rows to walk past (the index has no ranks); deeper
/// than this many rows, a request must narrow its filters or time range.
pub const INCIDENT_LIST_SKIP: usize = 10_000;
/// string_filters and int_filters: "Array length: 0 to 20".
pub const INCIDENT_FILTERS: Items = items(0, 20);
/// Ours: the values of one filter (an `in` list of statuses, levels …).
pub const INCIDENT_FILTER_VALUES: Items = items(1, 20);
/// Ours: a filter's field, operator and each text value.
pub const INCIDENT_FILTER_TEXT: Chars = chars(1, 255);
/// Ours: how many history entries one answer holds (the SDK models have no paging).
pub const INCIDENT_HISTORY_PAGE: usize = 200;
/// Ours: the action of `POST /v2/incidents/{incident_id}/actions` and its task id.
pub const INCIDENT_ACTION: Chars = chars(1, 255);
/// A forward's note (ours, optional; as long as a confirmation's).
pub const FORWARD_COMMENT: Chars = chars(0, 300);

// Alarm reports: table 4-75.
pub const ALARM_TEXT: Chars = chars(1, 255);
pub const ALARM_OPTIONAL_TEXT: Chars = chars(0, 255);
/// How long the alarm queue's consumer remembers a message it took, so that a
/// redelivery changes nothing: SQS redelivers a message only while the queue
/// retains it, and template.yaml's `AlarmQueue` retains messages 4 days (a
/// test holds the two together).
pub const ALARM_DELIVERY_RETENTION_MS: i64 = 4 * 24 * 60 * 60 * 1000;
/// Expired delivery marks each take deletes: more than the one it writes, so
/// the expired ones never pile up.
pub const ALARM_DELIVERY_CLEANUP: usize = 2;
/// A queue message id the consumer keys its mark by (SQS ids are 36-character UUIDs).
pub const QUEUE_MESSAGE_ID: Chars = chars(1, 128);

// Ours: CloudWatch alarm state changes (EventBridge events, SNS notifications).
/// An alarm's name, as CloudWatch limits it (PutMetricAlarm: 1 to 255).
pub const CLOUDWATCH_ALARM_NAME: Chars = chars(1, 255);
/// A state reason (PutMetricAlarm/SetAlarmState: up to 1023); the report keeps
/// its first 255 characters, `additional` the whole.
pub const CLOUDWATCH_REASON: Chars = chars(0, 1023);
/// An alarm description (PutMetricAlarm: up to 1024).
pub const CLOUDWATCH_DESCRIPTION: Chars = chars(0, 1024);
/// An alarm ARN; one longer than the report's alarmId takes is hashed (README,
/// "Connect CloudWatch").
pub const CLOUDWATCH_ARN: Chars = chars(1, 1600);
/// An EventBridge event id or SNS MessageId (both 36-character UUIDs), the key
/// a redelivery is recognised by.
pub const CLOUDWATCH_DELIVERY_ID: Chars = chars(1, 64);
/// Short fields: account, region, namespace, metric and state names, topic ARNs.
pub const CLOUDWATCH_TEXT: Chars = chars(0, 1024);
/// Dimensions of one metric (CloudWatch allows 30).
pub const CLOUDWATCH_DIMENSIONS: Items = items(0, 30);
/// Alarm tags propagated into an event (a resource has at most 50).
pub const CLOUDWATCH_TAGS: Items = items(0, 50);
/// An SNS SubscribeURL: an https URL of SNS itself, with the topic and a token.
pub const CLOUDWATCH_SUBSCRIBE_URL: Chars = chars(1, 2048);
/// An SNS SigningCertURL (`https://sns.<region>.amazonaws.com/SimpleNotificationService-<hex>.pem`).
pub const CLOUDWATCH_SIGNING_CERT_URL: Chars = chars(1, 2048);
/// An SNS message's base64 Signature (a 2048-bit RSA signature is 344 characters; 8192 bits 1368).
pub const CLOUDWATCH_SIGNATURE: Chars = chars(1, 1400);
/// Signing certificates kept in one process, by URL: SNS signs with a handful
/// at a time (one per region, changed every few months).
pub const SNS_CERTIFICATE_CACHE: usize = 64;
/// A signing certificate's PEM, as fetched (SNS's are about 2 KiB).
pub const SNS_CERTIFICATE_BYTES: usize = 16 * 1024;

// Ours: Alertmanager webhook notifications (`POST /v1/event/prometheus/{key}`).
/// Alerts in one notification. Alertmanager sends a whole group at once; set
/// `max_alerts` in its webhook_config to stay within this (README, "Connect Prometheus").
pub const PROMETHEUS_ALERTS: Items = items(1, 200);
/// Labels or annotations on one alert (and in groupLabels, commonLabels, commonAnnotations).
pub const PROMETHEUS_PAIRS: Items = items(0, 64);
pub const PROMETHEUS_LABEL_NAME: Chars = chars(1, 128);
pub const PROMETHEUS_LABEL_VALUE: Chars = chars(0, 1024);
/// Annotations carry descriptions and runbook links: longer than label values.
pub const PROMETHEUS_ANNOTATION_VALUE: Chars = chars(0, 4096);
/// Alertmanager's fingerprints are 16 hex digits; other senders' ids may be longer.
pub const PROMETHEUS_FINGERPRINT: Chars = chars(0, 64);
/// generatorURL and externalURL (a Prometheus graph link holds the whole expression).
pub const PROMETHEUS_URL: Chars = chars(0, 2048);
/// receiver, groupKey, status and the timestamps.
pub const PROMETHEUS_TEXT: Chars = chars(0, 1024);

// Path ids: tables 4-16, 4-18 (script_uuid) and 4-36, 4-41, 4-44, 4-57 (execute_uuid).
pub const SCRIPT_UUID: Chars = chars(1, 25);
pub const EXECUTE_UUID: Chars = chars(1, 26);

// Ours: integrations and agents.
/// Path ids of integrations; we issue 27 (`INT` + 24 hex) and 32 hex characters.
pub const INTEGRATION_ID: Chars = chars(1, 64);
pub const INTEGRATION_KEY: Chars = chars(1, 64);
pub const INTEGRATION_NAME: Chars = chars(1, 64);
/// Goes into the incidents' incident_assignee.
pub const INTEGRATION_ASSIGNEE: Chars = chars(1, 255);
pub const HOST_NAME: Chars = chars(0, 128);
pub const IP_ADDRESS: Chars = chars(0, 64);
pub const OS_TYPE: Chars = chars(0, 32);
pub const ZONE_ID: Chars = chars(0, 64);

// Ours: patch tickets and the inventories agents report for them (#11).
/// A baseline a patch ticket names (ours or a built-in default's id), as its path id.
pub const PATCH_JOB_BASELINE_ID: Chars = BASELINE_ID;
/// A patch ticket's `timeout` when the request gives none, per operation (in
/// TIMEOUT_SECS like a script's): a scan reads the package database, an install downloads.
pub const PATCH_SCAN_TIMEOUT_SECS: u32 = 600;
pub const PATCH_INSTALL_TIMEOUT_SECS: u32 = 1800;
/// The encoded size of the baselines a patch ticket carries (in the ticket and
/// in each host's job): keeps both items far below DynamoDB's 400 KB.
pub const PATCH_JOB_BYTES: usize = 128 * 1024;
/// Installed packages, and available updates, of one inventory.
pub const INVENTORY_PACKAGES: Items = items(0, 10_000);
/// reboot_packages, installed_now, failed.
pub const INVENTORY_NAMES: Items = items(0, 10_000);
pub const INVENTORY_OS: Chars = chars(1, 64);
pub const INVENTORY_OS_VERSION: Chars = chars(0, 64);
pub const INVENTORY_PACKAGE_MANAGER: Chars = chars(1, 16);
pub const PACKAGE_NAME: Chars = chars(1, 256);
pub const PACKAGE_VERSION: Chars = chars(1, 256);
pub const PACKAGE_ARCHITECTURE: Chars = chars(0, 64);
pub const PACKAGE_CLASSIFICATION: Chars = chars(0, 128);
pub const PACKAGE_SEVERITY: Chars = chars(0, 64);
/// The run an inventory belongs to (the job's attempt).
pub const INVENTORY_ATTEMPT: Range = range(1, u32::MAX as i64);

// Patch baselines (ours, #11; the reference only names a report's baseline).
/// Letters (CJK included), digits, `_`, `-` and `.`; unique per tenant.
pub const BASELINE_NAME: Chars = chars(1, 128);
pub const BASELINE_DESCRIPTION: Chars = chars(0, 256);
pub const APPROVAL_RULES: Items = items(0, 10);
/// A rule's classifications, and its severities.
pub const RULE_VALUES: Items = items(0, 20);
pub const RULE_VALUE: Chars = chars(1, 64);
pub const APPROVE_AFTER_DAYS: Range = range(0, 360);
/// The approved and the rejected packages, each.
pub const BASELINE_PATCHES: Items = items(0, 200);
pub const PATCH_NAME: Chars = chars(1, 128);
/// Path ids of baselines: we issue 27 (`PB-` + 24 hex) and the built-ins' `PB-default-…`.
pub const BASELINE_ID: Chars = chars(1, 64);
/// The baseline list's page size (default 10) and page number (from 1), as spec 4.5 pages.
pub const BASELINES_PAGE: Range = range(1, 100);
pub const BASELINES_PAGE_DEFAULT: usize = 10;
pub const BASELINES_OFFSET: Range = range(1, 1_000_000);
pub const BASELINES_NAME_FILTER: Chars = chars(1, 128);
/// A tenant's own baselines (Patch Manager allows 50 a region): keeps an
/// offset page's walk bounded. Checked against the counter before a create, so
/// concurrent creates can pass it by the few that raced.
pub const BASELINES_PER_TENANT: i64 = 100;
// Patch compliance reports: tables 4-77, 4-85 and 4-86.
pub const PATCH_OFFSET: Range = range(1, 1_000_000);
pub const PATCH_PAGE: Range = range(1, 100);
pub const PATCH_PAGE_DEFAULT: usize = 10;
/// Ours: the text filters, which the reference leaves unbounded.
pub const PATCH_FILTER_TEXT: Chars = chars(1, 128);
/// Ours: we issue 32 hex characters.
pub const INSTANCE_COMPLIANT_ID: Chars = chars(1, 64);

// Ours: O&M engineers and their subscriptions (#12; README "O&M engineers and subscriptions").
/// A federated user's name (the username of the IAM identity conversion rule),
/// which is also its `user_id`: letters, digits, `_ - . @`.
pub const ENGINEER_USER_NAME: Chars = chars(1, 64);
/// An engineer's user id in a path (IAM users' ids, federated usernames).
pub const ENGINEER_USER_ID: Chars = chars(1, 64);
pub const ENGINEER_ALIAS: Chars = chars(1, 64);
/// The identity provider's name in IAM: letters, digits, `_ - .`.
pub const IDENTITY_PROVIDER: Chars = chars(1, 64);
/// E.164 with its `+`: 8 to 15 digits.
pub const MOBILE: Chars = chars(9, 16);
pub const MOBILE_DIGITS: Range = range(8, 15);
/// RFC 5321's limits: 254 for the path, 64 for the local part.
pub const EMAIL: Chars = chars(3, 254);
pub const EMAIL_LOCAL_PART: usize = 64;
pub const WEBHOOK_URL: Chars = chars(1, 1024);
/// A robot's signing secret (DingTalk's `SEC…` is 67 characters).
pub const SIGNING_KEY: Chars = chars(1, 128);
/// The modify request's texts, where an empty one clears the field.
pub const ENGINEER_ALIAS_EDIT: Chars = chars(0, ENGINEER_ALIAS.max);
pub const SIGNING_KEY_EDIT: Chars = chars(0, SIGNING_KEY.max);
/// The user-name filter of the engineer list (a case-insensitive substring).
pub const ENGINEER_NAME_FILTER: Chars = chars(1, 64);
/// How long a subscription's confirmation link stays valid.
pub const SUBSCRIPTION_VALIDITY_MS: i64 = 48 * 3600 * 1000;
/// The confirmation token: 32 random bytes, as 64 hex characters.
pub const SUBSCRIPTION_TOKEN_BYTES: usize = 32;
pub const SUBSCRIPTION_TOKEN: Chars = chars(64, 64);
/// The channels a subscribe request names (EMAIL, SMS, VOICE, each once).
pub const SUBSCRIPTION_CHANNELS: Items = items(1, 3);
/// The most credentials a synchronization reads for one tenant (in pages of
/// [`ENGINEER_SYNC_PAGE`]), so one request stays bounded.
pub const ENGINEER_SYNC_CREDENTIALS: usize = 5_000;
pub const ENGINEER_SYNC_PAGE: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Chars(Chars),
    Range(Range),
    Items(Items),
}

/// Where in the request the field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A JSON body path, as error messages name it (`script_params[0].param_name`).
    Body,
    Query,
    Path,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldLimit {
    pub operation: Operation,
    pub place: Place,
    pub field: &'static str,
    pub rule: Rule,
}

const fn body(operation: Operation, field: &'static str, rule: Rule) -> FieldLimit {
    FieldLimit { operation, place: Place::Body, field, rule }
}

const fn query(operation: Operation, field: &'static str, rule: Rule) -> FieldLimit {
    FieldLimit { operation, place: Place::Query, field, rule }
}

const fn path(operation: Operation, field: &'static str, rule: Rule) -> FieldLimit {
    FieldLimit { operation, place: Place::Path, field, rule }
}

use Operation::*;
use Rule::{Chars as C, Items as I, Range as R};

/// Every constrained field of every operation.
pub const TABLE: &[FieldLimit] = &[
    body(CreateScript, "name", C(SCRIPT_NAME)),
    body(CreateScript, "description", C(SCRIPT_DESCRIPTION)),
    body(CreateScript, "content", C(SCRIPT_CONTENT)),
    body(CreateScript, "enterprise_project_id", C(ENTERPRISE_PROJECT_ID)),
    body(CreateScript, "properties.version", C(SCRIPT_VERSION)),
    body(CreateScript, "properties.reviewers", I(REVIEWERS)),
    body(CreateScript, "properties.reviewers[0].reviewer_name", C(REVIEWER_NAME)),
    body(CreateScript, "properties.reviewers[0].reviewer_id", C(REVIEWER_ID)),
    body(CreateScript, "script_params", I(SCRIPT_PARAMS)),
    body(CreateScript, "script_params[0].param_name", C(PARAM_NAME)),
    body(CreateScript, "script_params[0].param_value", C(PARAM_VALUE)),
    body(CreateScript, "script_params[0].param_description", C(PARAM_DESCRIPTION)),
    body(CreateScript, "script_params[0].param_order", R(PARAM_ORDER)),
    body(UpdateScript, "description", C(SCRIPT_DESCRIPTION)),
    body(UpdateScript, "content", C(SCRIPT_CONTENT)),
    body(UpdateScript, "properties.version", C(SCRIPT_VERSION)),
    body(UpdateScript, "properties.reviewers", I(REVIEWERS)),
    body(UpdateScript, "properties.reviewers[0].reviewer_name", C(REVIEWER_NAME)),
    body(UpdateScript, "properties.reviewers[0].reviewer_id", C(REVIEWER_ID)),
    body(UpdateScript, "script_params", I(SCRIPT_PARAMS)),
    body(UpdateScript, "script_params[0].param_name", C(PARAM_NAME)),
    body(UpdateScript, "script_params[0].param_value", C(PARAM_VALUE)),
    body(UpdateScript, "script_params[0].param_description", C(PARAM_DESCRIPTION)),
    body(UpdateScript, "script_params[0].param_order", R(PARAM_ORDER)),
    body(ReviewScript, "comments", C(REVIEW_COMMENTS)),
    query(ListScripts, "limit", R(SCRIPTS_PAGE)),
    query(ListScripts, "marker", R(SCRIPTS_MARKER)),
    query(ListScripts, "name_like", C(NAME_LIKE)),
    query(ListScripts, "creator", C(CREATOR_FILTER)),
    query(ListScripts, "enterprise_project_id", C(ENTERPRISE_PROJECT_ID)),
    body(ExecuteScript, "execute_param.timeout", R(TIMEOUT_SECS)),
    body(ExecuteScript, "execute_param.success_rate", R(SUCCESS_RATE)),
    body(ExecuteScript, "execute_param.execute_user", C(EXECUTE_USER)),
    body(ExecuteScript, "execute_param.script_params", I(SCRIPT_PARAMS)),
    body(ExecuteScript, "execute_param.script_params[0].param_name", C(PARAM_NAME)),
    body(ExecuteScript, "execute_param.script_params[0].param_value", C(PARAM_VALUE)),
    body(ExecuteScript, "execute_param.script_params[0].param_order", R(PARAM_ORDER)),
    body(ExecuteScript, "execute_batches", I(EXECUTE_BATCHES)),
    body(ExecuteScript, "execute_batches[0].batch_index", R(BATCH_INDEX)),
    body(ExecuteScript, "execute_batches[0].target_instances", I(BATCH_HOSTS)),
    body(ExecuteScript, "execute_batches[0].target_instances[0].resource_id", C(RESOURCE_ID)),
    body(ExecuteScript, "execute_batches[0].target_instances[0].agent_sn", C(AGENT_SN)),
    body(ExecuteScript, "execute_batches[0].target_instances[0].project_id", C(TARGET_PROJECT_ID)),
    body(ExecuteScript, "execute_batches[0].target_instances[0].region_id", C(REGION_ID)),
    query(GetScriptJobBatch, "limit", R(BATCH_PAGE)),
    query(GetScriptJobBatch, "marker", R(BATCH_MARKER)),
    path(GetScriptJobBatch, "batch_index", R(BATCH_INDEX)),
    // A path id has one limit on every route that names it (see `path_chars`); each is
    // listed once, on a route that reads it.
    path(GetScript, "script_uuid", C(SCRIPT_UUID)),
    path(GetScriptJob, "execute_uuid", C(EXECUTE_UUID)),
    path(GetIncident, "incident_num", C(INCIDENT_NUM)),
    // Every /v2/incidents/{incident_id}/… route.
    path(HandleIncidentV2, "incident_id", C(INCIDENT_NUM)),
    path(ListAlarms, "integration_id", C(INTEGRATION_ID)),
    path(ReportAlarm, "integration_key", C(INTEGRATION_KEY)),
    path(RevokeAgent, "agent_sn", C(AGENT_SN)),
    query(ListScriptJobs, "limit", R(ORDERS_PAGE)),
    query(ListScriptJobs, "marker", R(ORDERS_MARKER)),
    query(ListScriptJobs, "start_time", R(ORDERS_TIME)),
    query(ListScriptJobs, "end_time", R(ORDERS_TIME)),
    query(ListScriptJobs, "creator", C(CREATOR_FILTER)),
    body(OperateScriptJob, "batch_index", R(BATCH_INDEX)),
    body(OperateScriptJob, "instance_id", R(INSTANCE_ID)),
    query(ListResources, "limit", R(RESOURCES_PAGE)),
    body(CreateIncident, "region", I(INCIDENT_LIST)),
    body(CreateIncident, "region[0]", C(INCIDENT_LIST_ITEM)),
    body(CreateIncident, "enterprise_project", I(INCIDENT_LIST)),
    body(CreateIncident, "enterprise_project[0]", C(INCIDENT_LIST_ITEM)),
    body(CreateIncident, "current_cloud_service", I(APPLICATION_LIST)),
    body(CreateIncident, "current_cloud_service[0]", C(APPLICATION_ID)),
    body(CreateIncident, "incident_title", C(INCIDENT_TITLE)),
    body(CreateIncident, "incident_description", C(INCIDENT_DESCRIPTION)),
    body(CreateIncident, "incident_assignee", I(INCIDENT_LIST)),
    body(CreateIncident, "incident_assignee[0]", C(INCIDENT_LIST_ITEM)),
    body(CreateIncident, "assignee_scene", C(INCIDENT_TEXT)),
    body(CreateIncident, "assignee_role", C(INCIDENT_TEXT)),
    body(CreateIncident, "incident_ownership", C(INCIDENT_TEXT)),
    body(CreateIncident, "creator", C(INCIDENT_USER)),
    body(HandleIncident, "incident_num", C(INCIDENT_NUM)),
    body(HandleIncident, "operator", C(INCIDENT_USER)),
    body(HandleIncident, "parameter.cause", C(CAUSE)),
    body(HandleIncident, "parameter.solution", C(SOLUTION)),
    body(HandleIncident, "parameter.virtual_confirm_comment", C(CONFIRM_COMMENT)),
    body(HandleIncident, "parameter.virtual_send_assignee", C(INCIDENT_USER)),
    body(HandleIncident, "parameter.virtual_send_comment", C(FORWARD_COMMENT)),
    body(ReportAlarm, "alarmId", C(ALARM_TEXT)),
    body(ReportAlarm, "alarmName", C(ALARM_TEXT)),
    body(ReportAlarm, "nameSpace", C(ALARM_TEXT)),
    body(ReportAlarm, "regionId", C(ALARM_OPTIONAL_TEXT)),
    body(ReportAlarm, "applicationId", C(ALARM_TEXT)),
    body(ReportAlarm, "resourceName", C(ALARM_OPTIONAL_TEXT)),
    body(ReportAlarm, "resourceId", C(ALARM_OPTIONAL_TEXT)),
    body(ReportAlarm, "alarmDesc", C(ALARM_TEXT)),
    body(ReportAlarm, "URL", C(ALARM_OPTIONAL_TEXT)),
    body(ReportAlarm, "alarmSource", C(ALARM_TEXT)),
    body(ReportPrometheusEvent, "alerts", I(PROMETHEUS_ALERTS)),
    body(ReportPrometheusEvent, "alerts[0].fingerprint", C(PROMETHEUS_FINGERPRINT)),
    body(ReportPrometheusEvent, "alerts[0].generatorURL", C(PROMETHEUS_URL)),
    body(ReportPrometheusEvent, "alerts[0].labels.alertname", C(PROMETHEUS_LABEL_VALUE)),
    body(ReportPrometheusEvent, "alerts[0].annotations.summary", C(PROMETHEUS_ANNOTATION_VALUE)),
    body(ReportPrometheusEvent, "receiver", C(PROMETHEUS_TEXT)),
    body(ReportPrometheusEvent, "groupKey", C(PROMETHEUS_TEXT)),
    body(ReportPrometheusEvent, "externalURL", C(PROMETHEUS_URL)),
    body(ReportPrometheusEvent, "commonLabels.job", C(PROMETHEUS_LABEL_VALUE)),
    body(ReportPrometheusEvent, "commonAnnotations.description", C(PROMETHEUS_ANNOTATION_VALUE)),
    body(CreateIntegration, "name", C(INTEGRATION_NAME)),
    body(CreateIntegration, "incident_assignee", C(INTEGRATION_ASSIGNEE)),
    body(CreateIntegration, "prometheus_severity_label", C(PROMETHEUS_LABEL_NAME)),
    body(CreateIntegration, "prometheus_resource_label", C(PROMETHEUS_LABEL_NAME)),
    // Alarm management (limits in `limits/alarms.rs`).
    body(ClearAlarm, "remarks", C(ALARM_REMARKS)),
    body(TransferAlarmToIncident, "title", C(INCIDENT_TITLE)),
    body(TransferAlarmToIncident, "description", C(INCIDENT_DESCRIPTION)),
    body(HandlerAlarm, "associated_task_id", C(ALARM_TASK_ID)),
    body(HandlerAlarm, "associated_task_name", C(ALARM_TASK_NAME)),
    body(RegisterAgent, "agent_sn", C(AGENT_SN)),
    body(RegisterAgent, "resource_id", C(RESOURCE_ID)),
    body(RegisterAgent, "region_id", C(REGION_ID)),
    body(RegisterAgent, "host_name", C(HOST_NAME)),
    body(RegisterAgent, "fixed_ip", C(IP_ADDRESS)),
    body(RegisterAgent, "floating_ip", C(IP_ADDRESS)),
    body(RegisterAgent, "zone_id", C(ZONE_ID)),
    body(RegisterAgent, "os_type", C(OS_TYPE)),
    body(StartPatchJob, "baseline_id", C(PATCH_JOB_BASELINE_ID)),
    body(StartPatchJob, "timeout", R(TIMEOUT_SECS)),
    body(StartPatchJob, "success_rate", R(SUCCESS_RATE)),
    body(StartPatchJob, "execute_batches", I(EXECUTE_BATCHES)),
    body(StartPatchJob, "execute_batches[0].batch_index", R(BATCH_INDEX)),
    body(StartPatchJob, "execute_batches[0].target_instances", I(BATCH_HOSTS)),
    body(StartPatchJob, "execute_batches[0].target_instances[0].resource_id", C(RESOURCE_ID)),
    body(StartPatchJob, "execute_batches[0].target_instances[0].agent_sn", C(AGENT_SN)),
    body(StartPatchJob, "execute_batches[0].target_instances[0].project_id", C(TARGET_PROJECT_ID)),
    body(StartPatchJob, "execute_batches[0].target_instances[0].region_id", C(REGION_ID)),
    body(ReportPatchInventory, "attempt", R(INVENTORY_ATTEMPT)),
    body(ReportPatchInventory, "inventory.operating_system", C(INVENTORY_OS)),
    body(ReportPatchInventory, "inventory.os_version", C(INVENTORY_OS_VERSION)),
    body(ReportPatchInventory, "inventory.package_manager", C(INVENTORY_PACKAGE_MANAGER)),
    body(ReportPatchInventory, "inventory.installed", I(INVENTORY_PACKAGES)),
    body(ReportPatchInventory, "inventory.installed[0].name", C(PACKAGE_NAME)),
    body(ReportPatchInventory, "inventory.installed[0].version", C(PACKAGE_VERSION)),
    body(ReportPatchInventory, "inventory.installed[0].architecture", C(PACKAGE_ARCHITECTURE)),
    body(ReportPatchInventory, "inventory.installed[0].classification", C(PACKAGE_CLASSIFICATION)),
    body(ReportPatchInventory, "inventory.installed[0].severity", C(PACKAGE_SEVERITY)),
    body(ReportPatchInventory, "inventory.available", I(INVENTORY_PACKAGES)),
    body(ReportPatchInventory, "inventory.available[0].name", C(PACKAGE_NAME)),
    body(ReportPatchInventory, "inventory.available[0].version", C(PACKAGE_VERSION)),
    body(ReportPatchInventory, "inventory.available[0].architecture", C(PACKAGE_ARCHITECTURE)),
    body(ReportPatchInventory, "inventory.available[0].classification", C(PACKAGE_CLASSIFICATION)),
    body(ReportPatchInventory, "inventory.available[0].severity", C(PACKAGE_SEVERITY)),
    body(ReportPatchInventory, "inventory.reboot_packages", I(INVENTORY_NAMES)),
    body(ReportPatchInventory, "inventory.reboot_packages[0]", C(PACKAGE_NAME)),
    body(ReportPatchInventory, "inventory.installed_now", I(INVENTORY_NAMES)),
    body(ReportPatchInventory, "inventory.installed_now[0]", C(PACKAGE_NAME)),
    body(ReportPatchInventory, "inventory.failed", I(INVENTORY_NAMES)),
    body(ReportPatchInventory, "inventory.failed[0]", C(PACKAGE_NAME)),
    body(CreatePatchBaseline, "name", C(BASELINE_NAME)),
    body(CreatePatchBaseline, "description", C(BASELINE_DESCRIPTION)),
    body(CreatePatchBaseline, "approval_rules", I(APPROVAL_RULES)),
    body(CreatePatchBaseline, "approval_rules[0].classifications", I(RULE_VALUES)),
    body(CreatePatchBaseline, "approval_rules[0].classifications[0]", C(RULE_VALUE)),
    body(CreatePatchBaseline, "approval_rules[0].severities", I(RULE_VALUES)),
    body(CreatePatchBaseline, "approval_rules[0].severities[0]", C(RULE_VALUE)),
    body(CreatePatchBaseline, "approval_rules[0].approve_after_days", R(APPROVE_AFTER_DAYS)),
    body(CreatePatchBaseline, "approved_patches", I(BASELINE_PATCHES)),
    body(CreatePatchBaseline, "approved_patches[0]", C(PATCH_NAME)),
    body(CreatePatchBaseline, "rejected_patches", I(BASELINE_PATCHES)),
    body(CreatePatchBaseline, "rejected_patches[0]", C(PATCH_NAME)),
    body(UpdatePatchBaseline, "name", C(BASELINE_NAME)),
    body(UpdatePatchBaseline, "description", C(BASELINE_DESCRIPTION)),
    body(UpdatePatchBaseline, "approval_rules", I(APPROVAL_RULES)),
    body(UpdatePatchBaseline, "approval_rules[0].classifications", I(RULE_VALUES)),
    body(UpdatePatchBaseline, "approval_rules[0].classifications[0]", C(RULE_VALUE)),
    body(UpdatePatchBaseline, "approval_rules[0].severities", I(RULE_VALUES)),
    body(UpdatePatchBaseline, "approval_rules[0].severities[0]", C(RULE_VALUE)),
    body(UpdatePatchBaseline, "approval_rules[0].approve_after_days", R(APPROVE_AFTER_DAYS)),
    body(UpdatePatchBaseline, "approved_patches", I(BASELINE_PATCHES)),
    body(UpdatePatchBaseline, "approved_patches[0]", C(PATCH_NAME)),
    body(UpdatePatchBaseline, "rejected_patches", I(BASELINE_PATCHES)),
    body(UpdatePatchBaseline, "rejected_patches[0]", C(PATCH_NAME)),
    query(ListPatchBaselines, "limit", R(BASELINES_PAGE)),
    query(ListPatchBaselines, "offset", R(BASELINES_OFFSET)),
    query(ListPatchBaselines, "name", C(BASELINES_NAME_FILTER)),
    path(GetPatchBaseline, "baseline_id", C(BASELINE_ID)),
    // Patch compliance reports.
    query(ListInstanceCompliant, "offset", R(PATCH_OFFSET)),
    query(ListInstanceCompliant, "limit", R(PATCH_PAGE)),
    query(ListInstanceCompliant, "name", C(PATCH_FILTER_TEXT)),
    query(ListInstanceCompliant, "instance_id", C(PATCH_FILTER_TEXT)),
    query(ListInstanceCompliant, "ip", C(PATCH_FILTER_TEXT)),
    query(ListInstanceCompliant, "eip", C(PATCH_FILTER_TEXT)),
    query(ListInstanceCompliant, "operating_system", C(PATCH_FILTER_TEXT)),
    query(ListInstanceCompliant, "region", C(PATCH_FILTER_TEXT)),
    query(ListInstanceCompliant, "group", C(PATCH_FILTER_TEXT)),
    query(ListInstanceCompliant, "order_id", C(PATCH_FILTER_TEXT)),
    query(ListInstanceCompliant, "cce_info_id", C(PATCH_FILTER_TEXT)),
    query(ListInstanceCompliant, "enterprise_project_id", C(PATCH_FILTER_TEXT)),
    query(ShowInstancePatchItems, "offset", R(PATCH_OFFSET)),
    query(ShowInstancePatchItems, "limit", R(PATCH_PAGE)),
    query(ShowInstancePatchItems, "title", C(PATCH_FILTER_TEXT)),
    query(ShowInstancePatchItems, "classification", C(PATCH_FILTER_TEXT)),
    query(ShowInstancePatchItems, "severity_level", C(PATCH_FILTER_TEXT)),
    path(ShowInstancePatchItems, "instance_compliant_id", C(INSTANCE_COMPLIANT_ID)),
    // O&M engineers (the format rules of mobile, email and webhooks are tested in
    // tests/tests/engineers_api.rs: "a…a" is no phone number).
    body(AddEngineer, "user_name", C(ENGINEER_USER_NAME)),
    body(AddEngineer, "alias", C(ENGINEER_ALIAS)),
    body(AddEngineer, "identity_provider", C(IDENTITY_PROVIDER)),
    body(UpdateEngineer, "alias", C(ENGINEER_ALIAS_EDIT)),
    body(UpdateEngineer, "dingtalk_key", C(SIGNING_KEY_EDIT)),
    body(UpdateEngineer, "lark_key", C(SIGNING_KEY_EDIT)),
    body(RequestSubscriptions, "channels", I(SUBSCRIPTION_CHANNELS)),
    // The delivery log.
    path(GetNotification, "notification_id", C(NOTIFICATION_ID)),
    path(DownloadAttachment, "doc_id", C(DOC_ID)),
    // War rooms (the other fields: domain::war_room's tests).
    body(CreateWarRoom, "war_room_name", C(WAR_ROOM_NAME)),
    body(CreateWarRoom, "description", C(WAR_ROOM_DESCRIPTION)),
    body(CreateWarRoom, "application_id_list", I(WAR_ROOM_APPLICATIONS)),
    body(CreateWarRoom, "application_id_list[0]", C(WAR_ROOM_CODE)),
    body(CreateWarRoom, "region_code_list", I(WAR_ROOM_REGIONS)),
    body(CreateWarRoom, "incident_number", C(WAR_ROOM_INCIDENT)),
    body(CreateWarRoom, "war_room_admin", C(WAR_ROOM_USER)),
    body(CreateWarRoom, "participant", I(WAR_ROOM_PARTICIPANTS)),
    body(CreateWarRoom, "participant[0]", C(WAR_ROOM_USER)),
    body(CreateWarRoom, "enterprise_project_id", C(WAR_ROOM_ENTERPRISE_PROJECT)),
    body(ListWarRooms, "limit", R(WAR_ROOMS_LIMIT)),
    body(ListWarRooms, "offset", R(WAR_ROOMS_OFFSET)),
    body(ListWarRooms, "title", C(WAR_ROOMS_TITLE)),
    body(ListWarRooms, "incident_num", C(WAR_ROOMS_INCIDENT_NUM)),
    body(ListWarRooms, "admin", I(WAR_ROOMS_FILTER_VALUES)),
    body(ListWarRooms, "admin[0]", C(WAR_ROOMS_FILTER_ID)),
    // Scheduled tasks (limits/schedules.rs).
    body(CreateScheduledTask, "name", C(TASK_NAME)),
    body(CreateScheduledTask, "version_no", C(TASK_VERSION_NO)),
    body(CreateScheduledTask, "associated_task_id", C(TASK_ASSOCIATED_ID)),
    body(CreateScheduledTask, "associated_task_name", C(TASK_ASSOCIATED_NAME)),
    body(CreateScheduledTask, "reviewer_user_name", C(TASK_REVIEWER_NAME)),
    body(CreateScheduledTask, "agency_name", C(TASK_AGENCY)),
    body(CreateScheduledTask, "enterprise_project_id", C(TASK_ENTERPRISE_PROJECT)),
    body(CreateScheduledTask, "trigger_time.scheduled_close_time", R(TASK_TIMESTAMP)),
    body(CreateScheduledTask, "target_instances", I(TASK_BATCHES)),
    body(UpdateScheduledTask, "name", C(TASK_NAME)),
    body(UpdateScheduledTask, "target_instances", I(TASK_BATCHES)),
    query(ListScheduledTask, "limit", R(TASKS_PAGE)),
    query(ListScheduledTask, "offset", R(TASKS_OFFSET)),
    query(ListScheduledTask, "task_name", C(TASKS_FILTER_TEXT)),
    query(ListScheduledTaskHistory, "limit", R(TASKS_PAGE)),
    query(ListScheduledTaskHistory, "task_id", C(TASK_ID)),
    // Public scripts (#15): the list takes the tenant script list's limits; an
    // execution's body is the same Execution as execute_script's.
    query(ListPublicScripts, "limit", R(SCRIPTS_PAGE)),
    query(ListPublicScripts, "marker", R(SCRIPTS_MARKER)),
    query(ListPublicScripts, "name", C(SCRIPT_NAME)),
    query(ListPublicScripts, "name_like", C(NAME_LIKE)),
    // Script risk analysis: the content of a script, as a script holds it.
    body(CheckScriptRisk, "content", C(SCRIPT_CONTENT)),
];

/// The length limit of a text path parameter, the same on every route that has it.
pub fn path_chars(name: &str) -> Option<Chars> {
    TABLE.iter().find(|e| e.place == Place::Path && e.field == name).and_then(|e| match e.rule {
        Rule::Chars(chars) => Some(chars),
        _ => None,
    })
}

/// Alarm management's limits, kept beside the others.
mod alarms;
pub use alarms::*;

#[cfg(test)]
mod tests;
