"""A real SMTP server on loopback that records every mail it receives.

Usage: smtp_receiver.py [--host 127.0.0.1] [--port 0] [--out FILE]
                        [--tls none|starttls|implicit --cert PEM --key PEM]

Prints `PORT <n>` on stdout once it listens (port 0 picks a free one), then
one JSON line per mail received, on stdout and appended to FILE if given:
  {"from": ..., "to": [...], "subject": ..., "body": ..., "headers": {...},
   "tls": "TLSv1.3" or null}
No authentication. --tls none (the default) is plain SMTP, the server side of
COC_SMTP_TLS=none; starttls offers STARTTLS and refuses MAIL before it
(530), the server side of COC_SMTP_TLS=starttls; implicit speaks TLS from the
first byte, as on port 465 (COC_SMTP_TLS=tls). Both present --cert (the chain,
PEM) with --key.
Stops on SIGTERM or SIGINT.
"""

import argparse
import asyncio
import email
import email.policy
import json
import signal
import ssl

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
            "tls": tls_version(server.transport),
        }
        line = json.dumps(record, ensure_ascii=False)
        print(line, flush=True)
        if self.out:
            with open(self.out, "a", encoding="utf-8") as f:
                f.write(line + "\n")
        return "250 Message accepted for delivery"


def tls_version(transport):
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    return ssl_object.version() if ssl_object is not None else None


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--out")
    parser.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    context = None
    if args.tls != "none":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    loop = asyncio.get_running_loop()
    recorder = Recorder(args.out)
    if args.tls == "starttls":
        factory = lambda: SMTP(recorder, hostname="receiver.test", tls_context=context, require_starttls=True)
        server = await loop.create_server(factory, args.host, args.port)
    else:
        factory = lambda: SMTP(recorder, hostname="receiver.test")
        server = await loop.create_server(factory, args.host, args.port, ssl=context)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
