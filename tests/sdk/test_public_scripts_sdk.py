"""The public script library through the official SDK: list with filters and
paging, a script's detail, and an execution run by a real coc-agent process
(COC_AGENT_BIN) until its ticket finishes, in the caller's tenant only."""
import uuid

import pytest
from huaweicloudsdkcoc.v1 import (
    ExecuteInstancesBatchInfo,
    ExecutePublicScriptRequest,
    ExecuteResourceInstance,
    GetPublicScriptRequest,
    GetScriptJobBatchRequest,
    GetScriptJobInfoRequest,
    ListPublicScriptsRequest,
    ListResourcesRequest,
    ListScriptsRequest,
    ScriptExecuteInputParam,
    ScriptExecuteModel,
    ScriptExecuteParam,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from conftest import client_for, create_credential, start_agent, wait


@pytest.fixture
def tenant(endpoint, tmp_path):
    """A project with a key, an SDK client and one running agent, registered with the user's key."""
    key = create_credential(uuid.uuid4().hex, user_id="ops", user_name="ops")
    agent_sn = "pub-" + uuid.uuid4().hex[:8]
    agent = start_agent(endpoint, tmp_path / "agent", agent_sn, key=key)
    client = client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])
    yield client, key["project_id"], agent_sn
    agent.kill()
    agent.wait()


def test_list_filter_page_and_get(make_client):
    client = make_client(uuid.uuid4().hex)
    page = client.list_public_scripts(ListPublicScriptsRequest(limit=100)).data
    assert page.total >= 12 and len(page.data) == page.total
    first = page.data[0]
    assert (first.id, first.script_uuid, first.name) == (1, "PSC2026120100000000000001", "disk_usage_report")
    assert first.type == "SHELL" and first.status == "APPROVED"
    assert first.properties.risk_level == "LOW" and first.properties.version == "1.0.0"
    assert isinstance(first.gmt_created, int) and first.description

    second = client.list_public_scripts(ListPublicScriptsRequest(limit=3, marker=3)).data
    assert [s.id for s in second.data] == [4, 5, 6] and second.total == page.total
    high = client.list_public_scripts(ListPublicScriptsRequest(limit=100, risk_level="HIGH")).data
    assert [s.name for s in high.data] == ["clean_old_logs", "restart_systemd_service"]
    exact = client.list_public_scripts(ListPublicScriptsRequest(limit=100, name="tail_log")).data
    assert [s.name for s in exact.data] == ["tail_log"]
    like = client.list_public_scripts(ListPublicScriptsRequest(limit=100, name_like="Check_D", type="SHELL")).data
    assert [s.name for s in like.data] == ["check_disk_space"]
    unlimited = client.list_public_scripts(ListPublicScriptsRequest()).data
    assert unlimited.total == page.total and len(unlimited.data) == page.total

    detail = client.get_public_script(GetPublicScriptRequest(script_uuid=first.script_uuid)).data
    assert detail.name == "disk_usage_report" and detail.content.startswith("#!/bin/bash\n")
    assert [(p.param_name, p.param_value, p.param_order) for p in detail.script_params] == [
        ("target_dir", "/var", 1), ("top", "10", 2)]
    assert detail.properties.risk_level == "LOW"

    with pytest.raises(ClientRequestException) as missing:
        client.get_public_script(GetPublicScriptRequest(script_uuid="PSC2026120100000000009999"))
    assert missing.value.status_code == 404
    with pytest.raises(ClientRequestException) as bad:
        client.list_public_scripts(ListPublicScriptsRequest(limit=100, risk_level="EXTREME"))
    assert bad.value.status_code == 400 and "risk_level" in bad.value.error_msg


def test_execute_a_public_script_until_its_ticket_finishes(tenant, make_client):
    client, project_id, agent_sn = tenant
    hosts = wait(lambda: client.list_resources(ListResourcesRequest(provider="ecs", type="cloudservers", limit=10)).data,
                 "the agent registers")
    scripts = client.list_public_scripts(ListPublicScriptsRequest(limit=100, name="check_process")).data.data
    script_uuid = scripts[0].script_uuid
    target = ExecuteResourceInstance(resource_id=hosts[0].resource_id, agent_sn=agent_sn, project_id=project_id,
                                     region_id="local", provider="ecs", type="cloudservers")

    def body(params):
        return ScriptExecuteModel(
            execute_param=ScriptExecuteParam(timeout=60, success_rate=100.0, execute_user="root", script_params=params),
            execute_batches=[ExecuteInstancesBatchInfo(batch_index=1, target_instances=[target], rotation_strategy="CONTINUE")])

    with pytest.raises(ClientRequestException) as required:
        client.execute_public_script(ExecutePublicScriptRequest(script_uuid=script_uuid, body=body(None)))
    assert required.value.status_code == 400 and "process_name" in required.value.error_msg

    params = [ScriptExecuteInputParam(param_name="process_name", param_value="coc-agent", param_order=1)]
    execute_uuid = client.execute_public_script(ExecutePublicScriptRequest(script_uuid=script_uuid, body=body(params))).data
    assert execute_uuid.startswith("SCT")
    info = wait(lambda: (i := client.get_script_job_info(GetScriptJobInfoRequest(execute_uuid=execute_uuid)).data).status == "FINISHED" and i,
                "the ticket finishes")
    assert info.properties.script_uuid == script_uuid and info.properties.script_name == "check_process"
    detail = client.get_script_job_batch(GetScriptJobBatchRequest(execute_uuid=execute_uuid, batch_index=1, limit=10)).data
    instance = detail.execute_instances[0]
    assert instance.status == "FINISHED"
    assert "process(es) named coc-agent run" in instance.message
    # The tenant's own library stays empty; another tenant sees no ticket.
    assert client.list_scripts(ListScriptsRequest(limit=10)).data.total == 0
    other = make_client(uuid.uuid4().hex)
    with pytest.raises(ClientRequestException) as hidden:
        other.get_script_job_info(GetScriptJobInfoRequest(execute_uuid=execute_uuid))
    assert hidden.value.status_code == 404

    # A sensitive value is masked in what the ticket shows.
    http = client.list_public_scripts(ListPublicScriptsRequest(limit=1, name="check_http_endpoint")).data.data[0]
    params = [ScriptExecuteInputParam(param_name="url", param_value="http://127.0.0.1:1/", param_order=1),
              ScriptExecuteInputParam(param_name="bearer_token", param_value="t0ps3cret", param_order=2)]
    ran = client.execute_public_script(ExecutePublicScriptRequest(script_uuid=http.script_uuid, body=body(params))).data
    info = wait(lambda: (i := client.get_script_job_info(GetScriptJobInfoRequest(execute_uuid=ran)).data).status == "ABNORMAL" and i,
                "the check fails: nothing listens on port 1")
    assert [p.param_value for p in info.properties.execute_param.script_params] == ["http://127.0.0.1:1/", "*****************"]
