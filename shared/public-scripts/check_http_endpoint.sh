#!/bin/bash
# Requests url with curl (a bearer token, sensitive, when given; it is handed
# to curl on a pipe, never on its command line) and checks the status code.
# Exit: 0 the expected status, 1 another status or no answer, 2 bad
# parameter, 3 curl is not installed.
set -u
case "$url" in http://* | https://*) ;; *) echo "url must start with http:// or https://, got '$url'" >&2; exit 2 ;; esac
case "$expected_status" in [1-5][0-9][0-9]) ;; *) echo "expected_status must be an HTTP status code, got '$expected_status'" >&2; exit 2 ;; esac
case "$timeout_secs" in '' | *[!0-9]* | 0) echo "timeout_secs must be a whole number of at least 1, got '$timeout_secs'" >&2; exit 2 ;; esac
if ! command -v curl >/dev/null 2>&1; then
    echo "curl is not installed" >&2
    exit 3
fi
headers=/dev/null
if [ -n "$bearer_token" ]; then
    headers=<(printf 'Authorization: Bearer %s\n' "$bearer_token")
fi
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time "$timeout_secs" -H @"$headers" -- "$url")
if [ "$code" = "$expected_status" ]; then
    echo "OK: $url answered $code"
    exit 0
fi
if [ "$code" = 000 ]; then
    echo "PROBLEM: $url did not answer within ${timeout_secs}s"
else
    echo "PROBLEM: $url answered $code, $expected_status expected"
fi
exit 1
