"""Tags of scripts and resources, resource counts, agent syncs, instance
batches and imported hosts through the official SDK (issue #15 part 4):
every operation's request and response models as the SDK has them."""
import os
import tempfile
import uuid

import pytest
from huaweicloudsdkcoc.v1 import (
    CountMultiResourcesRequest,
    CountOtherResourceRequest,
    CountResourcesRequest,
    CreateResourceTagsRequest,
    CreateScriptRequest,
    AddScriptModel,
    ScriptPropertiesModel,
    ImportOtherResourceRequest,
    ImportOtherResourceRequestBody,
    InstancesBatchesMode,
    ListInstancesBatchRequest,
    ListResourcesRequest,
    ListResourceTagsRequest,
    ListScriptResourceTagsRequest,
    ResourceInstance,
    ResourceTag,
    ResourceTagOperateRequest,
    SyncResourceAgentReq,
    SyncResourceAgentReqResourceInfos,
    SyncResourceAgentRequest,
    SyncResourceReq,
    SyncResourceRequest,
    TagResponse,
    UpdateResourceTagsRequest,
    UpdateResourceTagsRequestBody,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.formdata import FormFile

from conftest import call_api, client_for, create_credential

SCRIPT = "coc:script"


def tenant(endpoint):
    key = create_credential(uuid.uuid4().hex)
    return key, client_for(endpoint, key["access_key"], key["secret_key"], key["project_id"])


def create_script(client, name):
    body = AddScriptModel(name=name, type="SHELL", content="echo hi", description="d",
                          properties=ScriptPropertiesModel(risk_level="LOW", version="1.0.0"))
    return client.create_script(CreateScriptRequest(body=body)).data


def register(endpoint, key, agent_sn):
    body = {"agent_sn": agent_sn, "resource_id": f"res-{agent_sn}", "region_id": "cn-north-4",
            "host_name": f"host-{agent_sn}", "fixed_ip": "10.0.0.1", "os_type": "linux"}
    reply = call_api(endpoint, key, "POST", "/v1/agents", body)
    assert reply.status_code == 200, reply.text


def set_script_tags(client, script_uuid, pairs):
    body = UpdateResourceTagsRequestBody(tags=[ResourceTag(key=k, value=v) for k, v in pairs])
    return client.update_resource_tags(
        UpdateResourceTagsRequest(resource_type=SCRIPT, resource_id=script_uuid, body=body))


def refused(call):
    with pytest.raises(ClientRequestException) as caught:
        call()
    return caught.value


def test_script_tags_are_replaced_and_listed_per_tenant(endpoint):
    key, client = tenant(endpoint)
    a = create_script(client, "alpha")
    b = create_script(client, "beta")
    assert set_script_tags(client, a, [("env", "prod"), ("team", "ops")]).data == a
    set_script_tags(client, b, [("env", "dev")])
    listed = client.list_script_resource_tags(ListScriptResourceTagsRequest(resource_type=SCRIPT, limit="10"))
    assert listed.data.total == 2
    assert [(t.key, t.values) for t in listed.data.tags] == [("env", ["dev", "prod"]), ("team", ["ops"])]
    page = client.list_script_resource_tags(
        ListScriptResourceTagsRequest(resource_type=SCRIPT, limit="1", offset="1"))
    assert [t.key for t in page.data.tags] == ["team"]

    set_script_tags(client, a, [("env", "stage")])
    listed = client.list_script_resource_tags(ListScriptResourceTagsRequest(resource_type=SCRIPT))
    assert [(t.key, t.values) for t in listed.data.tags] == [("env", ["dev", "stage"])]
    # Lists of scripts by tag (our query parameter: the SDK's ListScriptsRequest has none).
    reply = call_api(endpoint, key, "GET", "/v1/job/scripts?limit=10&tag=env.stage")
    assert [s["name"] for s in reply.json()["data"]["data"]] == ["alpha"]

    _, stranger = tenant(endpoint)
    assert stranger.list_script_resource_tags(
        ListScriptResourceTagsRequest(resource_type=SCRIPT)).data.total == 0
    assert refused(lambda: set_script_tags(stranger, a, [("x", "y")])).status_code == 404


def test_bad_script_tags_are_refused_naming_the_field(endpoint):
    _, client = tenant(endpoint)
    a = create_script(client, "alpha")
    for pairs, field in [
        ([(f"k{n}", "v") for n in range(11)], "tags"),
        ([("k" * 129, "v")], "tags[0].key"),
        ([("k", "v" * 256)], "tags[0].value"),
        ([("a", "1"), ("a", "2")], "tags"),
    ]:
        error = refused(lambda: set_script_tags(client, a, pairs))
        assert error.status_code == 400
        assert error.error_msg.startswith(f"{field}:"), error.error_msg
    set_script_tags(client, a, [("k" * 128, "v" * 255)])
    error = refused(lambda: client.update_resource_tags(UpdateResourceTagsRequest(
        resource_type="coc:job", resource_id=a, body=UpdateResourceTagsRequestBody(tags=[]))))
    assert error.error_msg.startswith("resource_type:")


def test_resource_tags_counts_and_syncs(endpoint):
    key, client = tenant(endpoint)
    for sn in ["agent-1", "agent-2", "agent-3"]:
        register(endpoint, key, sn)
    created = client.create_resource_tags(CreateResourceTagsRequest(
        resource_id="agent-1", body=ResourceTagOperateRequest(tags=[TagResponse(key="env", value="prod")])))
    assert created.data.id == "agent-1"
    client.create_resource_tags(CreateResourceTagsRequest(
        resource_id="agent-2", body=ResourceTagOperateRequest(tags=[TagResponse(key="env", value="prod")])))
    tags = client.list_resource_tags(ListResourceTagsRequest(resource_id="agent-1")).tags
    assert [(t.key, t.value) for t in tags] == [("env", "prod")]

    listed = client.list_resources(ListResourcesRequest(provider="ecs", type="cloudservers", limit=10, tag="env.prod"))
    assert [r.id for r in listed.data] == ["agent-1", "agent-2"]
    assert listed.data[0].tags[0].key == "env"

    assert client.count_resources(CountResourcesRequest(provider="ecs", type="cloudservers")).data == 3
    assert client.count_resources(CountResourcesRequest(tag="env.prod")).data == 2
    assert client.count_resources(CountResourcesRequest(tag_key="env")).data == 2
    assert client.count_resources(CountResourcesRequest(agent_state="ONLINE")).data == 3
    error = refused(lambda: client.count_resources(CountResourcesRequest(os_type="linux")))
    assert error.status_code == 400 and error.error_msg.startswith("os_type:")
    multi = client.count_multi_resources(CountMultiResourcesRequest())
    assert {(d.resource_type, d.count) for d in multi.data} == {
        ("cloudservers", 3), ("vm", 0), ("PM", 0), ("Middleware", 0)}

    infos = [SyncResourceAgentReqResourceInfos(id="agent-1", resource_id="res-agent-1", region_id="cn-north-4")]
    synced = client.sync_resource_agent(SyncResourceAgentRequest(body=SyncResourceAgentReq(resource_infos=infos)))
    assert synced.data.startswith("SYNC")
    error = refused(lambda: client.sync_resource_agent(SyncResourceAgentRequest(body=SyncResourceAgentReq(
        resource_infos=[SyncResourceAgentReqResourceInfos(id="nope")]))))
    assert error.error_msg.startswith("resource_infos[0].id:")
    client.sync_resource(SyncResourceRequest(body=SyncResourceReq(provider="ecs", type="cloudservers")))
    assert refused(lambda: client.sync_resource(
        SyncResourceRequest(body=SyncResourceReq(provider="rds", type="x")))).status_code == 400

    _, stranger = tenant(endpoint)
    assert stranger.count_resources(CountResourcesRequest()).data == 0
    assert refused(lambda: stranger.list_resource_tags(ListResourceTagsRequest(resource_id="agent-1"))).status_code == 404


def test_instances_are_batched(endpoint):
    _, client = tenant(endpoint)
    targets = [ResourceInstance(resource_id=f"r{n}", agent_sn=f"a{n}", region_id="cn-north-4") for n in range(7)]
    reply = client.list_instances_batch(ListInstancesBatchRequest(
        body=InstancesBatchesMode(batch_strategy="AUTO_BATCH", target_instances=targets)))
    assert [(b.batch_index, [i.resource_id for i in b.target_instances]) for b in reply.data] == [
        (1, ["r0"]), (2, ["r1", "r2"]), (3, ["r3", "r4", "r5", "r6"])]
    assert reply.data[0].target_instances[0].agent_sn == "a0"
    error = refused(lambda: client.list_instances_batch(ListInstancesBatchRequest(
        body=InstancesBatchesMode(batch_strategy="MANUAL", target_instances=targets))))
    assert error.error_msg.startswith("batch_strategy:")


def a_file(content):
    path = os.path.join(tempfile.mkdtemp(prefix="coc-sdk-import-"), "hosts.csv")
    with open(path, "w") as f:
        f.write(content)
    return path


def import_hosts(client, content, kind="vm"):
    body = ImportOtherResourceRequestBody(file=FormFile(a_file(content)), type=kind, region_id="cn-north-4")
    return client.import_other_resource(ImportOtherResourceRequest(body=body))


def test_hosts_are_imported_and_counted(endpoint):
    _, client = tenant(endpoint)
    reply = import_hosts(client, "name,ip,os_type\nweb-1,10.9.0.1,linux\nbad,not-an-ip,linux\nweb-2,10.9.0.2,windows\n")
    assert (reply.success, reply.total) == (2, 3)
    assert len(reply.error_list) == 1 and reply.error_list[0].startswith("line 3: ip")
    again = import_hosts(client, "name,ip,os_type\nweb-1,10.9.0.1,linux\n")
    assert again.success == 0 and "imported already" in again.error_list[0]

    assert client.count_other_resource(CountOtherResourceRequest()).data == "2"
    assert client.count_other_resource(CountOtherResourceRequest(type="vm")).data == "2"
    assert client.count_other_resource(CountOtherResourceRequest(type="PM")).data == "0"
    error = refused(lambda: client.count_other_resource(CountOtherResourceRequest(ip="10.9.0.1")))
    assert error.error_msg.startswith("ip:")
    assert client.count_resources(CountResourcesRequest()).data == 2

    listed = client.list_resources(ListResourcesRequest(provider="other", type="vm", limit=10))
    assert sorted(r.name for r in listed.data) == ["web-1", "web-2"]
    assert all(r.agent_state is None for r in listed.data)
    host = listed.data[0].id
    client.create_resource_tags(CreateResourceTagsRequest(
        resource_id=host, body=ResourceTagOperateRequest(tags=[TagResponse(key="rack", value="r1")])))
    assert [t.value for t in client.list_resource_tags(ListResourceTagsRequest(resource_id=host)).tags] == ["r1"]

    error = refused(lambda: import_hosts(client, "name,ip\nx,10.9.0.9\n"))
    assert error.status_code == 400 and error.error_msg.startswith("file:")
    assert client.count_other_resource(CountOtherResourceRequest()).data == "2"
    _, stranger = tenant(endpoint)
    assert stranger.count_other_resource(CountOtherResourceRequest()).data == "0"
