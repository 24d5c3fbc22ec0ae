//! Ports: the small traits the handlers talk to. Adapters live in `crate::adapters` and in `coc-runtime`.

mod blobs;
mod https;
mod keyring;
mod queue;
mod sender;
mod store;

pub use blobs::{check_key, BlobBytes, BlobError, Blobs};
pub use https::{HttpsAnswer, HttpsGet, NoHttps};
pub use keyring::{DataKey, Keyring, KeyringError, DATA_KEY_LEN};
pub use queue::{Queue, QueueError, ReceivedMessage, MAX_DELAY};
pub use sender::{Outbound, SendError, Sender, Unconfigured};
pub use store::{
    Condition, ForeignWrites, Index, IndexKey, IndexQuery, Item, Order, Page, PageQuery, Store, StoreError, WriteOp,
};
