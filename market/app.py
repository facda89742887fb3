"""The app: the list of domains, lowest first, and the factory that builds the product from it.
`market.core.factory` does the building; this module only knows which domains there are."""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Litestar

from market.accounts.domain import DOMAIN as ACCOUNTS
from market.audit.domain import DOMAIN as AUDIT
from market.buyers.domain import DOMAIN as BUYERS
from market.catalogue.domain import DOMAIN as CATALOGUE
from market.complaints.domain import DOMAIN as COMPLAINTS
from market.core import factory, glossary
from market.core.errors import MarketError
from market.core.settings import Settings
from market.core.settings import load_settings as load_core_settings
from market.dashboard.domain import DOMAIN as DASHBOARD
from market.delivery.domain import DOMAIN as DELIVERY
from market.evaluation.domain import DOMAIN as EVALUATION
from market.evaluation.indicators.domain import DOMAIN as INDICATORS
from market.funding.domain import DOMAIN as FUNDING
from market.mail.domain import DOMAIN as MAIL
from market.matching.domain import DOMAIN as MATCHING
from market.notifications.domain import DOMAIN as NOTIFICATIONS
from market.opendata.domain import DOMAIN as OPENDATA
from market.organisations.domain import DOMAIN as ORGANISATIONS
from market.portal.domain import DOMAIN as PORTAL
from market.procurement.domain import DOMAIN as PROCUREMENT
from market.rectification.domain import DOMAIN as RECTIFICATION
from market.sms.domain import DOMAIN as SMS
from market.storage.domain import DOMAIN as STORAGE
from market.surveys.domain import DOMAIN as SURVEYS

DOMAINS = (AUDIT, MAIL, SMS, STORAGE, NOTIFICATIONS, ACCOUNTS, ORGANISATIONS, RECTIFICATION, CATALOGUE, EVALUATION,
           INDICATORS, PROCUREMENT, FUNDING, DELIVERY, SURVEYS, COMPLAINTS, BUYERS, OPENDATA, MATCHING, PORTAL,
           DASHBOARD)


def install() -> None:
    """What the domains take from each other, for code that runs without the app (the CLI, tests)."""
    factory.install(DOMAINS)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The environment's settings, checked by the core and by every domain."""
    return factory.check_settings(load_core_settings(environ), DOMAINS)


def create_app(settings: Settings | None = None, dsn: str | None = None) -> Litestar:
    return factory.build_app(settings or load_settings(), DOMAINS, dsn)


def create_app_from_environment() -> Litestar:
    """For `uvicorn --factory` worker processes: everything comes from the environment. A worker reads
    the dictionary of English searches (a second) before it serves, rather than at the first of them."""
    glossary.load()
    return create_app()


__all__ = ["DOMAINS", "MarketError", "create_app", "create_app_from_environment", "load_settings"]
