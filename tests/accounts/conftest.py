"""The accounts' tests mail through a real SMTP server (aiosmtpd), one a module, its inbox emptied for
each test."""

import pytest

from market.app import load_settings
from tests.smtp import SmtpServer


@pytest.fixture(scope="module")
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def app_settings(tmp_path, smtp):
    smtp.inbox.messages.clear()
    return load_settings({
        "MARKET_DATA_DIR": str(tmp_path), "MARKET_SECRET_KEY": "t" * 40, "MARKET_LOG_LEVEL": "warning",
        "MARKET_MAIL_BACKEND": "smtp", "MARKET_SMTP_HOST": "127.0.0.1", "MARKET_SMTP_PORT": str(smtp.port),
        "MARKET_LOGIN_MAX_FAILURES": "3", "MARKET_BASE_URL": "https://market.example.cn", "MARKET_NOTIFY_SECONDS": "0",
    })
