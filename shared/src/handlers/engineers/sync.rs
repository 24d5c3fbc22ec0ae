//! `POST /v1/engineers/sync`: every user of the tenant (every user id holding
//! an access key; agents' credentials are not users) becomes an engineer.
//! Engineers that exist are kept as they are, edits included, so running it
//! again changes nothing.

use serde_json::json;

use crate::app::App;
use crate::domain::engineer::Engineer;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::ports::StoreError;
use crate::repositories::{credentials, engineers};

/// The tenant's users, each once, from the credentials index (user order):
/// `(user_id, user_name)`, and whether every credential was read (at most
/// `ENGINEER_SYNC_CREDENTIALS` are).
async fn tenant_users(app: &App, caller: &Caller) -> Result<(Vec<(String, String)>, bool), StoreError> {
    let mut users: Vec<(String, String)> = Vec::new();
    let mut after: Option<String> = None;
    let mut read = 0;
    while read < limits::ENGINEER_SYNC_CREDENTIALS {
        let chunk = limits::ENGINEER_SYNC_PAGE.min(limits::ENGINEER_SYNC_CREDENTIALS - read);
        let (page, keys) =
            credentials::tenant_users(app.store.as_ref(), &caller.project_id, after.as_deref(), chunk).await?;
        read += page.len();
        for credential in page {
            // In user order, so a user's several keys are neighbours.
            if users.last().is_none_or(|(id, _)| *id != credential.user_id) {
                users.push((credential.user_id, credential.user_name));
            }
        }
        match keys.last_sk {
            Some(last) => after = Some(last),
            None => return Ok((users, true)),
        }
    }
    Ok((users, false))
}

/// → `{"data": {"added", "kept", "complete"}}`: how many users became
/// engineers, how many were engineers already, and whether every credential was read.
pub async fn sync(app: &App, caller: &Caller, _request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (users, complete) = tenant_users(app, caller).await?;
    let store = app.store.as_ref();
    let (mut added, mut kept) = (0, 0);
    for (user_id, user_name) in users {
        if engineers::get(store, &caller.project_id, &user_id).await?.is_some() {
            kept += 1;
            continue;
        }
        let engineer = Engineer::iam(caller.project_id.clone(), user_id, user_name, app.clock.now_ms());
        match engineers::insert(store, &engineer).await {
            Ok(()) => added += 1,
            // Added by a synchronization running at the same time, or by hand.
            Err(StoreError::ConditionFailed) => kept += 1,
            Err(other) => return Err(other.into()),
        }
    }
    tracing::info!(project = caller.project_id.as_str(), added, kept, complete, "engineers synchronized");
    ApiResponse::data(json!({ "added": added, "kept": kept, "complete": complete }))
}
