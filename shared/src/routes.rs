//! The one list of routes. The local server dispatches with it, each Lambda
//! binary serves one entry of it, and a test holds template.yaml to it.

use std::collections::HashMap;

use http::Method;
use percent_encoding::percent_decode_str;

use crate::error::ApiError;
use crate::http::{API_BODY_BYTES, INVENTORY_BODY_BYTES, MAX_BODY_BYTES, PUBLIC_BODY_BYTES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    IssueToken,
    CreateScript,
    ListScripts,
    GetScript,
    UpdateScript,
    DeleteScript,
    ReviewScript,
    ExecuteScript,
    GetScriptJob,
    ListScriptJobBatches,
    GetScriptJobStatistics,
    GetScriptJobBatch,
    ListScriptJobs,
    OperateScriptJob,
    ListResources,
    RegisterAgent,
    CreateAgentActivation,
    RevokeAgent,
    AgentHeartbeat,
    PollAgentJobs,
    ReportAgentJob,
    CreateIncident,
    HandleIncident,
    GetIncident,
    CreateIntegration,
    ListIntegrations,
    DeleteIntegration,
    ReportAlarm,
    ReportPrometheusEvent,
    ListAlarms,
    StartPatchJob,
    ReportPatchInventory,
    CreatePatchBaseline,
    ListPatchBaselines,
    GetPatchBaseline,
    UpdatePatchBaseline,
    DeletePatchBaseline,
    ListInstanceCompliant,
    ShowInstancePatchItems,
    SyncEngineers,
    AddEngineer,
    ListEngineers,
    GetEngineer,
    UpdateEngineer,
    DeleteEngineer,
    RequestSubscriptions,
    ListSubscriptions,
    ConfirmSubscription,
    ListNotifications,
    GetNotification,
    // incidents v2: lists, timelines, actions, ticket histories
    ListIncidents,
    HandleIncidentV2,
    ListIncidentHistories,
    ShowIncidentTask,
    ListIncidentTicketHistories,
    // alarm management /v1/alarm-mgmt
    ShowAlarm,
    ListAlarmHandleHistories,
    ClearAlarm,
    TransferAlarmToIncident,
    HandlerAlarm,
    ListTenantAlarms,
    // AWS intake: CloudWatch via EventBridge and SNS
    ReportCloudwatchEvent,
    // attachments and war rooms
    CreateExternalAttachment,
    DownloadAttachment,
    CreateWarRoom,
    ListWarRooms,
    // scheduled tasks
    CreateScheduledTask,
    ListScheduledTask,
    ShowScheduledTask,
    UpdateScheduledTask,
    DeleteScheduledTask,
    EnableScheduledTask,
    DisableScheduledTask,
    ListScheduledTaskHistory,
    // public scripts (#15): the library shipped with the service
    ListPublicScripts,
    GetPublicScript,
    ExecutePublicScript,
    // script risk analysis
    CheckScriptRisk,
    // tags and resources
    ListScriptResourceTags,
    UpdateResourceTags,
    ListResourceTags,
    CreateResourceTags,
    CountResources,
    CountMultiResources,
    SyncResource,
    SyncResourceAgent,
    ListInstancesBatch,
    ImportOtherResource,
    CountOtherResource,
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A user proven by signature or token; the handler gets it. Agents' credentials are refused.
    Authenticated,
    /// An agent proven by a signature with its own credential; users' keys are refused.
    Agent,
    /// No caller is established before the handler, which checks what it needs
    /// itself (token issuing verifies the AK/SK signature).
    Public,
}

#[derive(Debug)]
pub struct Route {
    pub operation: Operation,
    pub method: Method,
    /// Segments in braces are parameters, e.g. `/v1/job/scripts/{script_uuid}`.
    pub path: &'static str,
    /// The Lambda function (and binary, and `functions/` folder) serving it.
    pub function: &'static str,
    pub access: Access,
    /// The largest body it takes, in bytes; a longer one is a 413.
    pub body_limit: usize,
}

const fn route(operation: Operation, method: Method, path: &'static str, function: &'static str) -> Route {
    Route { operation, method, path, function, access: Access::Authenticated, body_limit: API_BODY_BYTES }
}

const fn agent(operation: Operation, method: Method, path: &'static str, function: &'static str) -> Route {
    Route { operation, method, path, function, access: Access::Agent, body_limit: API_BODY_BYTES }
}

const fn public(operation: Operation, method: Method, path: &'static str, function: &'static str) -> Route {
    Route { operation, method, path, function, access: Access::Public, body_limit: PUBLIC_BODY_BYTES }
}

impl Route {
    const fn with_body_limit(mut self, body_limit: usize) -> Route {
        self.body_limit = body_limit;
        self
    }
}

const SCRIPT: &str = "/v1/job/scripts/{script_uuid}";
const PUBLIC_SCRIPT: &str = "/v1/job/public-scripts/{script_uuid}";
const BASELINE: &str = "/v1/patch/baselines/{baseline_id}";
const ENGINEER: &str = "/v1/engineers/{user_id}";
const SCHEDULED_TASK: &str = "/v1/schedule/task/{task_id}";
/// A path under one ticket, `/v1/job/script/orders/{execute_uuid}…`.
macro_rules! order_path {
    ($rest:literal) => {
        concat!("/v1/job/script/orders/{execute_uuid}", $rest)
    };
}

pub const ROUTES: &[Route] = &[
    public(Operation::IssueToken, Method::POST, "/v1/auth/tokens", "issue-token"),
    route(Operation::CreateScript, Method::POST, "/v1/job/scripts", "create-script"),
    route(Operation::ListScripts, Method::GET, "/v1/job/scripts", "list-scripts"),
    route(Operation::GetScript, Method::GET, SCRIPT, "get-script"),
    route(Operation::UpdateScript, Method::PUT, SCRIPT, "update-script"),
    route(Operation::DeleteScript, Method::DELETE, SCRIPT, "delete-script"),
    route(Operation::ReviewScript, Method::POST, "/v1/job/scripts/{script_uuid}/action", "review-script"),
    route(Operation::ExecuteScript, Method::POST, SCRIPT, "execute-script"),
    route(Operation::ListScriptJobs, Method::GET, "/v1/job/script/orders", "list-script-jobs"),
    route(Operation::GetScriptJob, Method::GET, order_path!(""), "get-script-job"),
    route(Operation::ListScriptJobBatches, Method::GET, order_path!("/batches"), "list-script-job-batches"),
    route(Operation::GetScriptJobStatistics, Method::GET, order_path!("/statistics"), "get-script-job-statistics"),
    route(Operation::GetScriptJobBatch, Method::GET, order_path!("/batches/{batch_index}"), "get-script-job-batch"),
    route(Operation::OperateScriptJob, Method::PUT, order_path!("/operation"), "operate-script-job"),
    route(Operation::ListResources, Method::GET, "/v1/resources", "list-resources"),
    // A user's key or an activation; the handler settles which before reading the body.
    public(Operation::RegisterAgent, Method::POST, "/v1/agents", "register-agent"),
    route(Operation::CreateAgentActivation, Method::POST, "/v1/agent-activations", "create-agent-activation"),
    route(Operation::RevokeAgent, Method::DELETE, "/v1/agents/{agent_sn}", "revoke-agent"),
    agent(Operation::AgentHeartbeat, Method::POST, "/v1/agents/{agent_sn}/heartbeat", "agent-heartbeat"),
    agent(Operation::PollAgentJobs, Method::GET, "/v1/agents/{agent_sn}/jobs", "poll-agent-jobs"),
    agent(
        Operation::ReportAgentJob,
        Method::POST,
        "/v1/agents/{agent_sn}/jobs/{execute_uuid}/{instance_id}",
        "report-agent-job",
    )
    .with_body_limit(MAX_BODY_BYTES),
    route(Operation::CreateIncident, Method::POST, "/v1/external/incident/create", "create-incident"),
    route(Operation::HandleIncident, Method::POST, "/v1/external/incident/handle", "handle-incident"),
    route(Operation::GetIncident, Method::GET, "/v1/external/incident/{incident_num}", "get-incident"),
    route(Operation::CreateIntegration, Method::POST, "/v1/integrations", "create-integration"),
    route(Operation::ListIntegrations, Method::GET, "/v1/integrations", "list-integrations"),
    route(Operation::DeleteIntegration, Method::DELETE, "/v1/integrations/{integration_id}", "delete-integration"),
    route(Operation::ListAlarms, Method::GET, "/v1/integrations/{integration_id}/alarms", "list-alarms"),
    public(Operation::ReportAlarm, Method::POST, "/v1/event/huawei/custom/{integration_key}", "report-alarm"),
    public(
        Operation::ReportPrometheusEvent,
        Method::POST,
        "/v1/event/prometheus/{integration_key}",
        "report-prometheus-event",
    ),
    route(Operation::StartPatchJob, Method::POST, "/v1/patch/jobs", "start-patch-job"),
    agent(
        Operation::ReportPatchInventory,
        Method::POST,
        "/v1/agents/{agent_sn}/jobs/{execute_uuid}/{instance_id}/patch-inventory",
        "report-patch-inventory",
    )
    .with_body_limit(INVENTORY_BODY_BYTES),
    route(Operation::CreatePatchBaseline, Method::POST, "/v1/patch/baselines", "create-patch-baseline"),
    route(Operation::ListPatchBaselines, Method::GET, "/v1/patch/baselines", "list-patch-baselines"),
    route(Operation::GetPatchBaseline, Method::GET, BASELINE, "get-patch-baseline"),
    route(Operation::UpdatePatchBaseline, Method::PUT, BASELINE, "update-patch-baseline"),
    route(Operation::DeletePatchBaseline, Method::DELETE, BASELINE, "delete-patch-baseline"),
    route(Operation::ListInstanceCompliant, Method::GET, "/v1/patch/instance/compliant", "list-instance-compliant"),
    route(
        Operation::ShowInstancePatchItems,
        Method::GET,
        "/v1/patch/instance/compliant/{instance_compliant_id}",
        "show-instance-patch-items",
    ),
    route(Operation::SyncEngineers, Method::POST, "/v1/engineers/sync", "sync-engineers"),
    route(Operation::AddEngineer, Method::POST, "/v1/engineers", "add-engineer"),
    route(Operation::ListEngineers, Method::GET, "/v1/engineers", "list-engineers"),
    route(Operation::GetEngineer, Method::GET, ENGINEER, "get-engineer"),
    route(Operation::UpdateEngineer, Method::PUT, ENGINEER, "update-engineer"),
    route(Operation::DeleteEngineer, Method::DELETE, ENGINEER, "delete-engineer"),
    route(
        Operation::RequestSubscriptions,
        Method::POST,
        "/v1/engineers/{user_id}/subscriptions",
        "request-engineer-subscriptions",
    ),
    route(
        Operation::ListSubscriptions,
        Method::GET,
        "/v1/engineers/{user_id}/subscriptions",
        "list-engineer-subscriptions",
    ),
    // Opened from a mail or a text message: the token in the query is the credential.
    public(Operation::ConfirmSubscription, Method::GET, "/v1/subscriptions/confirm", "confirm-subscription"),
    route(Operation::ListNotifications, Method::GET, "/v1/notifications", "list-notifications"),
    route(Operation::GetNotification, Method::GET, "/v1/notifications/{notification_id}", "get-notification"),
    // incidents v2: lists, timelines, actions, ticket histories
    route(Operation::ListIncidents, Method::POST, "/v2/incidents/list", "list-incidents"),
    route(Operation::HandleIncidentV2, Method::POST, "/v2/incidents/{incident_id}/actions", "handle-incident-v2"),
    route(
        Operation::ListIncidentHistories,
        Method::POST,
        "/v2/incidents/{incident_id}/histories",
        "list-incident-histories",
    ),
    route(Operation::ShowIncidentTask, Method::GET, "/v2/incidents/{incident_id}/tasks", "show-incident-task"),
    route(
        Operation::ListIncidentTicketHistories,
        Method::POST,
        "/v1/external/{ticket_type}/list-histories",
        "list-ticket-histories",
    ),
    // alarm management /v1/alarm-mgmt
    route(Operation::ShowAlarm, Method::GET, "/v1/alarm-mgmt/alarm/{alarm_id}", "show-alarm"),
    route(
        Operation::ListAlarmHandleHistories,
        Method::GET,
        "/v1/alarm-mgmt/alarm/{alarm_id}/handle-histories",
        "list-alarm-handle-histories",
    ),
    route(Operation::ClearAlarm, Method::POST, "/v1/alarm-mgmt/alarms/cancel", "clear-alarm"),
    route(
        Operation::TransferAlarmToIncident,
        Method::POST,
        "/v1/alarm-mgmt/alarms-linked-incident",
        "transfer-alarm-to-incident",
    ),
    route(Operation::HandlerAlarm, Method::POST, "/v1/alarm-mgmt/alarm/{alarm_id}/auto-process", "handler-alarm"),
    route(Operation::ListTenantAlarms, Method::GET, "/v1/alarm-mgmt/alarms", "list-tenant-alarms"),
    // AWS intake: CloudWatch via EventBridge and SNS
    // An SNS HTTPS subscription's messages or an EventBridge API destination's
    // events; the integration key in the path is the credential.
    public(
        Operation::ReportCloudwatchEvent,
        Method::POST,
        "/v1/event/cloudwatch/{integration_key}",
        "report-cloudwatch-event",
    ),
    // attachments and war rooms
    // A literal path beside the incident-by-number route: `resolve` picks it for POST.
    route(
        Operation::CreateExternalAttachment,
        Method::POST,
        "/v1/external/incident/attachments",
        "create-external-attachment",
    )
    .with_body_limit(crate::limits::ATTACHMENT_BODY_BYTES),
    route(Operation::DownloadAttachment, Method::GET, "/v1/{ticket_type}/attachments/{doc_id}", "download-attachment"),
    route(Operation::CreateWarRoom, Method::POST, "/v1/external/warrooms", "create-war-room"),
    route(Operation::ListWarRooms, Method::POST, "/v1/external/warrooms/list", "list-war-rooms"),
    // scheduled tasks
    route(Operation::CreateScheduledTask, Method::POST, "/v1/schedule/task", "create-scheduled-task"),
    route(Operation::ListScheduledTask, Method::GET, "/v1/schedule/task", "list-scheduled-task"),
    route(Operation::ShowScheduledTask, Method::GET, SCHEDULED_TASK, "show-scheduled-task"),
    route(Operation::UpdateScheduledTask, Method::PUT, SCHEDULED_TASK, "update-scheduled-task"),
    route(Operation::DeleteScheduledTask, Method::DELETE, SCHEDULED_TASK, "delete-scheduled-task"),
    route(Operation::EnableScheduledTask, Method::POST, "/v1/schedule/task/{task_id}/enable", "enable-scheduled-task"),
    route(
        Operation::DisableScheduledTask,
        Method::POST,
        "/v1/schedule/task/{task_id}/disable",
        "disable-scheduled-task",
    ),
    // A literal path beside the task-by-id route: `resolve` picks it for GET.
    route(Operation::ListScheduledTaskHistory, Method::GET, "/v1/schedule/task/history", "list-scheduled-task-history"),
    // public scripts (#15): the library shipped with the service
    route(Operation::ListPublicScripts, Method::GET, "/v1/job/public-scripts", "list-public-scripts"),
    route(Operation::GetPublicScript, Method::GET, PUBLIC_SCRIPT, "get-public-script"),
    route(Operation::ExecutePublicScript, Method::POST, PUBLIC_SCRIPT, "execute-public-script"),
    // script risk analysis
    route(Operation::CheckScriptRisk, Method::POST, "/v1/job/analyze-job", "check-script-risk"),
    // tags and resources
    route(
        Operation::ListScriptResourceTags,
        Method::GET,
        "/v1/script/{resource_type}/tags",
        "list-script-resource-tags",
    ),
    route(
        Operation::UpdateResourceTags,
        Method::POST,
        "/v1/script/{resource_type}/{resource_id}/tags/update",
        "update-resource-tags",
    ),
    route(Operation::ListResourceTags, Method::GET, "/v1/resources/{resource_id}/tags", "list-resource-tags"),
    route(Operation::CreateResourceTags, Method::POST, "/v1/resources/{resource_id}/tags", "create-resource-tags"),
    route(Operation::CountResources, Method::GET, "/v1/resources/count", "count-resources"),
    route(Operation::CountMultiResources, Method::GET, "/v1/resources/multi-count", "count-multi-resources"),
    route(Operation::SyncResource, Method::POST, "/v1/resources/sync", "sync-resource"),
    route(Operation::SyncResourceAgent, Method::POST, "/v1/resources/uniagent/sync", "sync-resource-agent"),
    route(Operation::ListInstancesBatch, Method::POST, "/v1/instances/batches", "list-instances-batch"),
    route(Operation::ImportOtherResource, Method::POST, "/v1/other-resources/import", "import-other-resource")
        .with_body_limit(crate::limits::IMPORT_BODY_BYTES),
    route(Operation::CountOtherResource, Method::GET, "/v1/other-resources/count", "count-other-resource"),
];

pub fn route_for(operation: Operation) -> &'static Route {
    ROUTES.iter().find(|r| r.operation == operation).expect("every operation has a route")
}

impl Route {
    /// Matches the pattern against the last segments of `path`, so a stage or
    /// function prefix in front (API Gateway, `cargo lambda watch`) does not matter.
    pub fn match_tail(&self, path: &str) -> Option<HashMap<String, String>> {
        let pattern: Vec<&str> = segments(self.path).collect();
        let actual: Vec<&str> = segments(path).collect();
        let tail = actual.get(actual.len().checked_sub(pattern.len())?..)?;
        bind(&pattern, tail)
    }

    fn match_exact(&self, path: &str) -> Option<HashMap<String, String>> {
        let pattern: Vec<&str> = segments(self.path).collect();
        let actual: Vec<&str> = segments(path).collect();
        if pattern.len() != actual.len() {
            return None;
        }
        bind(&pattern, &actual)
    }

    /// Which segments are literal, in order: of two patterns matching the same
    /// path, the one with a literal where the other has a parameter at the
    /// first place they differ is the more specific (`/x/attachments` over `/x/{num}`).
    fn specificity(&self) -> Vec<bool> {
        segments(self.path).map(|s| !s.starts_with('{')).collect()
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

fn bind(pattern: &[&str], actual: &[&str]) -> Option<HashMap<String, String>> {
    let mut params = HashMap::new();
    for (want, got) in pattern.iter().zip(actual) {
        match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) => {
                params.insert(name.to_owned(), percent_decode_str(got).decode_utf8_lossy().into_owned());
            }
            None if want == got => {}
            None => return None,
        }
    }
    Some(params)
}

/// The route for a request, with its path parameters: of the routes of the
/// request's method whose pattern matches the path, the most specific. Routes
/// of other methods never take part in that choice, so a parameter route of
/// one method (`GET /v1/external/incident/{incident_num}`) cannot shadow a
/// literal route of another (`POST /v1/external/incident/attachments`), nor
/// the other way round (an engineer named `sync` is still read by GET). A path
/// no route has is a 404; a 405 only when no route of the method matches it,
/// naming the methods that do.
pub fn resolve(method: &Method, path: &str) -> Result<(&'static Route, HashMap<String, String>), ApiError> {
    let mut allowed: Vec<&str> = Vec::new();
    let mut best: Option<(&Route, HashMap<String, String>)> = None;
    for route in ROUTES {
        let Some(params) = route.match_exact(path) else {
            continue;
        };
        if !allowed.contains(&route.method.as_str()) {
            allowed.push(route.method.as_str());
        }
        if route.method == method && best.as_ref().is_none_or(|(b, _)| route.specificity() > b.specificity()) {
            best = Some((route, params));
        }
    }
    match best {
        Some(found) => Ok(found),
        None if !allowed.is_empty() => Err(ApiError::MethodNotAllowed {
            method: method.to_string(),
            path: path.to_owned(),
            allowed: allowed.join(", "),
        }),
        None => Err(ApiError::NotFound(format!("no API at {path}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_parameters_and_methods() {
        let (route, params) = resolve(&Method::GET, "/v1/job/scripts/SC1").unwrap();
        assert_eq!(route.operation, Operation::GetScript);
        assert_eq!(params["script_uuid"], "SC1");
        let (route, _) = resolve(&Method::POST, "/v1/job/scripts/SC1/action").unwrap();
        assert_eq!(route.operation, Operation::ReviewScript);
        assert!(matches!(resolve(&Method::PATCH, "/v1/job/scripts"), Err(ApiError::MethodNotAllowed { .. })));
        assert!(matches!(resolve(&Method::GET, "/v1/nothing"), Err(ApiError::NotFound(_))));
        assert!(matches!(resolve(&Method::GET, "/v1/job/scripts/a/b/c"), Err(ApiError::NotFound(_))));
    }

    #[test]
    fn tail_matching_ignores_prefixes() {
        let route = route_for(Operation::GetScript);
        let params = route.match_tail("/lambda-url/get-script/v1/job/scripts/SC%20x").unwrap();
        assert_eq!(params["script_uuid"], "SC x");
        assert!(route.match_tail("/v1/job/other/SC1").is_none());
    }

    #[test]
    fn literal_routes_win_within_their_method_and_never_across_methods() {
        // The collision that answered 405: a literal POST beside a parameter GET.
        let (route, _) = resolve(&Method::POST, "/v1/external/incident/attachments").unwrap();
        assert_eq!(route.operation, Operation::CreateExternalAttachment);
        let (route, _) = resolve(&Method::POST, "/v1/external/incident/create").unwrap();
        assert_eq!(route.operation, Operation::CreateIncident);
        let (route, params) = resolve(&Method::GET, "/v1/external/incident/IM1").unwrap();
        assert_eq!((route.operation, params["incident_num"].as_str()), (Operation::GetIncident, "IM1"));
        // A parameter route still takes a value that is another method's literal.
        let (route, params) = resolve(&Method::GET, "/v1/engineers/sync").unwrap();
        assert_eq!((route.operation, params["user_id"].as_str()), (Operation::GetEngineer, "sync"));
        let (route, params) = resolve(&Method::GET, "/v1/incident/attachments/DOC1").unwrap();
        assert_eq!((route.operation, params["doc_id"].as_str()), (Operation::DownloadAttachment, "DOC1"));
        let (route, _) = resolve(&Method::POST, "/v1/external/warrooms/list").unwrap();
        assert_eq!(route.operation, Operation::ListWarRooms);
        // 405 only when no route of the method matches, with the methods that do.
        match resolve(&Method::DELETE, "/v1/external/incident/attachments") {
            Err(ApiError::MethodNotAllowed { allowed, .. }) => assert_eq!(allowed, "GET, POST"),
            other => panic!("expected a 405, got {other:?}"),
        }
        assert!(matches!(resolve(&Method::PUT, "/v1/external/warrooms"), Err(ApiError::MethodNotAllowed { .. })));
    }

    #[test]
    fn the_first_literal_position_decides_between_parameter_routes() {
        let specific = |path: &'static str| Route { path, ..route(Operation::GetScript, Method::GET, "", "x") };
        // Two literals each, but `/a/b/{x}` is literal where `/a/{y}/c` has a parameter first.
        assert!(specific("/a/b/{x}").specificity() > specific("/a/{y}/c").specificity());
        assert!(specific("/a/b/c").specificity() > specific("/a/b/{x}").specificity());
    }

    #[test]
    fn no_two_routes_of_a_method_are_equally_specific_for_one_path() {
        for a in ROUTES {
            for b in ROUTES.iter().filter(|b| !std::ptr::eq(*b, a) && b.method == a.method) {
                // A path a's pattern takes, with each parameter as a made-up value.
                let probe: String = segments(a.path)
                    .map(|s| if s.starts_with('{') { "probe-value" } else { s })
                    .fold(String::new(), |path, s| path + "/" + s);
                if b.match_exact(&probe).is_some() {
                    assert_ne!(a.specificity(), b.specificity(), "{} and {} are ambiguous", a.path, b.path);
                }
            }
        }
    }

    #[test]
    fn every_operation_has_exactly_one_route() {
        for route in ROUTES {
            assert_eq!(ROUTES.iter().filter(|r| r.operation == route.operation).count(), 1);
            assert_eq!(ROUTES.iter().filter(|r| r.function == route.function).count(), 1);
        }
    }
}
