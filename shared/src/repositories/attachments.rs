//! Attachments' metadata in the table (see README "Access patterns"); their
//! bytes are in the blob store (`crate::ports::Blobs`) under
//! `{project}/{doc_id}` (files under `{data_dir}/attachments/`, or the bucket's objects).
//!
//! Tenant partition `PROJECT#{project}`:
//! - `ATTACHMENT#{doc_id}`: what the file is (name, type, size, SHA-256), read
//!   by its id only: there is no list of attachments.

use super::{decode, encode, tenant_pk};
use crate::domain::attachment::Attachment;
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Item, Store, StoreError, WriteOp};

fn attachment_sk(doc_id: &str) -> String {
    format!("ATTACHMENT#{doc_id}")
}

/// The write that records a new attachment (its id must be new).
pub fn insert_op(attachment: &Attachment) -> Result<WriteOp, StoreError> {
    let item = Item::new(tenant_pk(&attachment.project_id), attachment_sk(&attachment.doc_id), encode(attachment)?, 1);
    Ok(WriteOp::Put { item, condition: Condition::NotExists })
}

/// The tenant's attachment `doc_id`; another tenant's is not found.
pub async fn get(store: &dyn Store, project: &ProjectId, doc_id: &str) -> Result<Option<Attachment>, StoreError> {
    store.get(&tenant_pk(project), &attachment_sk(doc_id)).await?.map(|item| decode(&item)).transpose()
}
