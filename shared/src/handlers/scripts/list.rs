use serde::Serialize;

use super::views::ScriptListRow;
use crate::app::App;
use crate::domain::inventory::tags::{TagFilter, TagKind};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::scripts::{self, ScriptFilter};
use crate::repositories::tags;

/// The list query (spec table 4-10), checked.
struct ListQuery {
    limit: usize,
    marker: u64,
    filter: ScriptFilter,
    /// Ours (the SDK's ListScriptsRequest has none): `tag=key.value` or `tag_key=key`, as `list_resources` has them.
    tag: Option<TagFilter>,
}

impl ListQuery {
    fn parse(request: &ApiRequest) -> Result<Self, ApiError> {
        Ok(ListQuery {
            limit: request.limit(limits::SCRIPTS_PAGE, true)?,
            marker: request.query_number("marker", limits::SCRIPTS_MARKER)?.unwrap_or(0) as u64,
            filter: ScriptFilter {
                name_like: request.query_text("name_like", limits::NAME_LIKE)?,
                creator: request.query_text("creator", limits::CREATOR_FILTER)?,
                risk_level: request.query_enum("risk_level")?,
                script_type: request.query_enum("type")?,
                enterprise_project_id: request.query_text("enterprise_project_id", limits::ENTERPRISE_PROJECT_ID)?,
            },
            tag: TagFilter::from_query(request.query_param("tag")?, request.query_param("tag_key")?)?,
        })
    }
}

#[derive(Serialize)]
struct ScriptListPage<'a> {
    /// All scripts that match the filters, not only this page's (README, "Access patterns").
    total: usize,
    data: Vec<ScriptListRow<'a>>,
}

/// `GET /v1/job/scripts?limit=&marker=&...` → `{"data": {"total", "data": [...]}}`,
/// in id order, starting after the script whose id is `marker`.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let query = ListQuery::parse(&request)?;
    let store = app.store.as_ref();
    let (page, total) = match &query.tag {
        None => (
            scripts::list_page(store, &caller.project_id, &query.filter, query.marker, query.limit).await?,
            scripts::count(store, &caller.project_id, &query.filter).await?,
        ),
        Some(tag) => {
            let page =
                scripts::list_tagged_page(store, &caller.project_id, tag, &query.filter, query.marker, query.limit)
                    .await?;
            // The scripts with the tag (the catalogue's count): exact with no
            // other filter, else an upper bound.
            let tagged = tags::count(store, &caller.project_id, TagKind::Script, tag).await? as usize;
            let total = if scripts::is_unfiltered(&query.filter) {
                tagged
            } else {
                tagged.min(scripts::count(store, &caller.project_id, &query.filter).await?)
            };
            (page, total)
        }
    };
    ApiResponse::data(ScriptListPage { total, data: page.iter().map(ScriptListRow::from).collect() })
}
