use serde::Serialize;

use super::named;
use super::views::{PublicScriptDetail, PublicScriptRow};
use crate::app::App;
use crate::domain::public_script::{self, PublicScriptFilter};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;

/// The list query (the SDK's ListPublicScriptsRequest), checked with the
/// tenant script list's limits; unlike there, `limit` is optional (the
/// reference: at most 100, no minimum or default given), 100 when absent.
struct ListQuery {
    limit: usize,
    marker: u64,
    filter: PublicScriptFilter,
}

impl ListQuery {
    fn parse(request: &ApiRequest) -> Result<Self, ApiError> {
        Ok(ListQuery {
            limit: request.limit(limits::SCRIPTS_PAGE, false)?,
            marker: request.query_number("marker", limits::SCRIPTS_MARKER)?.unwrap_or(0) as u64,
            filter: PublicScriptFilter {
                name: request.query_text("name", limits::SCRIPT_NAME)?,
                name_like: request.query_text("name_like", limits::NAME_LIKE)?,
                risk_level: request.query_enum("risk_level")?,
                script_type: request.query_enum("type")?,
            },
        })
    }
}

#[derive(Serialize)]
struct PublicScriptListPage {
    /// Every script that matches the filters, not only this page's.
    total: usize,
    data: Vec<PublicScriptRow<'static>>,
}

/// `GET /v1/job/public-scripts?limit=&marker=&name=&name_like=&risk_level=&type=`
/// → `{"data": {"total", "data": [...]}}`, in id order after the script whose id is `marker`.
pub async fn list(_app: &App, _caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let query = ListQuery::parse(&request)?;
    let page = public_script::page(&query.filter, query.marker, query.limit);
    ApiResponse::data(PublicScriptListPage {
        total: page.total,
        data: page.scripts.into_iter().map(PublicScriptRow::from).collect(),
    })
}

/// `GET /v1/job/public-scripts/{script_uuid}` → `{"data": PublicScriptDetailModel}`.
pub async fn get(_app: &App, _caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    ApiResponse::data(PublicScriptDetail::from(named(&request)?))
}
