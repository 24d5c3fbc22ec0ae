//! `/v1/external/warrooms` (SDK `create_war_room`, `list_war_rooms`). They
//! answer in the war-room envelope `{"provider_code", "error_code",
//! "error_msg", "data"}`, where `error_code` 0 is success.

mod view;

use serde_json::{json, Value};

use super::assignees;
use crate::app::App;
use crate::domain::tenant::{Caller, ProjectId};
use crate::domain::war_room::{ListQuery, NewWarRoom, WarRoom, WarRoomStatus};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::limits;
use crate::notify::{templates, triggers};
use crate::ports::StoreError;
use crate::repositories::listing::{self, Listed};
use crate::repositories::{incidents, war_rooms};

const PROVIDER_CODE: &str = "049";

fn envelope(data: Value) -> ApiResponse {
    ApiResponse::json(
        http::StatusCode::OK,
        json!({ "provider_code": PROVIDER_CODE, "error_code": "0", "error_msg": null, "data": data }),
    )
}

fn refused((field, problem): (String, String)) -> ApiError {
    ApiError::invalid(&field, problem)
}

/// `POST /v1/external/warrooms` → data: the war room's id. The incident must
/// be the tenant's and have no room yet; every member must be an engineer.
/// Each member with somewhere to be told is notified, the notifications
/// saved in the transaction that opens the room.
pub async fn create(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let new: NewWarRoom = request.json_body()?;
    new.check().map_err(refused)?;
    let project = &caller.project_id;
    let num = new.incident_number.clone();
    let incident = incidents::get_incident(app.store.as_ref(), project, &num)
        .await?
        .ok_or_else(|| ApiError::invalid("incident_number", format!("incident {num} does not exist")))?
        .value;
    assignees::require_engineer(app, project, "war_room_admin", &new.war_room_admin).await?;
    for (index, user) in new.participant.iter().enumerate() {
        assignees::require_engineer(app, project, &format!("participant[{index}]"), user).await?;
    }
    let now = app.clock.now_ms();
    // The id the incident was given for its war room, when it has one: its detail then names this room.
    let id = incident.warroom_id.clone().unwrap_or_else(|| ids::warroom_id(now));
    let room = WarRoom::open(new, id, &incident, caller.user_id.clone(), now);
    let message = templates::war_room_created(app.public_url.as_deref(), &room);
    let outgoing = triggers::to_engineers(app, project, room.members(), &message).await?;
    let ops = triggers::with_notifications(war_rooms::insert_ops(&room)?, &outgoing);
    match app.store.write(ops).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => return Err(already_open(app, project, &num).await),
        Err(other) => return Err(other.into()),
    }
    for one in &outgoing {
        triggers::dispatch_saved(app, Some(one)).await;
    }
    Ok(envelope(json!(room.war_room_id)))
}

/// Why opening a room for `num` failed its condition: the incident has one.
async fn already_open(app: &App, project: &ProjectId, num: &str) -> ApiError {
    match war_rooms::of_incident(app.store.as_ref(), project, num).await {
        Ok(Some(room)) => ApiError::Conflict(format!("incident {num} already has war room {}", room.war_room_id)),
        Ok(None) => ApiError::Conflict(format!("a war room for incident {num} was being opened at the same time")),
        Err(err) => err.into(),
    }
}

/// `POST /v1/external/warrooms/list` → data `{"list", "total", "total_num",
/// "running_num", "closed_num"}`, newest first; with `statistic_flag` only the counts.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    // The SDK sends no body for a request without one: no filters.
    let query: ListQuery =
        if request.body.iter().all(u8::is_ascii_whitespace) { ListQuery::default() } else { request.json_body()? };
    query.check().map_err(refused)?;
    let project = &caller.project_id;
    let now = app.clock.now_ms();
    let (rows, counts) = match direct_candidates(app, project, &query).await? {
        Some(found) => {
            let running = found.iter().filter(|r| r.status == WarRoomStatus::Running).count();
            let counts = Counts { total: found.len(), running, closed: found.len() - running };
            (found.into_iter().skip(query.offset()).take(query.page_size()).collect(), counts)
        }
        None => walked(app, project, &query).await?,
    };
    if query.statistic_flag {
        return Ok(envelope(json!({
            "total_num": counts.total, "running_num": counts.running, "closed_num": counts.closed,
        })));
    }
    let list: Vec<Value> = rows.iter().map(|room| view::war_room(room, now)).collect();
    Ok(envelope(json!({
        "list": list, "total": counts.total,
        "total_num": counts.total, "running_num": counts.running, "closed_num": counts.closed,
    })))
}

struct Counts {
    total: usize,
    running: usize,
    closed: usize,
}

/// The rooms asked for by number (every other filter ignored, as the
/// reference says), or the one room of `incident_num` if it passes the other
/// filters: a few reads by key, newest first. `None` when the list must be walked.
async fn direct_candidates(
    app: &App,
    project: &ProjectId,
    query: &ListQuery,
) -> Result<Option<Vec<WarRoom>>, ApiError> {
    let store = app.store.as_ref();
    let numbers = query.numbers();
    let mut found = Vec::new();
    if !numbers.is_empty() {
        for number in numbers.iter().take(limits::WAR_ROOMS_FILTER_VALUES.max) {
            found.extend(war_rooms::get(store, project, number).await?);
        }
    } else if let Some(num) = query.incident_num.as_deref().filter(|n| !n.is_empty()) {
        found.extend(war_rooms::of_incident(store, project, num).await?.filter(|room| query.matches(room)));
    } else {
        return Ok(None);
    }
    found.sort_by(|a, b| (b.create_time, &b.war_room_id).cmp(&(a.create_time, &a.war_room_id)));
    Ok(Some(found))
}

/// A page of the index walk and the counts: from the counters when nothing
/// narrows the list, else from a bounded count of the same walk.
async fn walked(app: &App, project: &ProjectId, query: &ListQuery) -> Result<(Vec<WarRoom>, Counts), ApiError> {
    let store = app.store.as_ref();
    let window = (query.triggered_start_time, query.triggered_end_time);
    let by_status = war_rooms::counts(store, project).await?;
    let stored = |status| by_status.iter().find(|(s, _)| *s == status).map_or(0, |(_, n)| (*n).max(0) as usize);
    let (running, closed) = (stored(WarRoomStatus::Running), stored(WarRoomStatus::Closed));
    let narrowed = query.filters_rows() || window.0.is_some() || window.1.is_some();
    let counts = if narrowed {
        let tally = war_rooms::tally(store, project, window, |room| query.matches(room)).await?;
        let total = listing::bounded_total(tally.counted, (running + closed) as i64);
        Counts { total, running: tally.running, closed: tally.closed }
    } else {
        Counts { total: running + closed, running, closed }
    };
    if query.statistic_flag {
        return Ok((Vec::new(), counts));
    }
    let (offset, size) = (query.offset(), query.page_size());
    let Listed { rows, .. } =
        war_rooms::page(store, project, window, offset + size, narrowed, |room| query.matches(room)).await?;
    Ok((rows.into_iter().skip(offset).collect(), counts))
}
