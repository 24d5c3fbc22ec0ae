//! The ticket rules, step by step.

use serde_json::json;

use super::execute::Execution;
use super::order::{Effects, InstanceStatus, OperationType, Order, OrderStatus, REPORT_GRACE_MS};
use crate::domain::script::{NewScript, Script};
use crate::domain::tenant::{Caller, ProjectId};

fn caller() -> Caller {
    Caller { project_id: ProjectId::parse("p").unwrap(), user_id: "u".into(), user_name: "n".into(), agent_sn: None }
}

fn script() -> Script {
    let new: NewScript = serde_json::from_value(json!({
        "name": "s", "type": "SHELL", "content": "echo ${a}", "description": "d",
        "properties": {"risk_level": "LOW", "version": "1"},
        "script_params": [
            {"param_name": "a", "param_value": "default", "param_description": "", "param_order": 1, "sensitive": false},
            {"param_name": "key", "param_value": "secret", "param_description": "", "param_order": 2, "sensitive": true}
        ]
    }))
    .unwrap();
    Script::create(new, 1, "SC1".into(), &caller(), 0)
}

/// `batches` hosts per batch, with rotation strategies, at a success rate.
fn order(batches: &[(usize, &str)], success_rate: f64) -> Order {
    let mut host = 0;
    let execute_batches: Vec<_> = batches
        .iter()
        .enumerate()
        .map(|(i, (hosts, rotation))| {
            let targets: Vec<_> = (0..*hosts)
                .map(|_| {
                    host += 1;
                    json!({"resource_id": format!("r{host}"), "agent_sn": format!("a{host}"), "project_id": "p", "region_id": "r"})
                })
                .collect();
            json!({"batch_index": i + 1, "rotation_strategy": rotation, "target_instances": targets})
        })
        .collect();
    let execution: Execution = serde_json::from_value(json!({
        "execute_param": {"timeout": 60, "success_rate": success_rate, "execute_user": "root",
                          "script_params": [{"param_name": "a", "param_value": "given", "param_order": 1}]},
        "execute_batches": execute_batches
    }))
    .unwrap();
    Order::create(execution, &script(), 1, "SCT1".into(), &caller(), 0).unwrap()
}

fn statuses(order: &Order) -> Vec<InstanceStatus> {
    order.instances.iter().map(|i| i.status).collect()
}

fn report_all(order: &mut Order, ids: &[u64], exit_code: i32, now: i64) {
    for id in ids {
        let attempt = order.instance(*id).unwrap().attempt;
        assert!(order.report(*id, attempt, exit_code, "log", now));
    }
}

use InstanceStatus::*;

#[test]
fn batches_run_one_after_another() {
    let mut o = order(&[(2, "CONTINUE"), (1, "CONTINUE")], 100.0);
    assert_eq!(o.script.params[0].value, "given");
    assert_eq!(o.script.params[1].value, "secret", "defaults fill what the request leaves out");
    let step = o.advance(1000);
    assert_eq!(step.dispatch, vec![1, 2]);
    assert_eq!(step.check_at, Some(1000 + 60_000 + REPORT_GRACE_MS));
    assert_eq!(o.status, OrderStatus::Processing);
    assert_eq!(statuses(&o), [Processing, Processing, Ready]);
    assert_eq!(
        o.advance(1001),
        Effects { check_at: step.check_at, ..Effects::default() },
        "repeating a step does nothing new"
    );

    report_all(&mut o, &[1], 0, 2000);
    assert!(o.advance(2001).dispatch.is_empty(), "the next batch waits for the whole batch");
    report_all(&mut o, &[2], 0, 3000);
    assert_eq!(o.advance(3001).dispatch, vec![3]);
    assert_eq!(o.current_batch_index, 2);
    report_all(&mut o, &[3], 0, 4000);
    o.advance(4001);
    assert_eq!(o.status, OrderStatus::Finished);
    assert_eq!(o.gmt_finished, Some(4001));
    assert!(!o.report(3, 1, 1, "late", 5000), "a report after the end changes nothing");
}

#[test]
fn pause_rotation_stops_after_its_batch_until_continued() {
    let mut o = order(&[(1, "PAUSE"), (1, "CONTINUE")], 100.0);
    o.advance(0);
    report_all(&mut o, &[1], 0, 10);
    assert!(o.advance(20).dispatch.is_empty());
    assert_eq!(o.status, OrderStatus::Paused);
    assert!(o.advance(30).dispatch.is_empty(), "still paused");
    o.operate(OperationType::ContinueOrder, None, None, 40).unwrap();
    assert_eq!(o.advance(50).dispatch, vec![2], "continuing starts the next batch");
    report_all(&mut o, &[2], 0, 60);
    o.advance(70);
    assert_eq!(o.status, OrderStatus::Finished);
}

#[test]
fn missing_the_success_rate_stops_the_ticket() {
    // 75%: after batch 1 (1 of 2 ok = 50%) the ticket stops; batch 2 never runs.
    let mut o = order(&[(2, "CONTINUE"), (2, "CONTINUE")], 75.0);
    o.advance(0);
    report_all(&mut o, &[1], 0, 10);
    report_all(&mut o, &[2], 1, 10);
    o.advance(20);
    assert_eq!(o.status, OrderStatus::Abnormal);
    assert_eq!(statuses(&o), [Finished, Abnormal, Canceled, Canceled]);

    // 50% is met by the same results; the rate counts every batch so far.
    let mut o = order(&[(2, "CONTINUE"), (2, "CONTINUE")], 50.0);
    o.advance(0);
    report_all(&mut o, &[1], 0, 10);
    report_all(&mut o, &[2], 1, 10);
    assert_eq!(o.advance(20).dispatch, vec![3, 4]);
    report_all(&mut o, &[3, 4], 1, 30);
    o.advance(40);
    assert_eq!(o.status, OrderStatus::Abnormal, "1 of 4 is 25%");
}

#[test]
fn unreported_instances_time_out() {
    let mut o = order(&[(1, "CONTINUE"), (1, "CONTINUE")], 50.0);
    o.advance(0);
    let deadline = 60_000 + REPORT_GRACE_MS;
    assert!(o.advance(deadline - 1).withdraw.is_empty());
    let step = o.advance(deadline);
    assert_eq!(step.withdraw, vec![1]);
    assert_eq!(o.instance(1).unwrap().status, Abnormal);
    assert!(o.instance(1).unwrap().message.contains("timed out"));
    assert!(step.dispatch.is_empty(), "50%: with 0 of 1 ok the ticket stops");
    assert_eq!(o.status, OrderStatus::Abnormal);
    assert_eq!(o.instance(2).unwrap().status, Canceled);
}

#[test]
fn operations() {
    let mut o = order(&[(2, "CONTINUE"), (2, "CONTINUE")], 1.0);
    o.advance(0);
    assert_eq!(o.operate(OperationType::CancelInstance, None, Some(1), 5).unwrap(), vec![1]);
    assert!(o.operate(OperationType::CancelInstance, None, Some(1), 5).is_err(), "already canceled");
    assert!(o.operate(OperationType::CancelInstance, None, None, 5).is_err(), "instance_id is required");
    assert!(o.operate(OperationType::CancelInstance, None, Some(99), 5).is_err());
    assert_eq!(o.operate(OperationType::SkipBatch, Some(2), None, 5).unwrap(), Vec::<u64>::new());
    assert_eq!(statuses(&o), [Canceled, Processing, Canceled, Canceled]);
    report_all(&mut o, &[2], 0, 10);
    o.advance(20);
    assert_eq!(o.status, OrderStatus::Finished, "a skipped last batch ends the ticket");

    o.operate(OperationType::RetryInstance, None, Some(1), 30).unwrap();
    assert_eq!(o.status, OrderStatus::Processing, "a retry re-opens a finished ticket");
    let step = o.advance(40);
    assert_eq!(step.dispatch, vec![1]);
    assert_eq!(o.instance(1).unwrap().attempt, 2);
    assert!(!o.report(1, 1, 0, "a report of the canceled first run", 50));
    report_all(&mut o, &[1], 0, 50);
    o.advance(60);
    assert_eq!(o.status, OrderStatus::Finished);

    let mut o = order(&[(1, "CONTINUE"), (1, "CONTINUE")], 100.0);
    o.advance(0);
    o.operate(OperationType::PauseOrder, None, None, 1).unwrap();
    report_all(&mut o, &[1], 0, 2);
    assert!(o.advance(3).dispatch.is_empty(), "paused: no new batch");
    assert!(o.operate(OperationType::PauseOrder, None, None, 4).is_err());
    assert_eq!(o.operate(OperationType::CancelOrder, None, None, 5).unwrap(), Vec::<u64>::new());
    assert_eq!(o.status, OrderStatus::Canceled);
    assert_eq!(statuses(&o), [Finished, Canceled]);
    assert!(o.operate(OperationType::ContinueOrder, None, None, 6).is_err());
    assert!(o.operate(OperationType::RetryInstance, None, Some(2), 6).is_err());
}

#[test]
fn sensitive_values_are_masked_in_views() {
    let mut o = order(&[(1, "CONTINUE")], 100.0);
    o.execute_param.script_params.push(
        serde_json::from_value(json!({"param_name": "key", "param_value": "given-secret", "param_order": 2})).unwrap(),
    );
    o.script.params[1].value = "given-secret".into();
    let shown = o.shown_execute_param();
    assert_eq!(shown.script_params[1].param_value.as_str(), "*****************");
    assert_eq!(shown.script_params[0].param_value.as_str(), "given");
    assert_eq!(o.secrets(), ["given-secret"]);
}

#[test]
fn tickets_stored_before_patch_tickets_still_load() {
    let ticket = order(&[(1, "CONTINUE")], 100.0);
    let mut stored = serde_json::to_value(&ticket).unwrap();
    assert!(stored.get("patch").is_none(), "a script ticket stores no patch field");
    stored.as_object_mut().unwrap().remove("patch");
    let loaded: Order = serde_json::from_value(stored).unwrap();
    assert_eq!(loaded, ticket);
}

#[test]
fn a_patch_ticket_runs_on_the_same_rules_and_names_its_operation() {
    use crate::domain::patch::{PatchJob, PatchOperation};
    let script_ticket = order(&[(2, "PAUSE"), (1, "CONTINUE")], 100.0);
    let execution = Execution {
        execute_param: script_ticket.execute_param.clone(),
        execute_batches: serde_json::from_value(json!([
            {"batch_index": 1, "rotation_strategy": "PAUSE", "target_instances": [
                {"resource_id": "r1", "agent_sn": "a1", "project_id": "p", "region_id": "r"},
                {"resource_id": "r2", "agent_sn": "a2", "project_id": "p", "region_id": "r"}]},
            {"batch_index": 2, "rotation_strategy": "CONTINUE", "target_instances": [
                {"resource_id": "r3", "agent_sn": "a3", "project_id": "p", "region_id": "r"}]}
        ]))
        .unwrap(),
    };
    let patch = PatchJob { operation: PatchOperation::Install, baselines: Vec::new() };
    let mut ticket = Order::create_patch(execution, patch.clone(), 2, "SCT2".into(), &caller(), 0);
    assert_eq!(ticket.script.name, "COC-PatchInstall");
    assert!(ticket.script.params.is_empty() && ticket.secrets().is_empty());
    assert_eq!(ticket.patch, Some(patch));
    assert_eq!(ticket.advance(1).dispatch, vec![1, 2]);
    report_all(&mut ticket, &[1, 2], 0, 2);
    ticket.advance(3);
    assert_eq!(ticket.status, OrderStatus::Paused, "PAUSE rotation holds a patch ticket too");
    let stored: Order = serde_json::from_value(serde_json::to_value(&ticket).unwrap()).unwrap();
    assert_eq!(stored, ticket);
}
