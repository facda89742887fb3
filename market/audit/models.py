from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec


class Verb(StrEnum):
    """Every kind of state change the platform records; the one list of audit verbs."""

    JURISDICTION_CREATE = "jurisdiction.create"
    ORGANISATION_REGISTER = "organisation.register"
    ORGANISATION_UPDATE = "organisation.update"
    ORGANISATION_VERIFY = "organisation.verify"
    ORGANISATION_REJECT = "organisation.reject"
    ORGANISATION_SUSPEND = "organisation.suspend"
    ORGANISATION_REINSTATE = "organisation.reinstate"
    USER_SIGN_UP = "user.sign_up"
    USER_LOG_IN = "user.log_in"
    USER_LOG_OUT = "user.log_out"
    USER_LOCK = "user.lock"
    USER_PASSWORD_CHANGE = "user.password_change"
    USER_PASSWORD_RESET_REQUEST = "user.password_reset_request"
    USER_PASSWORD_RESET = "user.password_reset"
    USER_ACT_AS = "user.act_as"
    USER_UPDATE = "user.update"
    MEMBERSHIP_ADD = "membership.add"
    MEMBERSHIP_REMOVE = "membership.remove"
    FILE_UPLOAD = "file.upload"


class AuditEvent(msgspec.Struct, frozen=True):
    id: int
    at: datetime
    actor_user_id: int | None
    organisation_id: int | None
    verb: str
    object_type: str
    object_id: str
    diff: dict[str, Any]
    prev_hash: str
    hash: str


class ChainBreak(msgspec.Struct, frozen=True):
    id: int
    reason: str
