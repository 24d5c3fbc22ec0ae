//! War rooms (`create_war_room`, `list_war_rooms`). Text bounds are the API
//! reference's; array lengths are ours where the reference allows 1,000 (a war
//! room is one item of at most 400 KB on DynamoDB, so its lists stay short).

use super::{chars, items, range, Chars, Items, Range};

pub const WAR_ROOM_NAME: Chars = chars(1, 255);
pub const WAR_ROOM_DESCRIPTION: Chars = chars(0, 255);
/// region_code_list, application_id_list's elements, schedule_group's ids.
pub const WAR_ROOM_CODE: Chars = chars(1, 255);
/// application_names and region_names elements.
pub const WAR_ROOM_LABEL: Chars = chars(0, 1000);
pub const WAR_ROOM_REGIONS: Items = items(0, 20);
/// The reference: at least one impacted application.
pub const WAR_ROOM_APPLICATIONS: Items = items(1, 20);
pub const WAR_ROOM_NAMES: Items = items(0, 20);
pub const WAR_ROOM_SCHEDULE_GROUPS: Items = items(0, 20);
/// role_id and scene_id of a schedule group.
pub const WAR_ROOM_SCHEDULE_ID: Chars = chars(0, 255);
pub const WAR_ROOM_INCIDENT: Chars = chars(1, 255);
pub const WAR_ROOM_USER: Chars = chars(1, 255);
pub const WAR_ROOM_ENTERPRISE_PROJECT: Chars = chars(1, 64);
pub const WAR_ROOM_NOTIFICATION_TYPE: Chars = chars(0, 64);
/// notification_modes (the SDK's NotificationMode has no fields of its own).
pub const WAR_ROOM_NOTIFICATION_MODES: Items = items(0, 10);
/// The admin and the participants together, each told in the transaction
/// that creates the room, which holds 25 writes: the room's 3 (the room, its
/// incident's claim, its count), 2 per notification (it and its pending
/// entry) and the one count of notifications they share.
pub const WAR_ROOM_MEMBERS: usize = 10;
/// The participants besides the admin.
pub const WAR_ROOM_PARTICIPANTS: Items = items(0, WAR_ROOM_MEMBERS - 1);

// The list: table "ListWarRoom".
/// Page size; 0 (the reference's default) means [`WAR_ROOMS_PAGE_DEFAULT`].
pub const WAR_ROOMS_LIMIT: Range = range(0, 1000);
pub const WAR_ROOMS_PAGE_DEFAULT: usize = 10;
/// Rows skipped before the page ("0 to 1000"): an offset page reads the rows it skips.
pub const WAR_ROOMS_OFFSET: Range = range(0, 1000);
pub const WAR_ROOMS_FILTER_VALUES: Items = items(0, 100);
/// current_users, region_code_list, impacted_application_ids, admin elements.
pub const WAR_ROOMS_FILTER_ID: Chars = chars(0, 200);
pub const WAR_ROOMS_FILTER_NUM: Chars = chars(0, 255);
pub const WAR_ROOMS_INCIDENT_NUM: Chars = chars(0, 64);
pub const WAR_ROOMS_TITLE: Chars = chars(0, 1000);
/// incident_levels and notification_level elements.
pub const WAR_ROOMS_LEVEL: Chars = chars(0, 32);
pub const WAR_ROOMS_STATUS: Chars = chars(0, 10);
pub const WAR_ROOMS_ENTERPRISE_PROJECT: Chars = chars(0, 64);
pub const WAR_ROOMS_TIME: Range = range(0, i64::MAX);
