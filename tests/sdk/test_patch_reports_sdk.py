"""The compliance report endpoints through the official SDK, on a tenant with
no scan yet (reports from real scans are the patch ticket tests' part)."""
import uuid

import pytest
from huaweicloudsdkcoc.v1 import ListInstanceCompliantRequest, ShowInstancePatchItemsRequest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException


def test_a_tenant_without_scans_has_no_reports(make_client):
    client = make_client(uuid.uuid4().hex)
    listed = client.list_instance_compliant(ListInstanceCompliantRequest(
        offset=1, limit=10, compliant_status="non_compliant", report_scene="ECS", sort_key="report_time",
        sort_dir="desc"))
    assert listed.count == 0
    assert listed.instance_compliant == []
    with pytest.raises(ClientRequestException) as missing:
        client.show_instance_patch_items(ShowInstancePatchItemsRequest(
            instance_compliant_id="3f5f3c944f50da3a7038457c5ff76c66", offset=1, limit=10))
    assert missing.value.status_code == 404


@pytest.mark.parametrize("request_args, field", [
    ({"limit": 101}, "limit"),
    ({"offset": 0}, "offset"),
    ({"sort_key": "name"}, "sort_key"),
    ({"compliant_status": "partly"}, "compliant_status"),
])
def test_bad_list_queries_are_400s_naming_the_parameter(make_client, request_args, field):
    client = make_client(uuid.uuid4().hex)
    with pytest.raises(ClientRequestException) as refused:
        client.list_instance_compliant(ListInstanceCompliantRequest(**request_args))
    assert refused.value.status_code == 400
    assert field in refused.value.error_msg


def test_unknown_patch_status_is_a_400(make_client):
    client = make_client(uuid.uuid4().hex)
    with pytest.raises(ClientRequestException) as refused:
        client.show_instance_patch_items(ShowInstancePatchItemsRequest(
            instance_compliant_id="3f5f3c944f50da3a7038457c5ff76c66", patch_status="LOST"))
    assert refused.value.status_code == 400
    assert "patch_status" in refused.value.error_msg
