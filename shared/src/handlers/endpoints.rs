//! Which handler serves which operation, as plain function pointers picked by a
//! `const fn`. The local server looks them up at run time; a Lambda binary
//! evaluates [`handler_for`] at compile time (`const`), so the only handler it
//! references, and so the only one the linker keeps, is its own route's.

use std::future::Future;
use std::pin::Pin;

use super::{
    agent_identity, agents, alarm_mgmt, alarms, alarms_cloudwatch, alarms_prometheus, attachments, engineers,
    incidents, integrations, inventory, notifications, orders, patches, public_scripts, resources, schedules, scripts,
    tokens, war_rooms,
};
use crate::app::App;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::routes::Operation;

/// What a handler returns: boxed, so that every handler has the one type [`Handler`].
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<ApiResponse, ApiError>> + Send + 'a>>;

/// A route's handler. `caller` is the authenticated caller of an
/// `Access::Authenticated` or `Access::Agent` route, `None` on a public one.
pub type Handler = for<'a> fn(&'a App, Option<&'a Caller>, ApiRequest) -> HandlerFuture<'a>;

/// A handler of a route with a caller (`handler(app, caller, request)`).
macro_rules! with_caller {
    ($handler:path) => {{
        fn call<'a>(app: &'a App, caller: Option<&'a Caller>, request: ApiRequest) -> HandlerFuture<'a> {
            Box::pin(async move {
                let caller = caller
                    .ok_or_else(|| ApiError::Internal(format!("{} ran without a caller", stringify!($handler))))?;
                $handler(app, caller, request).await
            })
        }
        call as Handler
    }};
}

/// A handler of a public route (`handler(app, request)`), which checks what it needs itself.
macro_rules! public {
    ($handler:path) => {{
        fn call<'a>(app: &'a App, _caller: Option<&'a Caller>, request: ApiRequest) -> HandlerFuture<'a> {
            Box::pin($handler(app, request))
        }
        call as Handler
    }};
}

/// The handler of `operation`. Use it in a `const` where only one route is
/// served, so that the other handlers are not linked in.
pub const fn handler_for(operation: Operation) -> Handler {
    match operation {
        Operation::IssueToken => public!(tokens::issue),
        Operation::CreateScript => with_caller!(scripts::create),
        Operation::ListScripts => with_caller!(scripts::list),
        Operation::GetScript => with_caller!(scripts::get),
        Operation::UpdateScript => with_caller!(scripts::update),
        Operation::DeleteScript => with_caller!(scripts::delete),
        Operation::ReviewScript => with_caller!(scripts::review),
        Operation::ExecuteScript => with_caller!(scripts::execute),
        Operation::GetScriptJob => with_caller!(orders::info),
        Operation::ListScriptJobBatches => with_caller!(orders::batches),
        Operation::GetScriptJobStatistics => with_caller!(orders::statistics),
        Operation::GetScriptJobBatch => with_caller!(orders::batch),
        Operation::ListScriptJobs => with_caller!(orders::list),
        Operation::OperateScriptJob => with_caller!(orders::operate),
        Operation::ListResources => with_caller!(resources::list),
        Operation::RegisterAgent => public!(agent_identity::register),
        Operation::CreateAgentActivation => with_caller!(agent_identity::create_activation),
        Operation::RevokeAgent => with_caller!(agent_identity::revoke),
        Operation::AgentHeartbeat => with_caller!(agents::heartbeat),
        Operation::PollAgentJobs => with_caller!(agents::poll),
        Operation::ReportAgentJob => with_caller!(agents::report),
        Operation::CreateIncident => with_caller!(incidents::create),
        Operation::HandleIncident => with_caller!(incidents::handle),
        Operation::GetIncident => with_caller!(incidents::detail),
        Operation::ListIncidents => with_caller!(incidents::v2::list),
        Operation::HandleIncidentV2 => with_caller!(incidents::v2::act),
        Operation::ShowIncidentTask => with_caller!(incidents::v2::task),
        Operation::ListIncidentHistories => with_caller!(incidents::histories::list),
        Operation::ListIncidentTicketHistories => with_caller!(incidents::histories::list_for_ticket),
        Operation::CreateIntegration => with_caller!(integrations::create),
        Operation::ListIntegrations => with_caller!(integrations::list),
        Operation::DeleteIntegration => with_caller!(integrations::delete),
        Operation::ReportAlarm => public!(alarms::intake),
        Operation::ReportPrometheusEvent => public!(alarms_prometheus::intake),
        Operation::ReportCloudwatchEvent => public!(alarms_cloudwatch::intake),
        Operation::ListAlarms => with_caller!(integrations::alarms),
        Operation::StartPatchJob => with_caller!(patches::start_job),
        Operation::ReportPatchInventory => with_caller!(patches::report_inventory),
        Operation::CreatePatchBaseline => with_caller!(patches::baselines::create),
        Operation::ListPatchBaselines => with_caller!(patches::baselines::list),
        Operation::GetPatchBaseline => with_caller!(patches::baselines::get),
        Operation::UpdatePatchBaseline => with_caller!(patches::baselines::update),
        Operation::DeletePatchBaseline => with_caller!(patches::baselines::delete),
        Operation::ListInstanceCompliant => with_caller!(patches::compliance::list),
        Operation::ShowInstancePatchItems => with_caller!(patches::compliance::items),
        Operation::SyncEngineers => with_caller!(engineers::sync::sync),
        Operation::AddEngineer => with_caller!(engineers::add),
        Operation::ListEngineers => with_caller!(engineers::list),
        Operation::GetEngineer => with_caller!(engineers::get),
        Operation::UpdateEngineer => with_caller!(engineers::update),
        Operation::DeleteEngineer => with_caller!(engineers::delete),
        Operation::RequestSubscriptions => with_caller!(engineers::subscriptions::request),
        Operation::ListSubscriptions => with_caller!(engineers::subscriptions::list),
        Operation::ConfirmSubscription => public!(engineers::subscriptions::confirm),
        Operation::ListNotifications => with_caller!(notifications::list),
        Operation::GetNotification => with_caller!(notifications::get),
        Operation::ShowAlarm => with_caller!(alarm_mgmt::show::show),
        Operation::ListAlarmHandleHistories => with_caller!(alarm_mgmt::show::histories),
        Operation::ClearAlarm => with_caller!(alarm_mgmt::clear::clear),
        Operation::TransferAlarmToIncident => with_caller!(alarm_mgmt::transfer::transfer),
        Operation::HandlerAlarm => with_caller!(alarm_mgmt::auto_process::auto_process),
        Operation::ListTenantAlarms => with_caller!(alarm_mgmt::list::list),
        Operation::CreateExternalAttachment => with_caller!(attachments::upload),
        Operation::DownloadAttachment => with_caller!(attachments::download),
        Operation::CreateWarRoom => with_caller!(war_rooms::create),
        Operation::ListWarRooms => with_caller!(war_rooms::list),
        // scheduled tasks
        Operation::CreateScheduledTask => with_caller!(schedules::create),
        Operation::ListScheduledTask => with_caller!(schedules::list),
        Operation::ShowScheduledTask => with_caller!(schedules::show),
        Operation::UpdateScheduledTask => with_caller!(schedules::update),
        Operation::DeleteScheduledTask => with_caller!(schedules::delete),
        Operation::EnableScheduledTask => with_caller!(schedules::enable),
        Operation::DisableScheduledTask => with_caller!(schedules::disable),
        Operation::ListScheduledTaskHistory => with_caller!(schedules::history),
        // public scripts (#15)
        Operation::ListPublicScripts => with_caller!(public_scripts::list),
        Operation::GetPublicScript => with_caller!(public_scripts::get),
        Operation::ExecutePublicScript => with_caller!(public_scripts::execute),
        // script risk analysis
        Operation::CheckScriptRisk => with_caller!(scripts::analyze),
        // tags and resources
        Operation::ListScriptResourceTags => with_caller!(inventory::tags::list_script_tags),
        Operation::UpdateResourceTags => with_caller!(inventory::tags::update_script_tags),
        Operation::ListResourceTags => with_caller!(inventory::tags::list_resource_tags),
        Operation::CreateResourceTags => with_caller!(inventory::tags::create_resource_tags),
        Operation::CountResources => with_caller!(inventory::counts::count_resources),
        Operation::CountMultiResources => with_caller!(inventory::counts::count_multi_resources),
        Operation::SyncResource => with_caller!(inventory::sync::sync_resource),
        Operation::SyncResourceAgent => with_caller!(inventory::sync::sync_resource_agent),
        Operation::ListInstancesBatch => with_caller!(inventory::batches::list_instances_batch),
        Operation::ImportOtherResource => with_caller!(inventory::import::import),
        Operation::CountOtherResource => with_caller!(inventory::counts::count_other_resource),
    }
}
