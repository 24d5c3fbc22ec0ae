//! What every Lambda binary runs: logging, ports from the environment, and the
//! handler of its one route behind `lambda_http`.

use bytes::Bytes;
use lambda_http::{service_fn, Body, Request, RequestExt, Response};

pub use lambda_http::Error;

use crate::app::App;
use crate::error::ApiError;
use crate::handlers::{error_response, handle_route};
use crate::http::ApiRequest;
use crate::routes::{route_for, Operation, Route};

pub async fn serve(operation: Operation) -> Result<(), Error> {
    crate::logging::init();
    let app = App::from_env().await.map_err(Error::from)?;
    let route = route_for(operation);
    lambda_http::run(service_fn(|event: Request| {
        let app = &app;
        async move { Ok::<_, Error>(respond(app, route, event).await) }
    }))
    .await
}

async fn respond(app: &App, route: &'static Route, event: Request) -> Response<Body> {
    let request_id = event
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_else(crate::ids::request_id);
    let response = match to_api_request(route, event) {
        Ok(request) => handle_route(app, route, request, &request_id).await,
        Err(err) => error_response(&err, &request_id),
    };
    response.into_http(&request_id).map(Body::from)
}

fn to_api_request(route: &Route, event: Request) -> Result<ApiRequest, ApiError> {
    let path = event.uri().path().to_owned();
    let path_params = route
        .match_tail(&path)
        .ok_or_else(|| ApiError::NotFound(format!("no API at {path}")))?;
    let query_map = event.query_string_parameters();
    let query = query_map
        .iter()
        .flat_map(|(name, _)| {
            query_map
                .all(name)
                .unwrap_or_default()
                .into_iter()
                .map(move |v| (name.to_owned(), v.to_owned()))
        })
        .collect();
    let (parts, body) = event.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    Ok(ApiRequest {
        method: parts.method,
        path,
        path_params,
        query,
        headers: parts.headers,
        body,
    })
}
