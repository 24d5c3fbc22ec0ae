//! `POST /v1/agents/{agent_sn}/jobs/{execute_uuid}/{instance_id}/patch-inventory`
//! (ours): what an agent's patch job found on its host. The server evaluates it
//! against the host's baseline as the ticket carries it and replaces the
//! host's compliance report for that baseline (spec 4.5).

use crate::app::App;
use crate::clock::now_ms;
use crate::domain::job::agent::Agent;
use crate::domain::job::order::{Instance, Order};
use crate::domain::job::patch::InventoryReport;
use crate::domain::patch::report::summarize;
use crate::domain::patch::{evaluate, Baseline, ComplianceItem, InstanceCompliant, Inventory};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::agents::{agent_of, order_of_run, run_of_path};
use crate::http::{ApiRequest, ApiResponse};
use crate::repositories::patch_reports;

/// → `{"data": instance_compliant_id}` once the report is saved, `{"data": null}`
/// when the run is no longer the instance's current one (the ticket retried it).
///
/// Only the run's own agent may report it (403 otherwise), only for a patch
/// ticket (400). A resend replaces the report with an equal one, so the host
/// has one report per baseline however often the agent sends it.
pub async fn report_inventory(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: InventoryReport = request.json_body()?;
    let agent = agent_of(app, caller, &request).await?.value;
    let (execute_uuid, instance_id) = run_of_path(&request)?;
    let order = order_of_run(app, caller, execute_uuid, instance_id, &agent.agent_sn).await?;
    let Some(patch) = &order.patch else {
        return Err(ApiError::invalid("execute_uuid", format!("ticket {execute_uuid} is not a patch ticket")));
    };
    let instance = order.instance(instance_id).expect("order_of_run found the instance");
    if instance.attempt != body.attempt {
        return ApiResponse::data(Option::<String>::None);
    }
    let inventory = &body.inventory;
    let baseline = Baseline::for_os(&patch.baselines, &inventory.operating_system).ok_or_else(|| {
        ApiError::invalid(
            "inventory.operating_system",
            format!("ticket {execute_uuid} has no baseline for {}", inventory.operating_system),
        )
    })?;
    let now = now_ms();
    let items = evaluate(baseline, inventory, now);
    let report = compliance_report(&order, instance, &agent, baseline, inventory, &items, now);
    patch_reports::save_at(app.store.as_ref(), &caller.project_id, &report, &items, app.clock.now_ms()).await?;
    ApiResponse::data(Some(report.id))
}

/// The report header of a run's evaluation: the host as its agent registered
/// it, the ticket and run that made it (`execution_summary`), the counts.
fn compliance_report(
    order: &Order,
    instance: &Instance,
    agent: &Agent,
    baseline: &Baseline,
    inventory: &Inventory,
    items: &[ComplianceItem],
    now: i64,
) -> InstanceCompliant {
    let resource_id = instance.target.resource_id.to_string();
    InstanceCompliant {
        // One id per host and baseline: a new scan replaces the last report.
        id: patch_reports::report_id(&resource_id, &baseline.id),
        instance_id: resource_id,
        agent_sn: agent.agent_sn.clone(),
        name: agent.host_name.clone(),
        ip: agent.fixed_ip.clone(),
        eip: agent.floating_ip.clone(),
        region: instance.target.region_id.to_string(),
        group: String::new(),
        operating_system: inventory.operating_system.clone(),
        baseline_id: baseline.id.clone(),
        baseline_name: baseline.name.clone(),
        rule_type: baseline.rule_type.clone(),
        summaries: summarize(items),
        item_count: items.len() as u64,
        order_id: order.execute_uuid.clone(),
        job_id: format!("{}-{}", order.execute_uuid, instance.id),
        report_time: now,
    }
}
