//! Agents' reports on their way into the ticket.
//!
//! Many runs of one batch end at about the same time. If each report rewrote
//! the ticket item, they would collide on it and retry; instead each report is
//! one conditional write of items of its own, and the engine folds the results
//! into the ticket in its next step:
//!
//! Tenant partition `PROJECT#{project}`:
//! - `RESULT#{execute_uuid}#{instance_id:05}#{attempt:04}`: a run's result not yet in the ticket,
//!   written with the run's log (see `jobs::log_put_ops`) and removed by the engine step that
//!   folds it in, in the same transaction as the ticket.
//!
//! A run has one result: the result and its log are written only if neither is
//! there yet, and the log stays after the fold, so a second, different report of
//! the same attempt never lands, folded or not.

use serde::{Deserialize, Serialize};

use super::{decode, encode, jobs, tenant_pk};
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Item, Order, PageQuery, Store, StoreError, WriteOp};

/// The most operations one `Store::write` takes (DynamoDB's transaction limit as the port states it).
pub const MAX_WRITE_OPS: usize = 25;

/// A finished run as its agent reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunResult {
    pub instance_id: u64,
    pub attempt: u32,
    pub exit_code: i32,
    /// When the report arrived, ms since the epoch: the run's end time in the ticket.
    pub reported_at: i64,
}

/// A result read for folding, with its key (to remove it in the fold).
#[derive(Debug, Clone)]
pub struct PendingResult {
    pub result: RunResult,
    sk: String,
}

/// The results of a ticket that are waiting for the engine, oldest key first.
pub struct PendingResults {
    pub results: Vec<PendingResult>,
    /// Whether more may wait beyond these.
    pub more: bool,
}

/// What became of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Written now, with its log, and the run's job removed.
    New,
    /// The run already has a result: this one was not written.
    AlreadyReported,
}

fn prefix(execute_uuid: &str) -> String {
    format!("RESULT#{execute_uuid}#")
}

fn result_sk(execute_uuid: &str, instance_id: u64, attempt: u32) -> String {
    format!("{}{instance_id:05}#{attempt:04}", prefix(execute_uuid))
}

/// Records a run's result and its (already redacted) log, and removes the
/// run's job, in one transaction; nothing is written when the run already has
/// a result. `agent_sn` is the agent the run was handed to.
pub async fn record(
    store: &dyn Store,
    project: &ProjectId,
    execute_uuid: &str,
    agent_sn: &str,
    result: &RunResult,
    log: &str,
) -> Result<Recorded, StoreError> {
    let (id, attempt) = (result.instance_id, result.attempt);
    let item = Item::new(tenant_pk(project), result_sk(execute_uuid, id, attempt), encode(result)?, 1);
    let mut ops = vec![
        WriteOp::Put { item, condition: Condition::NotExists },
        jobs::job_delete_op(project, agent_sn, execute_uuid, id, attempt),
    ];
    ops.extend(jobs::log_put_ops(project, execute_uuid, id, attempt, log)?);
    if ops.len() > MAX_WRITE_OPS {
        return Err(StoreError::Backend(format!("a log of {} bytes is more than a report can hold", log.len())));
    }
    match store.write(ops).await {
        Ok(()) => Ok(Recorded::New),
        Err(StoreError::ConditionFailed) => Ok(Recorded::AlreadyReported),
        Err(other) => Err(other),
    }
}

/// The result of a run, if it still waits for the engine.
pub async fn get(
    store: &dyn Store,
    project: &ProjectId,
    execute_uuid: &str,
    instance_id: u64,
    attempt: u32,
) -> Result<Option<RunResult>, StoreError> {
    let item = store.get(&tenant_pk(project), &result_sk(execute_uuid, instance_id, attempt)).await?;
    item.as_ref().map(decode).transpose()
}

/// At most `limit` results of the ticket waiting for the engine: one bounded range read.
pub async fn pending(
    store: &dyn Store,
    project: &ProjectId,
    execute_uuid: &str,
    limit: usize,
) -> Result<PendingResults, StoreError> {
    let pk = tenant_pk(project);
    let prefix = prefix(execute_uuid);
    let page =
        store.query_page(PageQuery { pk: &pk, prefix: &prefix, after: None, limit, order: Order::Ascending }).await?;
    let results = page
        .items
        .into_iter()
        .map(|item| Ok(PendingResult { result: decode(&item)?, sk: item.sk }))
        .collect::<Result<_, StoreError>>()?;
    Ok(PendingResults { results, more: page.last_sk.is_some() })
}

/// The write that removes a result once it is folded into the ticket.
pub fn folded_op(project: &ProjectId, pending: &PendingResult) -> WriteOp {
    WriteOp::Delete { pk: tenant_pk(project), sk: pending.sk.clone(), condition: Condition::Always }
}

#[cfg(test)]
impl PendingResult {
    /// A pending result as `pending` reads it.
    pub(crate) fn read(result: RunResult, execute_uuid: &str) -> Self {
        let sk = result_sk(execute_uuid, result.instance_id, result.attempt);
        PendingResult { result, sk }
    }
}
