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
    /// Where the item appears in the [`Index::List`] index, if it is listed.
    pub list_key: Option<IndexKey>,
    /// Where the item appears in the [`Index::Filter`] index, if anywhere.
    pub filter_key: Option<IndexKey>,
    /// A count kept in the item beside its document: set by [`WriteOp::Put`]
    /// (0 from [`Item::new`]), grown by [`WriteOp::Tally`], and read with the
    /// item, so a list shows each row's count without a read per row.
    pub tally: i64,
}

impl Item {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>, data: String, version: u64) -> Self {
        Item { pk: pk.into(), sk: sk.into(), data, version, list_key: None, filter_key: None, tally: 0 }
    }

    /// The item, listed in `index` under partition `pk` at sort key `sk`.
    pub fn indexed(mut self, index: Index, pk: impl Into<String>, sk: impl Into<String>) -> Self {
        let key = Some(IndexKey { pk: pk.into(), sk: sk.into() });
        match index {
            Index::List => self.list_key = key,
            Index::Filter => self.filter_key = key,
        }
        self
    }

    /// The item's key in `index`, if it is in it.
    pub fn index_key(&self, index: Index) -> Option<&IndexKey> {
        match index {
            Index::List => self.list_key.as_ref(),
            Index::Filter => self.filter_key.as_ref(),
        }
    }
}

/// The secondary indexes of the table. Both hold whole items (on DynamoDB they
/// are GSIs projecting every attribute), so a list is one range read of an
/// index, in the order the list returns, with no read per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Index {
    /// How a kind of record is listed: one partition per tenant and kind, sorted
    /// in the list's order (`gsi1` on DynamoDB: `list_pk`, `list_sk`).
    List,
    /// The same records again under a selective filter value, such as a
    /// ticket's status or a script's creator (`gsi2`: `filter_pk`, `filter_sk`).
    Filter,
}

impl Index {
    pub const ALL: [Index; 2] = [Index::List, Index::Filter];

    /// The attribute (DynamoDB) and column (SQLite) names of the index's keys.
    pub fn attributes(self) -> (&'static str, &'static str) {
        match self {
            Index::List => ("list_pk", "list_sk"),
            Index::Filter => ("filter_pk", "filter_sk"),
        }
    }

    /// The name of the DynamoDB global secondary index (template.yaml declares them).
    pub fn gsi_name(self) -> &'static str {
        match self {
            Index::List => "gsi1",
            Index::Filter => "gsi2",
        }
    }
}

/// An item's place in an index. Index sort keys are unique within their
/// partition by construction (they end with the item's own id), so a page can
/// resume after one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexKey {
    pub pk: String,
    pub sk: String,
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
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        pk: String,
        sk: String,
        condition: Condition,
    },
    /// Writes `item` as `Put` does (document, version, index keys), except
    /// that its stored tally grows by `delta` (from 0 for a new item) instead
    /// of taking `item.tally`. Writers that each count one event under a
    /// condition the others leave alone (e.g. a version none of them changes)
    /// all land, in any order, and no count is lost: the document is the last
    /// writer's, the tally everyone's.
    Tally {
        item: Item,
        condition: Condition,
        delta: i64,
    },
    /// Adds `delta` (which may be negative) to a counter, as part of the
    /// transaction: how counts of a list stay exact without reading the list.
    Add {
        pk: String,
        sk: String,
        delta: i64,
    },
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

/// One bounded read of an index partition: at most `limit` items whose index
/// sort key lies strictly after `after` in `order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexQuery<'a> {
    pub index: Index,
    /// The index partition key.
    pub pk: &'a str,
    /// An index sort key (of the previous page's last item, or one made from a
    /// client's marker); `None` starts at the beginning.
    pub after: Option<&'a str>,
    pub limit: usize,
    pub order: Order,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// The sort key to pass as `after` for the next page (for an index read,
    /// the index sort key): set when the page is full (more items may follow),
    /// `None` when the range is exhausted.
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

    /// At most `query.limit` items of one index partition. Index reads are
    /// eventually consistent on DynamoDB (GSIs are), immediate on SQLite.
    async fn query_index(&self, query: IndexQuery<'_>) -> Result<Page, StoreError>;

    /// The value of a counter changed by [`WriteOp::Add`] or [`Store::increment`]; 0 if never set.
    async fn counter(&self, pk: &str, sk: &str) -> Result<i64, StoreError>;

    /// Applies all operations or none of them. Fails with `ConditionFailed` when
    /// any condition does not hold. At most 25 operations.
    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;

    /// Writes each of at most 25 unconditional puts and deletes on its own:
    /// no transaction, no order among them, some may land before a failure.
    /// For bulk writes of items no reader sees yet or any more (a report
    /// generation's items), where a backend has something cheaper than a
    /// transaction: DynamoDB's BatchWriteItem costs half the capacity. By
    /// default, one [`Store::write`].
    async fn write_each(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.write(ops).await
    }

    /// Atomically adds one to the named counter and returns the new value
    /// (the first call returns 1). Used for ids that must never repeat.
    async fn increment(&self, pk: &str, sk: &str) -> Result<u64, StoreError>;
}

/// How a process learns that other processes wrote a store it shares with them
/// on this machine: a number that changes when, and only when, another process
/// committed since the last look (the embedded store's `PRAGMA data_version`).
/// Stores shared over the network (DynamoDB) have none: their readers recheck.
#[async_trait]
pub trait ForeignWrites: Send + Sync {
    async fn version(&self) -> Result<u64, StoreError>;
}
