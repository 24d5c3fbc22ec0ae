use serde_json::json;

use super::*;

pub(crate) fn body(cron: &str) -> serde_json::Value {
    json!({
        "name": "nightly_cleanup", "version_no": "1.0.0",
        "trigger_time": {"time_zone": "UTC", "policy": "CRON", "cron": cron},
        "task_type": "SCRIPT", "associated_task_id": "SC1", "associated_task_type": "CUSTOMIZATION",
        "associated_task_name": "cleanup", "risk_level": "LOW",
        "input_param": {"timeout": "60", "success_rate": "100", "execute_user": "root",
                        "script_params": "[{\"param_name\":\"dir\",\"param_value\":\"/tmp\",\"param_order\":1}]"},
        "target_instances": [
            {"target_selection": "MANUAL", "order_no": 1, "batch_strategy": "MANUAL_BATCH",
             "target_instances": "[{\"resource_id\":\"r1\",\"agent_sn\":\"a1\",\"project_id\":\"p\",\"region_id\":\"local\"}]"},
            {"target_selection": "MANUAL", "order_no": 2,
             "target_instances": "[{\"resource_id\":\"r2\",\"agent_sn\":\"a2\",\"project_id\":\"p\",\"region_id\":\"local\"}]"}
        ],
        "enable_approve": false, "enable_message_notification": false
    })
}

fn refusal(value: serde_json::Value) -> String {
    let request: TaskRequest = serde_json::from_value(value).unwrap();
    request.check().unwrap_err().0
}

#[test]
fn a_task_body_becomes_the_execution_of_each_run() {
    let request: TaskRequest = serde_json::from_value(body("0 0 2 * * ?")).unwrap();
    let (_, execution) = request.check().unwrap();
    assert_eq!(execution.execute_param.timeout, 60);
    assert_eq!(execution.execute_param.execute_user.as_str(), "root");
    assert_eq!(execution.execute_param.script_params[0].param_name.as_str(), "dir");
    assert_eq!(execution.execute_batches.len(), 2);
    assert_eq!(execution.execute_batches[1].target_instances[0].agent_sn.as_str(), "a2");
}

#[test]
fn bad_bodies_name_the_field() {
    let mut b = body("0 0 2 * * ?");
    b["input_param"]["timeout"] = json!("1");
    assert_eq!(refusal(b), "input_param.timeout");
    let mut b = body("0 0 2 * * ?");
    b["input_param"]["shell"] = json!("x");
    assert_eq!(refusal(b), "input_param.shell");
    let mut b = body("0 0 2 * * ?");
    b["target_instances"][1]["order_no"] = json!(3);
    assert_eq!(refusal(b), "target_instances");
    let mut b = body("0 0 2 * * ?");
    b["target_instances"][0]["target_instances"] = json!("not json");
    assert_eq!(refusal(b), "target_instances[0].target_instances");
    let mut b = body("0 0 2 * * ?");
    b["target_instances"][0]["target_selection"] = json!("ALL");
    assert_eq!(refusal(b), "target_instances[0].target_selection");
    let mut b = body("0 0 2 * * ?");
    b["task_type"] = json!("RUNBOOK");
    assert_eq!(refusal(b), "task_type");
    let mut b = body("0 0 2 * * ?");
    b["enable_approve"] = json!(true);
    assert_eq!(refusal(b), "enable_approve");
    assert_eq!(refusal(body("* * * * * ?")), "trigger_time.cron");
}

#[test]
fn a_late_sweep_runs_once_and_skips_what_it_missed() {
    let trigger: TriggerTime =
        serde_json::from_value(json!({"time_zone": "UTC", "policy": "CRON", "cron": "0 0 * * * ?"})).unwrap();
    let timing = trigger.check().unwrap();
    let hour = 3_600_000;
    let due = 1_800_000_000_000 / hour * hour;
    // Found 5 hours and a bit late: one run now, 5 due times skipped, next on the coming hour.
    let firing = firing(&timing, due, due + 5 * hour + 60_000);
    assert_eq!(firing.missed, 5);
    assert_eq!(firing.next_due, Some(due + 6 * hour));
    assert!(lateness_note(&firing, due + 5 * hour + 60_000).unwrap().contains("5 missed"));
    // On time: nothing skipped, no note.
    let on_time = super::firing(&timing, due, due + 5_000);
    assert_eq!((on_time.missed, on_time.next_due), (0, Some(due + hour)));
    assert_eq!(lateness_note(&on_time, due + 5_000), None);
}
