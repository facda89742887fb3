"""An organisation's recent activity told in sentences: who did what to which object, named by its
title, in the reader's language. Built from the audit trail's verbs, never from its raw diffs."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

import asyncpg

from market.audit import services as audit
from market.audit.models import VERB_NAMES, AuditEvent, Verb
from market.core.access import Identity
from market.core.i18n import N_, Msg, current_locale, gettext
from market.dashboard import queries as sql
from market.dashboard.models import Activity
from market.evaluation.workflow import PANEL_STATUS_NAMES
from market.funding.pledges.models import PLEDGE_STATUS_NAMES
from market.matching.fairs.models import FAIR_STATUS_NAMES

# One sentence per verb: %(who)s is the person who acted (or the organisation, for the system),
# %(what)s the object's title.
SENTENCES: dict[Verb, str] = {
    Verb.JURISDICTION_CREATE: N_("%(who)s added the place “%(what)s”"),
    Verb.ORGANISATION_REGISTER: N_("%(who)s registered the organisation “%(what)s”"),
    Verb.ORGANISATION_UPDATE: N_("%(who)s changed the profile of “%(what)s”"),
    Verb.ORGANISATION_VERIFY: N_("%(who)s verified the organisation “%(what)s”"),
    Verb.ORGANISATION_REJECT: N_("%(who)s did not verify the organisation “%(what)s”"),
    Verb.ORGANISATION_SUSPEND: N_("%(who)s suspended the organisation “%(what)s”"),
    Verb.ORGANISATION_REINSTATE: N_("%(who)s reinstated the organisation “%(what)s”"),
    Verb.ORGANISATION_RESUBMIT: N_("%(who)s asked for the organisation “%(what)s” to be verified again"),
    Verb.USER_SIGN_UP: N_("%(who)s created an account"),
    Verb.USER_LOG_IN: N_("%(who)s logged in"),
    Verb.USER_LOG_OUT: N_("%(who)s logged out"),
    Verb.USER_LOCK: N_("The account of %(what)s was locked after failed log-ins"),
    Verb.USER_PASSWORD_CHANGE: N_("%(who)s changed their password"),
    Verb.USER_PASSWORD_RESET_REQUEST: N_("A password reset was requested for %(what)s"),
    Verb.USER_PASSWORD_RESET: N_("The password of %(what)s was reset"),
    Verb.USER_ACT_AS: N_("%(who)s switched to another organisation"),
    Verb.USER_UPDATE: N_("%(who)s changed the account of %(what)s"),
    Verb.MEMBERSHIP_ADD: N_("%(who)s added %(what)s as a member"),
    Verb.MEMBERSHIP_REMOVE: N_("%(who)s removed the member %(what)s"),
    Verb.MEMBERSHIP_INVITE: N_("%(who)s invited someone to join by email"),
    Verb.MEMBERSHIP_INVITE_WITHDRAW: N_("%(who)s withdrew an invitation to join"),
    Verb.MEMBERSHIP_JOIN: N_("%(who)s joined by invitation"),
    Verb.FILE_UPLOAD: N_("%(who)s uploaded the file “%(what)s”"),
    Verb.CATALOGUE_CREATE: N_("%(who)s started the catalogue draft “%(what)s”"),
    Verb.CATALOGUE_IMPORT: N_("%(who)s imported the entries of the catalogue “%(what)s”"),
    Verb.CATALOGUE_PUBLISH: N_("%(who)s published the catalogue “%(what)s”"),
    Verb.CATALOGUE_RETIRE: N_("%(who)s retired the catalogue “%(what)s”"),
    Verb.CATALOGUE_DELETE: N_("%(who)s deleted the catalogue draft “%(what)s”"),
    Verb.INDICATORS_CREATE: N_("%(who)s started the indicator system draft “%(what)s”"),
    Verb.INDICATORS_IMPORT: N_("%(who)s imported the indicator system “%(what)s” from a file"),
    Verb.INDICATORS_EDIT: N_("%(who)s changed an indicator of “%(what)s”"),
    Verb.INDICATORS_PUBLISH: N_("%(who)s published the indicator system “%(what)s”"),
    Verb.INDICATORS_RETIRE: N_("%(who)s retired the indicator system “%(what)s”"),
    Verb.INDICATORS_DELETE: N_("%(who)s deleted the indicator system draft “%(what)s”"),
    Verb.NEED_RAISE: N_("%(who)s raised the need “%(what)s”"),
    Verb.NEED_SUPPORT: N_("%(who)s supported the need “%(what)s”"),
    Verb.NEED_WITHDRAW: N_("%(who)s withdrew the need “%(what)s”"),
    Verb.NEED_DECLINE: N_("%(who)s declined the need “%(what)s”"),
    Verb.NEED_REOPEN: N_("%(who)s reopened the need “%(what)s”"),
    Verb.NEED_APPROVE: N_("%(who)s made the need “%(what)s” a project"),
    Verb.PROJECT_CREATE: N_("%(who)s approved the project “%(what)s”"),
    Verb.CALL_CREATE: N_("%(who)s drafted the call “%(what)s”"),
    Verb.CALL_EDIT: N_("%(who)s changed the call “%(what)s”"),
    Verb.CALL_PUBLISH: N_("%(who)s published the call “%(what)s”"),
    Verb.CALL_CANCEL: N_("%(who)s cancelled the call “%(what)s”"),
    Verb.CALL_FAIL: N_("%(who)s declared the call “%(what)s” failed"),
    Verb.QUESTION_ASK: N_("%(who)s asked a question about the call “%(what)s”"),
    Verb.QUESTION_ANSWER: N_("%(who)s answered a question about the call “%(what)s”"),
    Verb.BID_SUBMIT: N_("%(who)s submitted a bid to the call “%(what)s”"),
    Verb.BID_EDIT: N_("%(who)s changed the bid to the call “%(what)s”"),
    Verb.BID_WITHDRAW: N_("%(who)s withdrew the bid to the call “%(what)s”"),
    Verb.BID_CONFIRM: N_("%(who)s confirmed the bid to the call “%(what)s” after the call changed"),
    Verb.PANEL_CREATE: N_("%(who)s formed the evaluation panel for “%(what)s”"),
    Verb.PANEL_MEMBER_ADD: N_("%(who)s added a member to the panel for “%(what)s”"),
    Verb.PANEL_DECLARE: N_("%(who)s declared conflicts of interest on the panel for “%(what)s”"),
    Verb.PANEL_SCORE: N_("%(who)s gave scores on the panel for “%(what)s”"),
    Verb.PANEL_CONSENSUS: N_("%(who)s recorded a consensus score on the panel for “%(what)s”"),
    Verb.PANEL_STATUS: N_("The panel for “%(what)s” moved to another stage"),
    Verb.PANEL_START: N_("%(who)s opened scoring on the panel for “%(what)s”"),
    Verb.PANEL_CLOSE: N_("The panel for “%(what)s” closed: a result stands on its scores"),
    Verb.PANEL_REOPEN: N_("The panel for “%(what)s” reopened after an objection was upheld"),
    Verb.PANEL_AGENCY: N_("%(who)s handed the panel for “%(what)s” to an evaluation agency"),
    Verb.PANEL_NOTE: N_("%(who)s wrote a review note on the panel for “%(what)s”"),
    Verb.PANEL_SUBMIT: N_("%(who)s submitted their scores on the panel for “%(what)s”"),
    Verb.CALL_AWARD: N_("%(who)s awarded the call “%(what)s”"),
    Verb.BATCH_CUT_OFF: N_("%(who)s cut off a review batch of “%(what)s”"),
    Verb.BATCH_DECIDE: N_("%(who)s decided a review batch of “%(what)s”"),
    Verb.BATCH_REOPEN: N_("%(who)s reopened a review batch of “%(what)s” after an objection was upheld"),
    Verb.OBJECTION_RAISE: N_("%(who)s objected to the result of “%(what)s”"),
    Verb.OBJECTION_UPHOLD: N_("%(who)s upheld an objection to “%(what)s”"),
    Verb.OBJECTION_REJECT: N_("%(who)s rejected an objection to “%(what)s”"),
    Verb.CONTRACT_CREATE: N_("%(who)s prepared the contract for “%(what)s”"),
    Verb.CONTRACT_EDIT: N_("%(who)s changed the milestones of the contract for “%(what)s”"),
    Verb.CONTRACT_SIGN: N_("%(who)s signed the contract for “%(what)s”"),
    Verb.MILESTONE_ACCEPT: N_("%(who)s accepted a milestone of the contract for “%(what)s”"),
    Verb.REPORT_SAVE: N_("%(who)s saved a report draft for “%(what)s”"),
    Verb.REPORT_SUBMIT: N_("%(who)s submitted a report for “%(what)s”"),
    Verb.REPORT_RETURN: N_("%(who)s returned a report for “%(what)s” for correction"),
    Verb.REPORT_RESUBMIT: N_("%(who)s resubmitted a report for “%(what)s”"),
    Verb.REPORT_ACCEPT: N_("%(who)s accepted a report for “%(what)s”"),
    Verb.REPORT_OVERDUE: N_("A report for “%(what)s” is overdue"),
    Verb.REPORT_NOT_FILED: N_("A report for “%(what)s” was not filed in time: its stage counts as failed"),
    Verb.CONTRACT_RECTIFY: N_("%(who)s set a rectification deadline for the contract for “%(what)s”"),
    Verb.CONTRACT_REEVALUATE: N_("%(who)s ordered a new evaluation of the contract for “%(what)s”"),
    Verb.CONTRACT_END: N_("%(who)s ended the contract for “%(what)s”"),
    Verb.CONTRACT_COMPLETE: N_("The contract for “%(what)s” is completed"),
    Verb.PLEDGE_CREATE: N_("%(who)s pledged to “%(what)s”"),
    Verb.PLEDGE_STATUS: N_("The pledge to “%(what)s” moved to another stage"),
    Verb.PAYMENT_RECORD: N_("%(who)s recorded a payment to “%(what)s”"),
    Verb.PAYMENT_CONFIRM: N_("%(who)s confirmed a payment to “%(what)s”"),
    Verb.PAYMENT_REJECT: N_("%(who)s rejected a payment to “%(what)s”"),
    Verb.PAYMENT_FAIL: N_("A payment to “%(what)s” was not completed"),
    Verb.PLEDGE_PAY: N_("The pledge to “%(what)s” is awaiting payment"),
    Verb.PLEDGE_PAID: N_("The pledge to “%(what)s” is paid"),
    Verb.PLEDGE_ALLOCATE: N_("The pledge to “%(what)s” was allocated to a project"),
    Verb.PLEDGE_DISBURSE: N_("The pledge to “%(what)s” has all been paid out to the provider"),
    Verb.PLEDGE_CANCEL: N_("The pledge to “%(what)s” was cancelled"),
    Verb.PLEDGE_LAPSE: N_("The pledge to “%(what)s” lapsed, not paid by its date"),
    Verb.PLEDGE_REFUND: N_("The pledge to “%(what)s” was refunded"),
    Verb.PLEDGE_RETURN: N_("The pledge to “%(what)s” came back to its fund when the contract ended"),
    Verb.RESOURCE_CREATE: N_("%(who)s listed the resource “%(what)s”"),
    Verb.RESOURCE_EDIT: N_("%(who)s changed the resource “%(what)s”"),
    Verb.RESOURCE_WITHDRAW: N_("%(who)s withdrew the resource “%(what)s”"),
    Verb.FUND_CREATE: N_("%(who)s set up the fund “%(what)s”"),
    Verb.FUND_UPDATE: N_("%(who)s changed the fund “%(what)s”"),
    Verb.FUND_PROJECT_ADD: N_("%(who)s added a project to the fund “%(what)s”"),
    Verb.FUND_PROJECT_REMOVE: N_("%(who)s removed a project from the fund “%(what)s”"),
    Verb.MATCHING_CLOSE: N_("%(who)s closed the matching round of “%(what)s” and paid the matches"),
    Verb.FAIR_CREATE: N_("%(who)s set up the fair “%(what)s”"),
    Verb.FAIR_CHANGE: N_("%(who)s changed the running order of the fair “%(what)s”"),
    Verb.FAIR_OPEN: N_("%(who)s moved the fair “%(what)s” along"),
    Verb.FAIR_GO_LIVE: N_("%(who)s moved the fair “%(what)s” along"),
    Verb.FAIR_STAGE: N_("%(who)s put a project on stage at the fair “%(what)s”"),
    Verb.FAIR_CLOSE: N_("%(who)s moved the fair “%(what)s” along"),
    Verb.FAIR_RAISE_CONFIRM: N_("%(who)s confirmed a paddle raised at a fair"),
    Verb.DOCKING_ACCEPT: N_("%(who)s accepted a docking for the project “%(what)s” and published it"),
    Verb.DOCKING_RUN: N_("%(who)s computed docking suggestions"),
    Verb.DOCKING_RULE: N_("%(who)s pinned or banned a provider for the project “%(what)s”"),
    Verb.RECTIFICATION_RAISE: N_("%(who)s raised a rectification item: %(what)s"),
    Verb.RECTIFICATION_SUBMIT: N_("%(who)s submitted a fix for a rectification item: %(what)s"),
    Verb.RECTIFICATION_VERIFY: N_("%(who)s verified the fix for a rectification item: %(what)s"),
    Verb.RECTIFICATION_REJECT: N_("%(who)s rejected the fix for a rectification item: %(what)s"),
    Verb.RECTIFICATION_WITHDRAW: N_("%(who)s withdrew a rectification item: %(what)s"),
    Verb.RECTIFICATION_ESCALATE: N_("A late rectification item was escalated: %(what)s"),
    Verb.COMPLAINT_LODGE: N_("A complaint %(what)s was lodged and dispatched"),
    Verb.COMPLAINT_ACKNOWLEDGE: N_("%(who)s acknowledged the complaint %(what)s"),
    Verb.COMPLAINT_ANSWER: N_("%(who)s answered the complaint %(what)s"),
    Verb.COMPLAINT_RATE: N_("The answer to the complaint %(what)s was rated"),
    Verb.COMPLAINT_CLOSE: N_("The complaint %(what)s closed without a rating"),
    Verb.COMPLAINT_REOPEN: N_("The complaint %(what)s was reopened"),
    Verb.COMPLAINT_ESCALATE: N_("The late complaint %(what)s was escalated"),
    Verb.COMPLAINT_CATEGORY_UPDATE: N_("%(who)s changed the complaint category “%(what)s”"),
    Verb.BUYER_RATE: N_("%(who)s rated the buyer of the contract for “%(what)s”"),
    Verb.SURVEY_OPEN: N_("%(who)s opened the residents' satisfaction survey of “%(what)s”"),
    Verb.SURVEY_CLOSE: N_("%(who)s closed the residents' satisfaction survey of “%(what)s”"),
    Verb.SURVEY_REOPEN: N_("%(who)s reopened the residents' satisfaction survey of “%(what)s”"),
    Verb.SURVEY_CODES: N_("%(who)s made answer codes for the residents' satisfaction survey of “%(what)s”"),
    Verb.SURVEY_TEXT_PUBLISH: N_("%(who)s published a resident's comment on “%(what)s”"),
    Verb.SURVEY_TEXT_HIDE: N_("%(who)s hid a resident's comment on “%(what)s”"),
}
# Where a status change names the status it reached, the sentence says which.
STATUS_SENTENCES: dict[Verb, tuple[str, dict[str, str]]] = {
    Verb.PANEL_STATUS: (N_("The panel for “%(what)s” is now %(status)s"), PANEL_STATUS_NAMES),
    Verb.PLEDGE_STATUS: (N_("The pledge to “%(what)s” is now %(status)s"), PLEDGE_STATUS_NAMES),
    Verb.FAIR_OPEN: (N_("The fair “%(what)s” is now %(status)s"), FAIR_STATUS_NAMES),
    Verb.FAIR_GO_LIVE: (N_("The fair “%(what)s” is now %(status)s"), FAIR_STATUS_NAMES),
    Verb.FAIR_CLOSE: (N_("The fair “%(what)s” is now %(status)s"), FAIR_STATUS_NAMES),
}
# For a verb without a sentence of its own (one added later): the event's name and its object.
GENERIC = N_("%(who)s: %(event)s, “%(what)s”")

# object type → the page the object is read on.
LINKS = {"call": "/calls/{id}", "project": "/projects/{id}", "need": "/needs/{id}", "contract": "/contracts/{id}",
         "delivery": "/contracts/{id}#delivery",
         "pledge": "/pledges/{id}", "panel": "/panels/{id}", "organisation": "/organisations/{id}",
         "catalogue_version": "/catalogue/versions/{id}", "fair": "/fairs/{id}", "fund": "/funds/{id}",
         "resource": "/resources/{id}", "file": "/files/{id}", "indicator_version": "/indicators/versions/{id}",
         "survey": "/surveys/{id}", "rectification_item": "/rectification/{id}"}
# object type → the title query's parameter that looks it up; the others name a call, a user or a file.
_PARAMS = {"call": "calls", "project": "projects", "need": "needs", "bid": "bids", "question": "questions",
           "panel": "panels", "objection": "objections", "contract": "contracts", "pledge": "pledges",
           "payment": "payments", "organisation": "organisations", "catalogue_version": "catalogue_versions",
           "fair": "fairs", "fund": "funds", "resource": "resources", "jurisdiction": "jurisdictions",
           "user": "users", "indicator_version": "indicator_versions",
           "delivery_report": "delivery_reports", "survey": "surveys", "survey_text": "survey_answers",
           "rectification_item": "rectification_items"}


def _lookup(event: AuditEvent) -> tuple[str, str] | None:
    """The (type, id) under which the title query finds the event's object, if it can."""
    if event.object_type == "membership":  # "organisation:user"
        user = event.object_id.partition(":")[2]
        return ("user", user) if user.isdigit() else None
    if event.object_type == "file":
        try:
            return "file", str(uuid.UUID(event.object_id))
        except ValueError:
            return None
    if event.object_type == "delivery" and event.object_id.isdigit():  # a contract's life after signing
        return "contract", event.object_id
    if event.object_type in _PARAMS and event.object_id.isdigit():
        return event.object_type, event.object_id
    return None


async def titles(conn: asyncpg.Connection, events: list[AuditEvent]) -> dict[tuple[str, str], Any]:
    """Every named object's title, in one statement however many events there are."""
    wanted: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        key = _lookup(event)
        if key is None:
            continue
        if key[0] == "file":
            wanted["files"].append(uuid.UUID(key[1]))
        else:
            wanted[_PARAMS[key[0]]].append(int(key[1]))
    rows = await conn.fetch(sql.OBJECT_TITLES, *(wanted.get(name, []) for name in sql.OBJECT_TITLE_LISTS))
    return {(r["type"], r["id"]): r for r in rows}


def sentence(event: AuditEvent, who: str, what: str) -> str:
    try:
        verb = Verb(event.verb)
    except ValueError:
        return gettext(GENERIC, who=who, event=event.verb, what=what)
    status = event.diff.get("status")
    if verb in STATUS_SENTENCES and isinstance(status, list) and len(status) == 2:
        text, names = STATUS_SENTENCES[verb]
        if status[1] in names:
            return gettext(text, what=what, status=Msg(names[status[1]]))
    if verb in SENTENCES:
        return gettext(SENTENCES[verb], who=who, what=what)
    return gettext(GENERIC, who=who, event=Msg(VERB_NAMES.get(verb, verb.value)), what=what)


def in_language(zh: str | None, en: str | None) -> str:
    """The English text on English pages when there is one, else the Chinese."""
    return en if current_locale.get() == "en" and en else zh or ""


def _runs(events: list[AuditEvent], limit: int) -> list[tuple[AuditEvent, int]]:
    """The events with each run of the same person doing the same thing to the same object (an expert's
    scores, one indicator at a time; a panel's members added one by one) told once, with how many times;
    at most `limit` of them."""
    runs: list[tuple[AuditEvent, int]] = []
    for event in events:
        if runs and _told_as(runs[-1][0]) == _told_as(event):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        elif len(runs) == limit:
            break
        else:
            runs.append((event, 1))
    return runs


def _told_as(event: AuditEvent) -> tuple[Any, ...]:
    """What an event's sentence says: its verb, person, object and, for a change of status, the status reached."""
    return event.verb, event.actor_user_id, event.object_type, event.object_id, event.diff.get("status")


async def feed(conn: asyncpg.Connection, identity: Identity, limit: int = 10) -> list[Activity]:
    """The organisation's latest events as sentences, newest first, a run of repeats told once (two
    statements). Runs are read from a few times `limit` events: a longer run ends the feed early."""
    if identity.org_id is None:
        return []
    runs = _runs(await audit.events_for_organisation(conn, identity.org_id, limit * 5), limit)
    found = await titles(conn, [event for event, _ in runs])
    org_name = in_language(identity.org_name_zh, identity.org_name_en)
    out = []
    for event, times in runs:
        key = _lookup(event)
        row = found.get(key) if key else None
        what = in_language(row["title_zh"], row["title_en"]) if row else f"#{event.object_id}"
        out.append(Activity(at=event.at, verb=event.verb, text=sentence(event, event.actor_name or org_name, what),
                            link=_page(event, row), times=times))
    return out


def _page(event: AuditEvent, row: Any) -> str | None:
    """Where the event's object is read: the page its title query names, else its type's page by its id."""
    if row is None:
        return None
    pattern = LINKS.get(event.object_type)
    return row["page"] or (pattern.format(id=event.object_id) if pattern else None)
