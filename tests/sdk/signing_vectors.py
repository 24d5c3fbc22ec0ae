"""Signatures made by the official SDK's own signer (huaweicloudsdkcore.signer.Signer) over awkward
queries and bodies: the vectors the Rust verifier is tested against, byte for byte.

Regenerate them (after an SDK upgrade, or to add a case) with

    .tools/venv/bin/python tests/sdk/signing_vectors.py > shared/src/auth/testdata/sdk_signing_vectors.json

`AWKWARD_QUERIES` is also what test_signing_sdk.py sends, signed the same way, to a running coc-local.
"""
import hashlib
import json
import os
import sys
import tempfile

# Importing the SDK core writes ~/.huaweicloud/application_id: keep it out of the real home.
os.environ.setdefault("HOME", tempfile.mkdtemp(prefix="coc-sdk-home-"))

from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: E402
from huaweicloudsdkcore.sdk_request import SdkRequest  # noqa: E402
from huaweicloudsdkcore.signer.signer import Signer  # noqa: E402

AK = "EXAMPLEAK0000000000"
SK = "EXAMPLESK00000000000000000000000000000000"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
DATE = "20240101T000000Z"
HOST = "127.0.0.1:9000"

RESERVED = "!*'();:@&=+$,/?#[]"

# (name, the query parameters as the SDK is given them, other spellings of the same query that a
# client which is not the SDK might send). The SDK always sends its canonical query; the other
# spellings must mean the same pairs to a handler and so verify with the same signature.
AWKWARD_QUERIES = [
    ("plus", [("q", "a+b")], ["q=a+b", "q=a%2bb"]),
    ("encoded plus as text", [("q", "a%2Bb")], []),
    ("space", [("q", "a b")], []),
    ("percent-twenty as text", [("q", "%20")], []),
    ("reserved characters in a value", [("q", RESERVED)], ["q=!*'();:@%26%3D+$,/?%23[]"]),
    ("reserved characters in a name", [(RESERVED, "v")], ["!*'();:@%26%3D+$,/?%23[]=v"]),
    ("unicode", [("名前", "é 😀")], ["%e5%90%8d%e5%89%8d=%c3%a9%20%f0%9f%98%80"]),
    ("repeated names in odd orders", [("k", "b"), ("a", "2"), ("k", "a"), ("a", "10"), ("k", "")],
     ["k=b&a=2&k=a&a=10&k", "a=10&k&k=a&a=2&k=b"]),
    ("the same pair twice", [("k", "v"), ("k", "v")], []),
    ("empty value", [("k", "")], ["k", "k="]),
    ("empty name", [("", "v")], ["=v"]),
    ("empty name and value", [("", "")], ["="]),
    ("equals sign in a value", [("k", "a=b")], ["k=a=b"]),
    ("unreserved characters", [("t", "-_.~")], ["t=%2D%5F%2E%7E"]),
    ("booleans and numbers", [("flag", True), ("n", 10)], ["n=10&flag=true"]),
    ("decoded order is not encoded order", [("é", "1"), ("a~", "2"), ("a-b", "3"), ("a%", "4"), ("a b", "5"),
                                           ("a", "6"), ("A", "7"), ("z", "8")], []),
    ("control characters", [("k", "line1\nline2\t")], ["k=line1%0aline2%09"]),
    ("empty pieces between ampersands", [("a", "1"), ("b", "2")], ["&a=1&&b=2&"]),
]

JSON_BODY = '{"name": "vectors", "type": "SHELL", "content": "echo hi"}'

# (name, method, path, content type, body, extra headers): how the body enters the signature.
PAYLOADS = [
    ("json body", "POST", "/v1/job/scripts", "application/json;charset=utf-8", JSON_BODY, {}),
    # Any other content type makes the SDK send (and sign) X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD.
    ("unsigned payload", "POST", "/v1/job/scripts", "text/plain", JSON_BODY, {}),
    ("unsigned payload without a body", "GET", "/v1/job/scripts", "text/plain", "", {}),
    # A caller-set hash of the real body is signed as written (here upper-case).
    ("caller-set body hash", "POST", "/v1/job/scripts", "application/json", JSON_BODY,
     {"X-Sdk-Content-Sha256": hashlib.sha256(JSON_BODY.encode()).hexdigest().upper()}),
    ("encoded path segments", "GET", "/v1/job/scripts/SC%20a%2Bb%C3%A9", "application/json", "", {}),
]


def sign(ak, sk, project_id, host, method, path, query=(), content_type="application/json", body="",
         extra_headers=None, date=None):
    """An SdkRequest signed by the SDK's Signer; its `uri` is what the SDK sends."""
    headers = {"Content-Type": content_type, "X-Project-Id": project_id, **(extra_headers or {})}
    if date:
        headers["X-Sdk-Date"] = date
    request = SdkRequest(method=method, schema="http", host=host, resource_path=path,
                         query_params=list(query), header_params=headers, body=body)
    return Signer(BasicCredentials(ak, sk, project_id)).sign(request)


def _as_sent(value):
    return str(value).lower() if isinstance(value, bool) else str(value)


def vector(name, method, path, query=(), content_type="application/json", body="", extra_headers=None,
           variants=()):
    request = sign(AK, SK, PROJECT_ID, HOST, method, path, query, content_type, body, extra_headers, DATE)
    headers = {k.lower(): v for k, v in request.header_params.items() if k.lower() != "authorization"}
    return {
        "name": name,
        "method": method,
        "uri": request.uri,
        "headers": headers,
        "body": body.decode() if isinstance(body, bytes) else body,
        "authorization": request.header_params["Authorization"],
        "canonical_query": Signer.process_canonical_query_string(request),
        # The decoded pairs in the order sent: what a handler must see.
        "pairs": sorted([k, _as_sent(v)] for k, v in query),
        "variants": list(variants),
    }


def main():
    vectors = [vector(name, "GET", "/v1/job/scripts", query, variants=variants)
               for name, query, variants in AWKWARD_QUERIES]
    vectors += [vector(name, method, path, (), content_type, body, extra)
                for name, method, path, content_type, body, extra in PAYLOADS]
    json.dump({"ak": AK, "sk": SK, "date": DATE, "vectors": vectors}, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
