//! The compliance reports (spec 4.5.1 and 4.5.2): `GET /v1/patch/instance/compliant`
//! and `GET /v1/patch/instance/compliant/{instance_compliant_id}`, answered
//! unwrapped (`{"count", …}`, no `data` envelope), as the reference shows them.

mod query;
mod views;

use http::StatusCode;
use serde_json::json;

use crate::app::App;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::repositories::patch_reports;

/// `GET /v1/patch/instance/compliant?…` → `{"count", "instance_compliant": [...]}`.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (filter, paging) = query::reports(&request)?;
    let page = patch_reports::reports_page(app.store.as_ref(), &caller.project_id, &filter, paging).await?;
    let rows: Vec<_> = page.reports.iter().map(views::report).collect();
    Ok(ApiResponse::json(StatusCode::OK, json!({ "count": page.count, "instance_compliant": rows })))
}

/// `GET /v1/patch/instance/compliant/{instance_compliant_id}?…` →
/// `{"count", "compliance_items": [...]}`; an id the tenant has no report of is a 404.
pub async fn items(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = request.path_param("instance_compliant_id")?.to_owned();
    let (filter, paging) = query::items(&request)?;
    let store = app.store.as_ref();
    let report = patch_reports::get(store, &caller.project_id, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("compliance report {id} does not exist")))?;
    let page = patch_reports::items_page(store, &caller.project_id, &report, &filter, paging).await?;
    let rows: Vec<_> = page.items.iter().map(|item| views::item(&report.report, item)).collect();
    Ok(ApiResponse::json(StatusCode::OK, json!({ "count": page.count, "compliance_items": rows })))
}
