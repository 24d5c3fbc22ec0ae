//! Patch baselines in the table (owner: the baselines work of #11; the
//! signatures below are what the patch tickets rely on).

use crate::domain::patch::Baseline;
use crate::domain::tenant::ProjectId;
use crate::error::ApiError;
use crate::ports::Store;

/// The tenant's baseline `id` (its own, or a built-in default's id), if any.
pub async fn get(store: &dyn Store, project: &ProjectId, id: &str) -> Result<Option<Baseline>, ApiError> {
    let _ = (store, project, id);
    todo!("patch_baselines::get")
}

/// The tenant's default baseline of every OS family: the one it marked
/// default, else the built-in one.
pub async fn defaults(store: &dyn Store, project: &ProjectId) -> Result<Vec<Baseline>, ApiError> {
    let _ = (store, project);
    todo!("patch_baselines::defaults")
}
