"""Alarm management through the official SDK: show_alarm, list_alarm_handle_histories,
clear_alarm, transfer_alarm_to_incident and handler_alarm (auto-process on a real
coc-agent, COC_AGENT_BIN), with the integration's auto-recovery rule."""
import os
import subprocess
import uuid

import pytest
from huaweicloudsdkcoc.v1 import (
    AddScriptModel,
    AlarmToIncidentRequestBody,
    AutoHandlerAlarmRequestBody,
    ClearAlarmRequest,
    ClearAlarmRequestBody,
    CreateReportPrometheusEventRequest,
    CreateScriptRequest,
    GetScriptJobInfoRequest,
    HandlerAlarmRequest,
    ListAlarmHandleHistoriesRequest,
    ListResourcesRequest,
    ScriptParamDefine,
    ScriptPropertiesModel,
    ShowAlarmRequest,
    TransferAlarmToIncidentRequest,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from conftest import call_api, client_for, create_activation, create_credential, sync_engineers, wait


def alertmanager(fingerprint, status, severity="critical", instance="db-1"):
    """An Alertmanager notification of one alert."""
    return {
        "version": "4", "status": status, "receiver": "coc", "groupKey": "{}:{}",
        "alerts": [{
            "status": status,
            "labels": {"alertname": f"Alert{fingerprint}", "instance": instance, "severity": severity},
            "annotations": {"summary": "broken"},
            "startsAt": "2024-05-01T10:00:00Z",
            "endsAt": "2024-05-01T10:05:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph", "fingerprint": fingerprint,
        }],
    }


@pytest.fixture
def tenant(endpoint):
    """A project whose user is an engineer, an SDK client, and an integration
    with the auto-recovery rule on."""
    key = create_credential(uuid.uuid4().hex, user_id="ops", user_name="ops")
    sync_engineers(endpoint, key["project_id"])
    made = call_api(endpoint, key, "POST", "/v1/integrations", {"name": "prom", "auto_recover_incident": True})
    assert made.status_code == 200, made.text
    assert made.json()["data"]["auto_recover_incident"] is True
    client = client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])
    integration = made.json()["data"]

    def fire(fingerprint, status="firing", **labels):
        client.create_report_prometheus_event(CreateReportPrometheusEventRequest(
            integration_key=integration["integration_key"], body=alertmanager(fingerprint, status, **labels)))
        listed = call_api(endpoint, key, "GET", f"/v1/alarm-mgmt/alarms?integration_id={integration['integration_id']}")
        assert listed.status_code == 200, listed.text
        return next(a["id"] for a in listed.json()["data"] if a["source_alarm_id"] == fingerprint)

    return client, key, fire


def histories(client, alarm_id):
    return client.list_alarm_handle_histories(ListAlarmHandleHistoriesRequest(alarm_id=alarm_id, offset=0, limit=50))


def test_show_history_clear_and_auto_recovery(endpoint, tenant):
    client, key, fire = tenant
    alarm_id = fire("f1")
    fire("f1")
    alarm = client.show_alarm(ShowAlarmRequest(alarm_id=alarm_id)).data
    assert (alarm.id, alarm.name, alarm.importance, alarm.status, alarm.converge_count) == (
        alarm_id, "Alertf1", "urgent", "alarming", 2)
    incident_num = alarm.associate_event_id
    assert incident_num, "a critical alarm opens an incident"
    assert alarm.transfer_rule_name == "prom"

    # Alertmanager says resolved: cleared, and the rule resolves the incident.
    fire("f1", status="resolved")
    assert client.show_alarm(ShowAlarmRequest(alarm_id=alarm_id)).data.status == "resolved"
    incident = call_api(endpoint, key, "GET", f"/v1/external/incident/{incident_num}").json()["data"]
    assert incident["status"] == "INCIDENT_STATUS_RESOLVED"
    history = histories(client, alarm_id)
    assert history.count == 5
    assert [h.task_type for h in reversed(history.alarm_handle_histories)] == [
        "REPORTED", "LINKED_INCIDENT", "REPEATED", "CLEARED", "INCIDENT_RECOVERED"]
    assert history.alarm_handle_histories[0].work_order_id == incident_num
    assert history.resolved_record.create_name == "monitoring"

    # A person's batch clear: once per alarm, each outcome said.
    other = fire("f2", severity="warning")
    body = ClearAlarmRequestBody(alarm_ids=f"{other},{alarm_id},ALmissing", remarks="handled", is_service_interrupt=False)
    cleared = client.clear_alarm(ClearAlarmRequest(body=body)).data
    assert cleared == [f"{other}:cleared", f"{alarm_id}:already_cleared", "ALmissing:not_found"]
    record = histories(client, other).resolved_record
    assert (record.create_name, record.remarks) == ("ops", "handled")

    with pytest.raises(ClientRequestException) as refused:
        client.clear_alarm(ClearAlarmRequest(body=ClearAlarmRequestBody(alarm_ids="")))
    assert refused.value.status_code == 400 and "alarm_ids" in refused.value.error_msg

    # Another tenant sees none of it.
    stranger = create_credential(uuid.uuid4().hex)
    stranger_client = client_for(endpoint, stranger["access_key"], stranger["secret_key"], stranger["project_id"])
    with pytest.raises(ClientRequestException) as hidden:
        stranger_client.show_alarm(ShowAlarmRequest(alarm_id=alarm_id))
    assert hidden.value.status_code == 404
    with pytest.raises(ClientRequestException) as hidden:
        histories(stranger_client, alarm_id)
    assert hidden.value.status_code == 404


def test_transfer_alarms_to_an_incident(endpoint, tenant):
    client, key, fire = tenant
    first, second = fire("t1", severity="warning"), fire("t2", severity="info")
    body = AlarmToIncidentRequestBody(
        alarm_ids=f"{first},{second}", title="checkout down", description="two alarms of checkout",
        level_id="level_30", mtm_type="inc_type_p_reliability_issues", current_cloud_service_id="checkout",
        is_service_interrupt=True, assignee="ops", is_change_event=False)
    linked = client.transfer_alarm_to_incident(TransferAlarmToIncidentRequest(body=body)).data
    assert len(linked) == 1 and linked[0].startswith("IM")
    for alarm_id in (first, second):
        assert client.show_alarm(ShowAlarmRequest(alarm_id=alarm_id)).data.associate_event_id == linked[0]
    incident = call_api(endpoint, key, "GET", f"/v1/external/incident/{linked[0]}").json()["data"]
    assert incident["incident_title"] == "checkout down"
    assert incident["incident_source"] == "incident_source_alarm"

    with pytest.raises(ClientRequestException) as again:
        client.transfer_alarm_to_incident(TransferAlarmToIncidentRequest(body=body))
    assert again.value.status_code == 409
    body.alarm_ids, body.level_id = fire("t3", severity="info"), "level_9"
    with pytest.raises(ClientRequestException) as bad:
        client.transfer_alarm_to_incident(TransferAlarmToIncidentRequest(body=body))
    assert bad.value.status_code == 400 and "level_id" in bad.value.error_msg


@pytest.fixture
def agent(endpoint, tenant, tmp_path):
    """A real coc-agent of the tenant's project, registered with an operator's activation."""
    _, key, _ = tenant
    activation = create_activation(key["project_id"])
    agent_sn = "alm-" + uuid.uuid4().hex[:8]
    env = dict(os.environ, COC_ENDPOINT=endpoint, COC_ACTIVATION_ID=activation["activation_id"],
               COC_ACTIVATION_CODE=activation["activation_code"], COC_AGENT_STATE_DIR=str(tmp_path / "agent"),
               COC_AGENT_SN=agent_sn, COC_HEARTBEAT_SECS="1", RUST_LOG="warn")
    for name in ("COC_AK", "COC_SK", "COC_PROJECT_ID"):
        env.pop(name, None)
    process = subprocess.Popen([os.environ.get("COC_AGENT_BIN", "target/debug/coc-agent")], env=env)
    yield agent_sn
    process.kill()
    process.wait()


def test_auto_process_runs_a_script_on_the_alarms_host(endpoint, tenant, agent):
    client, key, fire = tenant
    script = AddScriptModel(
        name="alm_restart", type="SHELL", description="restarts", content="echo restarting ${what}",
        properties=ScriptPropertiesModel(risk_level="LOW", version="1"),
        script_params=[ScriptParamDefine(param_name="what", param_value="x", param_description="", param_order=1,
                                         sensitive=False)])
    script_uuid = client.create_script(CreateScriptRequest(body=script)).data
    # The alert's instance label names the host: the agent's serial number.
    alarm_id = fire("h1", severity="warning", instance=agent)
    wait(lambda: client.list_resources(ListResourcesRequest(provider="ecs", type="cloudservers", limit=10)).data,
         "the agent registers")
    body = AutoHandlerAlarmRequestBody(
        task_type="SCRIPT", associated_task_id=script_uuid, associated_task_type="CUSTOMIZATION",
        associated_task_name="alm_restart", input_param={"what": "nginx"})
    answer = client.handler_alarm(HandlerAlarmRequest(alarm_id=alarm_id, body=body))
    assert answer.status_code == 200
    history = histories(client, alarm_id).alarm_handle_histories
    ticket = history[0].work_order_id
    assert ticket.startswith("SCT")
    assert (history[0].task_type, history[0].associated_task_id) == ("SCRIPT", script_uuid)
    wait(lambda: client.get_script_job_info(GetScriptJobInfoRequest(execute_uuid=ticket)).data.status == "FINISHED",
         "the alarm's ticket finishes on the agent")
    shown = client.show_alarm(ShowAlarmRequest(alarm_id=alarm_id)).data
    assert (shown.task_type, shown.associated_task_name) == ("SCRIPT", "alm_restart")

    body.task_type = "RUNBOOK"
    with pytest.raises(ClientRequestException) as refused:
        client.handler_alarm(HandlerAlarmRequest(alarm_id=alarm_id, body=body))
    assert refused.value.status_code == 400 and "task_type" in refused.value.error_msg
