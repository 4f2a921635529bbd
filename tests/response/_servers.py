"""Servers on loopback for the notification tests: an SMTP sink (socketserver, no dependency) and an HTTP server
that records JSON POSTs. Both listen on 127.0.0.1 at an ephemeral port and run in a thread."""
from __future__ import annotations

import contextlib
import email
import email.policy
import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def _reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        server = self.server
        self._reply("220 sink ESMTP")
        mail_from, rcpts = None, []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            cmd = raw.decode("utf-8", "replace").strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._reply("250-sink")
                self._reply("250 8BITMIME")
            elif verb == "HELO":
                self._reply("250 sink")
            elif verb == "MAIL":
                mail_from, rcpts = cmd.split(":", 1)[1].strip(), []
                self._reply("250 OK")
            elif verb == "RCPT":
                addr = cmd.split(":", 1)[1].strip().strip("<>")
                if addr in server.refuse:
                    self._reply("550 no such user")
                else:
                    rcpts.append(addr)
                    self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 end with .")
                lines = []
                while True:
                    line = self.rfile.readline()
                    if line in (b".\r\n", b".\n", b""):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                msg = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
                server.messages.append({"from": mail_from, "to": rcpts, "message": msg})
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("502 not implemented")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextlib.contextmanager
def _serving(server):
    """``server`` answering on a daemon thread until the block ends, then shut down and closed."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def smtp_sink(refuse=()):
    """An SMTP server on 127.0.0.1; yields it (``.port``, ``.messages``: dicts with ``from``, ``to``, ``message``)."""
    server = _SMTPServer(("127.0.0.1", 0), _SMTPHandler)
    server.messages, server.refuse, server.port = [], set(refuse), server.server_address[1]
    with _serving(server):
        yield server


class _HookHandler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.posts.append({"path": self.path, "headers": dict(self.headers),
                                  "json": json.loads(body.decode("utf-8"))})
        self.send_response(self.server.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def webhook_server(status: int = 200):
    """An HTTP server on 127.0.0.1 answering every POST with ``status``; yields it (``.url``, ``.posts``)."""
    server = HTTPServer(("127.0.0.1", 0), _HookHandler)
    server.posts, server.status = [], status
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    with _serving(server):
        yield server
