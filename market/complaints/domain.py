from litestar.datastructures import State

from market.complaints import jobs
from market.complaints import models
from market.complaints.controllers import ComplaintApi, ComplaintPages
from market.core.domain import Domain
from market.core.i18n import N_, gettext


async def _complaint_clock(state: State) -> None:
    await jobs.run(state.pool, state.settings.timezone)


DOMAIN = Domain(
    "complaints",
    routes=[ComplaintPages, ComplaintApi],
    template_globals={
        "COMPLAINT_STATUS_NAMES": models.STATUS_NAMES, "COMPLAINT_ACTION_NAMES": models.ACTION_NAMES,
        "COMPLAINT_RESPONSIBLE_NAMES": models.RESPONSIBLE_NAMES, "COMPLAINT_DAY_KIND_NAMES": models.DAY_KIND_NAMES,
        "COMPLAINT_LODGED_BY_NAMES": models.LODGED_BY_NAMES, "COMPLAINT_MAX_PHOTOS": models.MAX_PHOTOS,
        "complaint_responsible_choices": lambda: [(k, gettext(v)) for k, v in models.RESPONSIBLE_NAMES.items()],
        "complaint_day_kind_choices": lambda: [(k, gettext(v)) for k, v in models.DAY_KIND_NAMES.items()],
    },
    # Acknowledging has one working day, and a late complaint's new deadline is days away.
    urgent_notices=frozenset({"complaint_dispatched", "complaint_due_today", "complaint_escalated", "complaint_late"}),
    # Numbers and dates only: a notification reads the same in the recipient's language either way.
    notification_kinds={
        "complaint_dispatched": N_("Complaint #%(number)s was dispatched to your organisation: acknowledge it by "
                                   "%(acknowledge_by)s and answer it by %(answer_by)s."),
        "complaint_acknowledged": N_("Your complaint #%(number)s was acknowledged."),
        "complaint_answered": N_("Your complaint #%(number)s was answered: rate the answer, or reopen the complaint "
                                 "if the problem remains."),
        "complaint_rated": N_("The complainant rated your answer to complaint #%(number)s: %(rating)s of 5."),
        "complaint_reopened": N_("Complaint #%(number)s was reopened by the complainant: answer it again by "
                                 "%(due)s."),
        "complaint_due_today": N_("Complaint #%(number)s is due today (%(due)s): deal with it today, or it is "
                                  "escalated to the organisation above yours."),
        "complaint_escalated": N_("Complaint #%(number)s was not dealt with by %(due)s and is escalated to you "
                                  "(level %(level)s): see that it is answered by %(new_due)s."),
        "complaint_late": N_("Complaint #%(number)s was due on %(due)s and is escalated (level %(level)s): answer it "
                             "by %(new_due)s."),
    },
    done_messages={
        "complaint_lodged": N_("Your complaint is lodged and dispatched. Keep this page's address: it is the only "
                               "way to follow the complaint without an account."),
        "complaint_acknowledged": N_("The complaint is acknowledged."),
        "complaint_answered": N_("The answer is sent to the complainant."),
        "complaint_rated": N_("Thank you: your rating is recorded and the complaint is closed."),
        "complaint_reopened": N_("The complaint is reopened and sent back to the organisation responsible."),
        "complaint_category_saved": N_("The category is saved; complaints lodged from now on follow it."),
    },
    jobs=[_complaint_clock],
)
