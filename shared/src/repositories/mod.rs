//! How records map onto the key-value table. Every key starts with the tenant's
//! project, so a request can only ever address its own tenant's items.

pub mod credentials;
pub mod incidents;
pub mod jobs;
pub mod scripts;

use crate::domain::tenant::ProjectId;

pub(crate) fn tenant_pk(project: &ProjectId) -> String {
    format!("PROJECT#{project}")
}
