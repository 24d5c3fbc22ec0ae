//! `/v1/job/scripts`: the tenant's library of custom job scripts (spec 4.2).

mod create;
mod delete;
mod execute;
mod get;
mod list;
mod review;
mod update;
mod views;

pub use create::create;
pub use delete::delete;
pub use execute::execute;
pub use get::get;
pub use list::list;
pub use review::review;
pub use update::update;

use crate::domain::script::Script;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::ports::{Store, StoreError};
use crate::repositories::scripts;

/// How many times a read-modify-write is tried when other writers keep winning.
const WRITE_ATTEMPTS: usize = 5;

const SCRIPT_UUID: &str = "script_uuid";

fn not_found(script_uuid: &str) -> ApiError {
    ApiError::NotFound(format!("script {script_uuid} does not exist"))
}

/// Reads the caller's script, applies `change`, and writes it back only if
/// nobody wrote in between; otherwise starts over from a fresh read, so the
/// change is always judged against the latest state.
async fn modify(
    store: &dyn Store,
    caller: &Caller,
    script_uuid: &str,
    mut change: impl FnMut(&mut Script) -> Result<(), ApiError>,
) -> Result<Script, ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let current =
            scripts::get(store, &caller.project_id, script_uuid).await?.ok_or_else(|| not_found(script_uuid))?;
        let mut script = current.value;
        change(&mut script)?;
        match scripts::replace(store, &script, current.version).await {
            Ok(()) => return Ok(script),
            Err(StoreError::ConditionFailed) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Conflict(format!("script {script_uuid} is being changed by others; try again")))
}
