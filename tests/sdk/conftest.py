"""Runs the official Huawei Cloud COC SDK against a real local server.

The server comes from COC_LOCAL_BIN and access keys are made with COC_ADMIN_BIN
(`make test` builds both); every test session gets its own data directory and port.

COC_SDK_BACKEND chooses what the server keeps its state in:
- `embedded` (the default): the embedded SQLite store and queue in the data directory;
- `aws`: a fresh DynamoDB table (made by `coc-admin create-table`), a fresh SQS
  queue and a fresh S3 bucket for attachments, on the servers AWS_ENDPOINT_URL_DYNAMODB /
  AWS_ENDPOINT_URL_SQS (and _S3, else moto's SQS one) point at (DynamoDB Local and moto
  in `make test`); all are deleted at the end.
"""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid

import pytest

# Importing the SDK core writes ~/.huaweicloud/application_id: keep it out of the real home.
os.environ["HOME"] = tempfile.mkdtemp(prefix="coc-sdk-home-")

from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkcoc.v1 import CocClient  # noqa: E402


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DATA_DIR = tempfile.mkdtemp(prefix="coc-sdk-data-")
BACKEND = os.environ.get("COC_SDK_BACKEND", "embedded")
if BACKEND not in ("embedded", "aws"):
    raise RuntimeError(f"COC_SDK_BACKEND must be embedded or aws, not {BACKEND!r}")
# The store and queue settings the server and the operator CLI share. In the
# embedded mode they are removed, so a COC_TABLE_NAME in the caller's
# environment cannot send the tests elsewhere.
BACKEND_ENV = {}


def _backend_env():
    env = dict(os.environ, COC_DATA_DIR=DATA_DIR)
    for name in ("COC_TABLE_NAME", "COC_QUEUE_URL", "COC_NOTIFY_QUEUE_URL", "COC_KMS_KEY_ID", "COC_KEY_FILE",
                 "COC_ATTACHMENTS_BUCKET"):
        env.pop(name, None)
    env.update(BACKEND_ENV)
    return env


@pytest.fixture(scope="session")
def backend():
    """Creates the fresh table and queues (work, notifications) of the `aws` mode; deletes them afterwards."""
    if BACKEND == "embedded":
        yield BACKEND
        return
    import boto3  # moto brings it

    for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS"):
        if not os.environ.get(name):
            raise RuntimeError(f"COC_SDK_BACKEND=aws needs {name} (source .tools/run/env)")
    run = uuid.uuid4().hex[:12]
    BACKEND_ENV["COC_TABLE_NAME"] = f"coc-sdk-{run}"
    _admin("create-table")
    # The Rust SDK reads AWS_REGION; boto3 only AWS_DEFAULT_REGION.
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL_SQS"], region_name=region)
    BACKEND_ENV["COC_QUEUE_URL"] = sqs.create_queue(QueueName=f"coc-sdk-{run}")["QueueUrl"]
    BACKEND_ENV["COC_NOTIFY_QUEUE_URL"] = sqs.create_queue(QueueName=f"coc-sdk-notify-{run}")["QueueUrl"]
    # Attachments: a bucket on moto, which serves S3 on its one port.
    s3_endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ["AWS_ENDPOINT_URL_SQS"]
    BACKEND_ENV["AWS_ENDPOINT_URL_S3"] = s3_endpoint
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name=region)
    BACKEND_ENV["COC_ATTACHMENTS_BUCKET"] = f"coc-sdk-{run}"
    s3.create_bucket(Bucket=BACKEND_ENV["COC_ATTACHMENTS_BUCKET"])
    yield BACKEND
    for listed in s3.list_objects_v2(Bucket=BACKEND_ENV["COC_ATTACHMENTS_BUCKET"]).get("Contents", []):
        s3.delete_object(Bucket=BACKEND_ENV["COC_ATTACHMENTS_BUCKET"], Key=listed["Key"])
    s3.delete_bucket(Bucket=BACKEND_ENV["COC_ATTACHMENTS_BUCKET"])
    sqs.delete_queue(QueueUrl=BACKEND_ENV["COC_QUEUE_URL"])
    sqs.delete_queue(QueueUrl=BACKEND_ENV["COC_NOTIFY_QUEUE_URL"])
    dynamodb = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL_DYNAMODB"], region_name=region)
    dynamodb.delete_table(TableName=BACKEND_ENV["COC_TABLE_NAME"])


def start_local(env):
    """A coc-local (COC_LOCAL_BIN) with `env` on a free port → (process, url), once it answers."""
    binary = os.environ.get("COC_LOCAL_BIN", "target/debug/coc-local")
    port = _free_port()
    process = subprocess.Popen([binary], env=dict(env, COC_LISTEN=f"127.0.0.1:{port}", RUST_LOG="warn"))
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=1)
            break  # `/` leads to the console: the server answers
        except urllib.error.HTTPError:
            break  # an error page (the console not built): the server answers
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("coc-local did not start")
            time.sleep(0.1)
    return process, url


@pytest.fixture(scope="session")
def endpoint(backend):
    process, url = start_local(_backend_env())
    yield url
    process.terminate()
    process.wait(timeout=10)


def start_agent(endpoint, state_dir, agent_sn, activation=None, key=None):
    """A coc-agent (COC_AGENT_BIN) on this machine, registering with an operator's
    activation or a user's key; the caller kills it."""
    env = dict(os.environ, COC_ENDPOINT=endpoint, COC_AGENT_STATE_DIR=str(state_dir), COC_AGENT_SN=agent_sn,
               COC_HEARTBEAT_SECS="1", RUST_LOG="warn")
    for name in ("COC_AK", "COC_SK", "COC_PROJECT_ID", "COC_ACTIVATION_ID", "COC_ACTIVATION_CODE"):
        env.pop(name, None)
    if activation:
        env.update(COC_ACTIVATION_ID=activation["activation_id"], COC_ACTIVATION_CODE=activation["activation_code"])
    if key:
        env.update(COC_AK=key["access_key"], COC_SK=key["secret_key"], COC_PROJECT_ID=key["project_id"])
    return subprocess.Popen([os.environ.get("COC_AGENT_BIN", "target/debug/coc-agent")], env=env)


def _admin(*args):
    """Runs the operator CLI on the server's store; returns its JSON output."""
    binary = os.environ.get("COC_ADMIN_BIN", "target/debug/coc-admin")
    done = subprocess.run([binary, *args], env=_backend_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"coc-admin {' '.join(args)} failed: {done.stderr}")
    return json.loads(done.stdout)


def create_credential(project_id, user_id="sdk-user", user_name=None):
    """A new access key, made by the operator CLI in the server's data directory."""
    args = ["create-credential", "--project-id", project_id, "--user-id", user_id]
    if user_name:
        args += ["--user-name", user_name]
    return _admin(*args)


def call_api(endpoint, key, method, path, body=None):
    """Our own endpoints (the SDK has none for them), signed with `key` by the SDK's Signer."""
    import requests
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer.signer import Signer

    host = endpoint.split("://", 1)[1]
    path, _, query = path.partition("?")
    params = [tuple(p.split("=", 1)) for p in query.split("&") if p]
    text = "" if body is None else json.dumps(body)
    headers = {"Content-Type": "application/json;charset=utf-8", "X-Project-Id": key["project_id"], "Host": host}
    request = SdkRequest(method=method, schema="http", host=host, resource_path=path,
                         query_params=params, header_params=headers, body=text)
    signed = Signer(BasicCredentials(key["access_key"], key["secret_key"], key["project_id"])).sign(request)
    url = endpoint + path + (f"?{query}" if query else "")
    return requests.request(method, url, headers=signed.header_params, data=signed.body)


def sync_engineers(endpoint, project_id, *user_ids):
    """Makes O&M engineers of every user of the project holding a key (`user_ids`
    are given one first), as an operator's synchronization does; the operator's key."""
    for user_id in user_ids:
        create_credential(project_id, user_id)
    operator = create_credential(project_id, "sdk-operator", "operator")
    synced = call_api(endpoint, operator, "POST", "/v1/engineers/sync", {})
    assert synced.status_code == 200, synced.text
    return operator


def create_activation(project_id, max_registrations=1):
    """An activation agents of the project register with, made by the operator CLI."""
    return _admin("create-activation", "--project-id", project_id, "--max-registrations", str(max_registrations))


def client_for(endpoint, access_key, secret_key, project_id):
    credentials = BasicCredentials(access_key, secret_key, project_id)
    return CocClient.new_builder().with_credentials(credentials).with_endpoints([endpoint]).build()


@pytest.fixture
def make_client(endpoint):
    """make_client(project_id, user_id=..., user_name=...) -> a CocClient with a key of its own."""

    def make(project_id, user_id="sdk-user", user_name=None):
        key = create_credential(project_id, user_id, user_name)
        return client_for(endpoint, key["access_key"], key["secret_key"], project_id)

    return make


def wait(check, what, seconds=30):
    """Polls `check` until it returns something truthy, and returns that; fails after `seconds`."""
    deadline = time.time() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.time() < deadline, f"never: {what}"
        time.sleep(0.2)
