//! `list_instances_batch`: the batches a run on the given hosts would have
//! (`domain::inventory::batches`), computed, nothing stored or read.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::app::App;
use crate::domain::inventory::batches;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;

pub const AUTO_BATCH: &str = "AUTO_BATCH";

#[derive(Deserialize)]
struct Body {
    batch_strategy: String,
    target_instances: Vec<Value>,
}

/// `POST /v1/instances/batches` with `{"batch_strategy": "AUTO_BATCH",
/// "target_instances": [ResourceInstance]}` → `{"data": [{"batch_index", "target_instances"}]}`,
/// batch indexes from 1, each instance given back as it came.
pub async fn list_instances_batch(_app: &App, _caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: Body = request.json_body()?;
    if body.batch_strategy != AUTO_BATCH {
        return Err(ApiError::invalid("batch_strategy", format!("must be {AUTO_BATCH} (the only strategy)")));
    }
    limits::BATCH_TARGETS
        .check(body.target_instances.len(), "instances")
        .map_err(|p| ApiError::invalid("target_instances", p))?;
    let mut seen = std::collections::HashSet::new();
    for (n, instance) in body.target_instances.iter().enumerate() {
        let field = format!("target_instances[{n}].resource_id");
        let id = instance
            .get("resource_id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ApiError::invalid(&field, "is required"))?;
        limits::RESOURCE_ID.check(id).map_err(|p| ApiError::invalid(&field, p))?;
        if !seen.insert(id.to_owned()) {
            return Err(ApiError::invalid(&field, format!("{id} is given twice")));
        }
    }
    let rows: Vec<Value> = batches::split(body.target_instances)
        .into_iter()
        .enumerate()
        .map(|(n, instances)| json!({ "batch_index": n + 1, "target_instances": instances }))
        .collect();
    ApiResponse::data(rows)
}
