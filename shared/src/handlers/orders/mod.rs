//! `/v1/job/script/orders`: script tickets (spec 4.3).

mod start;
mod views;

pub(crate) use start::{check_agents, start};
pub use views::redact;

use super::retry::{landed, until_written};
use crate::app::App;
use crate::clock::now_ms;
use crate::domain::job::operation::OperationRequest;
use crate::domain::job::order::{Effects, InstanceStatus, OperationError, Order, OrderStatus};
use crate::domain::tenant::Caller;
use crate::engine;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::jobs;
use crate::repositories::Versioned;

const EXECUTE_UUID: &str = "execute_uuid";

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
    let index: i64 = request
        .path_param("batch_index")?
        .parse()
        .map_err(|_| ApiError::invalid("batch_index", "must be a whole number"))?;
    limits::BATCH_INDEX.check(index).map_err(|problem| ApiError::invalid("batch_index", problem))?;
    let index = index as u32;
    let status: Option<InstanceStatus> = request.query_enum("status")?;
    let limit = request.limit(limits::BATCH_PAGE, true)?;
    let marker = request.query_number("marker", limits::BATCH_MARKER)?.unwrap_or(0) as u64;
    let order = load(app, caller, &request).await?.value;
    if index as usize > order.batches.len() {
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
        shown.push(views::instance(&order, instance, &log, agent.as_ref(), now));
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
    let limit = request.limit(limits::ORDERS_PAGE, false)?;
    let marker = request.query_number("marker", limits::ORDERS_MARKER)?.map(|m| m as u64);
    let start = request.query_number("start_time", limits::ORDERS_TIME)?;
    let end = request.query_number("end_time", limits::ORDERS_TIME)?;
    let creator = request.query_text("creator", limits::CREATOR_FILTER)?;
    let status: Option<OrderStatus> = request.query_enum("status")?;
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(ApiError::invalid("start_time", "must not be after end_time"));
        }
    }
    let filter = jobs::OrderFilter { creator, status, start_time: start, end_time: end };
    let store = app.store.as_ref();
    let orders = jobs::list_orders_page(store, &caller.project_id, &filter, marker, limit).await?;
    let total = jobs::count_orders(store, &caller.project_id, &filter).await?;
    let now = now_ms();
    let page: Vec<_> = orders.iter().map(|o| views::list_row(o, now)).collect();
    ApiResponse::data(serde_json::json!({ "total": total, "data": page }))
}

/// `PUT /v1/job/script/orders/{execute_uuid}/operation` → `{"data": execute_uuid}`.
pub async fn operate(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: OperationRequest = request.json_body()?;
    let execute_uuid = request.path_param(EXECUTE_UUID)?;
    until_written(&format!("ticket {execute_uuid}"), || async {
        let current = load(app, caller, &request).await?;
        let was = current.value.status;
        let mut order = current.value;
        let withdrawn =
            order.operate(body.operation_type, body.batch_index, body.instance_id, now_ms()).map_err(|e| match e {
                OperationError::Missing(field) => ApiError::invalid(field, "is required for this operation_type"),
                OperationError::NotFound(m) => ApiError::NotFound(m),
                OperationError::NotAllowed(m) => ApiError::Conflict(m),
            })?;
        let effects = Effects { withdraw: withdrawn, ..Default::default() };
        landed(jobs::save_order(app.store.as_ref(), &order, current.version, was, &effects).await, ())
    })
    .await?;
    engine::kick(app.queue.as_ref(), &caller.project_id, execute_uuid).await?;
    ApiResponse::data(execute_uuid)
}
