"""Duty-officer accounts: a YAML file of bcrypt password hashes (no plain passwords anywhere)."""
from __future__ import annotations

from pathlib import Path

import yaml


class AccountError(ValueError):
    """A malformed accounts file."""


def load_accounts(path: str | Path) -> dict:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AccountError(f"{path}: cannot read the accounts file ({exc})") from None
    accounts = doc.get("accounts")
    if not isinstance(accounts, dict):
        raise AccountError(f"{path}: needs an 'accounts' mapping")
    for user, rec in accounts.items():
        if not str(rec.get("password_bcrypt", "")).startswith("$2"):
            raise AccountError(f"{path}: account {user!r} has no bcrypt hash (password_bcrypt)")
    return accounts


def check_password(accounts: dict, user: str, password: str) -> dict | None:
    """The account record when ``password`` matches the user's bcrypt hash, else ``None``."""
    import bcrypt

    rec = accounts.get(user)
    if rec is None or not password:
        return None
    ok = bcrypt.checkpw(password.encode("utf-8"), str(rec["password_bcrypt"]).encode("ascii"))
    return {"user": user, **rec} if ok else None
