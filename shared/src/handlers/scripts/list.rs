use serde::Serialize;

use super::views::ScriptListRow;
use crate::app::App;
use crate::domain::script::{RiskLevel, Script, ScriptType};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::scripts;

/// The list query (spec table 4-10), checked.
struct ListQuery {
    limit: usize,
    marker: u64,
    name_like: Option<String>,
    creator: Option<String>,
    risk_level: Option<RiskLevel>,
    script_type: Option<ScriptType>,
    enterprise_project_id: Option<String>,
}

impl ListQuery {
    fn parse(request: &ApiRequest) -> Result<Self, ApiError> {
        Ok(ListQuery {
            limit: request.limit(limits::SCRIPTS_PAGE, true)?,
            marker: request.query_number("marker", limits::SCRIPTS_MARKER)?.unwrap_or(0) as u64,
            name_like: request.query_text("name_like", limits::NAME_LIKE)?,
            creator: request.query_text("creator", limits::CREATOR_FILTER)?,
            risk_level: request.query_enum("risk_level")?,
            script_type: request.query_enum("type")?,
            enterprise_project_id: request.query_text("enterprise_project_id", limits::ENTERPRISE_PROJECT_ID)?,
        })
    }

    fn matches(&self, script: &Script) -> bool {
        // Fuzzy as users expect it: a case-insensitive substring.
        self.name_like.as_deref().is_none_or(|part| script.name.as_str().to_lowercase().contains(&part.to_lowercase()))
            && self.creator.as_deref().is_none_or(|c| script.creator == c)
            && self.risk_level.is_none_or(|r| script.properties.risk_level == r)
            && self.script_type.is_none_or(|t| script.script_type == t)
            && self.enterprise_project_id.as_deref().is_none_or(|e| script.enterprise_project_id == e)
    }
}

#[derive(Serialize)]
struct ScriptListPage<'a> {
    /// All scripts that match the filters, not only this page's.
    total: usize,
    data: Vec<ScriptListRow<'a>>,
}

/// `GET /v1/job/scripts?limit=&marker=&...` → `{"data": {"total", "data": [...]}}`,
/// in id order, starting after the script whose id is `marker`.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let query = ListQuery::parse(&request)?;
    let all = scripts::list(app.store.as_ref(), &caller.project_id).await?;
    let matching: Vec<&Script> = all.iter().filter(|s| query.matches(s)).collect();
    let page =
        matching.iter().filter(|s| s.id > query.marker).take(query.limit).map(|s| ScriptListRow::from(*s)).collect();
    ApiResponse::data(ScriptListPage { total: matching.len(), data: page })
}
