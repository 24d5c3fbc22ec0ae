//! `/v1/engineers` (ours; om-engineer-management.txt): the people COC
//! notifies, with their contact methods. Synchronization: [`sync`];
//! subscriptions and their confirmation links: [`subscriptions`].

pub mod subscriptions;
pub mod sync;
mod view;

use crate::app::App;
use crate::domain::engineer::contact::SigningKey;
use crate::domain::engineer::edit::{Edit, EngineerEdit, FieldProblem, NewFederatedUser, SealedKeys};
use crate::domain::engineer::Engineer;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::integrations::{own_page, page_response};
use crate::handlers::retry::{landed, until_written};
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::ports::StoreError;
use crate::repositories::engineers::{self, tokens, Filter};
use crate::repositories::Versioned;
pub use view::view;

fn invalid((field, problem): FieldProblem) -> ApiError {
    ApiError::invalid(field, problem)
}

/// The `{user_id}` of the path, within its limit.
fn user_id_param(request: &ApiRequest) -> Result<&str, ApiError> {
    let user_id = request.path_param("user_id")?;
    limits::ENGINEER_USER_ID.check(user_id).map_err(|problem| ApiError::invalid("user_id", problem))?;
    Ok(user_id)
}

fn not_found(user_id: &str) -> ApiError {
    ApiError::NotFound(format!("engineer {user_id} does not exist"))
}

/// The caller's tenant's engineer `user_id`, or a 404.
async fn existing(app: &App, caller: &Caller, user_id: &str) -> Result<Versioned<Engineer>, ApiError> {
    engineers::get(app.store.as_ref(), &caller.project_id, user_id).await?.ok_or_else(|| not_found(user_id))
}

/// `POST /v1/engineers` `{"user_name", "alias", "identity_provider"}` → `{"data": engineer}`:
/// a federated user; a user that is an engineer already is a 400.
pub async fn add(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let new: NewFederatedUser = request.json_body()?;
    let engineer = Engineer::federated(caller.project_id.clone(), new, app.clock.now_ms());
    match engineers::insert(app.store.as_ref(), &engineer).await {
        Ok(()) => ApiResponse::data(view(&engineer, app.clock.now_ms())),
        Err(StoreError::ConditionFailed) => {
            Err(ApiError::invalid("user_name", format!("{} is an O&M engineer already", engineer.user_id)))
        }
        Err(other) => Err(other.into()),
    }
}

/// `GET /v1/engineers/{user_id}` → `{"data": engineer}`, its keys masked.
pub async fn get(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user_id = user_id_param(&request)?;
    let engineer = existing(app, caller, user_id).await?;
    ApiResponse::data(view(&engineer.value, app.clock.now_ms()))
}

/// `GET /v1/engineers?limit=&marker=&user_name=&source=IAM|FEDERATED` → a page
/// of engineers, oldest first; `user_name` matches a part of the name, whatever its case.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (limit, marker) = own_page(&request)?;
    let source = match request.query_param::<String>("source")?.as_deref() {
        None => None,
        Some("IAM") => Some("IAM"),
        Some("FEDERATED") => Some("FEDERATED"),
        Some(other) => return Err(ApiError::invalid("source", format!("must be IAM or FEDERATED, got {other:?}"))),
    };
    let user_name = request.query_text("user_name", limits::ENGINEER_NAME_FILTER)?;
    let filter = Filter { source, user_name };
    let store = app.store.as_ref();
    let page = engineers::list(store, &caller.project_id, &filter, marker.as_deref(), limit).await?;
    let count = engineers::count(store, &caller.project_id, &filter).await?;
    let now = app.clock.now_ms();
    Ok(page_response(page.rows.iter().map(|e| view(e, now)).collect(), count, page.next))
}

/// A key of the edit, sealed; a cleared or untouched one as it is.
async fn seal(app: &App, key: &Edit<SigningKey>) -> Result<Edit<String>, ApiError> {
    Ok(match key {
        None => None,
        Some(None) => Some(None),
        Some(Some(key)) => Some(Some(app.secrets.seal(key.as_str()).await?)),
    })
}

/// `PUT /v1/engineers/{user_id}` with any of `alias`, `mobile`, `email`,
/// `wecom_webhook`, `dingtalk_webhook`, `dingtalk_key`, `lark_webhook`,
/// `lark_key` (null or `""` clears one) → `{"data": engineer}`. A new mobile
/// starts SMS and VOICE subscriptions, a new email an EMAIL one; a changed or
/// cleared address ends its old ones.
pub async fn update(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user_id = user_id_param(&request)?;
    let edit: EngineerEdit = request.json_body()?;
    edit.check_webhooks(&app.webhook_hosts).map_err(invalid)?;
    let sealed = SealedKeys { dingtalk: seal(app, &edit.dingtalk_key).await?, lark: seal(app, &edit.lark_key).await? };
    let store = app.store.as_ref();
    let (engineer, outgoing) = until_written("the engineer", || async {
        let current = existing(app, caller, user_id).await?;
        let now = app.clock.now_ms();
        let (mut next, changes) = current.value.apply(&edit, sealed.clone(), now).map_err(invalid)?;
        let mut channels = Vec::new();
        if changes.mobile {
            channels.extend(subscriptions::MOBILE_CHANNELS);
        }
        if changes.email {
            channels.push(crate::domain::notification::Channel::Email);
        }
        let started = subscriptions::start(app, &mut next, &channels, now).await?;
        let mut ops = vec![engineers::replace_op(&next, current.version)?];
        ops.extend(current.value.discarded_tokens(&next).iter().map(|hash| tokens::delete_op(hash)));
        ops.extend(started.ops);
        landed(store.write(ops).await, (next, started.outgoing))
    })
    .await?;
    subscriptions::dispatch(app, &outgoing).await;
    ApiResponse::data(view(&engineer, app.clock.now_ms()))
}

/// `DELETE /v1/engineers/{user_id}` → `{"data": user_id}`; its confirmation links stop working.
pub async fn delete(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user_id = user_id_param(&request)?;
    let store = app.store.as_ref();
    until_written("the engineer", || async {
        let current = existing(app, caller, user_id).await?;
        landed(store.write(engineers::delete_ops(&current.value, current.version)).await, ())
    })
    .await?;
    ApiResponse::data(user_id)
}
