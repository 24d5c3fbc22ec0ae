//! Delivery of notifications: triggers call [`prepare`] (or [`send`]); the
//! queue consumer delivers each destination, retrying with backoff, and
//! records how it went. Nothing is sent inline in an API call.

pub mod templates;
pub mod triggers;

use crate::app::App;
use crate::domain::notification::{Destination, Message, Notification};
use crate::domain::tenant::ProjectId;
use crate::error::ApiError;
use crate::ports::{QueueError, StoreError, WriteOp};

/// Who a message is for.
#[derive(Debug, Clone)]
pub enum Recipient<'a> {
    /// An engineer of the tenant: every destination `Engineer::destinations` gives.
    Engineer(&'a str),
    /// One address, whatever its subscription (a subscription's confirmation).
    Address(Destination),
}

/// A notification ready to be saved by `ops` (put them in the same
/// transaction as the change that caused it, so neither lands without the
/// other) and then handed to the queue by [`dispatch`].
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub notification: Notification,
    pub ops: Vec<WriteOp>,
}

/// The notification of `message` to `recipient`, or `None` when there is no
/// one to tell (no such engineer, or one with no usable destination).
pub async fn prepare(
    app: &App,
    project: &ProjectId,
    recipient: Recipient<'_>,
    message: Message,
) -> Result<Option<Outgoing>, StoreError> {
    let _ = (app, project, recipient, message);
    todo!("notify::prepare")
}

/// Hands a saved notification's deliveries to the queue. If this is lost (a
/// crash after the save), the sweep of pending notifications sends them.
pub async fn dispatch(app: &App, outgoing: &Outgoing) -> Result<(), QueueError> {
    let _ = (app, outgoing);
    todo!("notify::dispatch")
}

/// [`prepare`], save and [`dispatch`] in one, for a trigger with no write of
/// its own to join; the notification's id, if there was anyone to tell.
pub async fn send(
    app: &App,
    project: &ProjectId,
    recipient: Recipient<'_>,
    message: Message,
) -> Result<Option<String>, ApiError> {
    let _ = (app, project, recipient, message);
    todo!("notify::send")
}
