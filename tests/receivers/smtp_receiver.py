"""A real SMTP server on loopback that records every mail it receives.

Usage: smtp_receiver.py [--host 127.0.0.1] [--port 0] [--out FILE]

Prints `PORT <n>` on stdout once it listens (port 0 picks a free one), then
one JSON line per mail received, on stdout and appended to FILE if given:
  {"from": ..., "to": [...], "subject": ..., "body": ..., "headers": {...}}
Plain SMTP without TLS or authentication (the server side of COC_SMTP_TLS=none).
Stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import email
import email.policy
import json
import signal

from aiosmtpd.smtp import SMTP


class Recorder:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(message.get("Subject", "")),
            "body": body.get_content() if body is not None else "",
            "headers": {k: str(v) for k, v in message.items()},
        }
        line = json.dumps(record, ensure_ascii=False)
        print(line, flush=True)
        if self.out:
            with open(self.out, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        return "250 Message accepted for delivery"


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out")
    args = parser.parse_args()
    loop = asyncio.get_running_loop()
    recorder = Recorder(args.out)
    server = await loop.create_server(lambda: SMTP(recorder, hostname="receiver.test"), args.host, args.port)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
