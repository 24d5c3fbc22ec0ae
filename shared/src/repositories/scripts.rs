//! Scripts in the table. Per tenant partition:
//! - `SCRIPT#{uuid}`: the script;
//! - `SCRIPT_NAME#{name}`: a claim on the name, written in the same transaction
//!   as the script so that two creates of one name cannot both succeed;
//! - counter `SCRIPT_ID`: the auto-increment id;
//! - counts `COUNT#SCRIPT`, `COUNT#SCRIPT#CREATOR#{creator}`, `COUNT#SCRIPT#RISK#{level}`,
//!   `COUNT#SCRIPT#TYPE#{type}`, changed in the transaction that changes the script.
//!
//! The list reads index `List` partition `PROJECT#{project}#SCRIPT` (sort key: the
//! id, 20 digits), or for one creator index `Filter` partition
//! `PROJECT#{project}#SCRIPT#CREATOR#{creator}`, both in id order.
//!
//! A script's tags are in its record and in the tag index items of
//! `repositories::tags` (kind `SCRIPT`, listed by id).
//!
//! The default values of sensitive parameters are sealed in the stored record
//! (a copy of the table yields nothing usable) and opened only by [`get`], for
//! the handlers that need them: an edit that keeps a secret, an execution that
//! resolves it into its (sealed) ticket. Read-backs show the mask anyway, so
//! [`get_masked`] and [`list`] never call the keyring.

use serde_json::Value;

use crate::domain::script::{RiskLevel, Script, ScriptType, MASK};
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Index, Item, KeyringError, Order, Store, StoreError, WriteOp};
use crate::secrets::SecretBox;

use super::listing::{self, contains_ignoring_case, count_key, key_name, Verdict, Walk};
use super::tags;
use super::{encode, tenant_pk, Versioned};
use crate::domain::inventory::tags::{Tag, TagFilter, TagKind};

const SCRIPT_PREFIX: &str = "SCRIPT#";
const NAME_PREFIX: &str = "SCRIPT_NAME#";
const ID_COUNTER: &str = "SCRIPT_ID";

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("the name is taken")]
    NameTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn keyring_failed(e: KeyringError) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The `param_value` strings of the sensitive parameters of a stored (JSON) script.
fn sensitive_values(record: &mut Value) -> impl Iterator<Item = &mut Value> {
    record
        .get_mut("script_params")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter(|param| param.get("sensitive") == Some(&Value::Bool(true)))
        .filter_map(|param| param.get_mut("param_value"))
        .filter(|value| value.is_string())
}

async fn script_item(secrets: &SecretBox, script: &Script, version: u64) -> Result<Item, StoreError> {
    let mut record =
        serde_json::to_value(script).map_err(|e| StoreError::Backend(format!("cannot encode a record: {e}")))?;
    for value in sensitive_values(&mut record) {
        let clear = value.as_str().unwrap_or_default();
        *value = Value::String(secrets.seal(clear).await.map_err(keyring_failed)?);
    }
    Ok(Item::new(
        tenant_pk(&script.project_id),
        format!("{SCRIPT_PREFIX}{}", script.script_uuid),
        encode(&record)?,
        version,
    )
    .indexed(Index::List, list_pk(&script.project_id), id_sk(script.id))
    .indexed(Index::Filter, creator_pk(&script.project_id, &script.creator), id_sk(script.id)))
}

fn list_pk(project: &ProjectId) -> String {
    format!("{}#SCRIPT", tenant_pk(project))
}

fn creator_pk(project: &ProjectId, creator: &str) -> String {
    format!("{}#SCRIPT#CREATOR#{creator}", tenant_pk(project))
}

/// The index sort key of a script: its id, fixed width so that text order is id order.
fn id_sk(id: u64) -> String {
    format!("{id:020}")
}

fn total_count() -> String {
    count_key(&["SCRIPT"])
}

fn creator_count(creator: &str) -> String {
    count_key(&["SCRIPT", "CREATOR", creator])
}

fn risk_count(level: RiskLevel) -> String {
    count_key(&["SCRIPT", "RISK", &key_name(&level)])
}

fn type_count(script_type: ScriptType) -> String {
    count_key(&["SCRIPT", "TYPE", &key_name(&script_type)])
}

/// Every count a script is in.
fn counts_of(script: &Script) -> [String; 4] {
    [
        total_count(),
        creator_count(&script.creator),
        risk_count(script.properties.risk_level),
        type_count(script.script_type),
    ]
}

fn count_op(project: &ProjectId, sk: String, delta: i64) -> WriteOp {
    WriteOp::Add { pk: tenant_pk(project), sk, delta }
}

/// How a read treats the sealed values of sensitive parameters.
enum Secrets<'a> {
    Open(&'a SecretBox),
    Mask,
}

/// The script of a stored record. Records written before sealing hold clear
/// values: opening reads them as they are.
async fn read_script(item: &Item, secrets: Secrets<'_>) -> Result<Script, StoreError> {
    let unreadable = |e: serde_json::Error| StoreError::Backend(format!("{}/{} is unreadable: {e}", item.pk, item.sk));
    let mut record: Value = serde_json::from_str(&item.data).map_err(unreadable)?;
    for value in sensitive_values(&mut record) {
        let shown = match &secrets {
            Secrets::Open(secrets) => secrets.open(value.as_str().unwrap_or_default()).await.map_err(keyring_failed)?,
            Secrets::Mask => MASK.to_owned(),
        };
        *value = Value::String(shown);
    }
    serde_json::from_value(record).map_err(unreadable)
}

/// The script of a stored record with sensitive default values masked: no keyring involved.
fn read_masked(item: &Item) -> Result<Script, StoreError> {
    let unreadable = |e: serde_json::Error| StoreError::Backend(format!("{}/{} is unreadable: {e}", item.pk, item.sk));
    let mut record: Value = serde_json::from_str(&item.data).map_err(unreadable)?;
    for value in sensitive_values(&mut record) {
        *value = Value::String(MASK.to_owned());
    }
    serde_json::from_value(record).map_err(unreadable)
}

async fn read_versioned(item: Option<Item>, secrets: Secrets<'_>) -> Result<Option<Versioned<Script>>, StoreError> {
    let Some(item) = item else {
        return Ok(None);
    };
    Ok(Some(Versioned { value: read_script(&item, secrets).await?, version: item.version }))
}

fn name_claim(script: &Script) -> Item {
    let data = serde_json::json!({ "script_uuid": script.script_uuid }).to_string();
    Item::new(tenant_pk(&script.project_id), format!("{NAME_PREFIX}{}", script.name), data, 1)
}

/// The next auto-increment id of the tenant. Ids are never reused; a failed
/// create leaves a gap, as a database sequence would.
pub async fn next_id(store: &dyn Store, project: &ProjectId) -> Result<u64, StoreError> {
    store.increment(&tenant_pk(project), ID_COUNTER).await
}

/// Stores a new script, claims its name and counts it, all or nothing.
pub async fn insert(store: &dyn Store, secrets: &SecretBox, script: &Script) -> Result<(), InsertError> {
    let mut ops = vec![
        WriteOp::Put { item: name_claim(script), condition: Condition::NotExists },
        WriteOp::Put { item: script_item(secrets, script, 1).await?, condition: Condition::NotExists },
    ];
    ops.extend(counts_of(script).into_iter().map(|sk| count_op(&script.project_id, sk, 1)));
    store.write(ops).await.map_err(|e| match e {
        StoreError::ConditionFailed => InsertError::NameTaken,
        other => InsertError::Store(other),
    })
}

/// The script with its sensitive default values opened: for edits and executions.
pub async fn get(
    store: &dyn Store,
    secrets: &SecretBox,
    project: &ProjectId,
    script_uuid: &str,
) -> Result<Option<Versioned<Script>>, StoreError> {
    let item = store.get(&tenant_pk(project), &format!("{SCRIPT_PREFIX}{script_uuid}")).await?;
    read_versioned(item, Secrets::Open(secrets)).await
}

/// The script with its sensitive default values replaced by [`MASK`]: for
/// read-backs and deletes. Never write it back.
pub async fn get_masked(
    store: &dyn Store,
    project: &ProjectId,
    script_uuid: &str,
) -> Result<Option<Versioned<Script>>, StoreError> {
    let item = store.get(&tenant_pk(project), &format!("{SCRIPT_PREFIX}{script_uuid}")).await?;
    read_versioned(item, Secrets::Mask).await
}

/// The list's filters (spec table 4-10).
#[derive(Debug, Clone, Default)]
pub struct ScriptFilter {
    /// A case-insensitive substring of the name.
    pub name_like: Option<String>,
    pub creator: Option<String>,
    pub risk_level: Option<RiskLevel>,
    pub script_type: Option<ScriptType>,
    pub enterprise_project_id: Option<String>,
}

impl ScriptFilter {
    pub fn matches(&self, script: &Script) -> bool {
        // Fuzzy as users expect it: a case-insensitive substring.
        self.name_like.as_deref().is_none_or(|part| contains_ignoring_case(script.name.as_str(), part))
            && self.creator.as_deref().is_none_or(|c| script.creator == c)
            && self.risk_level.is_none_or(|r| script.properties.risk_level == r)
            && self.script_type.is_none_or(|t| script.script_type == t)
            && self.enterprise_project_id.as_deref().is_none_or(|e| script.enterprise_project_id == e)
    }

    /// The index the list walks: a creator's own partition when one is asked for.
    fn index(&self, project: &ProjectId) -> (Index, String) {
        match &self.creator {
            Some(creator) => (Index::Filter, creator_pk(project, creator)),
            None => (Index::List, list_pk(project)),
        }
    }

    /// Whether rows of the walked index can fail the filter.
    fn discards(&self) -> bool {
        self.name_like.is_some()
            || self.risk_level.is_some()
            || self.script_type.is_some()
            || self.enterprise_project_id.is_some()
    }

    /// The count that answers the filter exactly, if one does (no filter, or only one of creator, risk level, type).
    fn exact_count(&self) -> Option<String> {
        if self.name_like.is_some() || self.enterprise_project_id.is_some() {
            return None;
        }
        match (&self.creator, self.risk_level, self.script_type) {
            (None, None, None) => Some(total_count()),
            (Some(creator), None, None) => Some(creator_count(creator)),
            (None, Some(level), None) => Some(risk_count(level)),
            (None, None, Some(script_type)) => Some(type_count(script_type)),
            _ => None,
        }
    }

    /// The counts that bound the number of matches from above.
    fn bounding_counts(&self) -> Vec<String> {
        let mut counts = vec![total_count()];
        counts.extend(self.creator.as_deref().map(creator_count));
        counts.extend(self.risk_level.map(risk_count));
        counts.extend(self.script_type.map(type_count));
        counts
    }
}

/// At most `limit` scripts matching `filter` with ids above `after_id`, in id
/// order, sensitive default values replaced by [`MASK`]. Reads the page and
/// what the filter discards.
pub async fn list_page(
    store: &dyn Store,
    project: &ProjectId,
    filter: &ScriptFilter,
    after_id: u64,
    limit: usize,
) -> Result<Vec<Script>, StoreError> {
    let (index, pk) = filter.index(project);
    let after = (after_id > 0).then(|| id_sk(after_id));
    let walk = Walk { index, pk: &pk, after: after.as_deref(), order: Order::Ascending };
    let judge = |script: &Script| if filter.matches(script) { Verdict::Keep } else { Verdict::Skip };
    Ok(listing::page(store, walk, limit, filter.discards(), read_masked, judge).await?.rows)
}

/// How many scripts match `filter`: a count read when one answers it, else a
/// bounded count (README, "Access patterns").
pub async fn count(store: &dyn Store, project: &ProjectId, filter: &ScriptFilter) -> Result<usize, StoreError> {
    let pk = tenant_pk(project);
    if let Some(sk) = filter.exact_count() {
        return Ok(store.counter(&pk, &sk).await?.max(0) as usize);
    }
    let (index, index_pk) = filter.index(project);
    let walk = Walk { index, pk: &index_pk, after: None, order: Order::Ascending };
    let judge = |script: &Script| if filter.matches(script) { Verdict::Keep } else { Verdict::Skip };
    let counted = listing::count(store, walk, read_masked, judge).await?;
    if counted.complete {
        return Ok(counted.kept);
    }
    let mut candidates = i64::MAX;
    for sk in filter.bounding_counts() {
        candidates = candidates.min(store.counter(&pk, &sk).await?);
    }
    Ok(listing::bounded_total(counted, candidates))
}

/// Writes a changed script if nobody else wrote it since `old` was read at
/// `version`, moving it between counts (risk level, type, creator) in the same transaction.
pub async fn replace(
    store: &dyn Store,
    secrets: &SecretBox,
    old: &Script,
    script: &Script,
    version: u64,
) -> Result<(), StoreError> {
    let item = script_item(secrets, script, version + 1).await?;
    let mut ops = vec![WriteOp::Put { item, condition: Condition::VersionIs(version) }];
    let (was, is) = (counts_of(old), counts_of(script));
    ops.extend(was.iter().filter(|sk| !is.contains(sk)).map(|sk| count_op(&script.project_id, sk.clone(), -1)));
    ops.extend(is.iter().filter(|sk| !was.contains(sk)).map(|sk| count_op(&script.project_id, sk.clone(), 1)));
    store.write(ops).await
}

/// The writes that move a script's tags from its own to `new`: index items and catalogue uses.
async fn retag_ops(store: &dyn Store, script: &Script, new: &[Tag]) -> Result<Vec<WriteOp>, tags::RetagError> {
    let (project, uuid, sk) = (&script.project_id, &script.script_uuid, id_sk(script.id));
    tags::retag_ops(store, project, TagKind::Script, uuid, &sk, &script.tags, new).await
}

/// Removes the script read at `version`, frees its name and uncounts it, and
/// removes its tags' index items and catalogue uses, all or nothing.
pub async fn delete(store: &dyn Store, script: &Script, version: u64) -> Result<(), StoreError> {
    let untag = retag_ops(store, script, &[]).await.map_err(|e| match e {
        tags::RetagError::Store(e) => e,
        other => StoreError::Backend(other.to_string()),
    })?;
    let pk = tenant_pk(&script.project_id);
    let mut ops = vec![
        WriteOp::Delete {
            pk: pk.clone(),
            sk: format!("{SCRIPT_PREFIX}{}", script.script_uuid),
            condition: Condition::VersionIs(version),
        },
        WriteOp::Delete { pk, sk: format!("{NAME_PREFIX}{}", script.name), condition: Condition::Exists },
    ];
    ops.extend(counts_of(script).into_iter().map(|sk| count_op(&script.project_id, sk, -1)));
    ops.extend(untag);
    store.write(ops).await
}

/// Writes the script read at `version` with tags `new` (checked), with its
/// tags' index items and the catalogue, all or nothing. The sealed values
/// are written as stored: the document is changed only in its `tags`.
pub async fn retag(store: &dyn Store, script: &Script, stored: &Item, new: &[Tag]) -> Result<(), tags::RetagError> {
    let mut ops = retag_ops(store, script, new).await?;
    let mut record: Value = serde_json::from_str(&stored.data)
        .map_err(|e| StoreError::Backend(format!("{}/{} is unreadable: {e}", stored.pk, stored.sk)))?;
    record["tags"] = serde_json::to_value(new).map_err(|e| StoreError::Backend(e.to_string()))?;
    let item = Item { data: encode(&record)?, version: stored.version + 1, ..stored.clone() };
    ops.push(WriteOp::Put { item, condition: Condition::VersionIs(stored.version) });
    Ok(store.write(ops).await?)
}

/// The stored item of a script with the script in it (sensitive values
/// masked): for writes that change the document only where they say.
pub async fn get_item(
    store: &dyn Store,
    project: &ProjectId,
    script_uuid: &str,
) -> Result<Option<(Script, Item)>, StoreError> {
    let Some(item) = store.get(&tenant_pk(project), &format!("{SCRIPT_PREFIX}{script_uuid}")).await? else {
        return Ok(None);
    };
    Ok(Some((read_masked(&item)?, item)))
}

/// Whether the filter keeps every script.
pub fn is_unfiltered(filter: &ScriptFilter) -> bool {
    filter.creator.is_none() && !filter.discards()
}

/// At most `limit` scripts carrying the filter's tag with ids above `after_id`
/// (and matching `filter`), in id order: reads the tag's index partition and
/// each script it names, none without the tag.
pub async fn list_tagged_page(
    store: &dyn Store,
    project: &ProjectId,
    tag: &TagFilter,
    filter: &ScriptFilter,
    after_id: u64,
    limit: usize,
) -> Result<Vec<Script>, StoreError> {
    let mut found = Vec::with_capacity(limit);
    let mut after = (after_id > 0).then(|| id_sk(after_id));
    while found.len() < limit {
        let chunk = if filter.discards() || filter.creator.is_some() {
            crate::limits::LIST_WALK_MIN_CHUNK
        } else {
            limit - found.len()
        };
        let (ids, next) = tags::ids_page(store, project, TagKind::Script, tag, after.as_deref(), chunk).await?;
        for uuid in ids {
            if let Some((script, _)) = get_item(store, project, &uuid).await? {
                if filter.matches(&script) && tag.matches(&script.tags) && found.len() < limit {
                    found.push(script);
                }
            }
        }
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(found)
}

/// Where a tenant's scripts are in its partition: a range read of it walks them all.
pub(crate) const ITEM_PREFIX: &str = SCRIPT_PREFIX;

/// The writes that list and count a script stored before scripts had index
/// keys and counts (`coc-admin reindex`): its item as it is plus its keys, on
/// condition nobody wrote it since it was read (so of two reindexes one counts
/// it), and one addition per count it is in. `None` when it has its keys (it
/// was counted when they were written). The document is kept as stored.
pub(crate) fn reindex_ops(item: &Item) -> Result<Option<Vec<WriteOp>>, StoreError> {
    if item.list_key.is_some() {
        return Ok(None);
    }
    let script = read_masked(item)?;
    let indexed = Item { version: item.version + 1, ..item.clone() }
        .indexed(Index::List, list_pk(&script.project_id), id_sk(script.id))
        .indexed(Index::Filter, creator_pk(&script.project_id, &script.creator), id_sk(script.id));
    let mut ops = vec![WriteOp::Put { item: indexed, condition: Condition::VersionIs(item.version) }];
    ops.extend(counts_of(&script).into_iter().map(|sk| count_op(&script.project_id, sk, 1)));
    Ok(Some(ops))
}
