//! `/v1/job/script/orders`: script tickets (spec 4.3).

mod views;

pub use views::redact;

use serde::Deserialize;

use super::retry::{landed, until_written};
use crate::app::App;
use crate::clock::now_ms;
use crate::domain::job::order::{Effects, InstanceStatus, OperationError, OperationType, Order, OrderStatus};
use crate::domain::tenant::Caller;
use crate::engine;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::repositories::jobs;
use crate::repositories::Versioned;

const EXECUTE_UUID: &str = "execute_uuid";
const MAX_LIMIT: usize = 100;

async fn load(app: &App, caller: &Caller, request: &ApiRequest) -> Result<Versioned<Order>, ApiError> {
    let execute_uuid = request.path_param(EXECUTE_UUID)?;
    jobs::get_order(app.store.as_ref(), &caller.project_id, execute_uuid)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("ticket {execute_uuid} does not exist")))
}

/// `GET /v1/job/script/orders/{execute_uuid}`.
pub async fn info(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let order = load(app, caller, &request).await?.value;
    ApiResponse::data(views::OrderInfo::new(&order, now_ms()))
}

/// `GET /v1/job/script/orders/{execute_uuid}/batches` → `{"data": [batches]}`.
pub async fn batches(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let order = load(app, caller, &request).await?.value;
    ApiResponse::data(views::batch_list(&order))
}

/// `GET /v1/job/script/orders/{execute_uuid}/statistics`.
pub async fn statistics(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let order = load(app, caller, &request).await?.value;
    ApiResponse::data(views::statistics(&order))
}

/// `GET /v1/job/script/orders/{execute_uuid}/batches/{batch_index}?status=&limit=&marker=`:
/// the batch's instances in id order after `marker`, with their logs.
pub async fn batch(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let index: u32 = request
        .path_param("batch_index")?
        .parse()
        .map_err(|_| ApiError::invalid("batch_index", "must be a whole number"))?;
    let status: Option<InstanceStatus> = request.query_enum("status")?;
    let limit = request.limit(MAX_LIMIT, true)?;
    let marker = request.query_param::<u64>("marker")?.unwrap_or(0);
    let order = load(app, caller, &request).await?.value;
    if index == 0 || index as usize > order.batches.len() {
        return Err(ApiError::NotFound(format!("batch {index} is not in ticket {}", order.execute_uuid)));
    }
    let in_batch: Vec<_> = order.instances.iter().filter(|i| i.batch_index == index).collect();
    let now = now_ms();
    let mut shown = Vec::new();
    for instance in in_batch.iter().filter(|i| status.is_none_or(|s| i.status == s) && i.id > marker).take(limit) {
        let log = if instance.attempt > 0 {
            jobs::get_log(app.store.as_ref(), &caller.project_id, &order.execute_uuid, instance.id, instance.attempt)
                .await?
        } else {
            String::new()
        };
        let agent = jobs::get_agent(app.store.as_ref(), &caller.project_id, instance.target.agent_sn.as_str()).await?;
        shown.push(views::instance(&order, instance, &log, agent.as_ref().map(|a| a.state(now)), now));
    }
    ApiResponse::data(serde_json::json!({
        "batch_index": index,
        "total_instances": in_batch.len(),
        "execute_instances": shown,
    }))
}

/// `GET /v1/job/script/orders?limit=&marker=&start_time=&end_time=&creator=&status=`,
/// newest first; `marker` is the order_id of the last row of the previous page.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let limit = request.limit(MAX_LIMIT, false)?;
    let marker = request.query_param::<u64>("marker")?;
    let start = request.query_param::<i64>("start_time")?;
    let end = request.query_param::<i64>("end_time")?;
    let creator = request.query_text("creator", 64)?;
    let status: Option<OrderStatus> = request.query_enum("status")?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(ApiError::invalid("start_time", "must not be after end_time"));
        }
    }
    let mut orders = jobs::list_orders(app.store.as_ref(), &caller.project_id).await?;
    orders.reverse();
    let matching: Vec<&Order> = orders
        .iter()
        .filter(|o| start.is_none_or(|s| o.gmt_created >= s))
        .filter(|o| end.is_none_or(|e| o.gmt_created <= e))
        .filter(|o| creator.as_deref().is_none_or(|c| o.creator == c))
        .filter(|o| status.is_none_or(|s| o.status == s))
        .collect();
    let now = now_ms();
    let page: Vec<_> = matching
        .iter()
        .filter(|o| marker.is_none_or(|m| o.order_id < m))
        .take(limit)
        .map(|o| views::list_row(o, now))
        .collect();
    ApiResponse::data(serde_json::json!({ "total": matching.len(), "data": page }))
}

/// The body of `PUT .../operation` (JobScriptOrderOperationBody). The spec's
/// example sends `batch_index` as a string, so both forms are read.
#[derive(Deserialize)]
struct OperationBody {
    operation_type: OperationType,
    #[serde(default, deserialize_with = "number_or_text")]
    batch_index: Option<u64>,
    #[serde(default, deserialize_with = "number_or_text")]
    instance_id: Option<u64>,
}

fn number_or_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }
    match Option::<Raw>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Raw::Number(n)) => Ok(Some(n)),
        Some(Raw::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("must be a whole number, got {t:?}"))),
    }
}

/// `PUT /v1/job/script/orders/{execute_uuid}/operation` → `{"data": execute_uuid}`.
pub async fn operate(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: OperationBody = request.json_body()?;
    let batch_index = match body.batch_index {
        Some(b) if !(1..=20).contains(&b) => {
            return Err(ApiError::invalid("batch_index", format!("must be 1 to 20, got {b}")))
        }
        other => other.map(|b| b as u32),
    };
    if body.instance_id == Some(0) {
        return Err(ApiError::invalid("instance_id", "must be at least 1"));
    }
    let execute_uuid = request.path_param(EXECUTE_UUID)?;
    until_written(&format!("ticket {execute_uuid}"), || async {
        let current = load(app, caller, &request).await?;
        let mut order = current.value;
        let withdrawn =
            order.operate(body.operation_type, batch_index, body.instance_id, now_ms()).map_err(|e| match e {
                OperationError::Missing(field) => ApiError::invalid(field, "is required for this operation_type"),
                OperationError::NotFound(m) => ApiError::NotFound(m),
                OperationError::NotAllowed(m) => ApiError::Conflict(m),
            })?;
        let effects = Effects { withdraw: withdrawn, ..Default::default() };
        landed(jobs::save_order(app.store.as_ref(), &order, current.version, &effects).await, ())
    })
    .await?;
    engine::kick(app.queue.as_ref(), &caller.project_id, execute_uuid).await?;
    ApiResponse::data(execute_uuid)
}
