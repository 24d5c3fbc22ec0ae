"""Scheduled tasks through the official SDK, against real processes: a task
run by the scheduler of one of two coc-local processes sharing one store
(exactly once), its ticket run by a real coc-agent; the task's lifecycle,
bad input and tenant isolation."""
import json
import time
import uuid

import pytest
from huaweicloudsdkcoc.v1 import (
    AddScriptModel,
    CreateScheduledTaskRequest,
    CreateScriptRequest,
    DeleteScheduledTaskRequest,
    DisableScheduledTaskRequest,
    EnableScheduledTaskRequest,
    EnableScheduledTaskRequestBody,
    GetScriptJobBatchRequest,
    GetScriptJobInfoRequest,
    ListResourcesRequest,
    ListScheduledTaskHistoryRequest,
    ListScheduledTaskRequest,
    ListScriptJobsRequest,
    ScheduledTaskRequestBody,
    ScheduleInstance,
    ScriptParamDefine,
    ScriptPropertiesModel,
    ShowScheduledTaskRequest,
    TriggerTime,
    UpdateScheduledTaskRequest,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from conftest import _backend_env, client_for, create_activation, create_credential, start_agent, start_local, wait


@pytest.fixture
def second_server(endpoint):
    """Another coc-local on the same store as the session's server: two schedulers racing for every due time."""
    process, url = start_local(_backend_env())
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def tenant(endpoint, tmp_path):
    """A project with an SDK client, one running agent and an approved script."""
    key = create_credential(uuid.uuid4().hex, user_id="ops", user_name="ops")
    activation = create_activation(key["project_id"])
    agent_sn = "sdk-" + uuid.uuid4().hex[:8]
    agent = start_agent(endpoint, tmp_path / "agent", agent_sn, activation=activation)
    client = client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])
    hosts = wait(lambda: client.list_resources(ListResourcesRequest(provider="ecs", type="cloudservers", limit=10)).data,
                 "the agent registers")
    script = AddScriptModel(
        name="sdk_scheduled", type="SHELL", description="greets on a schedule", content="echo scheduled ${who}",
        properties=ScriptPropertiesModel(risk_level="LOW", version="1"),
        script_params=[ScriptParamDefine(param_name="who", param_value="x", param_description="", param_order=1,
                                         sensitive=False)],
    )
    script_uuid = client.create_script(CreateScriptRequest(body=script)).data
    yield client, key["project_id"], agent_sn, hosts[0].resource_id, script_uuid
    agent.kill()
    agent.wait()


def task_body(project_id, agent_sn, resource_id, script_uuid, trigger, name="sdk_task"):
    hosts = json.dumps([{"resource_id": resource_id, "agent_sn": agent_sn, "project_id": project_id,
                         "region_id": "local"}])
    return ScheduledTaskRequestBody(
        name=name, version_no="1", trigger_time=trigger, task_type="SCRIPT",
        associated_task_id=script_uuid, associated_task_type="CUSTOMIZATION", associated_task_name="sdk_scheduled",
        risk_level="LOW",
        input_param={"timeout": "60", "success_rate": "100", "execute_user": "root",
                     "script_params": json.dumps([{"param_name": "who", "param_value": "cron", "param_order": 1}])},
        target_instances=[ScheduleInstance(target_selection="MANUAL", order_no=1, batch_strategy="MANUAL_BATCH",
                                           target_instances=hosts)],
        enable_approve=False, enable_message_notification=False,
    )


def test_a_due_task_runs_once_on_two_schedulers_and_its_ticket_finishes(tenant, second_server):
    client, project_id, agent_sn, resource_id, script_uuid = tenant
    due = int(time.time() * 1000) + 4000
    trigger = TriggerTime(time_zone="Europe/Paris", policy="ONCE", single_scheduled_time=due)
    task_id = client.create_scheduled_task(CreateScheduledTaskRequest(
        body=task_body(project_id, agent_sn, resource_id, script_uuid, trigger))).data
    assert task_id.startswith("ST")

    history = lambda: client.list_scheduled_task_history(
        ListScheduledTaskHistoryRequest(task_id=task_id, limit=10)).scheduled_task_history_list
    runs = wait(history, "the scheduler starts the task", seconds=30)
    execute_uuid = runs[0].execution_id
    info = wait(lambda: (i := client.get_script_job_info(GetScriptJobInfoRequest(execute_uuid=execute_uuid)).data)
                .status == "FINISHED" and i, "the scheduled run's ticket finishes")
    assert info.properties.script_uuid == script_uuid
    detail = client.get_script_job_batch(GetScriptJobBatchRequest(execute_uuid=execute_uuid, batch_index=1, limit=10)).data
    assert detail.execute_instances[0].message.strip() == "scheduled cron"
    # Both servers sweep every 5 s: after two more sweeps each, still one run and one ticket.
    time.sleep(11)
    runs = history()
    assert len(runs) == 1
    assert runs[0].status == "FINISHED" and runs[0].finished_time >= runs[0].started_time >= due
    assert runs[0].execution_msg == "ticket started"
    tickets = client.list_script_jobs(ListScriptJobsRequest(limit=10)).data
    assert [t.execute_uuid for t in tickets.data] == [execute_uuid]
    shown = client.show_scheduled_task(ShowScheduledTaskRequest(task_id=task_id))
    row = client.list_scheduled_task(ListScheduledTaskRequest(limit=10)).scheduled_tasks[0]
    assert (row.id, row.execution_count, row.scheduled_type) == (task_id, 1, "ONCE")
    assert shown.trigger_time.policy == "ONCE"


def test_the_lifecycle_of_a_task_bad_input_and_other_tenants(tenant, endpoint):
    client, project_id, agent_sn, resource_id, script_uuid = tenant
    nightly = TriggerTime(time_zone="Asia/Shanghai", policy="CRON", cron="0 0 2 * * ?")
    task_id = client.create_scheduled_task(CreateScheduledTaskRequest(
        body=task_body(project_id, agent_sn, resource_id, script_uuid, nightly))).data
    shown = client.show_scheduled_task(ShowScheduledTaskRequest(task_id=task_id))
    assert (shown.id, shown.name, shown.trigger_time.cron, shown.risk_level) == (task_id, "sdk_task", "0 0 2 * * ?", "LOW")
    assert json.loads(shown.input_param)["execute_user"] == "root"
    assert json.loads(shown.target_instances)[0]["order_no"] == 1

    weekly = TriggerTime(time_zone="UTC", policy="PERIODIC", periodic_scheduled_time="06:30:00", period="2,6")
    updated = client.update_scheduled_task(UpdateScheduledTaskRequest(
        task_id=task_id, body=task_body(project_id, agent_sn, resource_id, script_uuid, weekly, name="weekly_task")))
    assert (updated.name, updated.trigger_time.policy, updated.trigger_time.period) == ("weekly_task", "PERIODIC", "2,6")

    assert client.disable_scheduled_task(DisableScheduledTaskRequest(task_id=task_id)).data == task_id
    listed = client.list_scheduled_task(ListScheduledTaskRequest(task_name="weekly", limit=10))
    assert listed.count == 1 and listed.scheduled_tasks[0].enabled is False
    assert client.enable_scheduled_task(EnableScheduledTaskRequest(
        task_id=task_id, body=EnableScheduledTaskRequestBody(ticket_infos=[]))).data == task_id
    assert client.list_scheduled_task(ListScheduledTaskRequest(limit=10)).scheduled_tasks[0].enabled is True

    # Bad input: a 400 naming the field, nothing written.
    too_often = TriggerTime(time_zone="UTC", policy="CRON", cron="*/10 * * * * ?")
    with pytest.raises(ClientRequestException) as refused:
        client.create_scheduled_task(CreateScheduledTaskRequest(
            body=task_body(project_id, agent_sn, resource_id, script_uuid, too_often)))
    assert refused.value.status_code == 400 and "trigger_time.cron" in refused.value.error_msg
    with pytest.raises(ClientRequestException) as refused:
        client.create_scheduled_task(CreateScheduledTaskRequest(
            body=task_body(project_id, "no-such-agent", resource_id, script_uuid, nightly)))
    assert refused.value.status_code == 400 and "target_instances" in refused.value.error_msg
    assert client.list_scheduled_task(ListScheduledTaskRequest(limit=10)).count == 1

    # Another tenant neither sees nor touches it.
    other_key = create_credential(uuid.uuid4().hex, user_id="mallory")
    other = client_for(endpoint, other_key["access_key"], other_key["secret_key"], other_key["project_id"])
    for call in (lambda: other.show_scheduled_task(ShowScheduledTaskRequest(task_id=task_id)),
                 lambda: other.delete_scheduled_task(DeleteScheduledTaskRequest(task_id=task_id)),
                 lambda: other.disable_scheduled_task(DisableScheduledTaskRequest(task_id=task_id))):
        with pytest.raises(ClientRequestException) as hidden:
            call()
        assert hidden.value.status_code == 404
    assert other.list_scheduled_task(ListScheduledTaskRequest(limit=10)).count == 0
    assert other.list_scheduled_task_history(ListScheduledTaskHistoryRequest(task_id=task_id)).count == 0

    assert client.delete_scheduled_task(DeleteScheduledTaskRequest(task_id=task_id)).data == task_id
    with pytest.raises(ClientRequestException) as gone:
        client.show_scheduled_task(ShowScheduledTaskRequest(task_id=task_id))
    assert gone.value.status_code == 404
