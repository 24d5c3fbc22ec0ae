//! `GET /v1/schedule/task/history` (SDK `list_scheduled_task_history`) →
//! `{"count", "next_maker", "scheduled_task_history_list"}`.

use serde_json::json;

use super::view;
use crate::app::App;
use crate::domain::schedule::TaskRun;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::ports::Order;
use crate::repositories::listing::Verdict;
use crate::repositories::{jobs, schedules};

/// With `task_id`, one task's runs (a range of its runs); without, every
/// task's (an index of the tenant's runs); in due order, newest first unless
/// `sort_dir=asc`. A run's status is its ticket's (one read per row shown).
/// Filters: `status` and the started/finished time ranges.
pub async fn history(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let task_id = request.query_text("task_id", limits::TASK_ID)?;
    let status = request.query_text("status", limits::TASKS_FILTER_TEXT)?;
    let time = |name: &str| request.query_number(name, limits::TASK_TIMESTAMP);
    let (started_from, started_to) = (time("started_start_time")?, time("started_end_time")?);
    let (finished_from, finished_to) = (time("finished_start_time")?, time("finished_end_time")?);
    let limit = request.query_number("limit", limits::TASKS_PAGE)?.map_or(limits::TASKS_PAGE_DEFAULT, |l| l as usize);
    let order = match request.query_text("sort_dir", limits::TASKS_FILTER_TEXT)?.as_deref() {
        None | Some("desc") | Some("DESC") => Order::Descending,
        Some("asc") | Some("ASC") => Order::Ascending,
        Some(other) => return Err(ApiError::invalid("sort_dir", format!("must be asc or desc, got {other:?}"))),
    };
    let marker = request.query_text("marker", limits::TASKS_MARKER)?;
    let store = app.store.as_ref();
    let project = &caller.project_id;
    let by_start = |run: &TaskRun| {
        if started_from.is_some_and(|t| run.started_time < t) || started_to.is_some_and(|t| run.started_time > t) {
            Verdict::Skip
        } else {
            Verdict::Keep
        }
    };
    let filtered = started_from.is_some() || started_to.is_some();
    let (runs, next) = match &task_id {
        Some(task) => {
            // A marker of a task's history is a run's sort key in the tenant partition.
            if marker.as_deref().is_some_and(|m| !m.starts_with(&format!("SCHEDRUN#{task}#"))) {
                return Err(ApiError::invalid("marker", "is not a marker of this task's history"));
            }
            let (runs, next) = schedules::runs_of_task(store, project, task, marker.as_deref(), limit, order).await?;
            (runs.into_iter().filter(|r| matches!(by_start(r), Verdict::Keep)).collect::<Vec<_>>(), next)
        }
        None => {
            if marker.as_deref().is_some_and(|m| m.starts_with("SCHEDRUN#")) {
                return Err(ApiError::invalid("marker", "is a marker of one task's history; pass its task_id"));
            }
            let page = schedules::runs(store, project, marker.as_deref(), limit, order, filtered, by_start).await?;
            (page.rows, page.next)
        }
    };
    let mut rows = Vec::with_capacity(runs.len());
    for run in &runs {
        let ticket = match &run.execution_id {
            Some(uuid) => jobs::get_order(store, project, uuid).await?.map(|v| v.value),
            None => None,
        };
        let shown = view::run(run, ticket.as_ref());
        let finished = shown["finished_time"].as_i64();
        let outside = |from: Option<i64>, to: Option<i64>| {
            (from.is_some() || to.is_some())
                && !finished.is_some_and(|f| from.is_none_or(|t| f >= t) && to.is_none_or(|t| f <= t))
        };
        if status.as_deref().is_some_and(|s| shown["status"] != s) || outside(finished_from, finished_to) {
            continue;
        }
        rows.push(shown);
    }
    let count = schedules::run_total(store, project, task_id.as_deref()).await?;
    Ok(ApiResponse::json(
        http::StatusCode::OK,
        json!({ "count": count, "next_maker": next, "scheduled_task_history_list": rows }),
    ))
}
