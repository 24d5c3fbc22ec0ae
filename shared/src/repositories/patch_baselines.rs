//! Patch baselines in the table (the signatures of [`get`] and [`defaults`]
//! are what the patch tickets rely on). Per tenant partition:
//! - `PATCH_BASELINE#{id}`: the baseline, listed in index `List` partition
//!   `PROJECT#{p}#PATCH_BASELINE` and in index `Filter` partition
//!   `PROJECT#{p}#PATCH_BASELINE#OS#{family}`, both sorted by `{name}#{id}`
//!   (names cannot hold `#`), so lists come in name order;
//! - `PATCH_BASELINE_NAME#{name}`: a claim on the name, written with the
//!   baseline (and moved by a rename) so that names are unique atomically;
//! - `PATCH_BASELINE_DEFAULT#{family}`: which baseline is the tenant's default
//!   of the family. Absent: the built-in one. Being one item per family, there
//!   is never more than one default; a baseline's `is_default` is read from it;
//! - counts `COUNT#PATCH_BASELINE`, `COUNT#PATCH_BASELINE#OS#{family}`.
//!
//! Every change of a baseline writes its claim, pointer and counts in one transaction.
//! The built-in defaults ([`baseline::built_in`]) are not stored.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::patch::baseline::{self, Baseline, OsFamily};
use crate::domain::tenant::ProjectId;
use crate::error::ApiError;
use crate::limits;
use crate::ports::{Condition, Index, Item, Order, Store, StoreError, WriteOp};

use super::listing::{self, contains_ignoring_case, count_key, Verdict, Walk};
use super::{decode, encode, tenant_pk, Versioned};

const RECORD_PREFIX: &str = "PATCH_BASELINE#";
const NAME_PREFIX: &str = "PATCH_BASELINE_NAME#";
const DEFAULT_PREFIX: &str = "PATCH_BASELINE_DEFAULT#";

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the name is taken")]
    NameTaken,
    /// Another writer changed the baseline (or its family's default) since it was read.
    #[error("the baseline changed meanwhile")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a claim or pointer item holds.
#[derive(Debug, Serialize, Deserialize)]
struct Points {
    baseline_id: String,
}

fn record_sk(id: &str) -> String {
    format!("{RECORD_PREFIX}{id}")
}

fn name_sk(name: &str) -> String {
    format!("{NAME_PREFIX}{name}")
}

fn default_sk(family: &str) -> String {
    format!("{DEFAULT_PREFIX}{family}")
}

fn list_pk(project: &ProjectId) -> String {
    format!("{}#PATCH_BASELINE", tenant_pk(project))
}

fn family_pk(project: &ProjectId, family: &str) -> String {
    format!("{}#PATCH_BASELINE#OS#{family}", tenant_pk(project))
}

fn order_sk(baseline: &Baseline) -> String {
    format!("{}#{}", baseline.name, baseline.id)
}

fn total_count() -> String {
    count_key(&["PATCH_BASELINE"])
}

fn family_count(family: &str) -> String {
    count_key(&["PATCH_BASELINE", "OS", family])
}

fn count_op(project: &ProjectId, sk: String, delta: i64) -> WriteOp {
    WriteOp::Add { pk: tenant_pk(project), sk, delta }
}

fn record_item(project: &ProjectId, baseline: &Baseline) -> Result<Item, StoreError> {
    Ok(Item::new(tenant_pk(project), record_sk(&baseline.id), encode(baseline)?, baseline.version)
        .indexed(Index::List, list_pk(project), order_sk(baseline))
        .indexed(Index::Filter, family_pk(project, &baseline.operating_system), order_sk(baseline)))
}

fn pointer_item(project: &ProjectId, sk: String, baseline_id: &str) -> Result<Item, StoreError> {
    Ok(Item::new(tenant_pk(project), sk, encode(&Points { baseline_id: baseline_id.to_owned() })?, 1))
}

/// The tenant's default pointers: family → (baseline id, pointer version). At
/// most one item per family, so a bounded range read.
async fn pointers(store: &dyn Store, project: &ProjectId) -> Result<HashMap<String, (String, u64)>, StoreError> {
    let mut found = HashMap::new();
    for item in store.query_prefix(&tenant_pk(project), DEFAULT_PREFIX).await? {
        let points: Points = decode(&item)?;
        found.insert(item.sk[DEFAULT_PREFIX.len()..].to_owned(), (points.baseline_id, item.version));
    }
    Ok(found)
}

/// The default pointer of one family, if the tenant set one.
async fn pointer(store: &dyn Store, project: &ProjectId, family: &str) -> Result<Option<(String, u64)>, StoreError> {
    let Some(item) = store.get(&tenant_pk(project), &default_sk(family)).await? else {
        return Ok(None);
    };
    let points: Points = decode(&item)?;
    Ok(Some((points.baseline_id, item.version)))
}

/// Sets `is_default` from the family's pointer (`None`: the built-in is the default).
fn mark_default(mut baseline: Baseline, pointer: Option<&str>) -> Baseline {
    baseline.is_default = match pointer {
        Some(id) => id == baseline.id,
        None => baseline.is_built_in(),
    };
    baseline
}

/// How many baselines the tenant has stored.
pub async fn stored_count(store: &dyn Store, project: &ProjectId) -> Result<i64, StoreError> {
    store.counter(&tenant_pk(project), &total_count()).await
}

/// Stores a new baseline: its name claim, counts and, if it is default, its
/// family's pointer, all or nothing.
pub async fn create(store: &dyn Store, project: &ProjectId, baseline: &Baseline) -> Result<(), WriteError> {
    let mut ops = vec![
        WriteOp::Put {
            item: pointer_item(project, name_sk(&baseline.name), &baseline.id)?,
            condition: Condition::NotExists,
        },
        WriteOp::Put { item: record_item(project, baseline)?, condition: Condition::NotExists },
        count_op(project, total_count(), 1),
        count_op(project, family_count(&baseline.operating_system), 1),
    ];
    if baseline.is_default {
        let item = pointer_item(project, default_sk(&baseline.operating_system), &baseline.id)?;
        ops.push(WriteOp::Put { item, condition: Condition::Always });
    }
    store.write(ops).await.map_err(|e| match e {
        StoreError::ConditionFailed => WriteError::NameTaken,
        other => WriteError::Store(other),
    })
}

/// The tenant's own baseline `id` with the version a change must match.
pub async fn get_own(
    store: &dyn Store,
    project: &ProjectId,
    id: &str,
) -> Result<Option<Versioned<Baseline>>, StoreError> {
    let Some(item) = store.get(&tenant_pk(project), &record_sk(id)).await? else {
        return Ok(None);
    };
    let mut stored: Baseline = decode(&item)?;
    stored.version = item.version;
    let pointer = pointer(store, project, &stored.operating_system).await?;
    Ok(Some(Versioned { value: mark_default(stored, pointer.as_ref().map(|p| p.0.as_str())), version: item.version }))
}

/// The tenant's baseline `id` (its own, or a built-in default's id), if any.
pub async fn get(store: &dyn Store, project: &ProjectId, id: &str) -> Result<Option<Baseline>, ApiError> {
    if let Some(built_in) = baseline::built_in_by_id(id) {
        let pointer = pointer(store, project, &built_in.operating_system).await?;
        return Ok(Some(mark_default(built_in, pointer.as_ref().map(|p| p.0.as_str()))));
    }
    Ok(get_own(store, project, id).await?.map(|v| v.value))
}

/// The tenant's default baseline of every OS family: the one it marked
/// default, else the built-in one.
pub async fn defaults(store: &dyn Store, project: &ProjectId) -> Result<Vec<Baseline>, ApiError> {
    let pointers = pointers(store, project).await?;
    let mut all = Vec::with_capacity(OsFamily::ALL.len());
    for family in OsFamily::ALL {
        let marked = match pointers.get(family.name()) {
            Some((id, _)) => {
                store.get(&tenant_pk(project), &record_sk(id)).await?.map(|i| decode::<Baseline>(&i)).transpose()?
            }
            None => None,
        };
        let mut chosen = marked.unwrap_or_else(|| baseline::built_in(family));
        chosen.is_default = true;
        all.push(chosen);
    }
    Ok(all)
}

/// Writes `new` over `old` (read at `old.version`): the name claim moves on a
/// rename, the counts on a change of family, the default pointers as `is_default` says.
pub async fn update(store: &dyn Store, project: &ProjectId, old: &Baseline, new: &Baseline) -> Result<(), WriteError> {
    let pk = tenant_pk(project);
    let mut ops = vec![WriteOp::Put { item: record_item(project, new)?, condition: Condition::VersionIs(old.version) }];
    if old.name != new.name {
        ops.push(WriteOp::Delete { pk: pk.clone(), sk: name_sk(&old.name), condition: Condition::Exists });
        ops.push(WriteOp::Put {
            item: pointer_item(project, name_sk(&new.name), &new.id)?,
            condition: Condition::NotExists,
        });
    }
    let same_family = old.operating_system == new.operating_system;
    if !same_family {
        ops.push(count_op(project, family_count(&old.operating_system), -1));
        ops.push(count_op(project, family_count(&new.operating_system), 1));
    }
    let old_pointer = pointer(store, project, &old.operating_system).await?;
    let was_default = old_pointer.as_ref().is_some_and(|(id, _)| *id == old.id);
    if let (true, Some((_, version))) = (was_default && (!new.is_default || !same_family), &old_pointer) {
        ops.push(WriteOp::Delete {
            pk: pk.clone(),
            sk: default_sk(&old.operating_system),
            condition: Condition::VersionIs(*version),
        });
    }
    if new.is_default && !(was_default && same_family) {
        let item = pointer_item(project, default_sk(&new.operating_system), &new.id)?;
        ops.push(WriteOp::Put { item, condition: Condition::Always });
    }
    match store.write(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed) => {
            let claim = store.get(&pk, &name_sk(&new.name)).await?;
            let taken = match claim {
                Some(item) if old.name != new.name => decode::<Points>(&item)?.baseline_id != new.id,
                _ => false,
            };
            Err(if taken { WriteError::NameTaken } else { WriteError::Conflict })
        }
        Err(other) => Err(other.into()),
    }
}

/// Removes the baseline read at `baseline.version`, frees its name, uncounts
/// it and, if it was its family's default, drops the pointer (the built-in is
/// the default again), all or nothing.
pub async fn delete(store: &dyn Store, project: &ProjectId, baseline: &Baseline) -> Result<(), WriteError> {
    let pk = tenant_pk(project);
    let mut ops = vec![
        WriteOp::Delete {
            pk: pk.clone(),
            sk: record_sk(&baseline.id),
            condition: Condition::VersionIs(baseline.version),
        },
        WriteOp::Delete { pk: pk.clone(), sk: name_sk(&baseline.name), condition: Condition::Exists },
        count_op(project, total_count(), -1),
        count_op(project, family_count(&baseline.operating_system), -1),
    ];
    if let Some((id, version)) = pointer(store, project, &baseline.operating_system).await? {
        if id == baseline.id {
            ops.push(WriteOp::Delete {
                pk,
                sk: default_sk(&baseline.operating_system),
                condition: Condition::VersionIs(version),
            });
        }
    }
    store.write(ops).await.map_err(|e| match e {
        StoreError::ConditionFailed => WriteError::Conflict,
        other => WriteError::Store(other),
    })
}

/// The list's filters.
#[derive(Debug, Clone, Default)]
pub struct BaselineFilter {
    pub operating_system: Option<OsFamily>,
    /// A case-insensitive substring of the name.
    pub name: Option<String>,
}

impl BaselineFilter {
    fn matches(&self, baseline: &Baseline) -> bool {
        self.operating_system.is_none_or(|f| f.name() == baseline.operating_system)
            && self.name.as_deref().is_none_or(|part| contains_ignoring_case(&baseline.name, part))
    }

    fn index(&self, project: &ProjectId) -> (Index, String) {
        match self.operating_system {
            Some(family) => (Index::Filter, family_pk(project, family.name())),
            None => (Index::List, list_pk(project)),
        }
    }

    fn count_sk(&self) -> String {
        match self.operating_system {
            Some(family) => family_count(family.name()),
            None => total_count(),
        }
    }

    fn built_ins(&self) -> Vec<Baseline> {
        baseline::built_in_defaults().into_iter().filter(|b| self.matches(b)).collect()
    }
}

/// Rows `skip .. skip + limit` of the list: the built-in defaults that match
/// (in family order), then the tenant's own in name order. The tenant's own are
/// read through the index; the rows skipped are read too, which
/// [`limits::BASELINES_PER_TENANT`] bounds.
pub async fn list(
    store: &dyn Store,
    project: &ProjectId,
    filter: &BaselineFilter,
    skip: usize,
    limit: usize,
) -> Result<Vec<Baseline>, StoreError> {
    let pointers = pointers(store, project).await?;
    let default_of = |b: Baseline| {
        let pointer = pointers.get(&b.operating_system).map(|p| p.0.clone());
        mark_default(b, pointer.as_deref())
    };
    let built_ins = filter.built_ins();
    let own_skip = skip.saturating_sub(built_ins.len());
    let mut rows: Vec<Baseline> = built_ins.into_iter().skip(skip).take(limit).map(default_of).collect();
    let wanted = limit - rows.len();
    if wanted == 0 {
        return Ok(rows);
    }
    // Past the tenant's own rows there is nothing to walk (and a far page must not size a walk).
    let stored = store.counter(&tenant_pk(project), &filter.count_sk()).await?.max(0) as usize;
    if own_skip >= stored {
        return Ok(rows);
    }
    let (index, pk) = filter.index(project);
    let walk = Walk { index, pk: &pk, after: None, order: Order::Ascending };
    let judge = |b: &Baseline| if filter.matches(b) { Verdict::Keep } else { Verdict::Skip };
    let page = listing::page(store, walk, own_skip + wanted, filter.name.is_some(), decode::<Baseline>, judge).await?;
    rows.extend(page.rows.into_iter().skip(own_skip).map(default_of));
    Ok(rows)
}

/// How many rows [`list`] has in all: the matching built-ins plus a count
/// read, or with a name filter a bounded count (README, "Access patterns").
pub async fn count(store: &dyn Store, project: &ProjectId, filter: &BaselineFilter) -> Result<usize, StoreError> {
    let built_ins = filter.built_ins().len();
    let candidates = store.counter(&tenant_pk(project), &filter.count_sk()).await?;
    if filter.name.is_none() {
        return Ok(built_ins + candidates.max(0) as usize);
    }
    let (index, pk) = filter.index(project);
    let walk = Walk { index, pk: &pk, after: None, order: Order::Ascending };
    let judge = |b: &Baseline| if filter.matches(b) { Verdict::Keep } else { Verdict::Skip };
    let counted = listing::count(store, walk, decode::<Baseline>, judge).await?;
    Ok(built_ins + listing::bounded_total(counted, candidates))
}

/// Whether the tenant may store one more baseline.
pub async fn has_room(store: &dyn Store, project: &ProjectId) -> Result<bool, StoreError> {
    Ok(stored_count(store, project).await? < limits::BASELINES_PER_TENANT)
}
