//! Ports: the small traits the handlers talk to. Adapters live in `crate::adapters`.

mod queue;
mod store;

pub use queue::{Queue, QueueError, ReceivedMessage, MAX_DELAY};
pub use store::{Condition, Item, Order, Page, PageQuery, Store, StoreError, WriteOp};
