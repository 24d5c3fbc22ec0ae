"""Script execution through the official SDK, with a real coc-agent process
(COC_AGENT_BIN) running the scripts on this machine."""
import uuid

import pytest
from huaweicloudsdkcoc.v1 import (
    AddScriptModel,
    CreateScriptRequest,
    ExecuteInstancesBatchInfo,
    ExecuteResourceInstance,
    ExecuteScriptRequest,
    GetScriptJobBatchRequest,
    GetScriptJobInfoRequest,
    GetScriptJobStatisticsRequest,
    JobScriptOrderOperationBody,
    ListResourcesRequest,
    ListScriptJobBatchesRequest,
    ListScriptJobsRequest,
    OperateScriptJobRequest,
    ScriptExecuteInputParam,
    ScriptExecuteModel,
    ScriptExecuteParam,
    ScriptParamDefine,
    ScriptPropertiesModel,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from conftest import client_for, create_activation, create_credential, start_agent, wait


@pytest.fixture
def tenant(endpoint, tmp_path):
    """A project with a key, an SDK client and one running agent, registered
    with an operator's activation (`coc-admin create-activation`)."""
    key = create_credential(uuid.uuid4().hex, user_id="ops", user_name="ops")
    activation = create_activation(key["project_id"])
    agent_sn = "sdk-" + uuid.uuid4().hex[:8]
    agent = start_agent(endpoint, tmp_path / "agent", agent_sn, activation=activation)
    client = client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])
    yield client, key["project_id"], agent_sn
    agent.kill()
    agent.wait()


def test_execute_watch_and_steer_a_ticket(tenant):
    client, project_id, agent_sn = tenant
    hosts = wait(lambda: client.list_resources(ListResourcesRequest(provider="ecs", type="cloudservers", limit=10)).data,
                 "the agent registers")
    assert hosts[0].agent_id == agent_sn
    assert hosts[0].agent_state == "ONLINE"
    assert hosts[0].create_time

    script = AddScriptModel(
        name="sdk_job", type="SHELL", description="greets", content="echo hello ${who} ${key}",
        properties=ScriptPropertiesModel(risk_level="LOW", version="1"),
        script_params=[ScriptParamDefine(param_name="who", param_value="x", param_description="", param_order=1, sensitive=False),
                       ScriptParamDefine(param_name="key", param_value="k", param_description="", param_order=2, sensitive=True)],
    )
    script_uuid = client.create_script(CreateScriptRequest(body=script)).data
    target = ExecuteResourceInstance(resource_id=hosts[0].resource_id, agent_sn=agent_sn, project_id=project_id,
                                     region_id="local", provider="ecs", type="cloudservers")
    body = ScriptExecuteModel(
        execute_param=ScriptExecuteParam(resourceful=True, timeout=60, success_rate=100.0, execute_user="root",
                                         script_params=[ScriptExecuteInputParam(param_name="who", param_value="sdk", param_order=1),
                                                        ScriptExecuteInputParam(param_name="key", param_value="t0ps3cret", param_order=2)]),
        execute_batches=[ExecuteInstancesBatchInfo(batch_index=1, target_instances=[target], rotation_strategy="PAUSE")],
    )
    execute_uuid = client.execute_script(ExecuteScriptRequest(script_uuid=script_uuid, body=body)).data
    assert execute_uuid.startswith("SCT")

    info = wait(lambda: (i := client.get_script_job_info(GetScriptJobInfoRequest(execute_uuid=execute_uuid)).data).status == "FINISHED" and i,
                "the ticket finishes")
    assert info.properties.script_uuid == script_uuid
    assert info.properties.execute_param.execute_user == "root"
    assert [p.param_value for p in info.properties.execute_param.script_params] == ["sdk", "*****************"]
    assert isinstance(info.gmt_finished, int)
    # The version that ran, typed as the SDK types it.
    assert isinstance(info.properties.script_version_uuid, int) and info.properties.script_version_uuid > 0
    assert info.properties.script_version_name == "1"

    batches = client.list_script_job_batches(ListScriptJobBatchesRequest(execute_uuid=execute_uuid)).data
    assert [(b.batch_index, b.total_instances, b.rotation_strategy) for b in batches] == [(1, 1, "PAUSE")]
    stats = client.get_script_job_statistics(GetScriptJobStatisticsRequest(execute_uuid=execute_uuid)).data
    assert stats.total_instance == 1
    assert {s.instance_status: s.instance_count for s in stats.execute_statistics}["FINISHED"] == 1
    # The Terraform provider pages batch details by 100 (the reference says 50).
    detail = client.get_script_job_batch(GetScriptJobBatchRequest(execute_uuid=execute_uuid, batch_index=1, limit=100, marker=0)).data
    instance = detail.execute_instances[0]
    assert instance.target_instance.properties.region_id == "local"
    assert instance.target_instance.properties.project_id == project_id
    assert instance.status == "FINISHED"
    assert instance.message.strip() == "hello sdk *****************"
    assert instance.target_instance.agent_sn == agent_sn
    page = client.list_script_jobs(ListScriptJobsRequest(limit=10, status="FINISHED")).data
    assert page.total == 1 and page.data[0].execute_uuid == execute_uuid and page.data[0].order_name == "sdk_job"

    with pytest.raises(ClientRequestException) as refused:
        client.operate_script_job(OperateScriptJobRequest(execute_uuid=execute_uuid, body=JobScriptOrderOperationBody(operation_type="CANCEL_ORDER")))
    assert refused.value.status_code == 409

    # A long run, canceled while it runs.
    sleeper = AddScriptModel(name="sdk_sleeper", type="SHELL", description="naps", content="sleep 25",
                             properties=ScriptPropertiesModel(risk_level="LOW", version="1"))
    sleeper_uuid = client.create_script(CreateScriptRequest(body=sleeper)).data
    body.execute_param.script_params = None
    body.execute_batches[0].rotation_strategy = "CONTINUE"
    running = client.execute_script(ExecuteScriptRequest(script_uuid=sleeper_uuid, body=body)).data
    batch = lambda: client.get_script_job_batch(GetScriptJobBatchRequest(execute_uuid=running, batch_index=1, limit=10)).data
    wait(lambda: batch().execute_instances[0].status == "PROCESSING", "the run starts")
    answer = client.operate_script_job(OperateScriptJobRequest(
        execute_uuid=running,
        body=JobScriptOrderOperationBody(operation_type="CANCEL_INSTANCE", instance_id=batch().execute_instances[0].id)))
    assert answer.data == running
    assert batch().execute_instances[0].status == "CANCELED"
    wait(lambda: client.get_script_job_info(GetScriptJobInfoRequest(execute_uuid=running)).data.status == "FINISHED",
         "a ticket whose only run was canceled is over")
