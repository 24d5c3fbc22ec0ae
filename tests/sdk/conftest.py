"""Runs the official Huawei Cloud COC SDK against a real local server.

The server comes from COC_LOCAL_BIN and access keys are made with COC_ADMIN_BIN
(`make test` builds both); every test session gets its own data directory and port.
"""
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request

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


@pytest.fixture(scope="session")
def endpoint():
    binary = os.environ.get("COC_LOCAL_BIN", "target/debug/coc-local")
    port = _free_port()
    env = dict(os.environ, COC_LISTEN=f"127.0.0.1:{port}", COC_DATA_DIR=DATA_DIR, RUST_LOG="warn")
    process = subprocess.Popen([binary], env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=1)
        except urllib.error.HTTPError:
            break  # a JSON 404: the server answers
        except OSError:
            if time.time() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("coc-local did not start")
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


def _admin(*args):
    """Runs the operator CLI on the server's data directory; returns its JSON output."""
    binary = os.environ.get("COC_ADMIN_BIN", "target/debug/coc-admin")
    env = dict(os.environ, COC_DATA_DIR=DATA_DIR)
    env.pop("COC_TABLE_NAME", None)
    return json.loads(subprocess.run([binary, *args], env=env, check=True, capture_output=True, text=True).stdout)


def create_credential(project_id, user_id="sdk-user", user_name=None):
    """A new access key, made by the operator CLI in the server's data directory."""
    args = ["create-credential", "--project-id", project_id, "--user-id", user_id]
    if user_name:
        args += ["--user-name", user_name]
    return _admin(*args)


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
