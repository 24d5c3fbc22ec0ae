//! Public identifiers in the formats the real service uses, e.g. script UUIDs
//! like `SC2023102521413701c4a8a62`: a prefix, the UTC creation second, and
//! random hex up to 25 characters.

use time::macros::format_description;
use time::OffsetDateTime;

fn with_timestamp(prefix: &str, now_ms: i64, length: usize) -> String {
    let when =
        OffsetDateTime::from_unix_timestamp_nanos(now_ms as i128 * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let stamp = when
        .format(format_description!("[year][month][day][hour][minute][second]"))
        .expect("a fixed numeric format always formats");
    let random = uuid::Uuid::new_v4().simple().to_string();
    let mut id = format!("{prefix}{stamp}{random}");
    id.truncate(length);
    id
}

/// `SC` + time + random: 25 characters.
pub fn script_uuid(now_ms: i64) -> String {
    with_timestamp("SC", now_ms, 25)
}

/// `OR` + time + random: 32 characters, an imported host's id (ours).
pub fn other_resource_id(now_ms: i64) -> String {
    with_timestamp("OR", now_ms, 32)
}

/// `SCT` + time + random: 26 characters, like `SCT2023083109562601af694bf`.
pub fn execute_uuid(now_ms: i64) -> String {
    with_timestamp("SCT", now_ms, 26)
}

/// `ST` + time + random: 26 characters, like `ST2026120305453901c4a8a62b`: a scheduled task.
pub fn scheduled_task_id(now_ms: i64) -> String {
    with_timestamp("ST", now_ms, 26)
}

fn random_digits(count: usize) -> String {
    let mut digits = String::new();
    while digits.len() < count {
        digits.push_str(&uuid::Uuid::new_v4().as_u128().to_string());
    }
    digits[digits.len() - count..].to_owned()
}

fn stamped_digits(prefix: &str, now_ms: i64, digits: usize) -> String {
    let mut id = with_timestamp(prefix, now_ms, prefix.len() + 14);
    id.push_str(&random_digits(digits));
    id
}

/// `IM` + time + 10 digits, like `IM202403221515060171753781`.
pub fn incident_num(now_ms: i64) -> String {
    stamped_digits("IM", now_ms, 10)
}

/// `WR` + time + 10 digits, like `WR202403181334366050100030`.
pub fn warroom_id(now_ms: i64) -> String {
    stamped_digits("WR", now_ms, 10)
}

/// `NT` + time + random hex: 26 characters, like `NT2026120205453901c4a8a62b`.
pub fn notification_id(now_ms: i64) -> String {
    with_timestamp("NT", now_ms, 26)
}

/// A request id for logs and the `X-Request-Id` header.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_uuid_has_the_spec_shape() {
        // 2023-10-25T21:41:37Z
        let id = script_uuid(1_698_270_097_000);
        assert_eq!(id.len(), 25);
        assert!(id.starts_with("SC20231025214137"), "{id}");
        assert_ne!(script_uuid(1_698_270_097_000), id, "random part must differ");
    }
}
