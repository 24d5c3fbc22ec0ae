"""The SDK's own signer against a running coc-local: awkward queries, the SDK's
UNSIGNED-PAYLOAD, and a deployment that knows its public host (COC_PUBLIC_HOSTS)."""
import hashlib
import os
import subprocess
import time
import uuid

import pytest
import requests
from huaweicloudsdkcoc.v1 import ListScriptsRequest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from conftest import _backend_env, _free_port, client_for, create_credential
from signing_vectors import AWKWARD_QUERIES, sign


def send(endpoint, request):
    """Sends a signed SdkRequest to `endpoint` the way the SDK's HTTP client does: its `uri` as is."""
    return requests.request(request.method, endpoint + request.uri, headers=request.header_params,
                            data=request.body or None)


@pytest.fixture
def key():
    return create_credential(uuid.uuid4().hex)


def signed(endpoint, key, method, path, query=(), **kwargs):
    host = endpoint.split("://", 1)[1]
    return sign(key["access_key"], key["secret_key"], key["project_id"], host, method, path, query, **kwargs)


@pytest.mark.parametrize("name,query", [(name, query) for name, query, _ in AWKWARD_QUERIES],
                         ids=[name for name, _, _ in AWKWARD_QUERIES])
def test_awkward_queries_signed_by_the_sdk_are_accepted(endpoint, key, name, query):
    # list_scripts ignores parameters it does not know; limit is required.
    request = signed(endpoint, key, "GET", "/v1/job/scripts", [("limit", 1)] + list(query))
    response = send(endpoint, request)
    assert response.status_code == 200, f"{name}: {request.uri} -> {response.text}"


def test_handlers_see_the_values_that_were_signed(endpoint):
    # creator is matched exactly, so the total says which value the handler saw.
    creator = "a+b %20/é&x=y"
    key = create_credential(uuid.uuid4().hex, user_name=creator)
    body = ('{"name": "by_awkward_creator", "type": "SHELL", "content": "id", "description": "d", '
            '"properties": {"risk_level": "LOW", "version": "1"}}')
    assert send(endpoint, signed(endpoint, key, "POST", "/v1/job/scripts", body=body)).status_code == 200
    for value, total in [(creator, 1), ("a b %20/é&x=y", 0), ("a+b  /é&x=y", 0)]:
        request = signed(endpoint, key, "GET", "/v1/job/scripts", [("limit", 10), ("creator", value)])
        response = send(endpoint, request)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["total"] == total, value
    # The same signed pairs spelled as a client other than the SDK may send them (a raw
    # `+` and `/`): the signature verifies, so the handler must see the same value.
    request = signed(endpoint, key, "GET", "/v1/job/scripts", [("limit", 10), ("creator", creator)])
    other_spelling = "/v1/job/scripts?creator=a+b%20%2520/%C3%A9%26x%3Dy&limit=10"
    response = requests.get(endpoint + other_spelling, headers=request.header_params)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["total"] == 1, "a raw + is the plus that was signed"


def test_the_sdks_unsigned_payload_without_a_body_is_accepted(endpoint, key):
    # Any content type but JSON makes the SDK sign X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD,
    # and with no body it signs the empty hash.
    request = signed(endpoint, key, "GET", "/v1/job/scripts", [("limit", 1)], content_type="text/plain")
    assert request.header_params["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    response = send(endpoint, request)
    assert response.status_code == 200, response.text


def test_an_unsigned_content_hash_does_not_let_a_replay_change_the_body(endpoint, key):
    body = ('{"name": "captured", "type": "SHELL", "content": "id", "description": "d", '
            '"properties": {"risk_level": "LOW", "version": "1"}}')
    request = signed(endpoint, key, "POST", "/v1/job/scripts", body=body)
    headers = dict(request.header_params, **{"X-Sdk-Content-Sha256": hashlib.sha256(body.encode()).hexdigest()})
    replayed = requests.post(endpoint + request.uri, headers=headers, data=body.replace('"id"', '"rm -rf /"'))
    assert replayed.status_code == 401, replayed.text
    assert replayed.json()["error_code"] == "COC.00040401"


@pytest.fixture
def public_host_server(backend):
    """A second coc-local on the session's store that knows its public host, with a bootstrap key."""
    binary = os.environ.get("COC_LOCAL_BIN", "target/debug/coc-local")
    port = _free_port()
    key = {"project_id": uuid.uuid4().hex, "access_key": "PUBLICHOSTAK00000000",
           "secret_key": "PUBLICHOSTSK0000000000000000000000000000"}
    env = dict(_backend_env(), COC_LISTEN=f"127.0.0.1:{port}",
               COC_PUBLIC_HOSTS="coc.example.test, coc.example.test:8443", RUST_LOG="warn",
               COC_BOOTSTRAP_PROJECT_ID=key["project_id"], COC_BOOTSTRAP_AK=key["access_key"],
               COC_BOOTSTRAP_SK=key["secret_key"])
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            requests.get(url + "/", timeout=1)
            break
        except requests.ConnectionError:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("coc-local did not start")
            time.sleep(0.1)
    yield url, key
    process.terminate()
    process.wait(timeout=10)


def test_a_deployment_refuses_signatures_for_other_hosts(public_host_server):
    url, key = public_host_server
    # The SDK signs the endpoint's host: 127.0.0.1:<port> is not a public host of this server.
    client = client_for(url, key["access_key"], key["secret_key"], key["project_id"])
    with pytest.raises(ClientRequestException) as refused:
        client.list_scripts(ListScriptsRequest(limit=1))
    assert refused.value.status_code == 401
    assert "host" in refused.value.error_msg
    # Signed for the public host (as through a proxy that keeps Host), it is accepted.
    for host in ["coc.example.test", "coc.example.test:8443"]:
        request = sign(key["access_key"], key["secret_key"], key["project_id"], host, "GET", "/v1/job/scripts",
                       [("limit", 1)])
        response = send(url, request)
        assert response.status_code == 200, f"{host}: {response.text}"
