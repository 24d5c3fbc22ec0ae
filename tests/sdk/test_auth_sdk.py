"""Authentication as the official SDK meets it: its signatures are accepted, and
requests that are tampered with, stale, unsigned or signed with a wrong key get a
401 in the spec's error shape, with a request id."""
import datetime
import uuid

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkcoc.v1 import ListScriptsRequest

from conftest import client_for, create_credential


def signed_request(endpoint, key, method, path, body="", date=None, query=None):
    """A request signed by the SDK's own Signer, ready to send (or to tamper with)."""
    host = endpoint.split("://", 1)[1]
    headers = {"Content-Type": "application/json;charset=utf-8", "X-Project-Id": key["project_id"], "Host": host}
    if date:
        headers["X-Sdk-Date"] = date
    request = SdkRequest(method=method, schema="http", host=host, resource_path=path,
                         query_params=query or [], header_params=headers, body=body)
    credentials = BasicCredentials(key["access_key"], key["secret_key"], key["project_id"])
    return Signer(credentials).sign(request)


def send(endpoint, request, body=None):
    query = "&".join(f"{k}={v}" for k, v in request.query_params)
    url = endpoint + request.resource_path + (f"?{query}" if query else "")
    return requests.request(request.method, url, headers=request.header_params,
                            data=request.body if body is None else body)


def assert_unauthorized(response):
    assert response.status_code == 401, response.text
    assert response.json()["error_code"] == "COC.00040401"
    assert response.json()["error_msg"]
    assert response.headers["X-Request-Id"]


@pytest.fixture
def key():
    return create_credential(uuid.uuid4().hex)


def test_the_sdk_signer_is_accepted(endpoint, key):
    request = signed_request(endpoint, key, "GET", "/v1/job/scripts", query=[("limit", 5), ("name_like", "a b/é")])
    assert send(endpoint, request).status_code == 200


def test_tampered_body_is_refused(endpoint, key):
    body = '{"name": "x", "type": "SHELL", "content": "id", "description": "d", "properties": {"risk_level": "LOW", "version": "1"}}'
    request = signed_request(endpoint, key, "POST", "/v1/job/scripts", body=body)
    assert_unauthorized(send(endpoint, request, body=body.replace('"id"', '"rm -rf /"')))


def test_stale_date_is_refused(endpoint, key):
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)).strftime("%Y%m%dT%H%M%SZ")
    assert_unauthorized(send(endpoint, signed_request(endpoint, key, "GET", "/v1/job/scripts", date=old, query=[("limit", 1)])))


def test_missing_auth_is_refused(endpoint):
    assert_unauthorized(requests.get(endpoint + "/v1/job/scripts?limit=1"))


def test_wrong_key_through_the_sdk(endpoint, key):
    client = client_for(endpoint, key["access_key"], "WRONG" + key["secret_key"][5:], key["project_id"])
    with pytest.raises(ClientRequestException) as refused:
        client.list_scripts(ListScriptsRequest(limit=1))
    assert refused.value.status_code == 401
    assert refused.value.error_code == "COC.00040401"
    assert refused.value.request_id


def test_a_key_cannot_reach_another_project(endpoint, key):
    client = client_for(endpoint, key["access_key"], key["secret_key"], uuid.uuid4().hex)
    with pytest.raises(ClientRequestException) as refused:
        client.list_scripts(ListScriptsRequest(limit=1))
    assert refused.value.status_code == 403
