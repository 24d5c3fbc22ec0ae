//! The body of `PUT /v1/job/script/orders/{execute_uuid}/operation`
//! (JobScriptOrderOperationBody, spec table 4-58).

use serde::{Deserialize, Deserializer};

use super::order::OperationType;
use crate::limits::{self, Range};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OperationRequest {
    pub operation_type: OperationType,
    #[serde(default, deserialize_with = "batch_index")]
    pub batch_index: Option<u32>,
    #[serde(default, deserialize_with = "instance_id")]
    pub instance_id: Option<u64>,
}

/// A whole number, as a JSON number or (as the spec's example sends
/// `batch_index`) a string; `null` is absent.
fn number_or_text<'de, D: Deserializer<'de>>(deserializer: D, range: Range) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }
    let value = match Option::<Raw>::deserialize(deserializer)? {
        None => return Ok(None),
        Some(Raw::Number(n)) => n,
        Some(Raw::Text(t)) => {
            t.trim().parse().map_err(|_| serde::de::Error::custom(format!("must be a whole number, got {t:?}")))?
        }
    };
    if i64::try_from(value).map_or(true, |v| range.check(v).is_err()) {
        return Err(serde::de::Error::custom(format!("must be {} to {}, got {value}", range.min, range.max)));
    }
    Ok(Some(value))
}

fn batch_index<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    Ok(number_or_text(deserializer, limits::BATCH_INDEX)?.map(|b| b as u32))
}

fn instance_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    number_or_text(deserializer, limits::INSTANCE_ID)
}
