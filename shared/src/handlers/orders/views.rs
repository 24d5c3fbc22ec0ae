//! Tickets as the API shows them (JobScriptOrderInfoModel, JobScriptBatchListModel,
//! JobScriptOrderStatisticsModel, JobScriptBatchDetailModel, JobScriptOrderListModel).
//! Sensitive parameter values are masked; logs have them replaced by the mask.

use serde::Serialize;
use serde_json::{json, Value};

use crate::domain::job::agent::Agent;
use crate::domain::job::execute::ExecuteParam;
use crate::domain::job::order::{Instance, InstanceStatus, Order, OrderStatus};
use crate::domain::script::MASK;

fn costs(start: i64, end: Option<i64>, now: i64) -> i64 {
    end.unwrap_or(now) - start
}

#[derive(Serialize)]
pub struct OrderInfo {
    pub execute_uuid: String,
    pub gmt_created: i64,
    pub gmt_finished: Option<i64>,
    pub execute_costs: i64,
    pub creator: String,
    pub status: OrderStatus,
    pub properties: Value,
}

impl OrderInfo {
    pub fn new(order: &Order, now: i64) -> Self {
        let execute_param: ExecuteParam = order.shown_execute_param();
        OrderInfo {
            execute_uuid: order.execute_uuid.clone(),
            gmt_created: order.gmt_created,
            gmt_finished: order.gmt_finished,
            execute_costs: costs(order.gmt_created, order.gmt_finished, now),
            creator: order.creator.clone(),
            status: order.status,
            properties: json!({
                "script_uuid": order.script.script_uuid,
                "script_name": order.script.name,
                "script_version_name": order.script.version,
                "script_version_uuid": order.script.revision,
                "current_execute_batch_index": order.current_batch_index.min(order.batches.len() as u32),
                "execute_param": execute_param,
                "script_source": "CUSTOM_SCRIPT",
            }),
        }
    }
}

pub fn batch_list(order: &Order) -> Vec<Value> {
    order
        .batches
        .iter()
        .map(|batch| {
            let total = order.instances.iter().filter(|i| i.batch_index == batch.batch_index).count();
            json!({
                "batch_index": batch.batch_index,
                "total_instances": total,
                "rotation_strategy": batch.rotation_strategy,
                "properties": "",
            })
        })
        .collect()
}

pub fn statistics(order: &Order) -> Value {
    let execute_statistics: Vec<Value> = InstanceStatus::ALL
        .iter()
        .map(|status| {
            let matching: Vec<&Instance> = order.instances.iter().filter(|i| i.status == *status).collect();
            let mut batches: Vec<u32> = matching.iter().map(|i| i.batch_index).collect();
            batches.sort_unstable();
            batches.dedup();
            json!({ "instance_status": status, "instance_count": matching.len(), "batch_indexes": batches })
        })
        .collect();
    json!({ "total_instance": order.instances.len(), "execute_statistics": execute_statistics })
}

/// Replaces every sensitive value in text shown to users.
pub fn redact(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_owned(), |shown, secret| shown.replace(secret.as_str(), MASK))
}

/// The host fields of ResourceInstanceProp (table 4-52), from what the host's
/// agent registered; the CloudCMDB ones (application, group) we have no view of.
fn host_properties(instance: &Instance, agent: Option<&Agent>) -> Value {
    let target = &instance.target;
    let known = |value: Option<&String>| value.filter(|v| !v.is_empty()).cloned();
    json!({
        "host_name": known(agent.map(|a| &a.host_name)),
        "fixed_ip": known(agent.map(|a| &a.fixed_ip)),
        "floating_ip": known(agent.map(|a| &a.floating_ip)),
        "region_id": target.region_id,
        "zone_id": known(agent.map(|a| &a.zone_id)),
        "application": null,
        "group": null,
        "project_id": target.project_id,
    })
}

pub fn instance(order: &Order, instance: &Instance, log: &str, agent: Option<&Agent>, now: i64) -> Value {
    let message = if log.is_empty() { instance.message.clone() } else { log.to_owned() };
    let target = &instance.target;
    json!({
        "id": instance.id,
        "target_instance": {
            "resource_id": target.resource_id,
            "agent_sn": target.agent_sn,
            "agent_status": agent.map(|a| a.state(now)),
            "region_id": target.region_id,
            "project_id": target.project_id,
            "properties": host_properties(instance, agent),
        },
        "gmt_created": instance.gmt_created,
        "gmt_finished": instance.gmt_finished,
        "execute_costs": instance.gmt_started.map(|s| costs(s, instance.gmt_finished, now)).unwrap_or(0),
        "status": instance.status,
        "message": redact(&message, &order.secrets()),
        "exit_code": instance.exit_code,
    })
}

pub fn list_row(order: &Order, now: i64) -> Value {
    let mut regions: Vec<&str> = order.instances.iter().map(|i| i.target.region_id.as_str()).collect();
    regions.sort_unstable();
    regions.dedup();
    json!({
        "order_id": order.order_id,
        "order_name": order.script.name,
        "execute_uuid": order.execute_uuid,
        "gmt_created": order.gmt_created,
        "gmt_finished": order.gmt_finished,
        "execute_costs": costs(order.gmt_created, order.gmt_finished, now),
        "creator": order.creator,
        "status": order.status,
        "properties": { "region_ids": regions.join(",") },
    })
}
