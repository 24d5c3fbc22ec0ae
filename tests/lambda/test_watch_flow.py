"""One flow through the per-function binaries, as `make watch` runs them:
`cargo lambda watch` serves each route from its own function (routed by the
[watch.router] table of CargoLambda.toml, so clients use it as their endpoint
as they would API Gateway), `coc-local --engine-only` consumes the job queue,
and a real `coc-agent` runs the script.

Binaries: COC_CARGO_LAMBDA (cargo-lambda, from PyPI), COC_LOCAL_BIN,
COC_ADMIN_BIN, COC_AGENT_BIN. The functions are built by cargo on their first
call (debug, in the usual target directory): build them first to keep it short.
"""
import json
import os
import pathlib
import socket
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

# cargo (run by cargo lambda watch) finds its toolchain through the real home.
REAL_HOME = os.environ.get("HOME", "")
# Importing the SDK core writes ~/.huaweicloud/application_id: keep it out of the real home.
os.environ["HOME"] = tempfile.mkdtemp(prefix="coc-watch-home-")

from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkcore.sdk_request import SdkRequest  # noqa: E402
from huaweicloudsdkcore.signer.signer import Signer  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA_DIR = tempfile.mkdtemp(prefix="coc-watch-data-")
# The functions, the engine and the CLI share one embedded store in DATA_DIR.
ENV = {k: v for k, v in os.environ.items() if k not in ("COC_TABLE_NAME", "COC_QUEUE_URL", "COC_KMS_KEY_ID",
                                                        "COC_KEY_FILE", "COC_PUBLIC_HOSTS")}
ENV.update(COC_DATA_DIR=DATA_DIR, RUST_LOG="warn", HOME=REAL_HOME)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary(variable, default):
    return os.environ.get(variable, str(ROOT / default))


def _admin(*args):
    done = subprocess.run([_binary("COC_ADMIN_BIN", "target/debug/coc-admin"), *args], env=ENV,
                          capture_output=True, text=True)
    assert done.returncode == 0, f"coc-admin {' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout)


def _stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait(check, what, seconds):
    deadline = time.time() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.time() < deadline, f"never: {what}"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def watch():
    """`cargo lambda watch` on a free port; yields its URL."""
    port = _free_port()
    cargo_lambda = _binary("COC_CARGO_LAMBDA", ".tools/venv/bin/cargo-lambda")
    process = subprocess.Popen([cargo_lambda, "lambda", "watch", "--invoke-address", "127.0.0.1",
                                "--invoke-port", str(port), "--ignore-changes", "--quiet",
                                # The embedded store: functions fall back to it only with this feature.
                                "--features", "coc-runtime/embedded"],
                               cwd=ROOT, env=ENV, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("cargo lambda watch did not start")
            time.sleep(0.2)
    yield url
    # The functions run in watch's process group: end them with it.
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


@pytest.fixture(scope="module")
def engine():
    """The job engine alone, on the functions' embedded queue."""
    process = subprocess.Popen([_binary("COC_LOCAL_BIN", "target/debug/coc-local"), "--engine-only"], env=ENV)
    yield process
    _stop(process)


def issue_token(url, key):
    """POST /v1/auth/tokens, signed with the access key by the SDK's own signer."""
    host = url.split("://", 1)[1]
    headers = {"Content-Type": "application/json;charset=utf-8", "X-Project-Id": key["project_id"], "Host": host}
    request = SdkRequest(method="POST", schema="http", host=host, resource_path="/v1/auth/tokens",
                         query_params=[], header_params=headers, body="")
    signed = Signer(BasicCredentials(key["access_key"], key["secret_key"], key["project_id"])).sign(request)
    # The first call to a function builds and starts it.
    response = requests.post(url + "/v1/auth/tokens", headers=signed.header_params, data="", timeout=300)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def test_a_script_runs_on_an_agent_through_the_functions(watch, engine, tmp_path):
    key = _admin("create-credential", "--project-id", uuid.uuid4().hex, "--user-id", "ops")
    token = issue_token(watch, key)
    api = requests.Session()
    api.headers.update({"X-Auth-Token": token, "Content-Type": "application/json"})

    def call(method, path, **kwargs):
        response = api.request(method, watch + path, timeout=300, **kwargs)
        assert response.status_code in (200, 201), f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    script_uuid = call("POST", "/v1/job/scripts", json={
        "name": "watch_flow", "type": "SHELL", "content": "echo hello from ${who}", "description": "greets",
        "properties": {"risk_level": "LOW", "version": "1"},
        "script_params": [{"param_name": "who", "param_value": "x", "param_description": "", "param_order": 1,
                           "sensitive": False}],
    })["data"]

    activation = _admin("create-activation", "--project-id", key["project_id"])
    agent_sn = "watch-" + uuid.uuid4().hex[:8]
    agent_env = dict(ENV, COC_ENDPOINT=watch, COC_ACTIVATION_ID=activation["activation_id"],
                     COC_ACTIVATION_CODE=activation["activation_code"], COC_AGENT_STATE_DIR=str(tmp_path / "agent"),
                     COC_AGENT_SN=agent_sn, COC_HEARTBEAT_SECS="1")
    for name in ("COC_AK", "COC_SK", "COC_PROJECT_ID"):
        agent_env.pop(name, None)
    agent = subprocess.Popen([_binary("COC_AGENT_BIN", "target/debug/coc-agent")], env=agent_env)
    try:
        hosts = wait(lambda: call("GET", "/v1/resources", params={"provider": "ecs", "type": "cloudservers",
                                                                  "limit": 10})["data"],
                     "the agent registers", 300)
        assert hosts[0]["agent_id"] == agent_sn
        execute_uuid = call("POST", f"/v1/job/scripts/{script_uuid}", json={
            "execute_param": {"resourceful": True, "timeout": 60, "success_rate": 100.0, "execute_user": "root",
                              "script_params": [{"param_name": "who", "param_value": "watch", "param_order": 1}]},
            "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [{
                "resource_id": hosts[0]["resource_id"], "agent_sn": agent_sn, "project_id": key["project_id"],
                "region_id": "local", "provider": "ecs", "type": "cloudservers"}]}],
        })["data"]
        ticket = wait(lambda: (t := call("GET", f"/v1/job/script/orders/{execute_uuid}")["data"])["status"]
                      in ("FINISHED", "ABNORMAL", "CANCELED") and t, "the ticket ends", 300)
        assert ticket["status"] == "FINISHED", ticket
        assert ticket["properties"]["script_uuid"] == script_uuid
        batch = call("GET", f"/v1/job/script/orders/{execute_uuid}/batches/1", params={"limit": 10})["data"]
        assert batch["execute_instances"][0]["message"].strip() == "hello from watch"
        assert engine.poll() is None, "the engine keeps running"
    finally:
        agent.kill()
        agent.wait()
