//! `/v1/job/public-scripts`: the library of curated scripts shipped with the
//! service (`domain::public_script`). Listing and reading serve from memory;
//! executing makes a ticket in the caller's tenant, run like a tenant script's.

mod execute;
mod list;
mod views;

pub use execute::execute;
pub use list::{get, list};

use crate::domain::public_script::{self, PublicScript};
use crate::error::ApiError;
use crate::http::ApiRequest;

const SCRIPT_UUID: &str = "script_uuid";

/// The public script the path names, or a 404.
fn named(request: &ApiRequest) -> Result<&'static PublicScript, ApiError> {
    let script_uuid = request.path_param(SCRIPT_UUID)?;
    public_script::find(script_uuid)
        .ok_or_else(|| ApiError::NotFound(format!("public script {script_uuid} does not exist")))
}
