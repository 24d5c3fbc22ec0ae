"""An Amazon Pinpoint SMS and Voice v2 endpoint on loopback that takes only
`SendVoiceMessage` calls signed with SigV4 for the given credentials.

moto has no `pinpoint-sms-voice-v2` backend, so this stands in for it: the
real AWS SDK client of the voice sender talks to it over HTTP, and it checks
the request the way the service would before placing a call.

Usage: sms_voice_receiver.py --access-key K --secret-key S [--region us-east-1]
                             [--host 127.0.0.1] [--port 0] [--out FILE]

Prints `PORT <n>` on stdout once it listens (port 0 picks a free one), then
one JSON line per request, on stdout and appended to FILE if given:
  {"accepted": true, "reason": null, "target": "...", "body": {...}}

Checks, in order (the first that fails answers as the service does):
- POST /, `Content-Type: application/x-amz-json-1.0`,
  `X-Amz-Target: PinpointSMSVoiceV2.SendVoiceMessage`;
- `Authorization: AWS4-HMAC-SHA256 Credential=K/<date>/<region>/sms-voice/aws4_request,
  SignedHeaders=..., Signature=...` whose signed headers include host,
  x-amz-date, x-amz-target and content-type, `X-Amz-Date` within 15 minutes,
  and a signature equal to the one botocore computes for the same canonical
  request with S (403 InvalidSignatureException otherwise);
- a JSON body with DestinationPhoneNumber and OriginationIdentity in E.164 or
  ARN form, a MessageBody of 1 to 6000 characters and MessageBodyTextType
  TEXT or SSML (400 ValidationException otherwise).
Answers {"MessageId": "..."} to a call that passes. Stops on SIGTERM or SIGINT.
"""

import argparse
import datetime
import json
import re
import signal
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TARGET = "PinpointSMSVoiceV2.SendVoiceMessage"
SERVICE = "sms-voice"
MUST_SIGN = {"host", "x-amz-date", "x-amz-target", "content-type"}
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


class Refused(Exception):
    def __init__(self, status, kind, message):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


class OnlySignedHeaders(SigV4Auth):
    """botocore's SigV4, computed over exactly the headers the client signed."""

    def __init__(self, credentials, region, signed):
        super().__init__(credentials, SERVICE, region)
        self.signed = signed

    def headers_to_sign(self, request):
        headers = super().headers_to_sign(request)
        for name in list(headers.keys()):
            if name.lower() not in self.signed:
                del headers[name]
        return headers


def check_signature(handler, body, args):
    match = AUTH.match(handler.headers.get("Authorization", ""))
    if not match:
        raise Refused(403, "IncompleteSignatureException", "no SigV4 Authorization header")
    if match["key"] != args.access_key:
        raise Refused(403, "UnrecognizedClientException", "unknown access key")
    if (match["region"], match["service"]) != (args.region, SERVICE):
        raise Refused(403, "InvalidSignatureException", f"credential scope {match['region']}/{match['service']}")
    signed = set(match["signed"].split(";"))
    if not MUST_SIGN <= signed:
        raise Refused(403, "InvalidSignatureException", f"unsigned: {sorted(MUST_SIGN - signed)}")
    amz_date = handler.headers.get("X-Amz-Date", "")
    try:
        at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise Refused(403, "IncompleteSignatureException", f"X-Amz-Date: {amz_date!r}")
    if abs((datetime.datetime.now(datetime.timezone.utc) - at).total_seconds()) > 900 or amz_date[:8] != match["date"]:
        raise Refused(403, "InvalidSignatureException", "signature expired or scope date mismatch")
    headers = {name: value for name, value in handler.headers.items() if name.lower() in signed}
    request = AWSRequest(method=handler.command, url=f"http://{handler.headers['Host']}{handler.path}", data=body, headers=headers)
    request.context["timestamp"] = amz_date
    auth = OnlySignedHeaders(Credentials(args.access_key, args.secret_key), args.region, signed)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if expected != match["signature"]:
        raise Refused(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")


def check_call(payload):
    if not isinstance(payload, dict):
        raise Refused(400, "ValidationException", "body is not an object")
    destination = payload.get("DestinationPhoneNumber")
    if not isinstance(destination, str) or not E164.match(destination):
        raise Refused(400, "ValidationException", "DestinationPhoneNumber")
    origin = payload.get("OriginationIdentity")
    if not isinstance(origin, str) or not (E164.match(origin) or origin.startswith("arn:aws:sms-voice:") or origin.startswith("pool-")):
        raise Refused(400, "ValidationException", "OriginationIdentity")
    text = payload.get("MessageBody")
    if not isinstance(text, str) or not 1 <= len(text) <= 6000:
        raise Refused(400, "ValidationException", "MessageBody")
    if payload.get("MessageBodyTextType", "TEXT") not in ("TEXT", "SSML"):
        raise Refused(400, "ValidationException", "MessageBodyTextType")


def handler_for(args, lock):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            record = {"accepted": False, "reason": None, "target": self.headers.get("X-Amz-Target"), "body": None}
            try:
                if self.path != "/" or self.headers.get("Content-Type") != "application/x-amz-json-1.0":
                    raise Refused(400, "SerializationException", f"{self.path} {self.headers.get('Content-Type')}")
                if record["target"] != TARGET:
                    raise Refused(400, "UnknownOperationException", f"target {record['target']}")
                check_signature(self, body, args)
                try:
                    record["body"] = json.loads(body)
                except ValueError:
                    raise Refused(400, "SerializationException", "body is not JSON")
                check_call(record["body"])
                record["accepted"] = True
                self.answer(200, {"MessageId": str(uuid.uuid4())})
            except Refused as refused:
                record["reason"] = f"{refused.kind}: {refused.message}"
                self.answer(refused.status, {"__type": refused.kind, "message": refused.message})
            line = json.dumps(record, ensure_ascii=False)
            with lock:
                print(line, flush=True)
                if args.out:
                    with open(args.out, "a", encoding="utf-8") as f:
                        f.write(line + "\n")

        def answer(self, status, payload):
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            if status != 200:
                self.send_header("x-amzn-ErrorType", payload["__type"])
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), handler_for(args, threading.Lock()))
    print(f"PORT {server.server_address[1]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
