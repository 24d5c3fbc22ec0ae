//! What every Lambda binary runs: logging, ports from the environment, and the
//! handler of its one route behind `lambda_http`.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use bytes::Bytes;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use lambda_http::{service_fn, Body, LambdaEvent, Request, RequestExt, Response};

pub use lambda_http::Error;

use coc_shared::app::App;

use crate::environment::{app_from_env, deliverer_from_env};
use coc_shared::auth::precheck;
use coc_shared::clock::now_ms;
use coc_shared::error::ApiError;
use coc_shared::handlers::{error_response, handle_route_with, handler_for, Handler};
use coc_shared::http::ApiRequest;
use coc_shared::routes::{route_for, Operation, Route};

/// The API Gateway (HTTP API) Lambda authorizer: rejects early what the
/// functions would reject anyway, so bad traffic costs no function run.
pub async fn serve_authorizer() -> Result<(), Error> {
    coc_shared::logging::init();
    let app = app_from_env().await.map_err(Error::from)?;
    lambda_http::lambda_runtime::run(service_fn(|event: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>| {
        let app = &app;
        async move { Ok::<_, Error>(authorize(app, event.payload, now_ms()).await) }
    }))
    .await
}

async fn authorize(
    app: &App,
    event: ApiGatewayV2CustomAuthorizerV2Request,
    now: i64,
) -> ApiGatewayV2CustomAuthorizerSimpleResponse {
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    let verdict = match precheck(app.store.as_ref(), &event.headers, now).await {
        // A signature (not a token) must also be made for one of the public hosts.
        Ok(caller) if event.headers.contains_key(http::header::AUTHORIZATION) => {
            app.public_hosts.check(&event.headers).map(|()| caller)
        }
        other => other,
    };
    match verdict {
        Ok(caller) => {
            response.is_authorized = true;
            response.context = serde_json::json!({ "project_id": caller.project_id, "user_id": caller.user_id });
        }
        Err(err) => {
            // Never the credentials themselves: only why they were refused.
            tracing::info!(path = event.raw_path.as_deref(), reason = %err, "authorizer refused a request");
        }
    }
    response
}

/// What became of one queue message.
enum QueueOutcome {
    Done,
    /// It can never succeed (unreadable, unknown key): logged and acknowledged.
    Drop(String),
    /// It failed for now: reported as a batch item failure, so SQS delivers it
    /// again (and, after five tries, moves it to the dead-letter queue).
    Retry(String),
}

/// One queue message: its id (the same on every delivery of it) and body.
struct Message {
    id: String,
    body: String,
}

/// Runs `handle` on every message of each SQS batch, reporting partial failures.
async fn serve_queue<F, Fut>(handle: F) -> Result<(), Error>
where
    F: Fn(App, Message) -> Fut + Copy,
    Fut: std::future::Future<Output = QueueOutcome>,
{
    coc_shared::logging::init();
    let app = app_from_env().await.map_err(Error::from)?;
    lambda_http::lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let app = app.clone();
        async move { Ok::<_, Error>(consume(event.payload, |message| handle(app.clone(), message)).await) }
    }))
    .await
}

async fn consume<F, Fut>(event: SqsEvent, handle: F) -> SqsBatchResponse
where
    F: Fn(Message) -> Fut,
    Fut: std::future::Future<Output = QueueOutcome>,
{
    let mut response = SqsBatchResponse::default();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        match handle(Message { id: id.clone(), body: record.body.unwrap_or_default() }).await {
            QueueOutcome::Done => {}
            QueueOutcome::Drop(reason) => tracing::error!(message_id = id, reason, "dropping a message"),
            QueueOutcome::Retry(reason) => {
                tracing::warn!(message_id = id, reason, "a message failed; it will be retried");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}

/// The job engine, on the SQS work queue.
pub async fn serve_engine() -> Result<(), Error> {
    serve_queue(engine_step).await
}

async fn engine_step(app: App, message: Message) -> QueueOutcome {
    // Engine steps are idempotent by the ticket's own state: the id is not needed.
    match coc_shared::engine::handle_message(&app, &message.body).await {
        Ok(()) => QueueOutcome::Done,
        Err(err @ coc_shared::engine::EngineError::BadMessage(_)) => QueueOutcome::Drop(err.to_string()),
        Err(err) => QueueOutcome::Retry(err.to_string()),
    }
}

/// The engine's safety net on AWS, run on a schedule: kicks every unfinished
/// ticket, so one whose kick was lost (a crash between saving it and sending
/// its message) still moves on.
pub async fn serve_engine_sweep() -> Result<(), Error> {
    coc_shared::logging::init();
    let app = app_from_env().await.map_err(Error::from)?;
    lambda_http::lambda_runtime::run(service_fn(|_event: LambdaEvent<serde_json::Value>| {
        let app = app.clone();
        async move {
            let kicked = coc_shared::engine::resume_active(&app).await.map_err(|e| Error::from(e.to_string()))?;
            tracing::info!(kicked, "swept unfinished tickets");
            Ok::<_, Error>(serde_json::json!({ "kicked": kicked }))
        }
    }))
    .await
}

/// The scheduler on AWS, invoked every minute by an EventBridge rule: fires
/// every scheduled task due by now (`scheduler::sweep`). Concurrent or repeated
/// invocations are harmless: each due time is claimed by one transaction.
pub async fn serve_schedule_sweep() -> Result<(), Error> {
    coc_shared::logging::init();
    let app = app_from_env().await.map_err(Error::from)?;
    lambda_http::lambda_runtime::run(service_fn(|_event: LambdaEvent<serde_json::Value>| {
        let app = app.clone();
        async move {
            let swept = coc_shared::scheduler::sweep(&app).await.map_err(|e| Error::from(e.to_string()))?;
            tracing::info!(fired = swept.fired, lost = swept.lost, "swept scheduled tasks");
            Ok::<_, Error>(serde_json::json!({ "fired": swept.fired, "lost": swept.lost }))
        }
    }))
    .await
}

/// Notification delivery, on the SQS notification queue: one delivery
/// attempt per message (`notify::deliver`); a retry is a new, delayed message,
/// so the current one is done either way. Senders come from the environment
/// once per cold start.
pub async fn serve_notify_queue() -> Result<(), Error> {
    use coc_shared::notify::consumer::{handle_message, MessageError};

    coc_shared::logging::init();
    let app = app_from_env().await.map_err(Error::from)?;
    let deliverer = deliverer_from_env(&app).await.map_err(Error::from)?;
    lambda_http::lambda_runtime::run(service_fn(|event: LambdaEvent<SqsEvent>| {
        let (app, deliverer) = (&app, &deliverer);
        async move {
            // Delivery is idempotent by the notification's own record: the id is not needed.
            let handle = |message: Message| async move {
                match handle_message(app, deliverer, &message.body).await {
                    Ok(_) => QueueOutcome::Done,
                    Err(err @ MessageError::BadMessage(_)) => QueueOutcome::Drop(err.to_string()),
                    Err(err) => QueueOutcome::Retry(err.to_string()),
                }
            };
            Ok::<_, Error>(consume(event.payload, handle).await)
        }
    }))
    .await
}

/// Delivery's safety net on AWS, run on a schedule: re-queues pending
/// deliveries whose message was lost (see `notify::sweep`).
pub async fn serve_notify_sweep() -> Result<(), Error> {
    coc_shared::logging::init();
    let app = app_from_env().await.map_err(Error::from)?;
    let config = coc_shared::notify::config::DeliveryConfig::from_env().map_err(Error::from)?;
    lambda_http::lambda_runtime::run(service_fn(|_event: LambdaEvent<serde_json::Value>| {
        let app = app.clone();
        async move {
            let requeued =
                coc_shared::notify::sweep::sweep(&app, &config).await.map_err(|e| Error::from(e.to_string()))?;
            tracing::info!(requeued, "swept pending notifications");
            Ok::<_, Error>(serde_json::json!({ "requeued": requeued }))
        }
    }))
    .await
}

/// Alarm intake from a queue: each message is `{"integration_key", "alarm"}`
/// with the same alarm body the HTTP intake takes.
pub async fn serve_alarm_intake() -> Result<(), Error> {
    serve_queue(take_alarm).await
}

/// What the alarm intake function answers to one SQS batch: every message
/// taken once, however often SQS delivers it, and partial failures reported.
pub async fn take_alarms(app: &App, event: SqsEvent) -> SqsBatchResponse {
    consume(event, |message| take_alarm(app.clone(), message)).await
}

async fn take_alarm(app: App, message: Message) -> QueueOutcome {
    use coc_shared::handlers::alarms::{ingest, ingest_delivery, IntakeError};
    let body: serde_json::Value = serde_json::from_str(&message.body).unwrap_or_default();
    let key = body["integration_key"].as_str().unwrap_or_default();
    let alarm = &body["alarm"];
    // SQS always gives an id; without a usable one the report is still taken,
    // only not protected against a redelivery.
    let taken = if coc_shared::limits::QUEUE_MESSAGE_ID.check(&message.id).is_ok() {
        ingest_delivery(&app, key, alarm, &message.id).await
    } else {
        tracing::warn!(message_id = message.id, "an alarm message without a usable id: redeliveries count again");
        ingest(&app, key, alarm).await
    };
    match taken {
        Ok(ingested) => {
            if ingested.redelivered {
                tracing::info!(message_id = message.id, "an alarm message taken before, delivered again: ignored");
            }
            QueueOutcome::Done
        }
        Err(err @ (IntakeError::UnknownKey | IntakeError::Invalid(_))) => QueueOutcome::Drop(err.to_string()),
        Err(err) => QueueOutcome::Retry(err.to_string()),
    }
}

/// The one route a function serves, with its handler. Make it a `const`
/// (`const ENDPOINT: Endpoint = Endpoint::of(Operation::GetScript);`): the
/// handler is then picked at compile time and is the only one linked in.
#[derive(Clone, Copy)]
pub struct Endpoint {
    pub operation: Operation,
    pub handler: Handler,
}

impl Endpoint {
    pub const fn of(operation: Operation) -> Endpoint {
        Endpoint { operation, handler: handler_for(operation) }
    }
}

/// Serves one API route behind `lambda_http`.
pub async fn serve(endpoint: Endpoint) -> Result<(), Error> {
    coc_shared::logging::init();
    let app = app_from_env().await.map_err(Error::from)?;
    let route = route_for(endpoint.operation);
    lambda_http::run(service_fn(|event: Request| {
        let app = &app;
        async move { Ok::<_, Error>(respond(app, route, endpoint.handler, event).await) }
    }))
    .await
}

async fn respond(app: &App, route: &'static Route, handler: Handler, event: Request) -> Response<Body> {
    let request_id =
        event.lambda_context_ref().map(|c| c.request_id.clone()).unwrap_or_else(coc_shared::ids::request_id);
    let response = match to_api_request(route, event) {
        Ok(request) => handle_route_with(app, route, handler, request, &request_id).await,
        Err(err) => error_response(&err, &request_id),
    };
    // JSON stays text in the Lambda response; only a file goes out as binary (base64).
    let binary = response.file.is_some();
    response.into_http(&request_id).map(|bytes| match binary {
        true => Body::Binary(bytes.to_vec()),
        false => Body::Text(String::from_utf8_lossy(&bytes).into_owned()),
    })
}

fn to_api_request(route: &Route, event: Request) -> Result<ApiRequest, ApiError> {
    let path = event.uri().path().to_owned();
    let path_params = route.match_tail(&path).ok_or_else(|| ApiError::NotFound(format!("no API at {path}")))?;
    // API Gateway hands over the query as sent: decode it the way the signature
    // check does (`+` is a plus), so handlers see exactly what was signed.
    // Only an event without it (REST API payload 1.0) is rebuilt from the map.
    let (query, raw_query) = match event.uri().query() {
        Some(raw) => (coc_shared::http::parse_query(raw), Some(raw.to_owned())),
        None => {
            let query_map = event.query_string_parameters();
            let query: Vec<(String, String)> = query_map
                .iter()
                .flat_map(|(name, _)| {
                    query_map.all(name).unwrap_or_default().into_iter().map(move |v| (name.to_owned(), v.to_owned()))
                })
                .collect();
            let encode =
                |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
            let raw = query.iter().map(|(n, v)| format!("{}={}", encode(n), encode(v))).collect::<Vec<_>>().join("&");
            (query, (!raw.is_empty()).then_some(raw))
        }
    };
    let (parts, body) = event.into_parts();
    let body = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    Ok(ApiRequest { method: parts.method, path, path_params, query, raw_query, headers: parts.headers, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use coc_shared::auth::signature::{sign_headers, AccessKey};
    use coc_shared::auth::Credential;
    use coc_shared::auth::PublicHosts;
    use coc_shared::domain::tenant::ProjectId;
    use coc_shared::repositories::credentials;

    /// What a function of `route` answers to `event`.
    async fn respond(app: &App, route: &'static Route, event: Request) -> Response<Body> {
        super::respond(app, route, Endpoint::of(route.operation).handler, event).await
    }

    /// An embedded app in a fresh directory, with an access key of project `p-lambda`.
    async fn app_with_key() -> (App, Credential, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("coc-lambda-{}", uuid::Uuid::new_v4()));
        let app = App::embedded(&dir).unwrap();
        let credential = Credential::generate(ProjectId::parse("p-lambda").unwrap(), "u".into(), "n".into(), 0);
        credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
        (app, credential, dir)
    }

    /// An API Gateway HTTP API (payload 2.0) event, as the functions receive it,
    /// signed with `credential` like the SDK signs.
    fn event(credential: &Credential, method: &str, path: &str, raw_query: &str, body: Option<&str>) -> Request {
        let mut headers = http::HeaderMap::new();
        headers.insert("host", "api.example.com".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.insert("x-project-id", credential.project_id.as_str().parse().unwrap());
        let key = AccessKey { id: &credential.access_key, secret: &credential.secret_key };
        let query = (!raw_query.is_empty()).then_some(raw_query);
        sign_headers(&mut headers, key, method, path, query, body.unwrap_or_default().as_bytes(), now_ms());
        let header_json: serde_json::Map<_, _> = headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), serde_json::Value::String(v.to_str().unwrap().to_owned())))
            .collect();
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": format!("{method} /x"),
            "rawPath": path,
            "rawQueryString": raw_query,
            "headers": header_json,
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
    async fn signed_api_gateway_events_reach_the_handlers() {
        let (app, credential, dir) = app_with_key().await;

        let create = route_for(Operation::CreateScript);
        let body = r#"{"name":"from_lambda","type":"SHELL","content":"id","description":"d","properties":{"risk_level":"LOW","version":"1"}}"#;
        let created = respond(&app, create, event(&credential, "POST", "/v1/job/scripts", "", Some(body))).await;
        assert_eq!(created.status(), 200, "{:?}", created.body());
        assert!(created.headers().contains_key("x-request-id"));
        let uuid = json(&created)["data"].as_str().unwrap().to_owned();

        let get = route_for(Operation::GetScript);
        let path = format!("/v1/job/scripts/{uuid}");
        let fetched = respond(&app, get, event(&credential, "GET", &path, "", None)).await;
        assert_eq!(json(&fetched)["data"]["name"], "from_lambda");

        let list = route_for(Operation::ListScripts);
        let query = "name_like=from%20l&limit=1";
        let listed = respond(&app, list, event(&credential, "GET", "/v1/job/scripts", query, None)).await;
        assert_eq!(listed.status(), 200, "{:?}", listed.body());
        let refused = respond(&app, list, event(&credential, "GET", "/v1/job/scripts", "limit=0", None)).await;
        assert_eq!(refused.status(), 400);
        assert!(json(&refused)["error_msg"].as_str().unwrap().contains("limit"));

        let mut tampered = event(&credential, "POST", "/v1/job/scripts", "", Some(body));
        *tampered.body_mut() = Body::Text(body.replace("from_lambda", "evil"));
        let rejected = respond(&app, create, tampered).await;
        assert_eq!(rejected.status(), 401);
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn a_file_goes_out_as_binary_and_json_as_text() {
        use coc_shared::domain::attachment::{Attachment, FileKind, Upload};
        let (app, credential, dir) = app_with_key().await;
        let bytes = bytes::Bytes::from_static(b"\x89PNG\r\n\x1a\n\xff\x00 not utf-8");
        let upload = Upload { name: "graph.png".into(), kind: FileKind::Png, bytes: bytes.clone() };
        let attachment = Attachment::new(&upload, "d0c".into(), credential.project_id.clone(), "u".into(), 1);
        app.blobs.put(&attachment.blob_key, "image/png", bytes.clone()).await.unwrap();
        app.store.write(vec![coc_shared::repositories::attachments::insert_op(&attachment).unwrap()]).await.unwrap();

        let download = route_for(Operation::DownloadAttachment);
        let got = respond(&app, download, event(&credential, "GET", "/v1/incident/attachments/d0c", "", None)).await;
        assert_eq!(got.status(), 200);
        assert_eq!(got.headers()["content-type"], "image/png");
        assert!(matches!(got.body(), Body::Binary(sent) if sent[..] == bytes[..]), "{:?}", got.body());
        let missing =
            respond(&app, download, event(&credential, "GET", "/v1/incident/attachments/nope", "", None)).await;
        assert_eq!(missing.status(), 404);
        assert!(matches!(missing.body(), Body::Text(_)), "errors stay JSON text: {:?}", missing.body());
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn handlers_see_the_query_that_was_signed() {
        let (app, credential, dir) = app_with_key().await;
        let list = route_for(Operation::ListScripts);
        let signed = event(&credential, "GET", "/v1/job/scripts", "name_like=a+b%20c&limit=1&flag", None);
        let request = to_api_request(list, signed).unwrap();
        // `+` is a plus, as the signature check reads it, not a space as in forms.
        assert_eq!(request.query_text("name_like", coc_shared::limits::NAME_LIKE).unwrap().as_deref(), Some("a+b c"));
        assert_eq!(request.query_all("flag"), [""]);
        let signed = event(&credential, "GET", "/v1/job/scripts", "name_like=a+b%20c&limit=1", None);
        assert_eq!(respond(&app, list, signed).await.status(), 200);
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn functions_refuse_signatures_made_for_other_hosts() {
        let (app, credential, dir) = app_with_key().await;
        let list = route_for(Operation::ListScripts);
        let here = app.clone().with_public_hosts(PublicHosts::parse("api.example.com").unwrap());
        let signed = || event(&credential, "GET", "/v1/job/scripts", "limit=1", None);
        assert_eq!(respond(&here, list, signed()).await.status(), 200);
        let elsewhere = app.with_public_hosts(PublicHosts::parse("coc.example.org").unwrap());
        let refused = respond(&elsewhere, list, signed()).await;
        assert_eq!(refused.status(), 401);
        assert!(json(&refused)["error_msg"].as_str().unwrap().contains("api.example.com"), "{:?}", refused.body());
        std::fs::remove_dir_all(dir).ok();
    }
}

#[cfg(test)]
mod queue_consumer_tests {
    use super::*;
    use aws_lambda_events::sqs::SqsMessage;

    fn event(bodies: &[serde_json::Value]) -> SqsEvent {
        let mut event = SqsEvent::default();
        for (i, body) in bodies.iter().enumerate() {
            let mut message = SqsMessage::default();
            message.message_id = Some(format!("m{i}"));
            message.body = Some(body.to_string());
            event.records.push(message);
        }
        event
    }

    #[tokio::test]
    async fn queued_alarms_are_taken_in_like_posted_ones() {
        use coc_shared::domain::tenant::{Caller, ProjectId};
        let dir = std::env::temp_dir().join(format!("coc-alarm-queue-{}", uuid::Uuid::new_v4()));
        let app = App::embedded(&dir).unwrap();
        let caller = Caller {
            project_id: ProjectId::parse("p").unwrap(),
            user_id: "u".into(),
            user_name: "u".into(),
            agent_sn: None,
        };
        let request = coc_shared::http::ApiRequest {
            method: http::Method::POST,
            path: "/v1/integrations".into(),
            path_params: Default::default(),
            query: Vec::new(),
            raw_query: None,
            headers: Default::default(),
            body: bytes::Bytes::from_static(br#"{"name": "prometheus", "alarm_level_threshold": "Critical"}"#),
        };
        // The integration's incidents go to its creator, who must be an engineer.
        let engineer =
            coc_shared::domain::engineer::Engineer::iam(caller.project_id.clone(), "u".into(), "u".into(), 0);
        coc_shared::repositories::engineers::insert(app.store.as_ref(), &engineer).await.unwrap();
        let created = coc_shared::handlers::integrations::create(&app, &caller, request).await.unwrap();
        let key = created.body["data"]["integration_key"].as_str().unwrap().to_owned();
        let alarm = serde_json::json!({"alarmId": "a1", "alarmName": "disk full", "alarmLevel": "Critical", "time": 1,
            "nameSpace": "ns", "applicationId": "app", "alarmDesc": "d", "alarmSource": "prometheus"});
        let response = consume(
            event(&[
                serde_json::json!({"integration_key": key, "alarm": alarm}),
                serde_json::json!({"integration_key": key, "alarm": alarm}),
                serde_json::json!({"integration_key": "unknown", "alarm": alarm}),
                serde_json::json!({"integration_key": key, "alarm": {"alarmId": "bad"}}),
            ]),
            |message| take_alarm(app.clone(), message),
        )
        .await;
        assert!(response.batch_item_failures.is_empty(), "bad messages are dropped, not retried");
        let integration =
            coc_shared::repositories::incidents::integration_by_key(app.store.as_ref(), &key).await.unwrap().unwrap();
        let alarm = coc_shared::repositories::alarms::get_alarm(
            app.store.as_ref(),
            &caller.project_id,
            &integration.integration_id,
            "a1",
        )
        .await
        .unwrap()
        .unwrap()
        .value;
        assert_eq!(alarm.occurrences, 2);
        assert!(alarm.incident_num.is_some());
        std::fs::remove_dir_all(dir).ok();
    }
}

#[cfg(test)]
mod authorizer_tests {
    use super::*;
    use coc_shared::auth::{issue_token, Credential};
    use coc_shared::domain::tenant::ProjectId;
    use coc_shared::repositories::credentials;

    fn event(headers: &[(&str, &str)]) -> ApiGatewayV2CustomAuthorizerV2Request {
        let mut request = ApiGatewayV2CustomAuthorizerV2Request::default();
        for (name, value) in headers {
            request.headers.insert(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        request
    }

    #[tokio::test]
    async fn the_authorizer_refuses_what_functions_would_refuse() {
        let dir = std::env::temp_dir().join(format!("coc-authorizer-{}", uuid::Uuid::new_v4()));
        let app = App::embedded(&dir).unwrap();
        let now = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        let credential = Credential::generate(ProjectId::parse("p1").unwrap(), "u".into(), "n".into(), now);
        credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
        let (token, record) = issue_token(&credential, now);
        credentials::insert_token(app.store.as_ref(), &token, &record).await.unwrap();
        let signed =
            format!("SDK-HMAC-SHA256 Access={}, SignedHeaders=host;x-sdk-date, Signature=00", credential.access_key);

        let allowed =
            authorize(&app, event(&[("authorization", &signed), ("x-sdk-date", "20260101T000500Z")]), now).await;
        assert!(allowed.is_authorized);
        assert_eq!(allowed.context["project_id"], "p1");
        assert!(authorize(&app, event(&[("x-auth-token", &token)]), now).await.is_authorized);

        let refused = [
            event(&[]),
            event(&[("x-auth-token", "coc-forged")]),
            event(&[("authorization", &signed), ("x-sdk-date", "20251231T234000Z")]),
            event(&[
                ("authorization", &signed.replace(&credential.access_key, "UNKNOWN")),
                ("x-sdk-date", "20260101T000000Z"),
            ]),
            event(&[("authorization", "Basic abc"), ("x-sdk-date", "20260101T000000Z")]),
            event(&[("x-auth-token", &token), ("x-project-id", "p2")]),
        ];
        for request in refused {
            assert!(!authorize(&app, request, now).await.is_authorized);
        }
        let expired = now + coc_shared::auth::TOKEN_LIFETIME_MS + 1;
        assert!(!authorize(&app, event(&[("x-auth-token", &token)]), expired).await.is_authorized);
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn the_authorizer_refuses_signatures_made_for_other_hosts() {
        let dir = std::env::temp_dir().join(format!("coc-authorizer-{}", uuid::Uuid::new_v4()));
        let public = coc_shared::auth::PublicHosts::parse("api.example.com").unwrap();
        let app = App::embedded(&dir).unwrap().with_public_hosts(public);
        let now = 1_767_225_600_000; // 2026-01-01T00:00:00Z
        let credential = Credential::generate(ProjectId::parse("p1").unwrap(), "u".into(), "n".into(), now);
        credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
        let signed =
            format!("SDK-HMAC-SHA256 Access={}, SignedHeaders=host;x-sdk-date, Signature=00", credential.access_key);
        let signed_for =
            |host| event(&[("authorization", &signed), ("x-sdk-date", "20260101T000000Z"), ("host", host)]);
        assert!(authorize(&app, signed_for("api.example.com"), now).await.is_authorized);
        assert!(!authorize(&app, signed_for("other.example.com"), now).await.is_authorized);
        // A token is not bound to a host.
        let (token, record) = issue_token(&credential, now);
        credentials::insert_token(app.store.as_ref(), &token, &record).await.unwrap();
        let with_token = event(&[("x-auth-token", &token), ("host", "other.example.com")]);
        assert!(authorize(&app, with_token, now).await.is_authorized);
        std::fs::remove_dir_all(dir).ok();
    }
}

/// The `cloudwatch-alarm-events` function: EventBridge rule and SNS Lambda
/// subscription both invoke it.
pub async fn serve_cloudwatch_events() -> Result<(), Error> {
    use coc_shared::handlers::alarms_cloudwatch::{config_from_env, take};
    use serde_json::Value;
    coc_shared::logging::init();
    let app = app_from_env().await.map_err(Error::from)?;
    let (key, level) = config_from_env().map_err(Error::from)?;
    lambda_http::lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (app, key) = (&app, key.as_str());
        async move {
            let taken = take(app, key, level, &event.payload).await.map_err(Error::from)?;
            Ok::<_, Error>(serde_json::json!({
                "recorded": taken.recorded, "redelivered": taken.redelivered, "dropped": taken.dropped.len(),
            }))
        }
    }))
    .await
}
