//! O&M engineers in the table (owned by the engineers work; see README "Access patterns").

use super::Versioned;
use crate::domain::engineer::Engineer;
use crate::domain::tenant::ProjectId;
use crate::ports::{Store, StoreError};

/// The engineer `user_id` of the tenant, if there is one.
pub async fn get(
    store: &dyn Store,
    project: &ProjectId,
    user_id: &str,
) -> Result<Option<Versioned<Engineer>>, StoreError> {
    let _ = (store, project, user_id);
    todo!("engineers::get")
}
