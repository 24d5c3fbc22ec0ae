//! The people a request names as responsible (incident assignees, an
//! integration's assignee, script reviewers) must be O&M engineers of the
//! tenant: they are the ones COC can notify.

use crate::app::App;
use crate::domain::script::Reviewers;
use crate::domain::tenant::ProjectId;
use crate::error::ApiError;
use crate::repositories::engineers;

/// Every reviewer given by user id is an engineer (reviewers are told of what
/// waits for them); the error names the reviewer's place in the list.
pub async fn require_reviewers(app: &App, project: &ProjectId, reviewers: &Reviewers) -> Result<(), ApiError> {
    for (index, id) in reviewers.ids() {
        require_engineer(app, project, &format!("properties.reviewers[{index}].reviewer_id"), id).await?;
    }
    Ok(())
}

/// `Ok` when `user_id` is an engineer of the tenant; otherwise the 400 that
/// names `field` and says how to make them one.
pub async fn require_engineer(app: &App, project: &ProjectId, field: &str, user_id: &str) -> Result<(), ApiError> {
    match engineers::get(app.store.as_ref(), project, user_id).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::invalid(
            field,
            format!(
                "{user_id} is not an O&M engineer of this tenant: add them as a federated user \
                 or synchronize the engineers first"
            ),
        )),
    }
}
