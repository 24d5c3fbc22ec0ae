//! The key-value table every piece of state lives in (DynamoDB in the cloud,
//! SQLite locally). Items are addressed by a partition key and a sort key and
//! carry an opaque JSON document plus a version used for optimistic locking.

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    /// The record, serialized as JSON text.
    pub data: String,
    /// Bumped by every write so that read-modify-write cycles can be made
    /// conditional on nobody having written in between.
    pub version: u64,
}

impl Item {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>, data: String, version: u64) -> Self {
        Item { pk: pk.into(), sk: sk.into(), data, version }
    }
}

/// What must hold for a write to happen. A write whose condition fails changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    Always,
    /// The key is free: the basis of every uniqueness rule.
    NotExists,
    Exists,
    /// The stored item still has this version.
    VersionIs(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    Put { item: Item, condition: Condition },
    Delete { pk: String, sk: String, condition: Condition },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// A condition of the write did not hold; nothing was written.
    #[error("a write condition did not hold")]
    ConditionFailed,
    #[error("store backend failed: {0}")]
    Backend(String),
}

/// Which way a page walks the sort keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

/// One bounded read of a sort-key range: at most `limit` items of partition
/// `pk` whose sort key starts with `prefix`, strictly after `after` in `order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageQuery<'a> {
    pub pk: &'a str,
    pub prefix: &'a str,
    /// The `last_sk` of the previous page; `None` starts at the beginning of the range.
    pub after: Option<&'a str>,
    pub limit: usize,
    pub order: Order,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// The sort key to pass as `after` for the next page: set when the page is
    /// full (more items may follow), `None` when the range is exhausted.
    pub last_sk: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Strongly consistent read of one item.
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError>;

    /// Every item of the partition whose sort key starts with `sk_prefix`, in
    /// ascending sort-key order, read consistently. A range read: items outside
    /// the prefix are never read. Unbounded in count: request paths that list
    /// what a tenant may grow use `query_page`.
    async fn query_prefix(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError>;

    /// At most `query.limit` items of the prefix range, read consistently; reads
    /// no item beyond the ones it returns (paging is a key range, not a skip).
    async fn query_page(&self, query: PageQuery<'_>) -> Result<Page, StoreError>;

    /// Applies all operations or none of them. Fails with `ConditionFailed` when
    /// any condition does not hold. At most 25 operations.
    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;

    /// Atomically adds one to the named counter and returns the new value
    /// (the first call returns 1). Used for ids that must never repeat.
    async fn increment(&self, pk: &str, sk: &str) -> Result<u64, StoreError>;
}
