//! Handlers: small functions of (ports, caller, request) returning a response
//! or an `ApiError`. `handle` is the whole pipeline for one raw request.

pub mod agent_identity;
pub mod agents;
pub mod alarms;
pub mod incidents;
pub mod integrations;
pub mod orders;
pub mod resources;
pub(crate) mod retry;
pub mod scripts;
pub mod tokens;

use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::app::App;
use crate::auth;
use crate::clock::now_ms;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::{self, Access, Operation, Route};

/// Runs the handler of `operation`. `caller` is the authenticated caller of an
/// `Access::Authenticated` or `Access::Agent` route.
pub async fn dispatch(
    app: &App,
    operation: Operation,
    caller: Option<&Caller>,
    request: ApiRequest,
) -> Result<ApiResponse, ApiError> {
    let caller = || caller.ok_or_else(|| ApiError::Internal(format!("{operation:?} ran without a caller")));
    match operation {
        Operation::IssueToken => tokens::issue(app, request).await,
        Operation::CreateScript => scripts::create(app, caller()?, request).await,
        Operation::ListScripts => scripts::list(app, caller()?, request).await,
        Operation::GetScript => scripts::get(app, caller()?, request).await,
        Operation::UpdateScript => scripts::update(app, caller()?, request).await,
        Operation::DeleteScript => scripts::delete(app, caller()?, request).await,
        Operation::ReviewScript => scripts::review(app, caller()?, request).await,
        Operation::ExecuteScript => scripts::execute(app, caller()?, request).await,
        Operation::GetScriptJob => orders::info(app, caller()?, request).await,
        Operation::ListScriptJobBatches => orders::batches(app, caller()?, request).await,
        Operation::GetScriptJobStatistics => orders::statistics(app, caller()?, request).await,
        Operation::GetScriptJobBatch => orders::batch(app, caller()?, request).await,
        Operation::ListScriptJobs => orders::list(app, caller()?, request).await,
        Operation::OperateScriptJob => orders::operate(app, caller()?, request).await,
        Operation::ListResources => resources::list(app, caller()?, request).await,
        Operation::RegisterAgent => agent_identity::register(app, request).await,
        Operation::CreateAgentActivation => agent_identity::create_activation(app, caller()?, request).await,
        Operation::RevokeAgent => agent_identity::revoke(app, caller()?, request).await,
        Operation::AgentHeartbeat => agents::heartbeat(app, caller()?, request).await,
        Operation::PollAgentJobs => agents::poll(app, caller()?, request).await,
        Operation::ReportAgentJob => agents::report(app, caller()?, request).await,
        Operation::CreateIncident => incidents::create(app, caller()?, request).await,
        Operation::HandleIncident => incidents::handle(app, caller()?, request).await,
        Operation::GetIncident => incidents::detail(app, caller()?, request).await,
        Operation::CreateIntegration => integrations::create(app, caller()?, request).await,
        Operation::ListIntegrations => integrations::list(app, caller()?, request).await,
        Operation::DeleteIntegration => integrations::delete(app, caller()?, request).await,
        Operation::ReportAlarm => alarms::intake(app, request).await,
        Operation::ListAlarms => integrations::alarms(app, caller()?, request).await,
    }
}

/// Authenticates (where the route asks for it) and runs a routed request.
async fn run(app: &App, route: &Route, request: ApiRequest) -> Result<(ApiResponse, Option<Caller>), ApiError> {
    let caller = match route.access {
        Access::Authenticated => Some(auth::authenticate(app.store.as_ref(), &app.secrets, &request, now_ms()).await?),
        Access::Agent => Some(auth::authenticate_agent(app.store.as_ref(), &app.secrets, &request, now_ms()).await?),
        Access::Public => None,
    };
    let response = dispatch(app, route.operation, caller.as_ref(), request).await?;
    Ok((response, caller))
}

/// Runs a request that already has its route, logging the outcome. Request
/// bodies and credentials are never logged: they may hold secrets.
pub async fn handle_route(app: &App, route: &Route, request: ApiRequest, request_id: &str) -> ApiResponse {
    let started = Instant::now();
    let (method, path) = (request.method.clone(), request.path.clone());
    let (response, caller) = match run(app, route, request).await {
        Ok(done) => done,
        Err(err) => (error_response(&err, request_id), None),
    };
    tracing::info!(
        request_id,
        %method,
        path,
        operation = ?route.operation,
        project = caller.as_ref().map(|c| c.project_id.as_str()),
        user = caller.as_ref().map(|c| c.user_id.as_str()),
        status = response.status.as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// Routes and runs a raw request: the local server's entry.
pub async fn handle(
    app: &App,
    method: Method,
    path: &str,
    raw_query: Option<&str>,
    headers: HeaderMap,
    body: Bytes,
    request_id: &str,
) -> ApiResponse {
    match routes::resolve(&method, path) {
        Ok((route, path_params)) => {
            let request = ApiRequest {
                method,
                path: path.to_owned(),
                path_params,
                query: raw_query.map(crate::http::parse_query).unwrap_or_default(),
                raw_query: raw_query.map(str::to_owned),
                headers,
                body,
            };
            handle_route(app, route, request, request_id).await
        }
        Err(err) => {
            tracing::info!(request_id, %method, path, status = err.status().as_u16(), "unrouted request");
            ApiResponse::error(&err)
        }
    }
}

pub fn error_response(err: &ApiError, request_id: &str) -> ApiResponse {
    if let ApiError::Internal(detail) = err {
        tracing::error!(request_id, detail, "internal error");
    }
    ApiResponse::error(err)
}
