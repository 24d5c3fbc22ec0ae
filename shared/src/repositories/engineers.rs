//! O&M engineers in the table (README "Access patterns").
//!
//! Tenant partition `PROJECT#{project}`:
//! - `ENGINEER#{user_id}`: an engineer with its subscriptions, version-locked;
//! - counts `COUNT#ENGINEER` and `COUNT#ENGINEER#{IAM|FEDERATED}`, changed in
//!   the transaction that adds or removes an engineer.
//!
//! Index `List`: `PROJECT#{project}#ENGINEER`, sort key
//! `{create_time:013}#{user_id}` (oldest first). Index `Filter`: the same sort
//! key under `PROJECT#{project}#ENGINEER#{IAM|FEDERATED}`, for the source filter.
//!
//! Confirmation links: [`tokens`].

pub mod tokens;

use super::listing::{self, bounded_total, contains_ignoring_case, count_key, Listed, Verdict, Walk};
use super::{decode, encode, tenant_pk, versioned, Versioned};
use crate::domain::engineer::{Engineer, Source};
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Index, Item, Order, Store, StoreError, WriteOp};

/// The source filter's name in keys and in the API.
pub fn source_key(source: &Source) -> &'static str {
    match source {
        Source::Iam => "IAM",
        Source::Federated { .. } => "FEDERATED",
    }
}

fn engineer_sk(user_id: &str) -> String {
    format!("ENGINEER#{user_id}")
}

fn list_pk(project: &ProjectId) -> String {
    format!("{}#ENGINEER", tenant_pk(project))
}

fn source_pk(project: &ProjectId, source: &str) -> String {
    format!("{}#ENGINEER#{source}", tenant_pk(project))
}

fn all_count() -> String {
    count_key(&["ENGINEER"])
}

fn source_count(source: &str) -> String {
    count_key(&["ENGINEER", source])
}

fn engineer_item(engineer: &Engineer, version: u64) -> Result<Item, StoreError> {
    let project = &engineer.project_id;
    let sort = format!("{:013}#{}", engineer.create_time, engineer.user_id);
    Ok(Item::new(tenant_pk(project), engineer_sk(&engineer.user_id), encode(engineer)?, version)
        .indexed(Index::List, list_pk(project), sort.clone())
        .indexed(Index::Filter, source_pk(project, source_key(&engineer.source)), sort))
}

/// The engineer `user_id` of the tenant, if there is one.
pub async fn get(
    store: &dyn Store,
    project: &ProjectId,
    user_id: &str,
) -> Result<Option<Versioned<Engineer>>, StoreError> {
    versioned(store.get(&tenant_pk(project), &engineer_sk(user_id)).await?)
}

/// The writes that add a new engineer and count it; they fail if the user is one already.
pub fn insert_ops(engineer: &Engineer) -> Result<Vec<WriteOp>, StoreError> {
    let pk = tenant_pk(&engineer.project_id);
    Ok(vec![
        WriteOp::Put { item: engineer_item(engineer, 1)?, condition: Condition::NotExists },
        WriteOp::Add { pk: pk.clone(), sk: all_count(), delta: 1 },
        WriteOp::Add { pk, sk: source_count(source_key(&engineer.source)), delta: 1 },
    ])
}

/// Adds an engineer; `ConditionFailed` when the user is one already.
pub async fn insert(store: &dyn Store, engineer: &Engineer) -> Result<(), StoreError> {
    store.write(insert_ops(engineer)?).await
}

/// The write that replaces an engineer read at `version`: of two racing
/// changes, one lands and the other starts over.
pub fn replace_op(engineer: &Engineer, version: u64) -> Result<WriteOp, StoreError> {
    Ok(WriteOp::Put { item: engineer_item(engineer, version + 1)?, condition: Condition::VersionIs(version) })
}

/// The writes that remove an engineer read at `version`, uncount it and
/// delete its pending subscriptions' links.
pub fn delete_ops(engineer: &Engineer, version: u64) -> Vec<WriteOp> {
    let pk = tenant_pk(&engineer.project_id);
    let mut ops = vec![
        WriteOp::Delete {
            pk: pk.clone(),
            sk: engineer_sk(&engineer.user_id),
            condition: Condition::VersionIs(version),
        },
        WriteOp::Add { pk: pk.clone(), sk: all_count(), delta: -1 },
        WriteOp::Add { pk, sk: source_count(source_key(&engineer.source)), delta: -1 },
    ];
    ops.extend(engineer.subscriptions.iter().filter_map(|s| s.token_hash.as_deref()).map(tokens::delete_op));
    ops
}

/// What the engineer list selects.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// `IAM` or `FEDERATED`: read from that source's index partition.
    pub source: Option<&'static str>,
    /// A case-insensitive substring of the user name (so a prefix too).
    pub user_name: Option<String>,
}

impl Filter {
    fn walk_pk(&self, project: &ProjectId) -> (Index, String) {
        match self.source {
            Some(source) => (Index::Filter, source_pk(project, source)),
            None => (Index::List, list_pk(project)),
        }
    }

    fn judge(&self, engineer: &Engineer) -> Verdict {
        match &self.user_name {
            Some(part) if !contains_ignoring_case(&engineer.user_name, part) => Verdict::Skip,
            _ => Verdict::Keep,
        }
    }
}

/// At most `limit` engineers after the index key `after`, oldest first.
pub async fn list(
    store: &dyn Store,
    project: &ProjectId,
    filter: &Filter,
    after: Option<&str>,
    limit: usize,
) -> Result<Listed<Engineer>, StoreError> {
    let (index, pk) = filter.walk_pk(project);
    let walk = Walk { index, pk: &pk, after, order: Order::Ascending };
    listing::page(store, walk, limit, filter.user_name.is_some(), decode, |e| filter.judge(e)).await
}

/// How many engineers the filter selects: from a counter, or with a name
/// filter a bounded count (an upper bound past `LIST_COUNT_WALK` candidates).
pub async fn count(store: &dyn Store, project: &ProjectId, filter: &Filter) -> Result<usize, StoreError> {
    let counter = match filter.source {
        Some(source) => source_count(source),
        None => all_count(),
    };
    let candidates = store.counter(&tenant_pk(project), &counter).await?;
    if filter.user_name.is_none() {
        return Ok(candidates.max(0) as usize);
    }
    let (index, pk) = filter.walk_pk(project);
    let walk = Walk { index, pk: &pk, after: None, order: Order::Ascending };
    let counted = listing::count(store, walk, decode, |e| filter.judge(e)).await?;
    Ok(bounded_total(counted, candidates))
}
