from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec

from market.core.i18n import N_


class Verb(StrEnum):
    """Every kind of state change the platform records; the one list of audit verbs."""

    JURISDICTION_CREATE = "jurisdiction.create"
    ORGANISATION_REGISTER = "organisation.register"
    ORGANISATION_UPDATE = "organisation.update"
    ORGANISATION_VERIFY = "organisation.verify"
    ORGANISATION_REJECT = "organisation.reject"
    ORGANISATION_SUSPEND = "organisation.suspend"
    ORGANISATION_REINSTATE = "organisation.reinstate"
    ORGANISATION_RESUBMIT = "organisation.resubmit"
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
    MEMBERSHIP_INVITE = "membership.invite"
    MEMBERSHIP_INVITE_WITHDRAW = "membership.invite_withdraw"
    MEMBERSHIP_JOIN = "membership.join"
    FILE_UPLOAD = "file.upload"
    CATALOGUE_CREATE = "catalogue.create"
    CATALOGUE_IMPORT = "catalogue.import"
    CATALOGUE_PUBLISH = "catalogue.publish"
    CATALOGUE_RETIRE = "catalogue.retire"
    CATALOGUE_DELETE = "catalogue.delete"
    INDICATORS_CREATE = "indicators.create"
    INDICATORS_IMPORT = "indicators.import"
    INDICATORS_EDIT = "indicators.edit"
    INDICATORS_PUBLISH = "indicators.publish"
    INDICATORS_RETIRE = "indicators.retire"
    INDICATORS_DELETE = "indicators.delete"
    NEED_RAISE = "need.raise"
    NEED_SUPPORT = "need.support"
    NEED_WITHDRAW = "need.withdraw"
    NEED_DECLINE = "need.decline"
    NEED_REOPEN = "need.reopen"
    NEED_APPROVE = "need.approve"
    PROJECT_CREATE = "project.create"
    CALL_CREATE = "call.create"
    CALL_EDIT = "call.edit"
    CALL_PUBLISH = "call.publish"
    CALL_CANCEL = "call.cancel"
    CALL_FAIL = "call.fail"
    QUESTION_ASK = "question.ask"
    QUESTION_ANSWER = "question.answer"
    BID_SUBMIT = "bid.submit"
    BID_EDIT = "bid.edit"
    BID_WITHDRAW = "bid.withdraw"
    BID_CONFIRM = "bid.confirm"
    PANEL_CREATE = "panel.create"
    PANEL_MEMBER_ADD = "panel.member_add"
    PANEL_DECLARE = "panel.declare"
    PANEL_SCORE = "panel.score"
    PANEL_CONSENSUS = "panel.consensus"
    PANEL_STATUS = "panel.status"
    PANEL_START = "panel.start"
    PANEL_CLOSE = "panel.close"
    PANEL_REOPEN = "panel.reopen"
    PANEL_AGENCY = "panel.agency"
    PANEL_SUBMIT = "panel.submit"
    PANEL_NOTE = "panel.note"
    CALL_AWARD = "call.award"
    BATCH_CUT_OFF = "batch.cut_off"
    BATCH_DECIDE = "batch.decide"
    BATCH_REOPEN = "batch.reopen"
    OBJECTION_RAISE = "objection.raise"
    OBJECTION_UPHOLD = "objection.uphold"
    OBJECTION_REJECT = "objection.reject"
    CONTRACT_CREATE = "contract.create"
    CONTRACT_EDIT = "contract.edit"
    CONTRACT_SIGN = "contract.sign"
    MILESTONE_ACCEPT = "contract.milestone_accept"
    REPORT_SAVE = "report.save"
    REPORT_SUBMIT = "report.submit"
    REPORT_RETURN = "report.return"
    REPORT_RESUBMIT = "report.resubmit"
    REPORT_ACCEPT = "report.accept"
    REPORT_OVERDUE = "report.overdue"
    REPORT_NOT_FILED = "report.not_filed"
    CONTRACT_RECTIFY = "contract.rectify"
    CONTRACT_REEVALUATE = "contract.reevaluate"
    CONTRACT_END = "contract.end"
    CONTRACT_COMPLETE = "contract.complete"
    PLEDGE_CREATE = "pledge.create"
    PLEDGE_STATUS = "pledge.status"  # written before each move had its own verb; older entries carry it
    PAYMENT_RECORD = "payment.record"
    PAYMENT_CONFIRM = "payment.confirm"
    PAYMENT_REJECT = "payment.reject"
    PAYMENT_FAIL = "payment.fail"
    PLEDGE_PAY = "pledge.pay"
    PLEDGE_PAID = "pledge.paid"
    PLEDGE_ALLOCATE = "pledge.allocate"
    PLEDGE_DISBURSE = "pledge.disburse"
    PLEDGE_CANCEL = "pledge.cancel"
    PLEDGE_LAPSE = "pledge.lapse"
    PLEDGE_REFUND = "pledge.refund"
    PLEDGE_RETURN = "pledge.return"
    RESOURCE_CREATE = "resource.create"
    RESOURCE_EDIT = "resource.edit"
    RESOURCE_WITHDRAW = "resource.withdraw"
    FUND_CREATE = "fund.create"
    FUND_UPDATE = "fund.update"
    FUND_PROJECT_ADD = "fund.project_add"
    FUND_PROJECT_REMOVE = "fund.project_remove"
    MATCHING_CLOSE = "fund.matching_close"
    FAIR_CREATE = "fair.create"
    FAIR_CHANGE = "fair.change"
    FAIR_OPEN = "fair.open"
    FAIR_GO_LIVE = "fair.go_live"
    FAIR_STAGE = "fair.stage"
    FAIR_CLOSE = "fair.close"
    FAIR_RAISE_CONFIRM = "fair_raise.confirm"
    DOCKING_ACCEPT = "docking.accept"
    DOCKING_RUN = "docking.run"
    DOCKING_RULE = "docking.rule"
    RECTIFICATION_RAISE = "rectification.raise"
    RECTIFICATION_SUBMIT = "rectification.submit"
    RECTIFICATION_VERIFY = "rectification.verify"
    RECTIFICATION_REJECT = "rectification.reject"
    RECTIFICATION_WITHDRAW = "rectification.withdraw"
    RECTIFICATION_ESCALATE = "rectification.escalate"
    COMPLAINT_LODGE = "complaint.lodge"
    COMPLAINT_ACKNOWLEDGE = "complaint.acknowledge"
    COMPLAINT_ANSWER = "complaint.answer"
    COMPLAINT_RATE = "complaint.rate"
    COMPLAINT_CLOSE = "complaint.close"
    COMPLAINT_REOPEN = "complaint.reopen"
    COMPLAINT_ESCALATE = "complaint.escalate"
    COMPLAINT_CATEGORY_UPDATE = "complaint.category_update"
    BUYER_RATE = "buyer.rate"
    SURVEY_OPEN = "survey.open"
    SURVEY_CLOSE = "survey.close"
    SURVEY_REOPEN = "survey.reopen"
    SURVEY_CODES = "survey.codes"
    SURVEY_TEXT_PUBLISH = "survey_text.publish"
    SURVEY_TEXT_HIDE = "survey_text.hide"


VERB_NAMES = {
    Verb.JURISDICTION_CREATE: N_("Jurisdiction added"),
    Verb.ORGANISATION_REGISTER: N_("Organisation registered"),
    Verb.ORGANISATION_UPDATE: N_("Organisation profile changed"),
    Verb.ORGANISATION_VERIFY: N_("Organisation verified"),
    Verb.ORGANISATION_REJECT: N_("Organisation rejected"),
    Verb.ORGANISATION_SUSPEND: N_("Organisation suspended"),
    Verb.ORGANISATION_REINSTATE: N_("Organisation reinstated"),
    Verb.ORGANISATION_RESUBMIT: N_("Organisation asked for verification again"),
    Verb.USER_SIGN_UP: N_("Account created"),
    Verb.USER_LOG_IN: N_("Logged in"),
    Verb.USER_LOG_OUT: N_("Logged out"),
    Verb.USER_LOCK: N_("Account locked after failed log-ins"),
    Verb.USER_PASSWORD_CHANGE: N_("Password changed"),
    Verb.USER_PASSWORD_RESET_REQUEST: N_("Password reset requested"),
    Verb.USER_PASSWORD_RESET: N_("Password reset"),
    Verb.USER_ACT_AS: N_("Switched organisation"),
    Verb.USER_UPDATE: N_("Account changed"),
    Verb.MEMBERSHIP_ADD: N_("Member added"),
    Verb.MEMBERSHIP_REMOVE: N_("Member removed"),
    Verb.MEMBERSHIP_INVITE: N_("Invited to join"),
    Verb.MEMBERSHIP_INVITE_WITHDRAW: N_("Invitation withdrawn"),
    Verb.MEMBERSHIP_JOIN: N_("Joined by invitation"),
    Verb.FILE_UPLOAD: N_("File uploaded"),
    Verb.CATALOGUE_CREATE: N_("Catalogue draft created"),
    Verb.CATALOGUE_IMPORT: N_("Catalogue entries imported"),
    Verb.CATALOGUE_PUBLISH: N_("Catalogue published"),
    Verb.CATALOGUE_RETIRE: N_("Catalogue retired"),
    Verb.CATALOGUE_DELETE: N_("Catalogue draft deleted"),
    Verb.INDICATORS_CREATE: N_("Indicator system draft created"),
    Verb.INDICATORS_IMPORT: N_("Indicator system imported"),
    Verb.INDICATORS_EDIT: N_("Indicator changed"),
    Verb.INDICATORS_PUBLISH: N_("Indicator system published"),
    Verb.INDICATORS_RETIRE: N_("Indicator system retired"),
    Verb.INDICATORS_DELETE: N_("Indicator system draft deleted"),
    Verb.NEED_RAISE: N_("Need raised"),
    Verb.NEED_SUPPORT: N_("Need supported"),
    Verb.NEED_WITHDRAW: N_("Need withdrawn"),
    Verb.NEED_DECLINE: N_("Need declined"),
    Verb.NEED_REOPEN: N_("Need reopened"),
    Verb.NEED_APPROVE: N_("Need approved as a project"),
    Verb.PROJECT_CREATE: N_("Project approved (立项)"),
    Verb.CALL_CREATE: N_("Call drafted"),
    Verb.CALL_EDIT: N_("Call changed"),
    Verb.CALL_PUBLISH: N_("Call published"),
    Verb.CALL_CANCEL: N_("Call cancelled"),
    Verb.CALL_FAIL: N_("Call declared failed"),
    Verb.QUESTION_ASK: N_("Question asked"),
    Verb.QUESTION_ANSWER: N_("Question answered"),
    Verb.BID_SUBMIT: N_("Bid submitted"),
    Verb.BID_EDIT: N_("Bid changed"),
    Verb.BID_WITHDRAW: N_("Bid withdrawn"),
    Verb.BID_CONFIRM: N_("Bid confirmed after a change to the call"),
    Verb.PANEL_CREATE: N_("Evaluation panel formed"),
    Verb.PANEL_MEMBER_ADD: N_("Panel member added"),
    Verb.PANEL_DECLARE: N_("Conflict of interest declared"),
    Verb.PANEL_SCORE: N_("Score given"),
    Verb.PANEL_CONSENSUS: N_("Consensus score recorded"),
    Verb.PANEL_STATUS: N_("Panel moved to another stage"),
    Verb.PANEL_START: N_("Panel scoring started"),
    Verb.PANEL_CLOSE: N_("Panel closed"),
    Verb.PANEL_REOPEN: N_("Panel reopened"),
    Verb.PANEL_AGENCY: N_("Evaluation handed to an agency"),
    Verb.PANEL_SUBMIT: N_("Evaluator submitted their scores"),
    Verb.PANEL_NOTE: N_("Review or site-visit note written"),
    Verb.CALL_AWARD: N_("Call awarded"),
    Verb.BATCH_CUT_OFF: N_("Review batch cut off"),
    Verb.BATCH_DECIDE: N_("Review batch decided"),
    Verb.BATCH_REOPEN: N_("Review batch reopened"),
    Verb.OBJECTION_RAISE: N_("Objection raised"),
    Verb.OBJECTION_UPHOLD: N_("Objection upheld"),
    Verb.OBJECTION_REJECT: N_("Objection rejected"),
    Verb.CONTRACT_CREATE: N_("Contract prepared"),
    Verb.CONTRACT_EDIT: N_("Contract milestones changed"),
    Verb.CONTRACT_SIGN: N_("Contract signed"),
    Verb.MILESTONE_ACCEPT: N_("Contract milestone accepted"),
    Verb.REPORT_SAVE: N_("Report draft saved"),
    Verb.REPORT_SUBMIT: N_("Report submitted"),
    Verb.REPORT_RETURN: N_("Report returned for correction"),
    Verb.REPORT_RESUBMIT: N_("Report resubmitted"),
    Verb.REPORT_ACCEPT: N_("Report accepted"),
    Verb.REPORT_OVERDUE: N_("Report overdue"),
    Verb.REPORT_NOT_FILED: N_("Report not filed: the stage counts as failed"),
    Verb.CONTRACT_RECTIFY: N_("Rectification deadline set after a failed evaluation"),
    Verb.CONTRACT_REEVALUATE: N_("Re-evaluation ordered after rectification"),
    Verb.CONTRACT_END: N_("Contract ended"),
    Verb.CONTRACT_COMPLETE: N_("Contract completed"),
    Verb.PLEDGE_CREATE: N_("Pledge made"),
    Verb.PLEDGE_STATUS: N_("Pledge moved to another stage"),
    Verb.PAYMENT_RECORD: N_("Payment recorded"),
    Verb.PAYMENT_CONFIRM: N_("Payment confirmed"),
    Verb.PAYMENT_REJECT: N_("Payment rejected"),
    Verb.PAYMENT_FAIL: N_("Payment not completed"),
    Verb.PLEDGE_PAY: N_("Pledge payment started"),
    Verb.PLEDGE_PAID: N_("Pledge paid"),
    Verb.PLEDGE_ALLOCATE: N_("Pledge allocated to a project"),
    Verb.PLEDGE_DISBURSE: N_("Pledge paid out in full"),
    Verb.PLEDGE_CANCEL: N_("Pledge cancelled"),
    Verb.PLEDGE_LAPSE: N_("Pledge lapsed, not paid by its date"),
    Verb.PLEDGE_REFUND: N_("Pledge refunded"),
    Verb.PLEDGE_RETURN: N_("Pledge money returned to its fund"),
    Verb.RESOURCE_CREATE: N_("Resource listed"),
    Verb.RESOURCE_EDIT: N_("Resource changed"),
    Verb.RESOURCE_WITHDRAW: N_("Resource withdrawn"),
    Verb.FUND_CREATE: N_("Fund set up"),
    Verb.FUND_UPDATE: N_("Fund changed"),
    Verb.FUND_PROJECT_ADD: N_("Project added to a fund"),
    Verb.FUND_PROJECT_REMOVE: N_("Project removed from a fund"),
    Verb.MATCHING_CLOSE: N_("Matching round closed and matches paid"),
    Verb.FAIR_CREATE: N_("Fair set up"),
    Verb.FAIR_CHANGE: N_("Fair's running order changed"),
    Verb.FAIR_OPEN: N_("Fair opened for registration"),
    Verb.FAIR_GO_LIVE: N_("Fair went live"),
    Verb.FAIR_STAGE: N_("Project put on stage at a fair"),
    Verb.FAIR_CLOSE: N_("Fair closed"),
    Verb.FAIR_RAISE_CONFIRM: N_("Paddle raise confirmed as a pledge"),
    Verb.DOCKING_ACCEPT: N_("Docking accepted and published"),
    Verb.DOCKING_RUN: N_("Docking suggestions computed"),
    Verb.DOCKING_RULE: N_("Docking pin or ban changed"),
    Verb.RECTIFICATION_RAISE: N_("Rectification item raised"),
    Verb.RECTIFICATION_SUBMIT: N_("Rectification fix submitted"),
    Verb.RECTIFICATION_VERIFY: N_("Rectification verified"),
    Verb.RECTIFICATION_REJECT: N_("Rectification fix rejected"),
    Verb.RECTIFICATION_WITHDRAW: N_("Rectification item withdrawn"),
    Verb.RECTIFICATION_ESCALATE: N_("Late rectification item escalated"),
    Verb.COMPLAINT_LODGE: N_("Complaint lodged and dispatched"),
    Verb.COMPLAINT_ACKNOWLEDGE: N_("Complaint acknowledged"),
    Verb.COMPLAINT_ANSWER: N_("Complaint answered"),
    Verb.COMPLAINT_RATE: N_("Answer to a complaint rated"),
    Verb.COMPLAINT_CLOSE: N_("Complaint closed without a rating"),
    Verb.COMPLAINT_REOPEN: N_("Complaint reopened"),
    Verb.COMPLAINT_ESCALATE: N_("Late complaint escalated"),
    Verb.COMPLAINT_CATEGORY_UPDATE: N_("Complaint category changed"),
    Verb.BUYER_RATE: N_("Buyer rated by a provider"),
    Verb.SURVEY_OPEN: N_("Satisfaction survey opened"),
    Verb.SURVEY_CLOSE: N_("Satisfaction survey closed"),
    Verb.SURVEY_REOPEN: N_("Satisfaction survey reopened"),
    Verb.SURVEY_CODES: N_("Answer codes made for a satisfaction survey"),
    Verb.SURVEY_TEXT_PUBLISH: N_("A resident's comment published"),
    Verb.SURVEY_TEXT_HIDE: N_("A resident's comment hidden"),
}
# What an organisation's own activity feed leaves out: its members' comings and goings.
SESSION_VERBS = (Verb.USER_LOG_IN.value, Verb.USER_LOG_OUT.value, Verb.USER_ACT_AS.value)


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
    actor_name: str | None = None


class ChainBreak(msgspec.Struct, frozen=True):
    id: int
    reason: str
