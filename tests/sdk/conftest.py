"""Runs the official Huawei Cloud COC SDK against a real local server.

The server binary comes from COC_LOCAL_BIN (`make test` builds it); every test
session gets its own data directory and port.
"""
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


@pytest.fixture(scope="session")
def endpoint():
    binary = os.environ.get("COC_LOCAL_BIN", "target/debug/coc-local")
    port = _free_port()
    data_dir = tempfile.mkdtemp(prefix="coc-sdk-data-")
    env = dict(os.environ, COC_LISTEN=f"127.0.0.1:{port}", COC_DATA_DIR=data_dir, RUST_LOG="warn")
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


@pytest.fixture
def make_client(endpoint):
    def make(project_id):
        credentials = BasicCredentials("EXAMPLEAK0000000000", "EXAMPLESK00000000000000000000000000000000", project_id)
        return CocClient.new_builder().with_credentials(credentials).with_endpoints([endpoint]).build()

    return make
