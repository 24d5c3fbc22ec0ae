//! `/v1/schedule/task*` (SDK `create_scheduled_task`, `list_scheduled_task`,
//! `show_scheduled_task`, `update_scheduled_task`, `delete_scheduled_task`,
//! `enable_scheduled_task`, `disable_scheduled_task`,
//! `list_scheduled_task_history`). The sweep that starts the runs is
//! [`crate::scheduler`].

mod history;
mod view;

pub use history::history;

use serde_json::json;

use crate::app::App;
use crate::domain::schedule::{AssociatedType, Policy, RunStatus, ScheduledTask, TaskRequest, TaskType, Timing};
use crate::domain::script::RiskLevel;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::orders;
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::limits;
use crate::ports::StoreError;
use crate::repositories::listing::{self, contains_ignoring_case, Verdict};
use crate::repositories::{schedules, Versioned};
use crate::scheduler::{self, Defaults};

const TASK_ID: &str = "task_id";

fn refused((field, problem): (String, String)) -> ApiError {
    ApiError::invalid(&field, problem)
}

fn not_found(task_id: &str) -> ApiError {
    ApiError::NotFound(format!("scheduled task {task_id} does not exist"))
}

fn task_id(request: &ApiRequest) -> Result<&str, ApiError> {
    let id = request.path_param(TASK_ID)?;
    limits::TASK_ID.check(id).map_err(|e| ApiError::invalid(TASK_ID, e))?;
    Ok(id)
}

/// Checks a create or update body against the tenant's script and agents:
/// the trigger's timing and the names of the script's sensitive parameters.
async fn checked(app: &App, caller: &Caller, request: &TaskRequest) -> Result<(Timing, Vec<String>), ApiError> {
    let (timing, execution) = request.check().map_err(refused)?;
    let script = scheduler::task_script(app, &caller.project_id, request, &execution, Defaults::Masked)
        .await?
        .map_err(refused)?;
    let sensitive =
        script.script_params.iter().filter(|p| p.sensitive).map(|p| p.param_name.as_str().to_owned()).collect();
    orders::check_agents(app, caller, &execution).await.map_err(|e| match e {
        ApiError::InvalidParameter(message) => {
            ApiError::InvalidParameter(message.replace("execute_batches", "target_instances"))
        }
        other => other,
    })?;
    Ok((timing, sensitive))
}

/// The first due time after `now`, required of an enabled task.
fn first_due(timing: &Timing, now: i64) -> Result<i64, ApiError> {
    timing.next_after(now).ok_or_else(|| {
        ApiError::invalid("trigger_time", "has no due time after now (a past single time, or a close time passed)")
    })
}

/// `POST /v1/schedule/task` → `{"data": task_id}`; the task is enabled.
pub async fn create(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: TaskRequest = request.json_body()?;
    let (timing, sensitive_params) = checked(app, caller, &body).await?;
    let now = app.clock.now_ms();
    let task = ScheduledTask {
        id: ids::scheduled_task_id(now),
        project_id: caller.project_id.clone(),
        next_due: Some(first_due(&timing, now)?),
        spec: body,
        enabled: true,
        created_by: caller.user_id.clone(),
        created_user_name: caller.user_name.clone(),
        update_by: caller.user_id.clone(),
        created_time: now,
        modified_time: now,
        last_execution_time: None,
        last_execution_status: None,
        execution_count: 0,
        sensitive_params,
    };
    schedules::insert(app.store.as_ref(), &app.secrets, &task).await?;
    ApiResponse::data(&task.id)
}

/// `GET /v1/schedule/task/{task_id}` → the task (ShowScheduledTaskResponse, no envelope).
pub async fn show(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = task_id(&request)?;
    let task = schedules::get_masked(app.store.as_ref(), &caller.project_id, id).await?.ok_or_else(|| not_found(id))?;
    Ok(ApiResponse::json(http::StatusCode::OK, view::task(&task.value)))
}

/// Reads a task, changes it with `change` and saves it on its version,
/// starting over when another write came in between.
async fn change_task(
    app: &App,
    caller: &Caller,
    id: &str,
    change: impl Fn(&ScheduledTask) -> Result<ScheduledTask, ApiError>,
) -> Result<ScheduledTask, ApiError> {
    const ATTEMPTS: usize = 5;
    for _ in 0..ATTEMPTS {
        let Versioned { value: before, version } =
            schedules::get(app.store.as_ref(), &app.secrets, &caller.project_id, id)
                .await?
                .ok_or_else(|| not_found(id))?;
        let mut after = change(&before)?;
        after.update_by = caller.user_id.clone();
        after.modified_time = app.clock.now_ms();
        match schedules::save(app.store.as_ref(), &app.secrets, &before, version, &after).await {
            Ok(()) => return Ok(after),
            Err(StoreError::ConditionFailed) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Conflict(format!("scheduled task {id} kept changing; try again")))
}

/// `PUT /v1/schedule/task/{task_id}` → the task as saved. Its next due time
/// follows the new trigger; history and counts stay.
pub async fn update(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = task_id(&request)?.to_owned();
    let body: TaskRequest = request.json_body()?;
    let (timing, sensitive_params) = checked(app, caller, &body).await?;
    let now = app.clock.now_ms();
    let next_due = first_due(&timing, now)?;
    let saved = change_task(app, caller, &id, |before| {
        Ok(ScheduledTask {
            spec: body.clone(),
            sensitive_params: sensitive_params.clone(),
            next_due: before.enabled.then_some(next_due),
            ..before.clone()
        })
    })
    .await?;
    let shown = schedules::get_masked(app.store.as_ref(), &caller.project_id, &saved.id)
        .await?
        .ok_or_else(|| not_found(&id))?;
    Ok(ApiResponse::json(http::StatusCode::OK, view::task(&shown.value)))
}

/// `POST /v1/schedule/task/{task_id}/enable` → `{"data": task_id}`: due again
/// from now on (due times passed while disabled are not run).
pub async fn enable(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = task_id(&request)?.to_owned();
    let now = app.clock.now_ms();
    change_task(app, caller, &id, |before| {
        let timing = before.spec.trigger_time.check().map_err(refused)?;
        Ok(ScheduledTask { enabled: true, next_due: Some(first_due(&timing, now)?), ..before.clone() })
    })
    .await?;
    ApiResponse::data(&id)
}

/// `POST /v1/schedule/task/{task_id}/disable` → `{"data": task_id}`: out of the due list.
pub async fn disable(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = task_id(&request)?.to_owned();
    change_task(app, caller, &id, |before| Ok(ScheduledTask { enabled: false, next_due: None, ..before.clone() }))
        .await?;
    ApiResponse::data(&id)
}

/// `DELETE /v1/schedule/task/{task_id}` → `{"data": task_id}`; its history stays.
pub async fn delete(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = task_id(&request)?.to_owned();
    let store = app.store.as_ref();
    let task = schedules::get_masked(store, &caller.project_id, &id).await?.ok_or_else(|| not_found(&id))?;
    match schedules::delete(store, &task.value, task.version).await {
        Ok(()) => ApiResponse::data(&id),
        Err(StoreError::ConditionFailed) => {
            Err(ApiError::Conflict(format!("scheduled task {id} changed meanwhile; try again")))
        }
        Err(other) => Err(other.into()),
    }
}

/// The list's filters (ListScheduledTaskRequest).
struct ListFilter {
    name: Option<String>,
    task_id: Option<String>,
    scheduled_type: Option<Policy>,
    task_type: Option<TaskType>,
    risk_level: Option<RiskLevel>,
    associated_task_type: Option<AssociatedType>,
    created_by: Option<String>,
    last_execution_status: Option<RunStatus>,
    last_execution_start_time: Option<i64>,
    last_execution_end_time: Option<i64>,
}

impl ListFilter {
    fn from(request: &ApiRequest) -> Result<Self, ApiError> {
        let text = |name: &str| request.query_text(name, limits::TASKS_FILTER_TEXT);
        let time = |name: &str| request.query_number(name, limits::TASK_TIMESTAMP);
        Ok(ListFilter {
            task_type: request.query_enum("task_type")?,
            name: text("task_name")?,
            task_id: text("task_id")?,
            scheduled_type: request.query_enum("scheduled_type")?,
            risk_level: request.query_enum("risk_level")?,
            associated_task_type: request.query_enum("associated_task_type")?,
            created_by: text("created_by")?,
            last_execution_status: request.query_enum("last_execution_status")?,
            last_execution_start_time: time("last_execution_start_time")?,
            last_execution_end_time: time("last_execution_end_time")?,
        })
    }

    fn any(&self) -> bool {
        self.name.is_some()
            || self.task_id.is_some()
            || self.scheduled_type.is_some()
            || self.task_type.is_some()
            || self.risk_level.is_some()
            || self.associated_task_type.is_some()
            || self.created_by.is_some()
            || self.last_execution_status.is_some()
            || self.last_execution_start_time.is_some()
            || self.last_execution_end_time.is_some()
    }

    fn judge(&self, task: &ScheduledTask) -> Verdict {
        let last = task.last_execution_time;
        let keep = self.name.as_deref().is_none_or(|n| contains_ignoring_case(task.spec.name.as_str(), n))
            && self.task_id.as_deref().is_none_or(|id| task.id == id)
            && self.scheduled_type.is_none_or(|p| task.scheduled_type() == p)
            && self.task_type.is_none_or(|t| task.spec.task_type == t)
            && self.risk_level.is_none_or(|r| task.spec.risk_level == r)
            && self.associated_task_type.is_none_or(|a| task.spec.associated_task_type == a)
            && self.created_by.as_deref().is_none_or(|c| task.created_by == c)
            && self.last_execution_status.is_none_or(|s| task.last_execution_status == Some(s))
            && self.last_execution_start_time.is_none_or(|t| last.is_some_and(|l| l >= t))
            && self.last_execution_end_time.is_none_or(|t| last.is_some_and(|l| l <= t));
        if keep {
            Verdict::Keep
        } else {
            Verdict::Skip
        }
    }
}

/// A list marker: an index sort key this service handed out (`{13 digits}#{id}`).
fn marker(request: &ApiRequest) -> Result<Option<String>, ApiError> {
    let marker = request.query_text("marker", limits::TASKS_MARKER)?;
    if let Some(m) = &marker {
        let well_formed = m.split_once('#').is_some_and(|(time, id)| {
            time.len() == 13
                && time.bytes().all(|b| b.is_ascii_digit())
                && id.chars().all(|c| c.is_ascii_alphanumeric())
        });
        if !well_formed {
            return Err(ApiError::invalid("marker", "is not a marker this list returned"));
        }
    }
    Ok(marker)
}

/// `GET /v1/schedule/task` → `{"count", "next_maker", "scheduled_tasks"}`,
/// newest first. `offset` skips rows (read and discarded, at most
/// [`limits::TASKS_OFFSET`]); `marker` continues after a page's `next_maker`.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let filter = ListFilter::from(&request)?;
    let limit = request.query_number("limit", limits::TASKS_PAGE)?.map_or(limits::TASKS_PAGE_DEFAULT, |l| l as usize);
    let offset = request.query_number("offset", limits::TASKS_OFFSET)?.unwrap_or(0) as usize;
    let after = marker(&request)?;
    let store = app.store.as_ref();
    let project = &caller.project_id;
    let page =
        schedules::list(store, project, after.as_deref(), offset + limit, filter.any(), |t| filter.judge(t)).await?;
    let rows: Vec<_> = page.rows.iter().skip(offset).map(view::basic).collect();
    let total = schedules::total(store, project).await?;
    let count = if filter.any() {
        listing::bounded_total(schedules::count(store, project, |t| filter.judge(t)).await?, total)
    } else {
        total.max(0) as usize
    };
    Ok(ApiResponse::json(
        http::StatusCode::OK,
        json!({ "count": count, "next_maker": page.next, "scheduled_tasks": rows }),
    ))
}
