"""Accounts: hashes only, roles and scope, logins recorded and locked out, demo accounts, any password length."""
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from response import accounts
from response.accounts import Account, AccountError, LoginError, PermissionDenied, authorize

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "accounts.yaml"


def test_demo_accounts_and_their_scope():
    acc = accounts.load_accounts(SHIPPED)
    duty = accounts.account_of(accounts.check_password(acc, "duty", "lantian-demo"))
    assert duty == Account("duty", "包头市值班员（演示）", "officer", "city", "baotou")
    assert accounts.check_password(acc, "duty", "lantian-Demo") is None
    assert accounts.check_password(acc, "nobody", "lantian-demo") is None
    assert accounts.check_password(acc, "duty", "") is None
    assert set(accounts.demo_accounts(acc)) == set(acc)  # every shipped account is a demo account


def test_malformed_files_refused(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text("accounts:\n  x: {password_bcrypt: secret}\n")
    with pytest.raises(AccountError, match="no bcrypt hash"):
        accounts.load_accounts(p)
    with pytest.raises(AccountError, match="cannot read"):
        accounts.load_accounts(tmp_path / "none.yaml")
    h = accounts.hash_password("long enough", rounds=4)
    p.write_text(f"accounts:\n  x: {{role: boss, password_hash: '{h}'}}\n")
    with pytest.raises(AccountError, match="role 'boss'; allowed: viewer, consultant, officer, admin"):
        accounts.load_accounts(p)
    p.write_text(f"accounts:\n  x: {{role: officer, tier: city, password_hash: '{h}'}}\n")
    with pytest.raises(AccountError, match="needs its area"):
        accounts.load_accounts(p)


def test_add_account_hashes_any_password_length(tmp_path):
    path = tmp_path / "acc.yaml"
    long_zh = "内蒙古自治区生态环境厅重污染天气应急值班密码非常长" * 2  # 50 characters, 150 bytes > bcrypt's 72
    accounts.add_account(path, "wang", long_zh, name_zh="王某", role="officer", tier="city", area="baotou")
    text = path.read_text(encoding="utf-8")
    assert long_zh not in text and "bcrypt-sha256$" in text and oct(path.stat().st_mode)[-3:] == "600"
    acc = accounts.load_accounts(path)
    assert accounts.check_password(acc, "wang", long_zh)["area"] == "baotou"
    assert accounts.check_password(acc, "wang", long_zh[:-1]) is None  # the 150th byte counts
    with pytest.raises(AccountError, match="exists"):
        accounts.add_account(path, "wang", "another password", name_zh="王某", role="viewer")
    with pytest.raises(AccountError, match="at least 8 characters"):
        accounts.add_account(path, "li", "short", name_zh="李某", role="viewer")
    with pytest.raises(AccountError, match="no spaces or control characters"):
        accounts.add_account(path, "li\x0b", "long enough", name_zh="李某", role="viewer")


def test_a_long_password_against_an_old_bcrypt_hash_does_not_crash():
    import bcrypt

    rec = {"password_bcrypt": bcrypt.hashpw(("长" * 24).encode(), bcrypt.gensalt(4)).decode()}
    assert accounts.check_password({"u": rec}, "u", "长" * 30) is not None  # bcrypt used the first 72 bytes


def test_unknown_users_take_as_long_as_known_ones():
    acc = accounts.load_accounts(SHIPPED)
    accounts.check_password(acc, "nobody", "x")  # the dummy hash is made once

    def timed(user):
        t = time.perf_counter()
        for _ in range(3):
            accounts.check_password(acc, user, "wrong password")
        return time.perf_counter() - t
    known, unknown = timed("duty"), timed("nobody")
    assert 0.3 < unknown / known < 3  # was 1/100,000: an unknown user answered without hashing


def test_failed_logins_are_recorded_and_lock_the_user_out(tmp_path):
    acc = accounts.load_accounts(SHIPPED)
    t0 = datetime(2025, 1, 5, 8, 0, tzinfo=timezone.utc)
    for i in range(accounts.MAX_FAILURES):
        with pytest.raises(LoginError, match="wrong user or password"):
            accounts.login(acc, "duty", f"guess{i}", workspace_dir=tmp_path, now=t0 + timedelta(seconds=i))
    # the right password no longer works while locked out
    with pytest.raises(LoginError, match="locked until"):
        accounts.login(acc, "duty", "lantian-demo", workspace_dir=tmp_path, now=t0 + timedelta(minutes=1))
    # another user is not affected; after the lockout the right password works again
    assert accounts.login(acc, "hohhot", "lantian-demo", workspace_dir=tmp_path, now=t0).user == "hohhot"
    later = t0 + accounts.LOCKOUT + timedelta(minutes=2)
    assert accounts.login(acc, "duty", "lantian-demo", workspace_dir=tmp_path, now=later).area == "baotou"
    log = (tmp_path / accounts.LOG_FILE).read_text().splitlines()
    assert len(log) == accounts.MAX_FAILURES + 3 and '"reason": "locked"' in log[accounts.MAX_FAILURES]


def test_sessions_expire():
    t0 = datetime(2025, 1, 5, 8, 0, tzinfo=timezone.utc)
    assert accounts.session_valid(t0, t0 + timedelta(minutes=20), now=t0 + timedelta(minutes=40))
    assert not accounts.session_valid(t0, t0 + timedelta(minutes=5), now=t0 + timedelta(minutes=40))  # idle
    assert not accounts.session_valid(t0, t0 + timedelta(hours=12, minutes=30),
                                      now=t0 + timedelta(hours=12, minutes=31))  # too long


@pytest.mark.parametrize("role, right, allowed", [
    ("viewer", "adjust", False), ("consultant", "adjust", True), ("officer", "adjust", True),
    ("consultant", "set_thresholds", True), ("officer", "set_thresholds", False),
    ("officer", "train", False), ("admin", "train", True), ("admin", "issue", False),
])
def test_rights_by_role(role, right, allowed):
    a = Account("u", "某", role, "city" if role == "officer" else None, "baotou" if role == "officer" else None)
    if allowed:
        authorize(a, right)
    else:
        with pytest.raises(PermissionDenied, match=f"may not {right}"):
            authorize(a, right)


def test_region_officer_issues_region_tier_warnings():
    r = Account("r", "自治区值班", "officer", "region")
    authorize(r, "issue", area_id="west_zone", tier="region")
    with pytest.raises(PermissionDenied, match="region-tier warnings only"):
        authorize(r, "issue", area_id="baotou", tier="city")
    with pytest.raises(PermissionDenied, match="log in first"):
        authorize(None, "adjust")


def test_unknown_users_cost_as_much_as_the_files_real_accounts():
    acc = {"wang": {"role": "viewer", "password_hash": accounts.hash_password("a real password", rounds=12)}}
    accounts.check_password(acc, "nobody", "x")

    def timed(user):
        t = time.perf_counter()
        accounts.check_password(acc, user, "wrong password")
        return time.perf_counter() - t
    assert 0.5 < timed("nobody") / timed("wang") < 2  # the dummy hash has the accounts' cost (12), not a cheaper one
