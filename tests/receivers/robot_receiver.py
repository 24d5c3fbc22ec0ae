"""Chat robot endpoints on loopback that check requests the way the vendors do.

Usage: robot_receiver.py [--host 127.0.0.1] [--port 0] [--dingtalk-secret S]
                         [--lark-secret S] [--fail-first N] [--always-fail] [--out FILE]

Prints `PORT <n>` on stdout once it listens (port 0 picks a free one), then
one JSON line per request, on stdout and appended to FILE if given:
  {"vendor": "dingtalk", "path": "/dingtalk/a", "accepted": true, "code": 0, "text": "..."}

Endpoints (any path below the vendor's prefix is one robot):
- POST /wecom/...?key=K      WeCom: {"msgtype":"text","text":{"content":...}};
                             answers {"errcode":0,"errmsg":"ok"}.
- POST /dingtalk/...?access_token=T[&timestamp=&sign=]
                             DingTalk: with --dingtalk-secret, `sign` must be
                             base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}"))
                             with `timestamp` (ms) within an hour, else
                             {"errcode":310000,"errmsg":"sign not match"}.
- POST /lark/...             Lark: {"msg_type":"text","content":{"text":...}}; with
                             --lark-secret, body `timestamp` (s) within an hour and
                             `sign` = base64(HMAC-SHA256("{timestamp}\\n{secret}", "")),
                             else {"code":19021,...}; answers {"code":0,"msg":"success"}.

Failures: --fail-first N answers HTTP 500 to the first N requests of each
path, --always-fail to all; a path with a segment `fail-N` (e.g.
/dingtalk/fail-2) fails its first N requests, one with a segment `down` always.
Stops on SIGTERM or SIGINT.
"""

import argparse
import base64
import hashlib
import hmac
import json
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOUR_MS = 3600 * 1000


def dingtalk_sign(secret, timestamp):
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def lark_sign(secret, timestamp):
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


class Robots:
    def __init__(self, args):
        self.args = args
        self.seen = {}
        self.lock = threading.Lock()

    def count(self, path):
        with self.lock:
            self.seen[path] = self.seen.get(path, 0) + 1
            return self.seen[path]

    def should_fail(self, path, n):
        if self.args.always_fail or "down" in path.split("/"):
            return True
        if n <= self.args.fail_first:
            return True
        for segment in path.split("/"):
            if segment.startswith("fail-") and segment[5:].isdigit() and n <= int(segment[5:]):
                return True
        return False

    def record(self, entry):
        line = json.dumps(entry, ensure_ascii=False)
        with self.lock:
            print(line, flush=True)
            if self.args.out:
                with open(self.args.out, "a", encoding="utf-8") as f:
                    f.write(line + "\n")

    def wecom(self, query, body):
        if not query.get("key"):
            return {"errcode": 93000, "errmsg": "invalid webhook url"}, None
        if body.get("msgtype") != "text" or not isinstance(body.get("text", {}).get("content"), str):
            return {"errcode": 40008, "errmsg": "invalid message type"}, None
        return {"errcode": 0, "errmsg": "ok"}, body["text"]["content"]

    def dingtalk(self, query, body):
        secret = self.args.dingtalk_secret
        if secret is not None:
            timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
            fresh = timestamp.isdigit() and abs(time.time() * 1000 - int(timestamp)) < HOUR_MS
            if not fresh or not hmac.compare_digest(sign, dingtalk_sign(secret, timestamp)):
                return {"errcode": 310000, "errmsg": "sign not match"}, None
        if body.get("msgtype") != "text" or not isinstance(body.get("text", {}).get("content"), str):
            return {"errcode": 40035, "errmsg": "missing parameter msgtype/text"}, None
        return {"errcode": 0, "errmsg": "ok"}, body["text"]["content"]

    def lark(self, query, body):
        secret = self.args.lark_secret
        if secret is not None:
            timestamp, sign = str(body.get("timestamp", "")), str(body.get("sign", ""))
            fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 3600
            if not fresh or not hmac.compare_digest(sign, lark_sign(secret, timestamp)):
                return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}, None
        if body.get("msg_type") != "text" or not isinstance(body.get("content", {}).get("text"), str):
            return {"code": 9499, "msg": "Bad Request"}, None
        return {"code": 0, "msg": "success", "data": {}}, body["content"]["text"]


def handler_for(robots):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
            vendor = url.path.strip("/").split("/")[0]
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            n = robots.count(url.path)
            entry = {"vendor": vendor, "path": url.path, "n": n}
            if robots.should_fail(url.path, n):
                robots.record({**entry, "accepted": False, "status": 500})
                return self.answer(500, {"error": "failing as told"})
            check = {"wecom": robots.wecom, "dingtalk": robots.dingtalk, "lark": robots.lark}.get(vendor)
            if check is None:
                robots.record({**entry, "accepted": False, "status": 404})
                return self.answer(404, {"error": "no such robot"})
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            answer, text = check(query, body if isinstance(body, dict) else {})
            code = answer.get("errcode", answer.get("code"))
            robots.record({**entry, "accepted": code == 0, "code": code, "text": text})
            self.answer(200, answer)

        def answer(self, status, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dingtalk-secret")
    parser.add_argument("--lark-secret")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--always-fail", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), handler_for(Robots(args)))
    print(f"PORT {server.server_address[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
