//! `GET /v1/schedule/task/history` (SDK `list_scheduled_task_history`) →
//! `{"count", "next_maker", "scheduled_task_history_list"}`.

use serde_json::{json, Value};

use super::view;
use crate::app::App;
use crate::domain::schedule::TaskRun;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::ports::Order;
use crate::repositories::{jobs, schedules};

/// The history's filters: a run's own start time, and its ticket's status and end.
struct HistoryFilter {
    status: Option<String>,
    started: (Option<i64>, Option<i64>),
    finished: (Option<i64>, Option<i64>),
}

fn within((from, to): (Option<i64>, Option<i64>), at: Option<i64>) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    at.is_some_and(|t| from.is_none_or(|f| t >= f) && to.is_none_or(|u| t <= u))
}

impl HistoryFilter {
    fn from(request: &ApiRequest) -> Result<Self, ApiError> {
        let time = |name: &str| request.query_number(name, limits::TASK_TIMESTAMP);
        Ok(HistoryFilter {
            status: request.query_text("status", limits::TASKS_FILTER_TEXT)?,
            started: (time("started_start_time")?, time("started_end_time")?),
            finished: (time("finished_start_time")?, time("finished_end_time")?),
        })
    }

    fn any(&self) -> bool {
        self.status.is_some() || self.started != (None, None) || self.finished != (None, None)
    }

    fn keeps(&self, run: &TaskRun, shown: &Value) -> bool {
        within(self.started, Some(run.started_time))
            && within(self.finished, shown["finished_time"].as_i64())
            && self.status.as_deref().is_none_or(|s| shown["status"] == s)
    }
}

/// With `task_id`, one task's runs (a range of its runs); without, every
/// task's (an index of the tenant's runs); by due time, newest first unless
/// `sort_dir=asc`. A run's status is its ticket's (one read per run looked
/// at). Runs the filters discard are read past in chunks until the page is
/// full or the range ends, so a short page means the end.
pub async fn history(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let task_id = request.query_text("task_id", limits::TASK_ID)?;
    let filter = HistoryFilter::from(&request)?;
    let limit = request.query_number("limit", limits::TASKS_PAGE)?.map_or(limits::TASKS_PAGE_DEFAULT, |l| l as usize);
    let order = match request.query_text("sort_dir", limits::TASKS_FILTER_TEXT)?.as_deref() {
        None | Some("desc") | Some("DESC") => Order::Descending,
        Some("asc") | Some("ASC") => Order::Ascending,
        Some(other) => return Err(ApiError::invalid("sort_dir", format!("must be asc or desc, got {other:?}"))),
    };
    let marker = request.query_text("marker", limits::TASKS_MARKER)?;
    // A task's history resumes after one of its run keys, the tenant's after an index key.
    let of_task = |m: &str| task_id.as_deref().is_some_and(|t| m.starts_with(&format!("SCHEDRUN#{t}#")));
    if marker.as_deref().is_some_and(|m| of_task(m) != task_id.is_some()) {
        return Err(ApiError::invalid("marker", "is not a marker of this history"));
    }
    let store = app.store.as_ref();
    let project = &caller.project_id;
    let mut rows = Vec::with_capacity(limit);
    let mut after = marker;
    let next = loop {
        let chunk =
            if filter.any() { (limit - rows.len()).max(limits::LIST_WALK_MIN_CHUNK) } else { limit - rows.len() };
        let (runs, last) =
            schedules::runs_page(store, project, task_id.as_deref(), after.as_deref(), chunk, order).await?;
        let mut full_at = None;
        for (n, (run, key)) in runs.iter().enumerate() {
            let ticket = match &run.execution_id {
                Some(uuid) => jobs::get_order(store, project, uuid).await?.map(|v| v.value),
                None => None,
            };
            let shown = view::run(run, ticket.as_ref());
            if filter.keeps(run, &shown) {
                rows.push(shown);
                if rows.len() == limit {
                    full_at = Some((n, key.clone()));
                    break;
                }
            }
        }
        match (full_at, last) {
            // Full: more may follow unless this was the range's very last run.
            (Some((n, key)), last) => break (last.is_some() || n + 1 < runs.len()).then_some(key),
            (None, Some(last)) => after = Some(last),
            (None, None) => break None,
        }
    };
    let count = schedules::run_total(store, project, task_id.as_deref()).await?;
    Ok(ApiResponse::json(
        http::StatusCode::OK,
        json!({ "count": count, "next_maker": next, "scheduled_task_history_list": rows }),
    ))
}
