"""Officer accounts: bcrypt hashes only; wrong passwords and malformed files refused."""
import pytest

from response import accounts


def test_demo_account(tmp_path):
    from pathlib import Path

    acc = accounts.load_accounts(Path(__file__).resolve().parents[2] / "config" / "accounts.yaml")
    assert accounts.check_password(acc, "duty", "lantian-demo")["name_zh"] == "值班员（演示）"
    assert accounts.check_password(acc, "duty", "lantian-Demo") is None
    assert accounts.check_password(acc, "nobody", "lantian-demo") is None
    assert accounts.check_password(acc, "duty", "") is None


def test_plain_password_refused(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text("accounts:\n  x: {password_bcrypt: secret}\n")
    with pytest.raises(accounts.AccountError, match="no bcrypt hash"):
        accounts.load_accounts(p)
    with pytest.raises(accounts.AccountError, match="cannot read"):
        accounts.load_accounts(tmp_path / "none.yaml")
