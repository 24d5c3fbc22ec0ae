//! Tickets, their agents' pending jobs and their logs in the table.
//!
//! Tenant partition `PROJECT#{project}`:
//! - `AGENT#{agent_sn}`: a registered agent;
//! - `ORDER#{execute_uuid}`: a ticket with all its instances (at most 200), version-locked;
//! - `AGENTJOB#{agent_sn}#{execute_uuid}#{instance_id}#{attempt}`: a run waiting for (or taken by)
//!   its agent; the attempt is in the key so that the run's report can remove exactly its own job;
//! - `LOG#{execute_uuid}#{instance_id}#{attempt}#{chunk}`: a run's output, in chunks that fit an item,
//!   written once, with the run's result (see `reports`);
//! - counter `ORDER_ID`; count `COUNT#AGENT` (registered agents);
//! - counts `COUNT#ORDER` and `COUNT#ORDER#STATUS#{status}`, changed in the
//!   transaction that inserts a ticket or changes its status.
//!
//! The ticket list reads index `List` partition `PROJECT#{project}#ORDER`, or
//! for one status index `Filter` partition `PROJECT#{project}#ORDER#STATUS#{status}`,
//! both sorted by order_id (20 digits) and read newest first. A save writes the
//! ticket with its keys, so a status change moves it between status partitions.
//!
//! Partition `ACTIVE_ORDERS`, sort key `{project}#{execute_uuid}`: tickets not yet
//! over, so that the engine can pick them up again after a restart.

use serde::{Deserialize, Serialize};

use super::listing::{self, count_key, key_name, Verdict, Walk};
use super::{decode, encode, tenant_pk, versioned, Versioned};
use crate::domain::job::agent::Agent;
use crate::domain::job::order::{Effects, Order, OrderStatus, ResolvedParam};
use crate::domain::patch::PatchJob;
use crate::domain::script::ScriptType;
use crate::domain::tenant::ProjectId;
use crate::limits;
use crate::ports::{self, Condition, Index, Item, PageQuery, Store, StoreError, WriteOp};

const ACTIVE_PK: &str = "ACTIVE_ORDERS";
const ORDER_COUNTER: &str = "ORDER_ID";
/// Bytes of log per item (cut at a character boundary): even if every byte were
/// a control character, escaped as `\u00XX` in the JSON, an item stays below
/// DynamoDB's 400 KB. A 1 MiB log is 22 chunks, so it is written in the same
/// transaction as its result (see `reports::record`).
pub const LOG_CHUNK_BYTES: usize = 48 * 1024;

/// What an agent needs to run one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub execute_uuid: String,
    pub instance_id: u64,
    pub attempt: u32,
    pub script_type: ScriptType,
    pub content: String,
    pub params: Vec<ResolvedParam>,
    pub execute_user: String,
    pub timeout_secs: u32,
    /// When an agent took it; a job is handed out once.
    #[serde(default)]
    pub claimed_at: Option<i64>,
    /// A patch ticket's job: the agent scans (or installs) with the host's
    /// package manager instead of running `content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<PatchJob>,
}

fn order_sk(execute_uuid: &str) -> String {
    format!("ORDER#{execute_uuid}")
}

fn job_prefix(agent_sn: &str) -> String {
    format!("AGENTJOB#{agent_sn}#")
}

fn job_sk(agent_sn: &str, execute_uuid: &str, instance_id: u64, attempt: u32) -> String {
    format!("{}{execute_uuid}#{instance_id:05}#{attempt:04}", job_prefix(agent_sn))
}

/// The write that removes a run's job (done, canceled or timed out): gone or not, it is gone after.
pub fn job_delete_op(
    project: &ProjectId,
    agent_sn: &str,
    execute_uuid: &str,
    instance_id: u64,
    attempt: u32,
) -> WriteOp {
    WriteOp::Delete {
        pk: tenant_pk(project),
        sk: job_sk(agent_sn, execute_uuid, instance_id, attempt),
        condition: Condition::Always,
    }
}

/// The ticket's entry in the list of unfinished tickets.
fn active_item(order: &Order) -> Item {
    let data = serde_json::json!({ "project_id": order.project_id, "execute_uuid": order.execute_uuid }).to_string();
    Item::new(ACTIVE_PK, format!("{}#{}", order.project_id, order.execute_uuid), data, 1)
}

// ---- agents ----------------------------------------------------------------

fn agent_sk(agent_sn: &str) -> String {
    format!("AGENT#{agent_sn}")
}

/// The write that stores `agent`: new (`read_at` None, fails if it exists) or
/// over the version read (fails if anyone wrote or deleted it since).
pub fn agent_put_op(agent: &Agent, read_at: Option<u64>) -> Result<WriteOp, StoreError> {
    let (version, condition) = match read_at {
        None => (1, Condition::NotExists),
        Some(v) => (v + 1, Condition::VersionIs(v)),
    };
    let item = Item::new(tenant_pk(&agent.project_id), agent_sk(&agent.agent_sn), encode(agent)?, version);
    Ok(WriteOp::Put { item, condition })
}

/// The write that removes an agent read at `version`.
pub fn agent_delete_op(agent: &Agent, version: u64) -> WriteOp {
    WriteOp::Delete {
        pk: tenant_pk(&agent.project_id),
        sk: agent_sk(&agent.agent_sn),
        condition: Condition::VersionIs(version),
    }
}

pub async fn get_agent(store: &dyn Store, project: &ProjectId, agent_sn: &str) -> Result<Option<Agent>, StoreError> {
    Ok(get_agent_versioned(store, project, agent_sn).await?.map(|a| a.value))
}

/// The agent with the version a later write must match.
pub async fn get_agent_versioned(
    store: &dyn Store,
    project: &ProjectId,
    agent_sn: &str,
) -> Result<Option<Versioned<Agent>>, StoreError> {
    versioned(store.get(&tenant_pk(project), &agent_sk(agent_sn)).await?)
}

/// At most `limit` agents with serial numbers after `after_sn`, in serial number order.
/// Returns the serial number to resume after when more may follow.
pub async fn agents_page(
    store: &dyn Store,
    project: &ProjectId,
    after_sn: Option<&str>,
    limit: usize,
) -> Result<(Vec<Agent>, Option<String>), StoreError> {
    let after = after_sn.map(agent_sk);
    let query = PageQuery {
        pk: &tenant_pk(project),
        prefix: "AGENT#",
        after: after.as_deref(),
        limit,
        order: ports::Order::Ascending,
    };
    let page = store.query_page(query).await?;
    let agents = page.items.iter().map(decode).collect::<Result<Vec<Agent>, _>>()?;
    let next = page.last_sk.map(|sk| sk.trim_start_matches("AGENT#").to_owned());
    Ok((agents, next))
}

/// The count `COUNT#AGENT` of registered agents, changed by the transactions
/// that register a new agent and revoke one (agents registered before it was
/// kept are not in it).
fn agent_count_sk() -> String {
    count_key(&["AGENT"])
}

pub fn agent_count_op(project: &ProjectId, delta: i64) -> WriteOp {
    WriteOp::Add { pk: tenant_pk(project), sk: agent_count_sk(), delta }
}

pub async fn count_agents(store: &dyn Store, project: &ProjectId) -> Result<i64, StoreError> {
    Ok(store.counter(&tenant_pk(project), &agent_count_sk()).await?.max(0))
}

/// Where a tenant's agents are in its partition.
pub(crate) const AGENT_PREFIX: &str = "AGENT#";

/// The writes that count an agent registered before `COUNT#AGENT` was kept
/// (`coc-admin reindex`): the agent marked counted, on the version read, and
/// the count +1. `None` when it is counted.
pub(crate) fn agent_reindex_ops(item: &Item) -> Result<Option<Vec<WriteOp>>, StoreError> {
    let mut agent: Agent = decode(item)?;
    if agent.counted {
        return Ok(None);
    }
    agent.counted = true;
    Ok(Some(vec![agent_put_op(&agent, Some(item.version))?, agent_count_op(&agent.project_id, 1)]))
}

/// Where an agent is in the tag index partitions: by serial number, the list's order.
pub fn agent_order_sk(agent_sn: &str) -> String {
    agent_sn.to_owned()
}

/// Every agent of the tenant, read page by page: for tools (the bench), not for request paths.
pub async fn list_agents(store: &dyn Store, project: &ProjectId) -> Result<Vec<Agent>, StoreError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let (agents, next) = agents_page(store, project, after.as_deref(), 100).await?;
        all.extend(agents);
        match next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

// ---- tickets ---------------------------------------------------------------

pub async fn next_order_id(store: &dyn Store, project: &ProjectId) -> Result<u64, StoreError> {
    store.increment(&tenant_pk(project), ORDER_COUNTER).await
}

fn order_list_pk(project: &ProjectId) -> String {
    format!("{}#ORDER", tenant_pk(project))
}

fn order_status_pk(project: &ProjectId, status: OrderStatus) -> String {
    format!("{}#ORDER#STATUS#{}", tenant_pk(project), key_name(&status))
}

/// The index sort key of a ticket: its order_id, fixed width so that text order is id order.
fn order_id_sk(order_id: u64) -> String {
    format!("{order_id:020}")
}

fn order_total_count() -> String {
    count_key(&["ORDER"])
}

fn order_status_count(status: OrderStatus) -> String {
    count_key(&["ORDER", "STATUS", &key_name(&status)])
}

/// The ticket as stored, listed by id and under its current status.
fn order_item(order: &Order, version: u64) -> Result<Item, StoreError> {
    let sk = order_id_sk(order.order_id);
    Ok(Item::new(tenant_pk(&order.project_id), order_sk(&order.execute_uuid), encode(order)?, version)
        .indexed(Index::List, order_list_pk(&order.project_id), sk.clone())
        .indexed(Index::Filter, order_status_pk(&order.project_id, order.status), sk))
}

fn order_count_op(order: &Order, sk: String, delta: i64) -> WriteOp {
    WriteOp::Add { pk: tenant_pk(&order.project_id), sk, delta }
}

/// Stores a new ticket, marks it active and counts it, all or nothing.
pub async fn insert_order(store: &dyn Store, order: &Order) -> Result<(), StoreError> {
    store.write(insert_order_ops(order)?).await
}

/// The writes of [`insert_order`], for a transaction with what the ticket is
/// for (an alarm's auto-process and its history entry).
pub fn insert_order_ops(order: &Order) -> Result<Vec<WriteOp>, StoreError> {
    Ok(vec![
        WriteOp::Put { item: order_item(order, 1)?, condition: Condition::NotExists },
        WriteOp::Put { item: active_item(order), condition: Condition::Always },
        order_count_op(order, order_total_count(), 1),
        order_count_op(order, order_status_count(order.status), 1),
    ])
}

pub async fn get_order(
    store: &dyn Store,
    project: &ProjectId,
    execute_uuid: &str,
) -> Result<Option<Versioned<Order>>, StoreError> {
    let item = store.get(&tenant_pk(project), &order_sk(execute_uuid)).await?;
    versioned(item)
}

/// The ticket list's filters (spec table 4-47).
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub creator: Option<String>,
    pub status: Option<OrderStatus>,
    /// Created at or after (ms).
    pub start_time: Option<i64>,
    /// Created at or before (ms).
    pub end_time: Option<i64>,
}

impl OrderFilter {
    fn matches(&self, order: &Order) -> bool {
        self.start_time.is_none_or(|s| order.gmt_created >= s)
            && self.end_time.is_none_or(|e| order.gmt_created <= e)
            && self.creator.as_deref().is_none_or(|c| order.creator == c)
            && self.status.is_none_or(|s| order.status == s)
    }

    /// Newest first, a ticket created well before `start_time` ends the walk:
    /// every older id was created before it, give or take the clock slack.
    fn judge(&self, order: &Order) -> Verdict {
        if self.start_time.is_some_and(|s| order.gmt_created < s.saturating_sub(limits::ORDER_CLOCK_SLACK_MS)) {
            Verdict::Stop
        } else if self.matches(order) {
            Verdict::Keep
        } else {
            Verdict::Skip
        }
    }

    fn index(&self, project: &ProjectId) -> (Index, String) {
        match self.status {
            Some(status) => (Index::Filter, order_status_pk(project, status)),
            None => (Index::List, order_list_pk(project)),
        }
    }

    fn discards(&self) -> bool {
        self.creator.is_some() || self.start_time.is_some() || self.end_time.is_some()
    }

    /// The count that is the answer when only the status (or nothing) is asked for.
    fn exact_count(&self) -> Option<String> {
        if self.discards() {
            return None;
        }
        Some(self.status.map_or_else(order_total_count, order_status_count))
    }
}

/// At most `limit` tickets matching `filter` with order ids below `before_id`,
/// newest first. Reads the page and what the filter discards.
pub async fn list_orders_page(
    store: &dyn Store,
    project: &ProjectId,
    filter: &OrderFilter,
    before_id: Option<u64>,
    limit: usize,
) -> Result<Vec<Order>, StoreError> {
    let (index, pk) = filter.index(project);
    let after = before_id.map(order_id_sk);
    let walk = Walk { index, pk: &pk, after: after.as_deref(), order: ports::Order::Descending };
    Ok(listing::page(store, walk, limit, filter.discards(), decode, |o| filter.judge(o)).await?.rows)
}

/// How many tickets match `filter`: a count read when one answers it, else a
/// bounded count (README, "Access patterns").
pub async fn count_orders(store: &dyn Store, project: &ProjectId, filter: &OrderFilter) -> Result<usize, StoreError> {
    let pk = tenant_pk(project);
    if let Some(sk) = filter.exact_count() {
        return Ok(store.counter(&pk, &sk).await?.max(0) as usize);
    }
    let (index, index_pk) = filter.index(project);
    let walk = Walk { index, pk: &index_pk, after: None, order: ports::Order::Descending };
    let counted = listing::count(store, walk, decode, |o| filter.judge(o)).await?;
    if counted.complete {
        return Ok(counted.kept);
    }
    let candidates = store.counter(&pk, &filter.status.map_or_else(order_total_count, order_status_count)).await?;
    Ok(listing::bounded_total(counted, candidates))
}

fn job_for(order: &Order, instance_id: u64) -> Option<(String, Job)> {
    let instance = order.instance(instance_id)?;
    let job = Job {
        execute_uuid: order.execute_uuid.clone(),
        instance_id,
        attempt: instance.attempt,
        script_type: order.script.script_type,
        content: order.script.content.clone(),
        params: order.script.params.clone(),
        execute_user: order.execute_param.execute_user.to_string(),
        timeout_secs: order.execute_param.timeout,
        claimed_at: None,
        patch: order.patch.clone(),
    };
    Some((job_sk(instance.target.agent_sn.as_str(), &order.execute_uuid, instance_id, instance.attempt), job))
}

/// Saves a ticket read at `version` with status `was`, with what its step
/// requires: jobs handed out or taken back, its place in the active list and
/// in the status counts. All or nothing.
pub async fn save_order(
    store: &dyn Store,
    order: &Order,
    version: u64,
    was: OrderStatus,
    effects: &Effects,
) -> Result<(), StoreError> {
    store.write(save_order_ops(order, version, was, effects)?).await
}

/// The writes of [`save_order`], for a caller that adds its own to the same transaction.
pub fn save_order_ops(
    order: &Order,
    version: u64,
    was: OrderStatus,
    effects: &Effects,
) -> Result<Vec<WriteOp>, StoreError> {
    let pk = tenant_pk(&order.project_id);
    let mut ops =
        vec![WriteOp::Put { item: order_item(order, version + 1)?, condition: Condition::VersionIs(version) }];
    if was != order.status {
        ops.push(order_count_op(order, order_status_count(was), -1));
        ops.push(order_count_op(order, order_status_count(order.status), 1));
    }
    for id in &effects.withdraw {
        if let Some(instance) = order.instance(*id) {
            let agent_sn = instance.target.agent_sn.as_str();
            ops.push(job_delete_op(&order.project_id, agent_sn, &order.execute_uuid, *id, instance.attempt));
        }
    }
    for id in &effects.dispatch {
        if let Some((sk, job)) = job_for(order, *id) {
            ops.push(WriteOp::Put { item: Item::new(pk.clone(), sk, encode(&job)?, 1), condition: Condition::Always });
        }
    }
    let active = active_item(order);
    if order.status.is_terminal() {
        ops.push(WriteOp::Delete { pk: active.pk, sk: active.sk, condition: Condition::Always });
    } else {
        ops.push(WriteOp::Put { item: active, condition: Condition::Always });
    }
    Ok(ops)
}

/// A page of the tickets not yet over, as (project, execute_uuid), after the
/// key `after` (the second value of the previous page; `None` when done).
pub async fn active_orders_page(
    store: &dyn Store,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<(ProjectId, String)>, Option<String>), StoreError> {
    #[derive(Deserialize)]
    struct Active {
        project_id: ProjectId,
        execute_uuid: String,
    }
    let query = PageQuery { pk: ACTIVE_PK, prefix: "", after, limit, order: ports::Order::Ascending };
    let page = store.query_page(query).await?;
    let active = page
        .items
        .iter()
        .map(|item| decode::<Active>(item).map(|a| (a.project_id, a.execute_uuid)))
        .collect::<Result<_, _>>()?;
    Ok((active, page.last_sk))
}

// ---- agents' jobs ----------------------------------------------------------

/// Takes the jobs waiting for an agent: each is handed out once (a conditional
/// write marks it taken, so two polls cannot both get it).
pub async fn claim_jobs(
    store: &dyn Store,
    project: &ProjectId,
    agent_sn: &str,
    now: i64,
) -> Result<Vec<Job>, StoreError> {
    let mut claimed = Vec::new();
    for item in store.query_prefix(&tenant_pk(project), &job_prefix(agent_sn)).await? {
        let mut job: Job = decode(&item)?;
        if job.claimed_at.is_some() {
            continue;
        }
        job.claimed_at = Some(now);
        let taken = Item::new(item.pk.clone(), item.sk.clone(), encode(&job)?, item.version + 1);
        match store.write(vec![WriteOp::Put { item: taken, condition: Condition::VersionIs(item.version) }]).await {
            Ok(()) => claimed.push(job),
            Err(StoreError::ConditionFailed) => continue,
            Err(other) => return Err(other),
        }
    }
    Ok(claimed)
}

// ---- logs ------------------------------------------------------------------

/// The writes that store a run's output: at least one chunk (an empty log is
/// one empty chunk), each on the condition that it is not there yet, so a log is
/// written once and never replaced by a later, different report of the run.
pub fn log_put_ops(
    project: &ProjectId,
    execute_uuid: &str,
    instance_id: u64,
    attempt: u32,
    log: &str,
) -> Result<Vec<WriteOp>, StoreError> {
    let mut chunks = Vec::new();
    let mut rest = log;
    loop {
        let mut cut = rest.len().min(LOG_CHUNK_BYTES);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (chunk, tail) = rest.split_at(cut);
        chunks.push(chunk);
        rest = tail;
        if rest.is_empty() {
            break;
        }
    }
    chunks
        .iter()
        .enumerate()
        .map(|(n, chunk)| {
            let sk = format!("LOG#{execute_uuid}#{instance_id:05}#{attempt:04}#{n:04}");
            Ok(WriteOp::Put {
                item: Item::new(tenant_pk(project), sk, encode(chunk)?, 1),
                condition: Condition::NotExists,
            })
        })
        .collect()
}

pub async fn get_log(
    store: &dyn Store,
    project: &ProjectId,
    execute_uuid: &str,
    instance_id: u64,
    attempt: u32,
) -> Result<String, StoreError> {
    let prefix = format!("LOG#{execute_uuid}#{instance_id:05}#{attempt:04}#");
    let items = store.query_prefix(&tenant_pk(project), &prefix).await?;
    items.iter().map(decode::<String>).collect()
}

/// Where a tenant's tickets are in its partition: a range read of it walks them all.
pub(crate) const ORDER_PREFIX: &str = "ORDER#";

/// As `scripts::reindex_ops`, for a ticket: its keys (by id and under its
/// status) and its counts (all tickets, its status).
pub(crate) fn order_reindex_ops(item: &Item) -> Result<Option<Vec<WriteOp>>, StoreError> {
    if item.list_key.is_some() {
        return Ok(None);
    }
    let order: Order = decode(item)?;
    let sk = order_id_sk(order.order_id);
    let indexed = Item { version: item.version + 1, ..item.clone() }
        .indexed(Index::List, order_list_pk(&order.project_id), sk.clone())
        .indexed(Index::Filter, order_status_pk(&order.project_id, order.status), sk);
    Ok(Some(vec![
        WriteOp::Put { item: indexed, condition: Condition::VersionIs(item.version) },
        order_count_op(&order, order_total_count(), 1),
        order_count_op(&order, order_status_count(order.status), 1),
    ]))
}
