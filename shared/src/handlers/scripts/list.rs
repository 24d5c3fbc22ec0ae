use serde::Serialize;

use super::views::ScriptListRow;
use crate::app::App;
use crate::domain::char_len;
use crate::domain::script::{parse_enum, RiskLevel, Script, ScriptType};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::repositories::scripts;

const MAX_LIMIT: u32 = 100;

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

fn bounded(request: &ApiRequest, name: &str, max: usize) -> Result<Option<String>, ApiError> {
    match request.query_param::<String>(name)? {
        Some(v) if v.is_empty() || char_len(&v) > max => {
            Err(ApiError::invalid(name, format!("must be 1 to {max} characters")))
        }
        other => Ok(other),
    }
}

fn enum_param<T: serde::de::DeserializeOwned>(request: &ApiRequest, name: &str) -> Result<Option<T>, ApiError> {
    request.query_param::<String>(name)?.map(|v| parse_enum(&v).map_err(|e| ApiError::invalid(name, e))).transpose()
}

impl ListQuery {
    fn parse(request: &ApiRequest) -> Result<Self, ApiError> {
        let limit = request.query_param::<u32>("limit")?.ok_or_else(|| ApiError::invalid("limit", "is required"))?;
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid("limit", format!("must be 1 to {MAX_LIMIT}, got {limit}")));
        }
        let marker = request.query_param::<u64>("marker")?.unwrap_or(0);
        if marker > i64::MAX as u64 {
            return Err(ApiError::invalid("marker", format!("must be at most {}", i64::MAX)));
        }
        Ok(ListQuery {
            limit: limit as usize,
            marker,
            name_like: bounded(request, "name_like", 32)?,
            creator: bounded(request, "creator", 64)?,
            risk_level: enum_param(request, "risk_level")?,
            script_type: enum_param(request, "type")?,
            enterprise_project_id: bounded(request, "enterprise_project_id", 64)?,
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
