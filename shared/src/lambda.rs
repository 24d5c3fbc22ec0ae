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

#[cfg(test)]
mod tests {
    use super::*;

    /// An API Gateway HTTP API (payload 2.0) event, as the functions receive it.
    fn event(method: &str, path: &str, raw_query: &str, body: Option<&str>) -> Request {
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": format!("{method} /x"),
            "rawPath": path,
            "rawQueryString": raw_query,
            "headers": {"x-project-id": "p-lambda", "content-type": "application/json", "host": "api.example.com"},
            "queryStringParameters": raw_query.split('&').filter(|p| !p.is_empty()).map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), serde_json::Value::String(v.to_owned()))
            }).collect::<serde_json::Map<_, _>>(),
            "requestContext": {
                "accountId": "1", "apiId": "api", "domainName": "api.example.com", "domainPrefix": "api",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
                "requestId": "req-1", "routeKey": format!("{method} /x"), "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 1767225600000u64
            },
            "body": body,
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event")
    }

    fn json(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[tokio::test]
    async fn api_gateway_events_reach_the_handlers() {
        let dir = std::env::temp_dir().join(format!("coc-lambda-{}", uuid::Uuid::new_v4()));
        let app = App::embedded(&dir).unwrap();
        let create = route_for(Operation::CreateScript);
        let body = r#"{"name":"from_lambda","type":"SHELL","content":"id","description":"d","properties":{"risk_level":"LOW","version":"1"}}"#;
        let created = respond(
            &app,
            create,
            event("POST", "/v1/job/scripts", "", Some(body)),
        )
        .await;
        assert_eq!(created.status(), 200, "{:?}", created.body());
        assert!(created.headers().contains_key("x-request-id"));
        let uuid = json(&created)["data"].as_str().unwrap().to_owned();

        let get = route_for(Operation::GetScript);
        let fetched = respond(
            &app,
            get,
            event("GET", &format!("/v1/job/scripts/{uuid}"), "", None),
        )
        .await;
        assert_eq!(json(&fetched)["data"]["name"], "from_lambda");

        let list = route_for(Operation::ListScripts);
        let listed = respond(
            &app,
            list,
            event("GET", "/v1/job/scripts", "limit=1&name_like=lambda", None),
        )
        .await;
        assert_eq!(json(&listed)["data"]["total"], 1);
        let refused = respond(&app, list, event("GET", "/v1/job/scripts", "limit=0", None)).await;
        assert_eq!(refused.status(), 400);
        assert!(json(&refused)["error_msg"]
            .as_str()
            .unwrap()
            .contains("limit"));
        std::fs::remove_dir_all(dir).ok();
    }
}
