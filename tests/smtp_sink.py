"""A loopback SMTP server for the notification tests, built on aiosmtpd.

    python smtp_sink.py --port PORT --dir DIR [--delay SECONDS]

Every accepted message becomes one JSON file in DIR (written whole, then
renamed into place) with the envelope and the decoded headers and bodies.
While a file named REJECT exists in DIR, every recipient is refused with
"550" (a permanent failure). --delay holds each DATA that long before
accepting it, so a test can stop a worker mid-delivery.

Prints "ready" once it accepts connections. Exits on SIGTERM, SIGINT, or
when its standard input closes (the test that started it has gone).
"""

import argparse
import asyncio
import email
import email.policy
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out, delay):
        self.out = out
        self.delay = delay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if os.path.exists(os.path.join(self.out, "REJECT")):
            return "550 5.1.1 Mailbox unavailable (rejected by the test)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)

        def body(kind):
            part = msg.get_body(preferencelist=(kind,))
            return part.get_content() if part is not None else None

        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(msg["from"] or ""),
            "to": str(msg["to"] or ""),
            "subject": str(msg["subject"] or ""),
            "message_id": str(msg["message-id"] or ""),
            "text": body("plain"),
            "html": body("html"),
            "raw": envelope.content.decode("utf-8", "replace"),
        }
        name = f"{time.time_ns()}-{uuid.uuid4().hex}"
        tmp = os.path.join(self.out, name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(tmp, os.path.join(self.out, name + ".json"))
        return "250 Message accepted for delivery"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--delay", type=float, default=0.0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    controller = Controller(Sink(args.dir, args.delay), hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print("ready", flush=True)
    while not stop.wait(0.2):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
