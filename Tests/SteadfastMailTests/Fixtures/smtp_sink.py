#!/usr/bin/env python3
"""A real SMTP server for Steadfast's tests (aiosmtpd) on 127.0.0.1.

Every accepted message is written to DIR/received/<n>.eml (written to a temporary name, then
renamed, so a reader never sees half a file). Every DATA attempt is appended to DIR/attempts.log
as "<code> <message-id>". Modes:
  accept        250 for every message
  tempfail:N    451 for the first N DATA attempts, then 250
  reject        550 for every message
--hold FILE: while FILE exists, the reply to DATA is held back (after the message was
recorded), so a test can kill the sender mid-delivery; SIGUSR1 says FILE was removed.
--auth USER:PASS: require AUTH (PLAIN or LOGIN) with these credentials.
--tls CERT:KEY: offer STARTTLS with this certificate, and require it before MAIL/AUTH.
DIR/ready is created once the server listens.
"""
import argparse, asyncio, email, os, signal, sys, threading, time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--dir", required=True)
parser.add_argument("--mode", default="accept")
parser.add_argument("--hold", default=None)
parser.add_argument("--auth", default=None)
parser.add_argument("--tls", default=None, help="CERT:KEY: offer STARTTLS with this certificate and require it")
args = parser.parse_args()

received = os.path.join(args.dir, "received")
os.makedirs(received, exist_ok=True)
lock = threading.Lock()
state = {"attempts": 0, "count": 0}
# Set (on the server's event loop) when SIGUSR1 says the hold file may be gone.
released = asyncio.Event()


def message_id(raw):
    try:
        return email.message_from_bytes(raw).get("Message-ID", "-").strip()
    except Exception:
        return "-"


class Handler:
    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        mid = message_id(raw)
        with lock:
            state["attempts"] += 1
            attempt = state["attempts"]
        code = "250 OK"
        if args.mode == "reject":
            code = "550 5.7.1 rejected by the test server"
        elif args.mode.startswith("tempfail:") and attempt <= int(args.mode.split(":")[1]):
            code = "451 4.3.0 try again later"
        if code.startswith("250"):
            with lock:
                state["count"] += 1
                n = state["count"]
            tmp = os.path.join(received, ".%d.tmp" % n)
            with open(tmp, "wb") as f:
                f.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
                f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
                f.write(raw)
            os.rename(tmp, os.path.join(received, "%d.eml" % n))
        with open(os.path.join(args.dir, "attempts.log"), "a") as f:
            f.write("%s %s\n" % (code.split(" ")[0], mid))
        # Held until the hold file is gone; release() removes it and sends SIGUSR1.
        while args.hold:
            released.clear()
            if not os.path.exists(args.hold):
                break
            await released.wait()
        return code


def authenticator(server, session, envelope, mechanism, auth_data):
    user, password = args.auth.split(":", 1)
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False)


kwargs = {}
if args.auth:
    kwargs.update(authenticator=authenticator, auth_require_tls=bool(args.tls), auth_required=True)
if args.tls:
    import ssl
    cert, key = args.tls.split(":", 1)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    kwargs.update(tls_context=context, require_starttls=True)
# A child of a Swift process may start with signals blocked (see Spawn.swift); before any
# thread starts, unblock the ones this server acts on.
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1])
controller = Controller(Handler(), hostname="127.0.0.1", port=args.port, **kwargs)
controller.start()
open(os.path.join(args.dir, "ready"), "w").close()
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
signal.signal(signal.SIGUSR1, lambda *_: controller.loop.call_soon_threadsafe(released.set))
stop.wait()
controller.stop()
