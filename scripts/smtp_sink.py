#!/usr/bin/python3
"""A local SMTP sink: accepts every message and stores it as a file, for development and tests.

Needs aiosmtpd (Debian: python3-aiosmtpd; run with /usr/bin/python3).

    /usr/bin/python3 scripts/smtp_sink.py --port 2525 --dir .data/mail
    /usr/bin/python3 scripts/smtp_sink.py --port 0 --port-file /tmp/port --dir /tmp/mail \
        --starttls cert.pem key.pem --auth 'user:secret'

Options:
    --host H                 listen address (default 127.0.0.1)
    --port N                 listen port; 0 picks a free one (default 2525)
    --port-file F            write the bound port to F (atomically) once listening
    --dir D                  where messages go (default: current directory)
    --starttls CERT KEY      offer STARTTLS with this certificate
    --tls CERT KEY           implicit TLS (SMTPS) with this certificate
    --auth USER:PASS         require AUTH with these credentials (allowed without TLS, for tests)
    --auth-mechanisms LIST   mechanisms to offer with --auth, comma-separated (default PLAIN,LOGIN)

Each message is written atomically as D/<sequence>-<UTC timestamp>.eml, e.g.
000001-20250101T120000.123456Z.eml: an `X-Sink-Mail-From: <sender>` header and one
`X-Sink-Rcpt-To: <recipient>` header per recipient, then the raw message bytes as received
(dot-stuffing removed). Runs until SIGTERM or SIGINT, then exits 0.
"""

import argparse
import asyncio
import datetime
import itertools
import logging
import os
import signal
import ssl
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Store:
    """Writes each delivered message to its own file; a reader never sees a half-written one."""

    def __init__(self, directory):
        self.directory = directory
        self.sequence = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        name = os.path.join(self.directory, f"{next(self.sequence):06d}-{stamp}.eml")
        envelope_headers = [f"X-Sink-Mail-From: <{envelope.mail_from}>\r\n"]
        envelope_headers += [f"X-Sink-Rcpt-To: <{rcpt}>\r\n" for rcpt in envelope.rcpt_tos]
        write_atomically(name, "".join(envelope_headers).encode() + envelope.original_content)
        return "250 2.0.0 Stored"


def write_atomically(path, data):
    temporary = path + ".tmp"
    with open(temporary, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def tls_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def authenticator(credentials):
    user, _, password = credentials.partition(":")
    expected = LoginPassword(user.encode(), password.encode())

    def check(server, session, envelope, mechanism, auth_data):
        # handled=False: let aiosmtpd send its own 535 reply on failure.
        return AuthResult(success=auth_data == expected, handled=False)

    return check


def protocol_factory(args, store):
    options = {"hostname": "smtp-sink"}  # A fixed name: getfqdn() can stall on a machine without DNS.
    if args.starttls:
        options["tls_context"] = tls_context(*args.starttls)
    if args.auth:
        offered = {m.strip().upper() for m in args.auth_mechanisms.split(",")}
        options.update(
            authenticator=authenticator(args.auth),
            auth_required=True,
            auth_require_tls=False,
            auth_exclude_mechanism={"PLAIN", "LOGIN"} - offered,
        )
    return lambda: SMTP(store, **options)


async def serve(args):
    os.makedirs(args.dir, exist_ok=True)
    loop = asyncio.get_running_loop()
    implicit_tls = tls_context(*args.tls) if args.tls else None
    server = await loop.create_server(
        protocol_factory(args, Store(args.dir)), args.host, args.port, ssl=implicit_tls)
    if args.port_file:
        write_atomically(args.port_file, f"{server.sockets[0].getsockname()[1]}\n".encode())
    stop = asyncio.Event()
    # A parent spawning from a thread that blocks signals (a libdispatch worker, say) passes that mask on.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    # --auth without TLS is deliberate here; aiosmtpd warns about it on every connection.
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description="Local SMTP sink (see the module docstring).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--port-file")
    parser.add_argument("--dir", default=".")
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    tls.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth", metavar="USER:PASS")
    parser.add_argument("--auth-mechanisms", default="PLAIN,LOGIN")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
