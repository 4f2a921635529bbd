"""Accounts, roles and scope: who may adjust a forecast, set thresholds, issue a warning, or train the model.

An accounts file (YAML, ``config/accounts.yaml`` or ``LANTIAN_ACCOUNTS``) holds password hashes only::

    accounts:
      wang:
        name_zh: 王某（包头市生态环境局值班）
        role: officer            # viewer | consultant | officer | admin (rights: response/data/roles.yaml)
        tier: city               # officers: region | city | county — the tier of the plans they act for
        area: baotou             # officers: their area (a region officer: the region and its zones)
        password_hash: "bcrypt-sha256$2b$12$…"

Rights per role are data (``response/data/roles.yaml``). An officer issues only for its own tier and area, as the
three-tier plans assign the decision (自治区 – 盟市 – 旗县): a city officer for its league/city, a county officer for
its banner/county, a regional officer for the region-tier warnings (the region and its zones). :func:`authorize` is
the one check, called by the library function that records a decision (:func:`response.lifecycle.decision_event`)
as well as by the pages.

Passwords: new hashes (``lantian accounts add``) are bcrypt over the base64 SHA-256 of the password
(``bcrypt-sha256$…``, as passlib's ``bcrypt_sha256``), so a password of any length works (bcrypt alone takes
72 bytes — 24 Chinese characters); the older ``password_bcrypt`` field (bcrypt of the password) is still read.
A login for an unknown user checks a dummy hash, so the answer takes as long as for a known one. Failed logins
are recorded (``<workspace>/logins.jsonl``) and a user with :data:`MAX_FAILURES` failures within
:data:`WINDOW` is locked out for :data:`LOCKOUT`. The demo accounts (password ``lantian-demo``) work only on a
simulated demo world: :func:`demo_accounts` finds them, the app refuses to start with them on real data.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import yaml

from forecast import workspace
from forecast.tables import load_yaml

from .sanitize import plain

DATA_DIR = Path(__file__).parent / "data"
ROLES_FILE = DATA_DIR / "roles.yaml"
TIERS = ("region", "city", "county")
RIGHTS = ("adjust", "set_thresholds", "issue", "train")
#: the demo accounts' password (config/accounts.yaml); refused on anything but a simulated demo world
DEMO_PASSWORD = "lantian-demo"
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
#: a session ends this long after the login, or after this long without use
SESSION_MAX = timedelta(hours=12)
SESSION_IDLE = timedelta(minutes=30)
LOG_FILE = "logins.jsonl"
_SHA_PREFIX = "bcrypt-sha256$"
_MAX_USER = 64


class AccountError(ValueError):
    """A malformed accounts file or account record (names the file and the account)."""


class LoginError(ValueError):
    """A login that did not succeed (wrong user or password — never which — or a locked account)."""


class PermissionDenied(ValueError):
    """An account without the right, or outside its scope, for what it tried (names both)."""


@lru_cache(maxsize=4)
def _roles(path: str) -> dict:
    doc = load_yaml(Path(path).read_text(encoding="utf-8")) or {}
    roles = doc.get("roles") or {}
    for role, rights in roles.items():
        unknown = sorted(set(rights or []) - set(RIGHTS))
        if unknown:
            raise AccountError(f"{path}: role {role!r} has unknown rights {unknown}; allowed: {', '.join(RIGHTS)}")
    return {k: frozenset(v or []) for k, v in roles.items()}


def roles(path: str | Path | None = None) -> dict[str, frozenset]:
    """Role → rights (``response/data/roles.yaml``)."""
    return _roles(str(path or ROLES_FILE))


@dataclass(frozen=True)
class Account:
    """A logged-in account: login id, display name, role, and (officers) tier and area."""

    user: str
    name_zh: str
    role: str
    tier: str | None = None
    area: str | None = None

    def can(self, right: str) -> bool:
        return right in roles().get(self.role, frozenset())

    def describe(self) -> str:
        scope = f", {self.tier} {self.area}" if self.tier else ""
        return f"{self.name_zh} ({self.user}, {self.role}{scope})"


def _check_record(path, user, rec) -> None:
    if not isinstance(rec, dict):
        raise AccountError(f"{path}: account {user!r} must be a mapping")
    if not str(rec.get("password_hash", "")).startswith(_SHA_PREFIX) and \
            not str(rec.get("password_bcrypt", "")).startswith("$2"):
        raise AccountError(f"{path}: account {user!r} has no bcrypt hash (password_hash or password_bcrypt); "
                           "create it with `lantian accounts add`")
    role = rec.get("role", "viewer")
    if role not in roles():
        raise AccountError(f"{path}: account {user!r} has role {role!r}; allowed: {', '.join(roles())}")
    if role == "officer" or rec.get("tier") is not None:
        if rec.get("tier") not in TIERS:
            raise AccountError(f"{path}: account {user!r} (officer) needs tier in {', '.join(TIERS)}, "
                               f"got {rec.get('tier')!r}")
        if rec["tier"] != "region" and not rec.get("area"):
            raise AccountError(f"{path}: account {user!r} (officer of a {rec['tier']}) needs its area")


def load_accounts(path: str | Path) -> dict:
    """Login id → account record of an accounts file.

    Raises
    ------
    AccountError
        An unreadable file, no ``accounts`` mapping, an account without a hash, an unknown role, an officer
        without tier or area.
    """
    path = Path(path)
    try:
        doc = load_yaml(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AccountError(f"{path}: cannot read the accounts file ({' '.join(str(exc).split())})") from None
    accounts = doc.get("accounts") if isinstance(doc, dict) else None
    if not isinstance(accounts, dict):
        raise AccountError(f"{path}: needs an 'accounts' mapping")
    for user, rec in accounts.items():
        _check_record(path, user, rec)
    return {str(k): v for k, v in accounts.items()}


# ---- passwords ------------------------------------------------------------------------------------------------

def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password: str, *, rounds: int = 12) -> str:
    """A ``bcrypt-sha256$…`` hash of ``password`` (any length).

    Raises
    ------
    AccountError
        A password shorter than 8 characters.
    """
    import bcrypt

    if len(password) < 8:
        raise AccountError("a password needs at least 8 characters")
    return _SHA_PREFIX + bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


_DUMMY: dict = {}


def _dummy_hash(cost: int) -> str:
    """A hash of the same bcrypt cost as the file's accounts (so refusing an unknown user takes as long)."""
    if cost not in _DUMMY:
        import bcrypt

        _DUMMY[cost] = _SHA_PREFIX + bcrypt.hashpw(b"x", bcrypt.gensalt(cost)).decode("ascii")
    return _DUMMY[cost]


def _cost(rec: dict) -> int:
    """The bcrypt cost factor of an account's hash (``$2b$12$…`` → 12)."""
    stored = str(rec.get("password_hash", ""))[len(_SHA_PREFIX):] if "password_hash" in rec \
        else str(rec.get("password_bcrypt", ""))
    try:
        return int(stored.split("$")[2])
    except (IndexError, ValueError):
        return 12


def _matches(rec: dict, password: str) -> bool:
    import bcrypt

    if "password_hash" in rec:
        stored = str(rec["password_hash"])[len(_SHA_PREFIX):].encode("ascii")
        return bcrypt.checkpw(_prehash(password), stored)
    raw = password.encode("utf-8")[:72]  # what bcrypt itself used of a longer password when the hash was made
    return bcrypt.checkpw(raw, str(rec["password_bcrypt"]).encode("ascii"))


def check_password(accounts: dict, user: str, password: str) -> dict | None:
    """The account record (with ``user``) when ``password`` matches, else ``None``; an unknown user costs the same
    time as a known one (a dummy hash is checked)."""
    rec = accounts.get(user)
    if rec is None:
        costs = sorted(_cost(r) for r in accounts.values()) or [12]
        _matches({"password_hash": _dummy_hash(costs[len(costs) // 2])}, password or "")
        return None
    if not password:
        return None
    return {"user": user, **rec} if _matches(rec, password) else None


def account_of(rec: dict) -> Account:
    return Account(user=str(rec["user"]), name_zh=str(rec.get("name_zh") or rec["user"]),
                   role=str(rec.get("role", "viewer")), tier=rec.get("tier"), area=rec.get("area"))


# ---- logins: record, lockout ---------------------------------------------------------------------------------

def _log_path(workspace_dir) -> Path:
    return Path(workspace_dir) / LOG_FILE


def _attempts(workspace_dir) -> list[dict]:
    """The recorded logins (a damaged line — a write cut short — is skipped: :func:`forecast.workspace.read_jsonl`)."""
    records, _ = workspace.read_jsonl(_log_path(workspace_dir))
    return [rec for _, rec in records]


def locked_until(workspace_dir, user: str, *, now: datetime | None = None) -> datetime | None:
    """When the lockout of ``user`` ends, or ``None`` when it is not locked out."""
    now = now or datetime.now(timezone.utc)
    mine = [a for a in _attempts(workspace_dir) if a.get("user") == user]
    fails = [datetime.fromisoformat(a["at"]) for a in mine if not a.get("ok")]
    last_ok = [datetime.fromisoformat(a["at"]) for a in mine if a.get("ok")]
    since = max(last_ok) if last_ok else None
    recent = sorted(f for f in fails if f > now - WINDOW - LOCKOUT and (since is None or f > since))
    # locked when MAX_FAILURES failures fall within WINDOW; until LOCKOUT after the last of them
    for i in range(len(recent) - MAX_FAILURES + 1):
        if recent[i + MAX_FAILURES - 1] - recent[i] <= WINDOW:
            until = recent[-1] + LOCKOUT
            if until > now:
                return until
    return None


def _record(workspace_dir, user: str, ok: bool, reason: str, now: datetime) -> None:
    path = _log_path(workspace_dir)
    new = not path.exists()
    workspace.append_line(path, json.dumps({"at": now.isoformat(timespec="seconds"), "user": user, "ok": ok,
                                            "reason": reason}, ensure_ascii=False))
    if new:
        os.chmod(path, 0o600)  # who tried to log in when: for the administrators only


def login(accounts: dict, user: str, password: str, *, workspace_dir, now: datetime | None = None) -> Account:
    """Check a login, record it, and return the account.

    Raises
    ------
    LoginError
        Wrong user or password (the message never says which), or a user locked out after
        :data:`MAX_FAILURES` failures within :data:`WINDOW` (the message says until when).
    """
    now = now or datetime.now(timezone.utc)
    user = plain(user).strip()[:_MAX_USER]
    until = locked_until(workspace_dir, user, now=now)
    if until is not None:
        _record(workspace_dir, user, False, "locked", now)
        raise LoginError(f"too many failed logins for this user: locked until {until.astimezone().strftime('%H:%M')}"
                         " / 登录失败次数过多，暂时锁定")
    rec = check_password(accounts, user, password or "")
    if rec is None:
        _record(workspace_dir, user, False, "wrong user or password", now)
        raise LoginError("wrong user or password / 用户名或密码错误")
    _record(workspace_dir, user, True, "", now)
    return account_of(rec)


def session_valid(logged_in_at: datetime, last_seen: datetime, *, now: datetime | None = None) -> bool:
    """Whether a session is still valid (:data:`SESSION_MAX` since the login, :data:`SESSION_IDLE` since use)."""
    now = now or datetime.now(timezone.utc)
    return now - logged_in_at <= SESSION_MAX and now - last_seen <= SESSION_IDLE


# ---- rights and scope ----------------------------------------------------------------------------------------

def authorize(account: Account | None, right: str, *, area_id: str | None = None, tier: str | None = None) -> None:
    """Refuse unless ``account`` has ``right`` (and, to issue, the area and tier are its own).

    Raises
    ------
    PermissionDenied
        No account (not logged in), a role without the right, or an issue outside the officer's tier and area.
    """
    if right not in RIGHTS:
        raise ValueError(f"unknown right {right!r}; allowed: {', '.join(RIGHTS)}")
    if account is None:
        raise PermissionDenied(f"{right}: log in first / 请先登录")
    if not account.can(right):
        raise PermissionDenied(f"{account.describe()} may not {right} (role {account.role} has "
                               f"{', '.join(sorted(roles().get(account.role, []))) or 'no rights'}) / 无此权限")
    if right == "issue":
        if tier != account.tier:
            raise PermissionDenied(f"{account.describe()} issues {account.tier}-tier warnings only, not a {tier}-tier "
                                   "one / 只能发布本级预警")
        if account.tier != "region" and area_id != account.area:
            raise PermissionDenied(f"{account.describe()} issues for {account.area} only, not {area_id} "
                                   "/ 只能发布本地区预警")


# ---- the demo accounts ---------------------------------------------------------------------------------------

def demo_accounts(accounts: dict) -> list[str]:
    """The accounts whose password is the demo password (they must not be used on real data)."""
    return [u for u, rec in accounts.items() if _matches(rec, DEMO_PASSWORD)]


# ---- writing an accounts file ----------------------------------------------------------------------------------

def add_account(path: str | Path, user: str, password: str, *, name_zh: str, role: str, tier: str | None = None,
                area: str | None = None, replace: bool = False) -> Path:
    """Add (or with ``replace`` update) an account in an accounts file, atomically; the password is hashed.

    Raises
    ------
    AccountError
        A bad login id, an existing account without ``replace``, an unknown role/tier, a short password, or an
        accounts file that cannot be read.
    """
    path = Path(path)
    user = str(user)
    if not user or len(user) > _MAX_USER or plain(user) != user or any(c.isspace() for c in user):
        raise AccountError(f"login id {user!r}: 1–{_MAX_USER} characters, no spaces or control characters")
    doc = {"accounts": {}}
    if path.exists():
        load_accounts(path)  # refuses a damaged file before anything is written
        doc = load_yaml(path.read_text(encoding="utf-8"))
    if user in doc["accounts"] and not replace:
        raise AccountError(f"{path}: account {user!r} exists (use --replace to change it)")
    rec = {"name_zh": plain(name_zh) or user, "role": role, **({"tier": tier} if tier else {}),
           **({"area": area} if area else {}), "password_hash": hash_password(password)}
    _check_record(path, user, rec)
    doc["accounts"][user] = rec
    tmp = path.with_name(f".{path.name}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path
