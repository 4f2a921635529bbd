"""Telling the duty team: e-mail over SMTP and a webhook (a JSON POST), each target's outcome recorded.

The daily cycle (``lantian cycle``, :mod:`lantian.cycle`) sends one :class:`Message` to every configured target
and keeps what :func:`send` returns in its status record; a target that fails (a refused connection, a timeout, an
HTTP error, a rejected recipient) is one entry with its error, never an exception: a notification failure never
aborts the cycle.

Why the standard library (``smtplib``, ``urllib``) and not apprise: apprise's ``notify()`` answers one boolean for
all targets and reports the reasons through logging, whereas the status page must show each target's outcome and
error; its ``json://`` target posts its own fixed payload (``version, title, message, type``), whereas a duty
team's system wants the cycle's structured record (levels, changes, degraded checks); and it would be a new
dependency (with requests, click, markdown) for two protocols the standard library speaks in about 60 lines. The
tests run both against servers on loopback.

Targets (``config/cycle.yaml``, ``notify``)::

    email:   {host, port (25), starttls (false), ssl (false), username, password_env, from, to: [..]}
    webhook: {url, headers: {..}}

A password is never in the file: ``password_env`` names the environment variable holding it.
"""
from __future__ import annotations

import json
import os
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

#: seconds a target may take before it counts as failed
TIMEOUT = 10.0
#: the target kinds
KINDS = ("email", "webhook")
EMAIL_KEYS = {"host", "port", "starttls", "ssl", "username", "password_env", "from", "to"}
WEBHOOK_KEYS = {"url", "headers"}


class NotifyConfigError(ValueError):
    """A target that cannot be used (a missing or unknown key, a bad port or URL); names the key and the allowed."""


@dataclass
class Message:
    """One notification: a subject line, a plain-text body and the structured record a webhook posts."""

    subject: str
    body: str
    payload: dict = field(default_factory=dict)


def check_targets(targets: dict | None) -> dict:
    """The notification targets of a configuration checked (``{"email": {...}, "webhook": {...}}``, either
    optional); returns them with defaults filled.

    Raises
    ------
    NotifyConfigError
        An unknown kind or key, a missing ``host``/``from``/``to``/``url``, a port outside 1 … 65535, a URL that is
        not http(s).
    """
    targets = targets or {}
    if not isinstance(targets, dict):
        raise NotifyConfigError(f"notify targets: expected a mapping of {', '.join(KINDS)}, got {targets!r}")
    out = {}
    for kind, spec in targets.items():
        if kind not in KINDS:
            raise NotifyConfigError(f"notify: unknown target {kind!r}; allowed: {', '.join(KINDS)}")
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise NotifyConfigError(f"notify.{kind}: expected a mapping, got {spec!r}")
        allowed = EMAIL_KEYS if kind == "email" else WEBHOOK_KEYS
        bad = sorted(set(spec) - allowed)
        if bad:
            raise NotifyConfigError(f"notify.{kind}: unknown key(s) {', '.join(bad)}; allowed: "
                                    f"{', '.join(sorted(allowed))}")
        if kind == "email":
            spec = {"port": 25, "starttls": False, "ssl": False, "username": None, "password_env": None, **spec}
            for key in ("host", "from", "to"):
                if not spec.get(key):
                    raise NotifyConfigError(f"notify.email.{key}: missing (needs host, from and to)")
            if isinstance(spec["to"], str):
                spec["to"] = [spec["to"]]
            if not isinstance(spec["to"], list) or not all(isinstance(a, str) and "@" in a for a in spec["to"]):
                raise NotifyConfigError(f"notify.email.to: {spec['to']!r} is not a list of e-mail addresses")
            port = spec["port"]
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
                raise NotifyConfigError(f"notify.email.port: {port!r} is not a port (1 … 65535)")
        else:
            url = spec.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                raise NotifyConfigError(f"notify.webhook.url: {url!r} is not an http:// or https:// URL")
            headers = spec.get("headers") or {}
            if not isinstance(headers, dict):
                raise NotifyConfigError(f"notify.webhook.headers: expected a mapping, got {headers!r}")
            spec = {"url": url, "headers": {str(k): str(v) for k, v in headers.items()}}
        out[kind] = spec
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def send_email(message: Message, spec: dict, *, timeout: float = TIMEOUT) -> None:
    """Send ``message`` as a UTF-8 plain-text e-mail (``spec``: :func:`check_targets`' ``email``); raises the
    ``smtplib``/``OSError`` of a failure."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = spec["from"]
    mail["To"] = ", ".join(spec["to"])
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain="lantian")
    mail.set_content(message.body, charset="utf-8")
    cls = smtplib.SMTP_SSL if spec.get("ssl") else smtplib.SMTP
    with cls(spec["host"], spec["port"], timeout=timeout) as smtp:
        if spec.get("starttls"):
            smtp.starttls(context=ssl.create_default_context())
        if spec.get("username"):
            password = os.environ.get(spec.get("password_env") or "", "")
            smtp.login(spec["username"], password)
        refused = smtp.send_message(mail)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)


def send_webhook(message: Message, spec: dict, *, timeout: float = TIMEOUT) -> int:
    """POST ``{"subject", "text", **payload}`` as JSON (UTF-8) to ``spec["url"]``; returns the HTTP status, raises
    on a status ≥ 400 or a connection failure."""
    body = json.dumps({"subject": message.subject, "text": message.body, **message.payload}, ensure_ascii=False,
                      default=str).encode("utf-8")
    req = urllib.request.Request(spec["url"], data=body, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8",
                                          "User-Agent": "lantian-cycle", **spec.get("headers", {})})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http(s) checked in check_targets)
        return int(resp.status)


def _describe(kind: str, spec: dict) -> str:
    if kind == "email":
        return f"{', '.join(spec['to'])} ({spec['host']}:{spec['port']})"
    return spec["url"]


def send(message: Message, targets: dict, *, timeout: float = TIMEOUT) -> list[dict]:
    """Send ``message`` to every target; never raises for a target's failure.

    Returns
    -------
    list of dict
        Per target: ``kind``, ``target`` (where to, without secrets), ``ok``, ``error`` (one line or ``None``),
        ``sent_at`` (UTC, ISO) and, for a webhook, ``status`` (HTTP).
    """
    results = []
    for kind, spec in check_targets(targets).items():
        rec = {"kind": kind, "target": _describe(kind, spec), "ok": False, "error": None, "sent_at": _now()}
        try:
            if kind == "email":
                send_email(message, spec, timeout=timeout)
            else:
                rec["status"] = send_webhook(message, spec, timeout=timeout)
            rec["ok"] = True
        except urllib.error.HTTPError as exc:
            rec["status"] = exc.code
            rec["error"] = f"HTTP {exc.code} {exc.reason}"
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            rec["error"] = " ".join(f"{type(exc).__name__}: {exc}".split())
        results.append(rec)
    return results
