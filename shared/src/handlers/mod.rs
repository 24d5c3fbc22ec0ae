//! Handlers: small functions of (ports, caller, request) returning a response
//! or an `ApiError`. `admit` then `handle_route` is the whole pipeline for one
//! raw request.

pub mod agent_identity;
pub mod agents;
pub mod alarm_mgmt;
pub mod alarms;
pub mod alarms_cloudwatch;
pub mod alarms_prometheus;
pub mod assignees;
pub mod attachments;
pub mod endpoints;
pub mod engineers;
pub mod incidents;
pub mod integrations;
pub mod notifications;
pub mod orders;
pub mod patches;
pub mod public_scripts;
pub mod resources;
pub(crate) mod retry;
pub mod schedules;
pub mod scripts;
pub mod tokens;
pub mod war_rooms;
// tags and resources
pub mod inventory;

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
pub use endpoints::{handler_for, Handler};

/// Runs the handler of `operation`. `caller` is the authenticated caller of an
/// `Access::Authenticated` or `Access::Agent` route.
pub async fn dispatch(
    app: &App,
    operation: Operation,
    caller: Option<&Caller>,
    request: ApiRequest,
) -> Result<ApiResponse, ApiError> {
    handler_for(operation)(app, caller, request).await
}

/// Authenticates (where the route asks for it) and runs a routed request.
async fn run(
    app: &App,
    route: &Route,
    handler: Handler,
    request: ApiRequest,
) -> Result<(ApiResponse, Option<Caller>), ApiError> {
    // The local server never reads more than this; a Lambda event arrives whole.
    if request.body.len() > route.body_limit {
        return Err(ApiError::PayloadTooLarge(route.body_limit));
    }
    let caller = match route.access {
        Access::Authenticated => {
            Some(auth::authenticate(app.store.as_ref(), &app.secrets, &app.public_hosts, &request, now_ms()).await?)
        }
        Access::Agent => Some(
            auth::authenticate_agent(app.store.as_ref(), &app.secrets, &app.public_hosts, &request, now_ms()).await?,
        ),
        Access::Public => None,
    };
    let response = handler(app, caller.as_ref(), request).await?;
    Ok((response, caller))
}

/// Runs a request that already has its route, logging the outcome. Request
/// bodies and credentials are never logged: they may hold secrets.
pub async fn handle_route(app: &App, route: &Route, request: ApiRequest, request_id: &str) -> ApiResponse {
    handle_route_with(app, route, handler_for(route.operation), request, request_id).await
}

/// [`handle_route`] with the route's handler given, as a Lambda binary does
/// (see [`endpoints`]): nothing here names the other routes' handlers.
pub async fn handle_route_with(
    app: &App,
    route: &Route,
    handler: Handler,
    request: ApiRequest,
    request_id: &str,
) -> ApiResponse {
    let started = Instant::now();
    let (method, path) = (request.method.clone(), request.path.clone());
    let (response, caller) = match run(app, route, handler, request).await {
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

/// A request whose head has been routed and admitted; its body is not read yet.
pub struct Admitted {
    pub route: &'static Route,
    /// The request with an empty body, to be filled in once it is read.
    pub request: ApiRequest,
}

/// Decides what the head of a raw request allows before its body is read (the
/// local server's entry): the route; for authenticated routes the credential
/// headers (`auth::precheck`; the signature covers the body, so `handle_route`
/// checks it once the body is there); then the declared length against the
/// route's limit. So nobody unauthenticated makes the server read a body, and
/// an oversized one is refused before a byte of it arrives.
pub async fn admit(
    app: &App,
    method: Method,
    path: &str,
    raw_query: Option<&str>,
    headers: HeaderMap,
    request_id: &str,
) -> Result<Admitted, ApiResponse> {
    let started = Instant::now();
    let checked = async {
        let (route, path_params) = routes::resolve(&method, path)?;
        if matches!(route.access, Access::Authenticated | Access::Agent) {
            auth::precheck(app.store.as_ref(), &headers, now_ms()).await?;
        }
        if declared_length(&headers).is_some_and(|length| length > route.body_limit as u64) {
            return Err(ApiError::PayloadTooLarge(route.body_limit));
        }
        Ok((route, path_params))
    }
    .await;
    match checked {
        Ok((route, path_params)) => Ok(Admitted {
            route,
            request: ApiRequest {
                method,
                path: path.to_owned(),
                path_params,
                query: raw_query.map(crate::http::parse_query).unwrap_or_default(),
                raw_query: raw_query.map(str::to_owned),
                headers,
                body: Bytes::new(),
            },
        }),
        Err(err) => {
            tracing::info!(
                request_id,
                %method,
                path,
                status = err.status().as_u16(),
                elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                "request refused before its body"
            );
            Err(error_response(&err, request_id))
        }
    }
}

/// The body length the client announced in `Content-Length` (hyper has already
/// refused a malformed one; a chunked body has none and is capped while read).
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(http::header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

pub fn error_response(err: &ApiError, request_id: &str) -> ApiResponse {
    if let ApiError::Internal(detail) = err {
        tracing::error!(request_id, detail, "internal error");
    }
    ApiResponse::error(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::signature::{sign_headers, AccessKey};
    use crate::auth::Credential;
    use crate::domain::tenant::ProjectId;
    use crate::http::{API_BODY_BYTES, MAX_BODY_BYTES, PUBLIC_BODY_BYTES};
    use crate::repositories::credentials;

    async fn app_with_key() -> (App, Credential, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("coc-admit-{}", uuid::Uuid::new_v4()));
        let app = App::embedded(&dir).unwrap();
        let credential = Credential::generate(ProjectId::parse("p1").unwrap(), "u".into(), "n".into(), now_ms());
        credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
        (app, credential, dir)
    }

    /// A head signed over an empty body, claiming `length` bytes.
    fn signed_head(credential: &Credential, method: &str, path: &str, length: usize) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("host", "localhost".parse().unwrap());
        headers.insert(http::header::CONTENT_LENGTH, length.to_string().parse().unwrap());
        let key = AccessKey { id: &credential.access_key, secret: &credential.secret_key };
        sign_headers(&mut headers, key, method, path, None, b"", now_ms());
        headers
    }

    fn status(admitted: Result<Admitted, ApiResponse>) -> u16 {
        match admitted {
            Ok(_) => 200,
            Err(refused) => refused.status.as_u16(),
        }
    }

    #[tokio::test]
    async fn heads_are_judged_by_credentials_then_by_the_routes_body_limit() {
        let (app, credential, dir) = app_with_key().await;
        let admit = |method: Method, path: &'static str, headers: HeaderMap| {
            let app = app.clone();
            async move { status(admit(&app, method, path, None, headers, "r").await) }
        };
        let scripts = "/v1/job/scripts";
        let report = "/v1/agents/a1/jobs/SO1/i1";
        let mut anonymous = HeaderMap::new();
        anonymous.insert(http::header::CONTENT_LENGTH, "10".parse().unwrap());
        assert_eq!(admit(Method::POST, scripts, anonymous.clone()).await, 401);
        let mut forged = anonymous.clone();
        forged.insert(
            "authorization",
            "SDK-HMAC-SHA256 Access=UNKNOWN, SignedHeaders=host, Signature=00".parse().unwrap(),
        );
        assert_eq!(admit(Method::POST, scripts, forged).await, 401, "an unknown key is refused before the body");
        let huge = signed_head(&credential, "POST", scripts, 1 << 40);
        assert_eq!(admit(Method::POST, scripts, huge).await, 413);
        let at_limit = signed_head(&credential, "POST", scripts, API_BODY_BYTES);
        assert_eq!(admit(Method::POST, scripts, at_limit).await, 200);
        let over = signed_head(&credential, "POST", scripts, API_BODY_BYTES + 1);
        assert_eq!(admit(Method::POST, scripts, over).await, 413);
        let large_report = signed_head(&credential, "POST", report, MAX_BODY_BYTES);
        assert_eq!(admit(Method::POST, report, large_report).await, 200, "agent reports take the large limit");
        let mut public = HeaderMap::new();
        public.insert(http::header::CONTENT_LENGTH, (PUBLIC_BODY_BYTES + 1).to_string().parse().unwrap());
        assert_eq!(admit(Method::POST, "/v1/auth/tokens", public).await, 413);
        assert_eq!(admit(Method::GET, "/v1/nothing", HeaderMap::new()).await, 404);
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn a_body_over_the_routes_limit_is_refused_even_when_it_arrived_whole() {
        let (app, credential, dir) = app_with_key().await;
        let route = routes::route_for(Operation::CreateScript);
        let body = Bytes::from(vec![b' '; API_BODY_BYTES + 1]);
        let mut headers = HeaderMap::new();
        headers.insert("host", "localhost".parse().unwrap());
        let key = AccessKey { id: &credential.access_key, secret: &credential.secret_key };
        sign_headers(&mut headers, key, "POST", route.path, None, &body, now_ms());
        let request = ApiRequest {
            method: Method::POST,
            path: route.path.to_owned(),
            path_params: Default::default(),
            query: Vec::new(),
            raw_query: None,
            headers,
            body,
        };
        assert_eq!(handle_route(&app, route, request, "r").await.status, 413);
        std::fs::remove_dir_all(dir).ok();
    }
}
