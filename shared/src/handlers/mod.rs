//! Handlers: small functions of (ports, request) returning a response or an
//! `ApiError`. `handle` is the whole pipeline for one raw request.

pub mod scripts;

use std::time::Instant;

use bytes::Bytes;
use http::{HeaderMap, Method};

use crate::app::App;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::{self, Operation, Route};

pub async fn dispatch(
    app: &App,
    operation: Operation,
    request: ApiRequest,
) -> Result<ApiResponse, ApiError> {
    match operation {
        Operation::CreateScript => scripts::create(app, request).await,
        Operation::ListScripts => scripts::list(app, request).await,
        Operation::GetScript => scripts::get(app, request).await,
        Operation::UpdateScript => scripts::update(app, request).await,
        Operation::DeleteScript => scripts::delete(app, request).await,
        Operation::ReviewScript => scripts::review(app, request).await,
    }
}

/// Runs a request that already has its route, logging the outcome. Request
/// bodies are never logged: they may hold sensitive script parameters.
pub async fn handle_route(
    app: &App,
    route: &Route,
    request: ApiRequest,
    request_id: &str,
) -> ApiResponse {
    let started = Instant::now();
    let (method, path) = (request.method.clone(), request.path.clone());
    let response = match dispatch(app, route.operation, request).await {
        Ok(response) => response,
        Err(err) => error_response(&err, request_id),
    };
    tracing::info!(
        request_id,
        %method,
        path,
        operation = ?route.operation,
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
            let query = raw_query.map(crate::http::parse_query).unwrap_or_default();
            let request = ApiRequest {
                method,
                path: path.to_owned(),
                path_params,
                query,
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
