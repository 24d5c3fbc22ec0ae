"""Script risk analysis through the official SDK: check_script_risk, the analysis a
script reports beside the SDK's fields, and how an SDK user confirms a HIGH-risk
execution on more than one batch (the SDK's models drop unknown attributes, so
the body goes as a dict)."""
import uuid

import pytest
from huaweicloudsdkcoc.v1 import (
    AddScriptModel,
    CheckScriptRiskRequest,
    CreateScriptRequest,
    ExecuteInstancesBatchInfo,
    ExecuteResourceInstance,
    ExecuteScriptRequest,
    GetScriptRequest,
    JobScriptAnalyzeRequest,
    ScriptExecuteModel,
    ScriptExecuteParam,
    ScriptPropertiesModel,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from conftest import call_api, client_for, create_credential


def check(client, content):
    return client.check_script_risk(CheckScriptRiskRequest(body=JobScriptAnalyzeRequest(content=content)))


def test_check_script_risk_reports_dangerous_commands(make_client):
    client = make_client(uuid.uuid4().hex)
    response = check(client, "echo start\nD=/\nsudo rm -rf \"$D\"\ncurl -s https://x/i.sh | sh")
    assert response.status_code == 200
    assert response.data.risk_level == "HIGH"
    found = response.data.blacklist_commands
    assert [f.command_name for f in found] == ["rm", "sh"]
    assert found[0].command_rule and found[0].example and found[0].description_en and found[0].description_zh
    # Our added fields are ignored by the models but are in the raw answer.
    raw = response.to_json_object()["data"]["blacklist_commands"]
    assert [(f["rule_id"], f["line"], f["level"]) for f in raw] == [
        ("rm-recursive-root", 3, "HIGH"), ("remote-code-to-shell", 4, "HIGH")]

    harmless = check(client, "# rm -rf /\necho \"rm -rf /\"\nrm -rf ./build\ndd if=/dev/zero of=disk.img count=1")
    assert harmless.data.risk_level == "LOW"
    assert harmless.data.blacklist_commands == []

    python = check(client, "#!/usr/bin/env python3\nimport subprocess as sp\nsp.run(['reboot'])")
    assert python.data.risk_level == "HIGH"
    assert python.data.blacklist_commands[0].command_name == "reboot"


@pytest.mark.parametrize("content", ["", "x" * 4097])
def test_check_script_risk_refuses_bad_content_with_the_spec_400(make_client, content):
    client = make_client(uuid.uuid4().hex)
    with pytest.raises(ClientRequestException) as refused:
        check(client, content)
    assert refused.value.status_code == 400
    assert refused.value.error_code == "COC.00040601"
    assert "content" in refused.value.error_msg


def test_check_script_risk_needs_a_key(endpoint):
    stranger = client_for(endpoint, "AKNOBODY0000000000000", "not-a-secret", uuid.uuid4().hex)
    with pytest.raises(ClientRequestException) as refused:
        check(stranger, "echo")
    assert refused.value.status_code == 401


def register(endpoint, key, agent_sn):
    body = {"agent_sn": agent_sn, "resource_id": f"res-{agent_sn}", "region_id": "local", "host_name": agent_sn,
            "fixed_ip": "10.0.0.7", "floating_ip": "203.0.113.7", "zone_id": "local-a", "os_type": "linux"}
    reply = call_api(endpoint, key, "POST", "/v1/agents", body)
    assert reply.status_code == 200, reply.text


def test_a_high_risk_script_runs_on_two_batches_only_when_confirmed(endpoint):
    key = create_credential(uuid.uuid4().hex, user_id="ops", user_name="ops")
    client = client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])
    agents = ["risk-" + uuid.uuid4().hex[:8] for _ in range(2)]
    for agent_sn in agents:
        register(endpoint, key, agent_sn)  # registered, never started: nothing runs the script
    script = AddScriptModel(name="sdk_wipe", type="SHELL", description="d", content="exit 0\nmkfs.ext4 /dev/sdz9",
                            properties=ScriptPropertiesModel(risk_level="HIGH", version="1"))
    created = client.create_script(CreateScriptRequest(body=script))
    script_uuid = created.data
    detail = client.get_script(GetScriptRequest(script_uuid=script_uuid))
    assert detail.data.name == "sdk_wipe"  # the added risk_analysis does not disturb the model

    model = ScriptExecuteModel(
        execute_param=ScriptExecuteParam(timeout=60, success_rate=100.0, execute_user="root"),
        execute_batches=[
            ExecuteInstancesBatchInfo(batch_index=i + 1, rotation_strategy="CONTINUE", target_instances=[
                ExecuteResourceInstance(resource_id=f"res-{a}", agent_sn=a, project_id=key["project_id"],
                                        region_id="local", provider="ecs", type="cloudservers")])
            for i, a in enumerate(agents)
        ],
    )
    with pytest.raises(ClientRequestException) as refused:
        client.execute_script(ExecuteScriptRequest(script_uuid=script_uuid, body=model))
    assert refused.value.status_code == 400
    assert refused.value.error_msg.startswith("execute_param.confirm_high_risk")
    assert "format-device at line 2" in refused.value.error_msg

    # The confirmation is ours: the SDK user sends the model as a dict with the field added.
    body = model.to_dict()
    body["execute_param"]["confirm_high_risk"] = True
    execute_uuid = client.execute_script(ExecuteScriptRequest(script_uuid=script_uuid, body=body)).data
    assert execute_uuid.startswith("SCT")

    # One batch needs no confirmation.
    one = model.to_dict()
    one["execute_batches"] = one["execute_batches"][:1]
    assert client.execute_script(ExecuteScriptRequest(script_uuid=script_uuid, body=one)).data.startswith("SCT")


def test_another_tenant_cannot_read_or_run_a_script_or_learn_its_analysis(make_client):
    owner = make_client(uuid.uuid4().hex)
    script = AddScriptModel(name="sdk_private", type="SHELL", description="d", content="exit 0\nreboot",
                            properties=ScriptPropertiesModel(risk_level="LOW", version="1"))
    script_uuid = owner.create_script(CreateScriptRequest(body=script)).data
    other = make_client(uuid.uuid4().hex)
    with pytest.raises(ClientRequestException) as read:
        other.get_script(GetScriptRequest(script_uuid=script_uuid))
    assert read.value.status_code == 404
    body = {"execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root"},
            "execute_batches": [{"batch_index": i, "rotation_strategy": "CONTINUE", "target_instances": [
                {"resource_id": f"r{i}", "agent_sn": f"a{i}", "project_id": "p", "region_id": "local"}]} for i in (1, 2)]}
    with pytest.raises(ClientRequestException) as run:
        other.execute_script(ExecuteScriptRequest(script_uuid=script_uuid, body=body))
    # Not found, before any word about the script's risk.
    assert run.value.status_code == 404
    assert "confirm_high_risk" not in run.value.error_msg
