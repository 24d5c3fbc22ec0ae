//! A store that runs a test's hook before every write and passes everything
//! else through: how tests simulate a crash (refuse writes after N), a stall
//! (hold one write), a refused write, or a writer that gets in between a read
//! and its conditional write.

use std::sync::Arc;

use async_trait::async_trait;

use coc_shared::ports::{IndexQuery, Item, Page, PageQuery, Store, StoreError, WriteOp};

/// What happens before a write (`write` or `write_each`) reaches the store.
#[async_trait]
pub trait WriteHook: Send + Sync {
    /// Runs before `ops` are written; an error is answered instead of writing.
    async fn before_write(&self, ops: &[WriteOp]) -> Result<(), StoreError>;
}

pub struct HookedStore<H> {
    pub inner: Arc<dyn Store>,
    pub hook: H,
}

impl<H: WriteHook> HookedStore<H> {
    pub fn new(inner: Arc<dyn Store>, hook: H) -> Self {
        HookedStore { inner, hook }
    }
}

#[async_trait]
impl<H: WriteHook> Store for HookedStore<H> {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.inner.get(pk, sk).await
    }

    async fn query_prefix(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        self.inner.query_prefix(pk, sk_prefix).await
    }

    async fn query_page(&self, query: PageQuery<'_>) -> Result<Page, StoreError> {
        self.inner.query_page(query).await
    }

    async fn query_index(&self, query: IndexQuery<'_>) -> Result<Page, StoreError> {
        self.inner.query_index(query).await
    }

    async fn counter(&self, pk: &str, sk: &str) -> Result<i64, StoreError> {
        self.inner.counter(pk, sk).await
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.hook.before_write(&ops).await?;
        self.inner.write(ops).await
    }

    async fn write_each(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.hook.before_write(&ops).await?;
        self.inner.write_each(ops).await
    }

    async fn increment(&self, pk: &str, sk: &str) -> Result<u64, StoreError> {
        self.inner.increment(pk, sk).await
    }
}
