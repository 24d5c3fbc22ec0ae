//! `GET /v1/alarm-mgmt/alarms` (ours, for the console): the tenant's alarms
//! across integrations, the most recently reported first, with filters
//! `status` (`alarming`|`resolved`), `importance` (`urgent`, `major`, `minor`,
//! `warn`, or our level names), `start_time`/`end_time` (when last reported,
//! ms), `resource_id` (the resource's id or name), `integration_id`, and
//! paging `limit`/`marker`.
//!
//! One index walk in the order returned: the tenant's partition, or the
//! integration's when one is named (a key, not a filter); `end_time` is where
//! the walk starts and `start_time` where it stops (keys, too). The other
//! filters discard rows while walking. `count` is a counter when the filters
//! are at most a state or an integration, else a bounded count.

use super::alarm_view;
use crate::app::App;
use crate::domain::alarm::manage::{level_of_importance, status_of_state};
use crate::domain::alarm::{Alarm, AlarmStatus};
use crate::domain::incident::AlarmLevel;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::integrations::{own_page, page_response};
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::ports::Order;
use crate::repositories::alarms;
use crate::repositories::listing::{bounded_total, Verdict, Walk};

/// The list's filters, checked.
struct Filters {
    status: Option<AlarmStatus>,
    level: Option<AlarmLevel>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    resource: Option<String>,
    integration_id: Option<String>,
}

impl Filters {
    fn of(request: &ApiRequest) -> Result<Filters, ApiError> {
        let status = request
            .query_text("status", limits::ALARM_LIST_FILTER)?
            .map(|s| status_of_state(&s).ok_or_else(|| ApiError::invalid("status", "must be alarming or resolved")))
            .transpose()?;
        let level = request
            .query_text("importance", limits::ALARM_LIST_FILTER)?
            .map(|s| {
                level_of_importance(&s)
                    .ok_or_else(|| ApiError::invalid("importance", "must be one of urgent, major, minor, warn"))
            })
            .transpose()?;
        let start_time = request.query_number("start_time", limits::ALARM_LIST_TIME)?;
        let end_time = request.query_number("end_time", limits::ALARM_LIST_TIME)?;
        if let (Some(start), Some(end)) = (start_time, end_time) {
            if start > end {
                return Err(ApiError::invalid("start_time", "must not be after end_time"));
            }
        }
        let resource = request.query_text("resource_id", limits::ALARM_LIST_FILTER)?;
        let integration_id = request.query_text("integration_id", limits::INTEGRATION_ID)?;
        Ok(Filters { status, level, start_time, end_time, resource, integration_id })
    }

    /// Whether a filter the keys do not serve may discard rows.
    fn discards(&self) -> bool {
        self.status.is_some() || self.level.is_some() || self.resource.is_some()
    }

    fn judge(&self, alarm: &Alarm) -> Verdict {
        if self.start_time.is_some_and(|start| alarm.last_seen < start) {
            // Newest first: every later row is older still.
            return Verdict::Stop;
        }
        let resource_matches = |resource: &String| {
            alarm.last.resource_id.as_ref() == Some(resource) || alarm.last.resource_name.as_ref() == Some(resource)
        };
        let keep = self.status.is_none_or(|s| alarm.status == s)
            && self.level.is_none_or(|l| alarm.last.alarm_level == l)
            && self.resource.as_ref().is_none_or(resource_matches);
        if keep {
            Verdict::Keep
        } else {
            Verdict::Skip
        }
    }
}

/// → `{"data": [AlarmInfoDTO…], "count", "next_marker"}`.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (limit, marker) = own_page(&request)?;
    let filters = Filters::of(&request)?;
    let store = app.store.as_ref();
    let project = &caller.project_id;
    let (index, pk) = alarms::tenant_walk_pk(project, filters.integration_id.as_deref());
    // Descending: "after" a key is below it, so the walk starts with the rows
    // reported at `end_time` and stops below `start_time`.
    let first_key = filters.end_time.map(|end| format!("{:013}", end + 1));
    let after = marker.as_deref().or(first_key.as_deref());
    let walk = Walk { index, pk: &pk, after, order: Order::Descending };
    let judge = |alarm: &Alarm| filters.judge(alarm);
    let page = alarms::list_tenant_alarms(store, walk, limit, filters.discards(), judge).await?;
    let count = count(app, caller, &filters, index, &pk, first_key.as_deref()).await?;
    let rows = page.rows.iter().map(|alarm| alarm_view(alarm, None)).collect();
    Ok(page_response(rows, count, page.next))
}

async fn count(
    app: &App,
    caller: &Caller,
    filters: &Filters,
    index: crate::ports::Index,
    pk: &str,
    first_key: Option<&str>,
) -> Result<usize, ApiError> {
    let store = app.store.as_ref();
    let project = &caller.project_id;
    let timed = filters.start_time.is_some() || filters.end_time.is_some();
    let candidates = match &filters.integration_id {
        Some(id) => alarms::count_alarms(store, project, id).await? as i64,
        None => alarms::count_tenant(store, project, filters.status).await?,
    };
    let by_counter = !timed
        && filters.level.is_none()
        && filters.resource.is_none()
        && (filters.integration_id.is_none() || filters.status.is_none());
    if by_counter {
        return Ok(candidates as usize);
    }
    let walk = Walk { index, pk, after: first_key, order: Order::Descending };
    let counted = alarms::count_tenant_alarms(store, walk, |alarm| filters.judge(alarm)).await?;
    Ok(bounded_total(counted, candidates))
}
