//! `/v1/job/scripts`: the tenant's library of custom job scripts (spec 4.2).

mod analyze;
mod create;
mod delete;
mod execute;
mod get;
mod list;
mod review;
mod update;
mod views;

pub use analyze::analyze;
pub(crate) use analyze::require_confirmation;
pub use create::create;
pub use delete::delete;
pub use execute::execute;
pub use get::get;
pub use list::list;
pub use review::review;
pub use update::update;

use super::retry::{landed, until_written};
use crate::app::App;
use crate::domain::script::Script;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::repositories::scripts;

const SCRIPT_UUID: &str = "script_uuid";

fn not_found(script_uuid: &str) -> ApiError {
    ApiError::NotFound(format!("script {script_uuid} does not exist"))
}

/// Reads the caller's script, applies `change`, and writes it back only if
/// nobody wrote in between (otherwise starts over from a fresh read).
async fn modify(
    app: &App,
    caller: &Caller,
    script_uuid: &str,
    change: impl Fn(&mut Script) -> Result<(), ApiError>,
) -> Result<Script, ApiError> {
    until_written(&format!("script {script_uuid}"), || async {
        let current = scripts::get(app.store.as_ref(), &app.secrets, &caller.project_id, script_uuid)
            .await?
            .ok_or_else(|| not_found(script_uuid))?;
        let mut script = current.value.clone();
        change(&mut script)?;
        landed(
            scripts::replace(app.store.as_ref(), &app.secrets, &current.value, &script, current.version).await,
            script,
        )
    })
    .await
}
