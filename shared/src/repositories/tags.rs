//! Tags of scripts, agents and imported hosts. The tags themselves live on the
//! tagged record (its `tags` field); besides it, per tenant partition:
//! - `TAGREF#{kind}#{id}#{key}`: one index item per tag, data `{"id"}`, listed
//!   in index `Filter` partition `PROJECT#{project}#TAG#{kind}#{key}#{value}` and
//!   in index `List` partition `PROJECT#{project}#TAGKEY#{kind}#{key}`, both with
//!   the record's sort key in its own list (a script's id, an agent's serial
//!   number, an imported host's id). "Scripts with tag k=v" is one range read of
//!   the pair's partition in the list's order; it reads no record without the tag.
//!   (Keys hold no `#`, so the partitions cannot collide.)
//! - `TAGCAT#{kind}`: the tenant's catalogue of one kind, `{key: {value: uses}}`,
//!   version-locked, at most [`limits::TAG_CATALOGUE_PAIRS`] pairs: what
//!   `list_script_resource_tags` reads, in one get.
//!
//! A change of a record's tags is one transaction with the record's own write:
//! the record, the catalogue (on the version read), the index items of tags
//! gone deleted and of tags new or changed written. A lost race on the
//! catalogue or the record fails the whole write; callers start over.

use std::collections::BTreeMap;

use serde_json::json;

use super::{decode, tenant_pk, versioned, Versioned};
use crate::domain::inventory::tags::{Tag, TagFilter, TagKind};
use crate::domain::tenant::ProjectId;
use crate::limits;
use crate::ports::{Condition, Index, IndexQuery, Item, Order, Store, StoreError, WriteOp};

/// `{key: {value: how many records carry it}}`.
pub type Catalogue = BTreeMap<String, BTreeMap<String, u64>>;

fn ref_sk(kind: TagKind, id: &str, key: &str) -> String {
    format!("TAGREF#{}#{id}#{key}", kind.key_part())
}

fn pair_pk(project: &ProjectId, kind: TagKind, key: &str, value: &str) -> String {
    format!("{}#TAG#{}#{key}#{value}", tenant_pk(project), kind.key_part())
}

fn key_pk(project: &ProjectId, kind: TagKind, key: &str) -> String {
    format!("{}#TAGKEY#{}#{key}", tenant_pk(project), kind.key_part())
}

fn catalogue_sk(kind: TagKind) -> String {
    format!("TAGCAT#{}", kind.key_part())
}

/// The index partition a filter reads.
fn filter_partition(project: &ProjectId, kind: TagKind, filter: &TagFilter) -> (Index, String) {
    match filter {
        TagFilter::Pair(tag) => (Index::Filter, pair_pk(project, kind, &tag.key, &tag.value)),
        TagFilter::Key(key) => (Index::List, key_pk(project, kind, key)),
    }
}

/// The tenant's catalogue of `kind` with its version (None: never written).
pub async fn catalogue(
    store: &dyn Store,
    project: &ProjectId,
    kind: TagKind,
) -> Result<Option<Versioned<Catalogue>>, StoreError> {
    versioned(store.get(&tenant_pk(project), &catalogue_sk(kind)).await?)
}

#[derive(Debug, thiserror::Error)]
pub enum RetagError {
    #[error("the tenant has {0} distinct tag key=value pairs of this kind, the most there may be")]
    CatalogueFull(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RetagError> for crate::error::ApiError {
    fn from(e: RetagError) -> Self {
        match e {
            RetagError::CatalogueFull(_) => crate::error::ApiError::invalid("tags", e),
            RetagError::Store(e) => e.into(),
        }
    }
}

/// The writes besides the record's own that move a record (`id`, listed at
/// `order_sk`) from tags `old` to tags `new`: index items and the catalogue,
/// read now (its version makes the transaction fail if someone else changed it).
pub async fn retag_ops(
    store: &dyn Store,
    project: &ProjectId,
    kind: TagKind,
    id: &str,
    order_sk: &str,
    old: &[Tag],
    new: &[Tag],
) -> Result<Vec<WriteOp>, RetagError> {
    let gone: Vec<&Tag> = old.iter().filter(|t| !new.contains(t)).collect();
    let added: Vec<&Tag> = new.iter().filter(|t| !old.contains(t)).collect();
    if gone.is_empty() && added.is_empty() {
        return Ok(Vec::new());
    }
    let pk = tenant_pk(project);
    let read = catalogue(store, project, kind).await?;
    let (mut cat, condition, version) = match read {
        Some(Versioned { value, version }) => (value, Condition::VersionIs(version), version + 1),
        None => (Catalogue::new(), Condition::NotExists, 1),
    };
    let mut ops = Vec::new();
    for tag in &gone {
        if let Some(values) = cat.get_mut(&tag.key) {
            if let Some(uses) = values.get_mut(&tag.value) {
                *uses = uses.saturating_sub(1);
                if *uses == 0 {
                    values.remove(&tag.value);
                }
            }
            if values.is_empty() {
                cat.remove(&tag.key);
            }
        }
        if !new.iter().any(|t| t.key == tag.key) {
            ops.push(WriteOp::Delete { pk: pk.clone(), sk: ref_sk(kind, id, &tag.key), condition: Condition::Always });
        }
    }
    for tag in &added {
        *cat.entry(tag.key.clone()).or_default().entry(tag.value.clone()).or_default() += 1;
        let item = Item::new(pk.clone(), ref_sk(kind, id, &tag.key), json!({ "id": id }).to_string(), 1)
            .indexed(Index::Filter, pair_pk(project, kind, &tag.key, &tag.value), order_sk)
            .indexed(Index::List, key_pk(project, kind, &tag.key), order_sk);
        ops.push(WriteOp::Put { item, condition: Condition::Always });
    }
    let pairs: usize = cat.values().map(BTreeMap::len).sum();
    if pairs > limits::TAG_CATALOGUE_PAIRS && !added.is_empty() {
        return Err(RetagError::CatalogueFull(limits::TAG_CATALOGUE_PAIRS));
    }
    let data = serde_json::to_string(&cat).map_err(|e| StoreError::Backend(e.to_string()))?;
    ops.push(WriteOp::Put { item: Item::new(pk, catalogue_sk(kind), data, version), condition });
    Ok(ops)
}

/// At most `limit` ids of records of `kind` matching `filter`, listed after
/// `after` (an order sort key) in their list's order, and whether more may follow.
pub async fn ids_page(
    store: &dyn Store,
    project: &ProjectId,
    kind: TagKind,
    filter: &TagFilter,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<String>, Option<String>), StoreError> {
    let (index, pk) = filter_partition(project, kind, filter);
    let page = store.query_index(IndexQuery { index, pk: &pk, after, limit, order: Order::Ascending }).await?;
    let ids = page
        .items
        .iter()
        .map(|item| decode::<serde_json::Value>(item).map(|v| v["id"].as_str().unwrap_or_default().to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((ids, page.last_sk))
}

/// How many records of `kind` carry the filter's tag: from the catalogue.
pub async fn count(
    store: &dyn Store,
    project: &ProjectId,
    kind: TagKind,
    filter: &TagFilter,
) -> Result<u64, StoreError> {
    let Some(cat) = catalogue(store, project, kind).await? else {
        return Ok(0);
    };
    Ok(match filter {
        TagFilter::Pair(tag) => cat.value.get(&tag.key).and_then(|v| v.get(&tag.value)).copied().unwrap_or(0),
        // A record has a key once: the uses of its values add up.
        TagFilter::Key(key) => cat.value.get(key).map(|v| v.values().sum()).unwrap_or(0),
    })
}
