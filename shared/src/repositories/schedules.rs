//! Scheduled tasks and their runs in the table.
//!
//! Tenant partition `PROJECT#{project}`:
//! - `SCHEDTASK#{task_id}`: a task, version-locked; listed in index `List`
//!   partition `PROJECT#{project}#SCHEDTASK`, sort key `{created_time:013}#{task_id}`
//!   (the list reads it newest first);
//! - `SCHEDRUN#{task_id}#{due_at:013}`: a run (history entry), written once,
//!   on condition it does not exist, in the transaction that claims its due
//!   time; a task's history is a range read of this prefix, in due order. Runs
//!   are also listed in index `List` partition `PROJECT#{project}#SCHEDRUN`,
//!   sort key `{due_at:013}#{task_id}`, for the history of every task;
//! - counts `COUNT#SCHEDTASK`, `COUNT#SCHEDRUN`, `COUNT#SCHEDRUN#TASK#{task_id}`.
//!
//! Partition `SCHEDULE_DUE`, sort key `{next_due:013}#{project}#{task_id}`: each
//! enabled task with a next due time, once, under exactly the `next_due` its
//! record holds (both are written in one transaction). A sweep reads it from
//! the start, in due order, and stops at the first entry not yet due.
//!
//! The values of the script's sensitive parameters in `input_param.script_params`
//! are sealed in the stored record and opened only for a run.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::listing::{self, count_key, Listed, Verdict, Walk};
use super::{decode, encode, tenant_pk, Versioned};
use crate::domain::schedule::{InputValue, ScheduledTask, TaskRun};
use crate::domain::script::MASK;
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Index, IndexQuery, Item, KeyringError, Order, PageQuery, Store, StoreError, WriteOp};
use crate::secrets::SecretBox;

const TASK_PREFIX: &str = "SCHEDTASK#";
const RUN_PREFIX: &str = "SCHEDRUN#";
const DUE_PK: &str = "SCHEDULE_DUE";

fn task_sk(task_id: &str) -> String {
    format!("{TASK_PREFIX}{task_id}")
}

fn task_list_pk(project: &ProjectId) -> String {
    format!("{}#SCHEDTASK", tenant_pk(project))
}

fn run_list_pk(project: &ProjectId) -> String {
    format!("{}#SCHEDRUN", tenant_pk(project))
}

fn run_sk(task_id: &str, due_at: i64) -> String {
    format!("{RUN_PREFIX}{task_id}#{due_at:013}")
}

fn due_sk(project: &ProjectId, task_id: &str, due_at: i64) -> String {
    format!("{due_at:013}#{project}#{task_id}")
}

fn task_count() -> String {
    count_key(&["SCHEDTASK"])
}

fn run_count() -> String {
    count_key(&["SCHEDRUN"])
}

fn task_run_count(task_id: &str) -> String {
    count_key(&["SCHEDRUN", "TASK", task_id])
}

fn keyring_failed(e: KeyringError) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// An entry of the due list: which task is due when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub project_id: ProjectId,
    pub task_id: String,
    pub due_at: i64,
}

/// How a read or write treats the sealed sensitive values.
enum Values<'a> {
    Seal(&'a SecretBox),
    Open(&'a SecretBox),
    Mask,
}

/// The task with each sensitive `script_params` value sealed, opened or masked.
async fn transform(task: &ScheduledTask, how: Values<'_>) -> Result<ScheduledTask, StoreError> {
    let mut task = task.clone();
    let Some(text) = task.spec.input_param.get("script_params") else {
        return Ok(task);
    };
    if task.sensitive_params.is_empty() {
        return Ok(task);
    }
    let Ok(Value::Array(mut params)) = serde_json::from_str::<Value>(text.as_str()) else {
        return Ok(task);
    };
    for param in &mut params {
        let sensitive = param
            .get("param_name")
            .and_then(Value::as_str)
            .is_some_and(|name| task.sensitive_params.iter().any(|s| s == name));
        let Some(value) = param.get_mut("param_value").filter(|_| sensitive) else {
            continue;
        };
        let current = value.as_str().unwrap_or_default().to_owned();
        let changed = match &how {
            Values::Seal(secrets) => secrets.seal(&current).await.map_err(keyring_failed)?,
            Values::Open(secrets) => secrets.open(&current).await.map_err(keyring_failed)?,
            Values::Mask => MASK.to_owned(),
        };
        *value = Value::String(changed);
    }
    let text = InputValue::parse(Value::Array(params).to_string()).map_err(StoreError::Backend)?;
    task.spec.input_param.insert("script_params".to_owned(), text);
    Ok(task)
}

async fn task_item(secrets: &SecretBox, task: &ScheduledTask, version: u64) -> Result<Item, StoreError> {
    let sealed = transform(task, Values::Seal(secrets)).await?;
    Ok(Item::new(tenant_pk(&task.project_id), task_sk(&task.id), encode(&sealed)?, version).indexed(
        Index::List,
        task_list_pk(&task.project_id),
        format!("{:013}#{}", task.created_time, task.id),
    ))
}

fn due_item(task: &ScheduledTask, due_at: i64) -> Result<Item, StoreError> {
    let due = Due { project_id: task.project_id.clone(), task_id: task.id.clone(), due_at };
    Ok(Item::new(DUE_PK, due_sk(&task.project_id, &task.id, due_at), encode(&due)?, 1))
}

/// Where a task is in the due list, if it is.
fn listed(task: Option<&ScheduledTask>) -> Option<(&ScheduledTask, i64)> {
    task.and_then(|t| t.next_due.filter(|_| t.enabled).map(|due| (t, due)))
}

/// The due-list writes that take `before` (if stored) to `after`.
fn due_ops(before: Option<&ScheduledTask>, after: Option<&ScheduledTask>) -> Result<Vec<WriteOp>, StoreError> {
    let (old, new) = (listed(before), listed(after));
    if old.map(|(_, d)| d) == new.map(|(_, d)| d) {
        return Ok(Vec::new());
    }
    let mut ops = Vec::new();
    if let Some((task, due)) = old {
        ops.push(WriteOp::Delete {
            pk: DUE_PK.to_owned(),
            sk: due_sk(&task.project_id, &task.id, due),
            condition: Condition::Always,
        });
    }
    if let Some((task, due)) = new {
        ops.push(WriteOp::Put { item: due_item(task, due)?, condition: Condition::Always });
    }
    Ok(ops)
}

fn count_op(project: &ProjectId, sk: String, delta: i64) -> WriteOp {
    WriteOp::Add { pk: tenant_pk(project), sk, delta }
}

/// Stores a new task, lists it as due (when enabled with a due time) and counts it.
pub async fn insert(store: &dyn Store, secrets: &SecretBox, task: &ScheduledTask) -> Result<(), StoreError> {
    let mut ops = vec![WriteOp::Put { item: task_item(secrets, task, 1).await?, condition: Condition::NotExists }];
    ops.extend(due_ops(None, Some(task))?);
    ops.push(count_op(&task.project_id, task_count(), 1));
    store.write(ops).await
}

/// The writes that replace the stored task `before` (at `version`) by `after`.
pub async fn save_ops(
    secrets: &SecretBox,
    before: &ScheduledTask,
    version: u64,
    after: &ScheduledTask,
) -> Result<Vec<WriteOp>, StoreError> {
    let mut ops = vec![WriteOp::Put {
        item: task_item(secrets, after, version + 1).await?,
        condition: Condition::VersionIs(version),
    }];
    ops.extend(due_ops(Some(before), Some(after))?);
    Ok(ops)
}

/// Replaces a task if nobody wrote it since `version` (else `ConditionFailed`).
pub async fn save(
    store: &dyn Store,
    secrets: &SecretBox,
    before: &ScheduledTask,
    version: u64,
    after: &ScheduledTask,
) -> Result<(), StoreError> {
    store.write(save_ops(secrets, before, version, after).await?).await
}

/// Deletes a task and its due entry; its runs stay in the history.
pub async fn delete(store: &dyn Store, task: &ScheduledTask, version: u64) -> Result<(), StoreError> {
    let mut ops = vec![WriteOp::Delete {
        pk: tenant_pk(&task.project_id),
        sk: task_sk(&task.id),
        condition: Condition::VersionIs(version),
    }];
    ops.extend(due_ops(Some(task), None)?);
    ops.push(count_op(&task.project_id, task_count(), -1));
    store.write(ops).await
}

async fn read(
    store: &dyn Store,
    project: &ProjectId,
    task_id: &str,
    how: Values<'_>,
) -> Result<Option<Versioned<ScheduledTask>>, StoreError> {
    let Some(item) = store.get(&tenant_pk(project), &task_sk(task_id)).await? else {
        return Ok(None);
    };
    let stored: ScheduledTask = decode(&item)?;
    Ok(Some(Versioned { value: transform(&stored, how).await?, version: item.version }))
}

/// The task with its sensitive values opened: for a run, and for an update that rewrites it.
pub async fn get(
    store: &dyn Store,
    secrets: &SecretBox,
    project: &ProjectId,
    task_id: &str,
) -> Result<Option<Versioned<ScheduledTask>>, StoreError> {
    read(store, project, task_id, Values::Open(secrets)).await
}

/// The task with its sensitive values masked: for read-backs. Never write it back.
pub async fn get_masked(
    store: &dyn Store,
    project: &ProjectId,
    task_id: &str,
) -> Result<Option<Versioned<ScheduledTask>>, StoreError> {
    read(store, project, task_id, Values::Mask).await
}

/// A page of the tenant's tasks, newest first, that `judge` keeps, as stored
/// (sensitive values sealed): the list shows no parameter values.
pub async fn list(
    store: &dyn Store,
    project: &ProjectId,
    after: Option<&str>,
    limit: usize,
    filtered: bool,
    judge: impl Fn(&ScheduledTask) -> Verdict,
) -> Result<Listed<ScheduledTask>, StoreError> {
    let pk = task_list_pk(project);
    let walk = Walk { index: Index::List, pk: &pk, after, order: Order::Descending };
    listing::page(store, walk, limit, filtered, decode, judge).await
}

/// How many tasks `judge` keeps, within the bounded count walk.
pub async fn count(
    store: &dyn Store,
    project: &ProjectId,
    judge: impl Fn(&ScheduledTask) -> Verdict,
) -> Result<listing::Counted, StoreError> {
    let pk = task_list_pk(project);
    let walk = Walk { index: Index::List, pk: &pk, after: None, order: Order::Descending };
    listing::count(store, walk, decode, judge).await
}

pub async fn total(store: &dyn Store, project: &ProjectId) -> Result<i64, StoreError> {
    store.counter(&tenant_pk(project), &task_count()).await
}

/// At most `limit` entries of the due list after `after`, earliest first.
pub async fn due_page(
    store: &dyn Store,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<Due>, Option<String>), StoreError> {
    let page = store.query_page(PageQuery { pk: DUE_PK, prefix: "", after, limit, order: Order::Ascending }).await?;
    let due = page.items.iter().map(decode).collect::<Result<Vec<Due>, _>>()?;
    Ok((due, page.last_sk))
}

fn run_item(run: &TaskRun) -> Result<Item, StoreError> {
    Ok(Item::new(tenant_pk(&run.project_id), run_sk(&run.task_id, run.due_at), encode(run)?, 1).indexed(
        Index::List,
        run_list_pk(&run.project_id),
        format!("{:013}#{}", run.due_at, run.task_id),
    ))
}

/// The writes that record `run`, once: a second claim of the same due time fails.
pub fn run_ops(run: &TaskRun) -> Result<Vec<WriteOp>, StoreError> {
    Ok(vec![
        WriteOp::Put { item: run_item(run)?, condition: Condition::NotExists },
        count_op(&run.project_id, run_count(), 1),
        count_op(&run.project_id, task_run_count(&run.task_id), 1),
    ])
}

/// At most `limit` runs after the key `after`, in `order` of due time, each
/// with its key (the `after` that resumes behind it): one task's (a range
/// of its runs in the tenant partition) or, with `task_id` `None`, every
/// task's (the tenant's index of runs). The second value is the key to read
/// on from, `None` when the range is exhausted.
pub async fn runs_page(
    store: &dyn Store,
    project: &ProjectId,
    task_id: Option<&str>,
    after: Option<&str>,
    limit: usize,
    order: Order,
) -> Result<(Vec<(TaskRun, String)>, Option<String>), StoreError> {
    let page = match task_id {
        Some(task_id) => {
            let (pk, prefix) = (tenant_pk(project), format!("{RUN_PREFIX}{task_id}#"));
            store.query_page(PageQuery { pk: &pk, prefix: &prefix, after, limit, order }).await?
        }
        None => {
            let pk = run_list_pk(project);
            store.query_index(IndexQuery { index: Index::List, pk: &pk, after, limit, order }).await?
        }
    };
    let mut runs = Vec::with_capacity(page.items.len());
    for item in &page.items {
        let key = match task_id {
            Some(_) => item.sk.clone(),
            None => item.index_key(Index::List).map(|k| k.sk.clone()).unwrap_or_default(),
        };
        runs.push((decode(item)?, key));
    }
    Ok((runs, page.last_sk))
}

/// How many runs a task had (or the tenant, with `None`).
pub async fn run_total(store: &dyn Store, project: &ProjectId, task_id: Option<&str>) -> Result<i64, StoreError> {
    let key = task_id.map(task_run_count).unwrap_or_else(run_count);
    store.counter(&tenant_pk(project), &key).await
}
