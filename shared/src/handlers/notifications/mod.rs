//! `/v1/notifications` (ours): the delivery log. Each notification with each
//! of its deliveries: channel, recipient (masked), status, attempts, last error.

mod view;

use crate::app::App;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::integrations::{own_page, page_response};
use crate::http::{ApiRequest, ApiResponse};
use crate::repositories::notifications;

/// `GET /v1/notifications?limit=&marker=` → a page of the tenant's
/// notifications, newest first, with `count` of all of them.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (limit, marker) = own_page(&request)?;
    let store = app.store.as_ref();
    let page = notifications::list(store, &caller.project_id, marker.as_deref(), limit).await?;
    let count = notifications::count(store, &caller.project_id).await?;
    Ok(page_response(page.rows.iter().map(view::notification).collect(), count, page.next))
}

/// `GET /v1/notifications/{notification_id}` → `{"data": notification}`.
pub async fn get(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = request.path_param("notification_id")?;
    let found = notifications::get(app.store.as_ref(), &caller.project_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("notification {id} does not exist")))?;
    ApiResponse::data(view::notification(&found.value))
}
