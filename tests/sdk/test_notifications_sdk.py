"""Notifications end to end, with real processes: a coc-local of its own whose
mail goes to a real SMTP server on loopback (aiosmtpd) and whose chat robots
post to HTTP receivers on loopback that check the DingTalk and Lark signatures
the way the vendors do. An engineer is synchronized, given an email address and
both robots with their signing keys; the confirmation mail arrives, the test
follows its link; then the official SDK creates an incident assigned to them and
the mail and both robot messages arrive, signed, and the delivery log says SENT.
A robot saved with a wrong key is refused by its receiver: the delivery log
records the failure and the vendor's reason.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import pytest
import requests
from huaweicloudsdkcoc.v1 import CreateCocIncidentRequest, CreateExternalIncidentRequest

from conftest import BACKEND, BACKEND_ENV, _free_port, call_api, client_for, wait

HERE = os.path.dirname(os.path.abspath(__file__))
SMTP_RECEIVER = os.path.join(HERE, "..", "receivers", "smtp_receiver.py")
ROBOT_RECEIVER = os.path.join(HERE, "..", "receivers", "robot_receiver.py")
DINGTALK_SECRET = "SEC" + "d" * 61
LARK_SECRET = "lark-signing-secret"


class RobotReceiver:
    """tests/receivers/robot_receiver.py in a process of its own: DingTalk and
    Lark robots that check the signatures with these secrets as the vendors do,
    and answer a bad one as they do (HTTP 200, a nonzero code)."""

    def __init__(self):
        self.out = tempfile.mktemp(prefix="coc-robots-", suffix=".jsonl")
        args = [sys.executable, ROBOT_RECEIVER, "--port", "0", "--out", self.out,
                "--dingtalk-secret", DINGTALK_SECRET, "--lark-secret", LARK_SECRET]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("PORT "), f"the robot receiver did not start: {line!r}"
        self.port = int(line.split()[1])

    def requests(self, path):
        if not os.path.exists(self.out):
            return []
        with open(self.out, encoding="utf-8") as f:
            return [r for r in (json.loads(line) for line in f if line.strip()) if r["path"] == path]

    def signed(self, path, mentions):
        """The messages `path` accepted (signature checked) whose text mentions `mentions`."""
        return [r for r in self.requests(path) if r["accepted"] and mentions in (r.get("text") or "")]

    def refused(self, path):
        return [r for r in self.requests(path) if not r["accepted"]]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class SmtpReceiver:
    """tests/receivers/smtp_receiver.py in a process of its own."""

    def __init__(self):
        self.out = tempfile.mktemp(prefix="coc-mail-", suffix=".jsonl")
        self.process = subprocess.Popen([sys.executable, SMTP_RECEIVER, "--port", "0", "--out", self.out],
                                        stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert line.startswith("PORT "), f"the SMTP receiver did not start: {line!r}"
        self.port = int(line.split()[1])

    def mails(self, to):
        if not os.path.exists(self.out):
            return []
        with open(self.out, encoding="utf-8") as f:
            mails = [json.loads(line) for line in f if line.strip()]
        return [m for m in mails if to in m["to"]]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Server:
    """A coc-local of this module's own, with mail and robots pointed at the receivers."""

    def __init__(self, smtp_port):
        self.data_dir = tempfile.mkdtemp(prefix="coc-notify-data-")
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, COC_DATA_DIR=self.data_dir)
        for name in ("COC_TABLE_NAME", "COC_QUEUE_URL", "COC_NOTIFY_QUEUE_URL", "COC_KMS_KEY_ID", "COC_KEY_FILE"):
            self.env.pop(name, None)
        self.queues = []
        if BACKEND == "aws":
            self._aws_queues()
        self.env.update(
            COC_LISTEN=f"127.0.0.1:{self.port}",
            COC_PUBLIC_URL=self.url,
            COC_WEBHOOK_ALLOWED_HOSTS="127.0.0.1",
            COC_SMTP_HOST="127.0.0.1",
            COC_SMTP_PORT=str(smtp_port),
            COC_SMTP_TLS="none",
            COC_SMTP_FROM="COC <coc@notify.test>",
            # Short waits between attempts, and few of them, so a failure is final in seconds.
            COC_NOTIFY_BACKOFF_MS="200",
            COC_NOTIFY_BACKOFF_CAP_MS="400",
            COC_NOTIFY_MAX_ATTEMPTS="3",
            RUST_LOG="warn",
        )
        binary = os.environ.get("COC_LOCAL_BIN", "target/debug/coc-local")
        self.process = subprocess.Popen([binary], env=self.env)
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(self.url + "/", timeout=1)
                break  # `/` leads to the console: the server answers
            except urllib.error.HTTPError:
                break  # an error page (the console not built): the server answers
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    self.process.kill()
                    raise RuntimeError("coc-local did not start")
                time.sleep(0.1)

    def _aws_queues(self):
        """The session's table, and fresh job and notification queues of this server's own."""
        import boto3

        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL_SQS"], region_name=region)
        run = uuid.uuid4().hex[:12]
        self.sqs = sqs
        self.env["COC_TABLE_NAME"] = BACKEND_ENV["COC_TABLE_NAME"]
        for name, var in (("jobs", "COC_QUEUE_URL"), ("notify", "COC_NOTIFY_QUEUE_URL")):
            url = sqs.create_queue(QueueName=f"coc-sdk-{name}-{run}")["QueueUrl"]
            self.env[var] = url
            self.queues.append(url)

    def credential(self, project_id, user_id, user_name):
        binary = os.environ.get("COC_ADMIN_BIN", "target/debug/coc-admin")
        args = [binary, "create-credential", "--project-id", project_id, "--user-id", user_id, "--user-name", user_name]
        done = subprocess.run(args, env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        for url in self.queues:
            self.sqs.delete_queue(QueueUrl=url)
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def world(backend):
    smtp = SmtpReceiver()
    robots = RobotReceiver()
    server = Server(smtp.port)
    yield server, smtp, robots
    server.stop()
    smtp.stop()
    robots.stop()


def _ok(reply):
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]


def _incident(client, assignee, title):
    body = CreateExternalIncidentRequest(
        current_cloud_service=["app-1"], incident_level="level_20", is_service_interrupt="true",
        incident_type="inc_type_p_networking_issues", incident_title=title, incident_description="tunnel drops",
        incident_source="incident_source_manual", incident_assignee=[assignee], creator="u-oncall",
    )
    created = client.create_coc_incident(CreateCocIncidentRequest(body=body))
    assert created.error_code == "GOM.00000000"
    return created.data.incident_num


def _notification(server, key, num):
    """The delivery log's notification about incident `num`, once every delivery is final."""
    def final():
        rows = _ok(call_api(server.url, key, "GET", "/v1/notifications?limit=50"))
        for row in rows:
            if row["subject_id"] == num and all(d["status"] in ("SENT", "FAILED") for d in row["deliveries"]):
                return row
        return None
    return wait(final, f"the notification of {num} delivered or given up", seconds=60)


def test_an_engineer_confirms_email_and_hears_of_an_incident_on_every_channel(world):
    server, smtp, robots = world
    project = uuid.uuid4().hex
    key = server.credential(project, "u-oncall", "oncall")
    _ok(call_api(server.url, key, "POST", "/v1/engineers/sync", {}))
    email = f"oncall-{project[:8]}@example.com"
    contact = {
        "email": email,
        "dingtalk_webhook": f"http://127.0.0.1:{robots.port}/dingtalk/{project}?access_token=tok",
        "dingtalk_key": DINGTALK_SECRET,
        "lark_webhook": f"http://127.0.0.1:{robots.port}/lark/{project}",
        "lark_key": LARK_SECRET,
    }
    saved = _ok(call_api(server.url, key, "PUT", "/v1/engineers/u-oncall", contact))
    assert saved["dingtalk_key"] != DINGTALK_SECRET and saved["lark_key"] != LARK_SECRET, "keys read back masked"

    # The confirmation mail arrives; following its link confirms the subscription.
    mail = wait(lambda: smtp.mails(email), "the confirmation mail")[0]
    link = re.search(r"https?://\S+/v1/subscriptions/confirm\?token=[0-9a-fA-F]+", mail["body"])
    assert link, mail["body"]
    assert link.group(0).startswith(server.url), "the link points at COC_PUBLIC_URL"
    confirmed = requests.get(link.group(0), timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["data"]["state"] == "CONFIRMED"
    states = {s["channel"]: s["state"] for s in _ok(call_api(server.url, key, "GET", "/v1/engineers/u-oncall/subscriptions"))}
    assert states["EMAIL"] == "CONFIRMED", states
    assert requests.get(link.group(0), timeout=10).status_code != 200, "a link works once"

    # The official SDK opens an incident for them: mail and both robots hear of it, signed.
    client = client_for(server.url, key["access_key"], key["secret_key"], project)
    num = _incident(client, "u-oncall", "VPN flapping")
    told = wait(lambda: [m for m in smtp.mails(email) if num in m["subject"]], "the incident mail")[0]
    assert "VPN flapping" in told["subject"]
    assert f"{server.url}/v1/external/incident/{num}" in told["body"]
    wait(lambda: robots.signed(f"/dingtalk/{project}", num), "a signed DingTalk message")
    wait(lambda: robots.signed(f"/lark/{project}", num), "a signed Lark message")

    logged = _notification(server, key, num)
    assert logged["event"] == "INCIDENT_CREATED"
    assert logged["user_id"] == "u-oncall"
    channels = {d["channel"]: d for d in logged["deliveries"]}
    assert set(channels) == {"EMAIL", "DINGTALK", "LARK"}, channels
    assert all(d["status"] == "SENT" for d in channels.values()), channels
    assert email not in json.dumps(logged), "recipients are masked in the log"


def test_a_robot_saved_with_a_wrong_key_is_a_recorded_failure(world):
    server, smtp, robots = world
    project = uuid.uuid4().hex
    key = server.credential(project, "u-wrong", "wrong")
    _ok(call_api(server.url, key, "POST", "/v1/engineers/sync", {}))
    contact = {
        "dingtalk_webhook": f"http://127.0.0.1:{robots.port}/dingtalk/{project}?access_token=wrong",
        "dingtalk_key": "SEC-not-the-robots-key",
    }
    _ok(call_api(server.url, key, "PUT", "/v1/engineers/u-wrong", contact))
    client = client_for(server.url, key["access_key"], key["secret_key"], project)
    num = _incident(client, "u-wrong", "disk full")

    logged = _notification(server, key, num)
    (delivery,) = logged["deliveries"]
    assert delivery["channel"] == "DINGTALK"
    assert delivery["status"] == "FAILED", delivery
    # A refused signature will not be accepted by trying again: failed at once, and why.
    assert delivery["attempts"] == 1, delivery
    assert "sign not match" in delivery["last_error"], delivery
    assert not robots.signed(f"/dingtalk/{project}", num), "the receiver accepted nothing"
    refused = robots.refused(f"/dingtalk/{project}")
    assert [r["code"] for r in refused] == [310000], refused
