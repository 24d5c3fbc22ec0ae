//! Tags of scripts and resources, and the resource inventory (counts,
//! imported hosts, instance batches): issue #15 part 4.

use super::{chars, items, range, Chars, Items, Range};

/// A tag key: Huawei Cloud's tag rules (TMS) allow 1 to 128 characters.
pub const TAG_KEY: Chars = chars(1, 128);
/// A tag value: 0 to 255 characters (TMS).
pub const TAG_VALUE: Chars = chars(0, 255);
/// Tags on one script or resource. Huawei allows 20; we allow 10 because a
/// tag change is one transaction of at most 25 writes (the record, the
/// tenant's tag catalogue, and per tag at most one index item removed and one
/// written: 2 + 2 × 10 = 22), so that it is all or nothing.
pub const TAGS_PER_RESOURCE: Items = items(0, 10);
/// Distinct key=value pairs in a tenant's catalogue of one kind (scripts,
/// agents, imported hosts): the catalogue is one item (at most ~200 KB at
/// this size, under DynamoDB's 400 KB), read whole by `list_script_resource_tags`.
pub const TAG_CATALOGUE_PAIRS: usize = 500;
/// `list_script_resource_tags`: keys per page and where a page starts.
pub const TAG_CATALOGUE_PAGE: Range = range(1, 500);
pub const TAG_CATALOGUE_PAGE_DEFAULT: usize = 100;
pub const TAG_CATALOGUE_OFFSET: Range = range(0, TAG_CATALOGUE_PAIRS as i64);
/// The `tag` filter of lists and counts: `key.value` (the SDK's format).
pub const TAG_FILTER: Chars = chars(1, 128 + 1 + 255);

/// `sync_resource_agent`: resources per call.
pub const SYNC_RESOURCES: Items = items(1, 100);

/// `list_instances_batch`: target instances per call (a ticket's hosts).
pub const BATCH_TARGETS: Items = items(1, super::TICKET_HOSTS);

/// `import_other_resource`: the CSV file, its rows, and the multipart body around it.
pub const IMPORT_FILE_BYTES: usize = 1024 * 1024;
pub const IMPORT_ROWS: Items = items(1, 500);
pub const IMPORT_BODY_BYTES: usize = IMPORT_FILE_BYTES + super::ATTACHMENT_FORM_OVERHEAD;
/// An imported host's columns.
pub const OTHER_NAME: Chars = chars(1, 64);
pub const OTHER_OS_VERSION: Chars = chars(0, 64);
/// `region_id` of an import (the SDK: "a string of 0 to 64 characters").
pub const OTHER_REGION_ID: Chars = chars(0, 64);

/// Counting resources by agent state reads the tenant's agents (the state is
/// the heartbeat's age, no write can count it): at most this many, else the
/// count answers 400 naming `agent_state`.
pub const AGENT_STATE_COUNT_WALK: usize = 2_000;
