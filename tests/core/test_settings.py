import pytest

from market.app import load_settings
from market.core.settings import ENVIRONMENT, SettingsError

BASE = {"MARKET_SECRET_KEY": "k" * 40}


def test_defaults_run_with_no_keys(tmp_path):
    s = load_settings({"MARKET_DATA_DIR": str(tmp_path)})
    assert s.storage_backend == "local" and s.payment_backend == "offline" and s.mail_backend == "local"
    assert s.database_url is None
    # a secret is made once and kept, so restarts keep sessions valid
    assert len(s.secret_key) >= 32
    assert load_settings({"MARKET_DATA_DIR": str(tmp_path)}).secret_key == s.secret_key


@pytest.mark.parametrize("var,value", [
    ("MARKET_SESSION_HOURS", "twelve"),
    ("MARKET_STORAGE_BACKEND", "ftp"),
    ("MARKET_PAYMENT_BACKEND", "cash"),
    ("MARKET_LOG_FORMAT", "xml"),
    ("MARKET_DEBUG", "perhaps"),
    ("MARKET_SMTP_PORT", "70000"),
    ("MARKET_TIMEZONE", "Mars/Olympus"),
])
def test_malformed_values_name_the_variable(var, value, tmp_path):
    with pytest.raises(SettingsError) as exc:
        load_settings({**BASE, "MARKET_DATA_DIR": str(tmp_path), var: value})
    assert var in str(exc.value)


def test_unknown_market_variable_is_refused():
    with pytest.raises(SettingsError, match="MARKET_STORAGE_BAKEND"):
        load_settings({**BASE, "MARKET_STORAGE_BAKEND": "s3"})


def test_shared_database_needs_a_shared_secret():
    with pytest.raises(SettingsError, match="MARKET_SECRET_KEY"):
        load_settings({"DATABASE_URL": "postgresql://db/market"})
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings({"DATABASE_URL": "postgresql://db/market", "MARKET_SECRET_KEY": "short"})


def test_stripe_backend_needs_a_key():
    with pytest.raises(SettingsError, match="MARKET_STRIPE_API_KEY"):
        load_settings({**BASE, "MARKET_PAYMENT_BACKEND": "stripe"})


def test_every_setting_is_documented_in_the_readme():
    from market.core.settings import ROOT
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [var for var in ENVIRONMENT if f"`{var}`" not in readme]
    assert not missing, f"README does not document {missing}"
