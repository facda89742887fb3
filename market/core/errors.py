"""One error hierarchy for the domain, mapped to HTTP in one place (``market.core.web.exception_handlers``).

Messages are English message ids with %(name)s parameters; they are translated into the user's
language when the error is shown, never when it is raised.
"""

from __future__ import annotations

from market.core.i18n import N_, gettext


class MarketError(Exception):
    status = 400
    title = N_("The request could not be carried out")

    def __init__(self, message: str | None = None, /, *, field: str | None = None, **params: object) -> None:
        self.message = message or self.title
        self.field = field
        self.params = params
        super().__init__(self.message % params if params else self.message)

    def text(self) -> str:
        return gettext(self.message, **self.params)

    def field_errors(self) -> dict[str, str]:
        return {self.field: self.text()} if self.field else {}

    def details(self) -> dict[str, object]:
        """More for programs than the message says, e.g. every bad row of an imported file."""
        return {}


class Invalid(MarketError):
    status = 400
    title = N_("Some of what was entered is not valid")


class InvalidFields(Invalid):
    """Several fields at once, so a form shows every problem in one go."""

    def __init__(self, errors: list[Invalid]) -> None:
        self.errors = errors
        super().__init__(self.title)

    def field_errors(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for err in self.errors:
            out.update(err.field_errors())
        return out


class NotAuthenticated(MarketError):
    status = 401
    title = N_("Please log in first")


class Forbidden(MarketError):
    status = 403
    title = N_("You are not allowed to do this")


class NotFound(MarketError):
    status = 404
    title = N_("Not found")


class Conflict(MarketError):
    status = 409
    title = N_("This conflicts with the current state")


class Gone(MarketError):
    status = 410
    title = N_("This link has expired")


class Unavailable(MarketError):
    status = 503
    title = N_("A service we depend on cannot be reached")


class PayloadTooLarge(MarketError):
    status = 413
    title = N_("The file is too large")
