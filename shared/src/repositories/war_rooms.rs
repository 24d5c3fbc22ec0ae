//! War rooms in the table (see README "Access patterns").
//!
//! Tenant partition `PROJECT#{project}`:
//! - `WARROOM#{war_room_id}`: a war room;
//! - `WARROOM_INCIDENT#{incident_num}`: the incident's claim on its one room
//!   (the room's id), written with the room only if the incident has none, so
//!   two rooms for one incident can never both land;
//! - counts `COUNT#WARROOM#{status}`, changed in the transaction that opens a room.
//!
//! Index `List`: `PROJECT#{project}#WARROOM`, sort key
//! `{create_time:013}#{war_room_id}`, read newest first.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use super::listing::{self, count_key, key_name, Listed, Verdict, Walk};
use super::{decode, encode, tenant_pk};
use crate::domain::tenant::ProjectId;
use crate::domain::war_room::{WarRoom, WarRoomStatus};
use crate::ports::{Condition, Index, Item, Order, Store, StoreError, WriteOp};

fn room_sk(id: &str) -> String {
    format!("WARROOM#{id}")
}

fn claim_sk(incident_num: &str) -> String {
    format!("WARROOM_INCIDENT#{incident_num}")
}

fn list_pk(project: &ProjectId) -> String {
    format!("{}#WARROOM", tenant_pk(project))
}

fn status_count(status: WarRoomStatus) -> String {
    count_key(&["WARROOM", &key_name(&status)])
}

#[derive(Serialize, Deserialize)]
struct Claim {
    war_room_id: String,
}

/// The writes that open `room`: the room, its incident's claim (refused if
/// the incident has a room: the whole transaction fails), and its count.
pub fn insert_ops(room: &WarRoom) -> Result<Vec<WriteOp>, StoreError> {
    let pk = tenant_pk(&room.project_id);
    let item = Item::new(pk.clone(), room_sk(&room.war_room_id), encode(room)?, 1).indexed(
        Index::List,
        list_pk(&room.project_id),
        format!("{:013}#{}", room.create_time, room.war_room_id),
    );
    let claim = Claim { war_room_id: room.war_room_id.clone() };
    Ok(vec![
        WriteOp::Put { item, condition: Condition::NotExists },
        WriteOp::Put {
            item: Item::new(pk.clone(), claim_sk(&room.incident.incident_num), encode(&claim)?, 1),
            condition: Condition::NotExists,
        },
        WriteOp::Add { pk, sk: status_count(room.status), delta: 1 },
    ])
}

pub async fn get(store: &dyn Store, project: &ProjectId, id: &str) -> Result<Option<WarRoom>, StoreError> {
    store.get(&tenant_pk(project), &room_sk(id)).await?.map(|item| decode(&item)).transpose()
}

/// The room of incident `incident_num`, if it has one: two reads.
pub async fn of_incident(
    store: &dyn Store,
    project: &ProjectId,
    incident_num: &str,
) -> Result<Option<WarRoom>, StoreError> {
    let Some(claim) = store.get(&tenant_pk(project), &claim_sk(incident_num)).await? else { return Ok(None) };
    let claim: Claim = decode(&claim)?;
    get(store, project, &claim.war_room_id).await
}

/// Rooms per status, from the counters.
pub async fn counts(store: &dyn Store, project: &ProjectId) -> Result<Vec<(WarRoomStatus, i64)>, StoreError> {
    let mut counts = Vec::new();
    for status in WarRoomStatus::ALL {
        counts.push((status, store.counter(&tenant_pk(project), &status_count(status)).await?));
    }
    Ok(counts)
}

/// Where a newest-first walk starts for rooms created at or before `end`.
fn walk_start(end: Option<i64>) -> Option<String> {
    // `$` sorts right after the `#` of every key of that millisecond.
    end.map(|end| format!("{:013}$", end.max(0)))
}

/// A page of the tenant's rooms created at or before `end` (newest first)
/// that `keep` accepts, stopping at the first one created before `start`.
pub async fn page(
    store: &dyn Store,
    project: &ProjectId,
    (start, end): (Option<i64>, Option<i64>),
    limit: usize,
    filtered: bool,
    keep: impl Fn(&WarRoom) -> bool,
) -> Result<Listed<WarRoom>, StoreError> {
    let pk = list_pk(project);
    let after = walk_start(end);
    let walk = Walk { index: Index::List, pk: &pk, after: after.as_deref(), order: Order::Descending };
    listing::page(store, walk, limit, filtered, decode, |room: &WarRoom| judge(room, start, &keep)).await
}

fn judge(room: &WarRoom, start: Option<i64>, keep: &impl Fn(&WarRoom) -> bool) -> Verdict {
    match () {
        _ if start.is_some_and(|s| room.create_time < s) => Verdict::Stop,
        _ if keep(room) => Verdict::Keep,
        _ => Verdict::Skip,
    }
}

/// What a bounded count of the rooms `keep` accepts saw: per status, and
/// whether it read every candidate.
pub struct Tally {
    pub running: usize,
    pub closed: usize,
    pub counted: listing::Counted,
}

pub async fn tally(
    store: &dyn Store,
    project: &ProjectId,
    (start, end): (Option<i64>, Option<i64>),
    keep: impl Fn(&WarRoom) -> bool,
) -> Result<Tally, StoreError> {
    let pk = list_pk(project);
    let after = walk_start(end);
    let walk = Walk { index: Index::List, pk: &pk, after: after.as_deref(), order: Order::Descending };
    // The judge runs inside the walk's future, which must be Send: an atomic, not a Cell.
    let running = AtomicUsize::new(0);
    let counted = listing::count(store, walk, decode, |room: &WarRoom| {
        let verdict = judge(room, start, &keep);
        if matches!(verdict, Verdict::Keep) && room.status == WarRoomStatus::Running {
            running.fetch_add(1, Ordering::Relaxed);
        }
        verdict
    })
    .await?;
    let running = running.into_inner();
    Ok(Tally { running, closed: counted.kept - running, counted })
}
