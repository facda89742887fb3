from litestar.datastructures import State

from market.core.domain import Domain
from market.core.i18n import N_, gettext
from market.core.web import localized
from market.procurement.awards.controllers import BatchApi, BatchPages
from market.procurement.awards.models import BATCH_STATUS_NAMES, OBJECTION_STATUS_NAMES
from market.procurement.bids.controllers import BidApi, BidPages
from market.procurement.calls import services as calls
from market.procurement.calls import workflow as calls_workflow
from market.procurement.calls.controllers import CallApi, CallPages
from market.procurement.calls.models import CALL_STATUS_NAMES, REVISION_FIELDS
from market.procurement.contracts import models as contracts
from market.procurement.contracts.controllers import ContractApi, ContractPages
from market.procurement.needs import workflow
from market.procurement.needs.controllers import NeedApi, NeedPages, ProjectPages
from market.procurement.needs.models import NEED_STATUS_NAMES, URGENCY_NAMES


async def _remind(state: State) -> None:
    await calls.queue_deadline_reminders(state.pool)


DOMAIN = Domain(
    "procurement",
    routes=[NeedPages, ProjectPages, NeedApi, CallPages, CallApi, BidPages, BidApi, BatchPages, BatchApi,
            ContractPages, ContractApi],
    template_globals={
        "URGENCY_NAMES": URGENCY_NAMES, "NEED_STATUS_NAMES": NEED_STATUS_NAMES,
        "NEED_ACTION_NAMES": workflow.NEED_ACTION_NAMES, "CALL_STATUS_NAMES": CALL_STATUS_NAMES,
        "REVISION_FIELDS": REVISION_FIELDS, "weighted": lambda c: f"{localized(c)} {c['weight']}%",
        "OBJECTION_STATUS_NAMES": OBJECTION_STATUS_NAMES, "BATCH_STATUS_NAMES": BATCH_STATUS_NAMES,
        "CONTRACT_STATUS_NAMES": contracts.CONTRACT_STATUS_NAMES, "MILESTONE_KIND_NAMES": contracts.MILESTONE_KIND_NAMES,
        "WAITS_FOR_NAMES": contracts.WAITS_FOR_NAMES, "milestone_title": contracts.milestone_title,
        "REPORT_STAGE_NAMES": contracts.REPORT_STAGE_NAMES,
        "CALL_ACTION_NAMES": calls_workflow.CALL_ACTION_NAMES,
        "urgency_choices": lambda: [(k, gettext(v)) for k, v in URGENCY_NAMES.items()],
        "procedure_choices": lambda procedures: [(p.code, localized(p)) for p in procedures],
    },
    urgent_notices=frozenset({"deadline_soon"}),
    notification_kinds={
        "call_opened": N_("A call you may bid on is open: %(title)s"),
        "question_answered": N_("Your question on “%(title)s” has been answered."),
        "deadline_soon": N_("Bids for “%(title)s” close within 48 hours."),
        "call_awarded": N_("The call “%(title)s” has been awarded."),
        "call_changed": N_("The call “%(title)s” changed after you bid: read what changed and confirm your bid, "
                           "or it will not be evaluated."),
        "call_cancelled": N_("The call “%(title)s”, on which you bid, was cancelled: %(reason)s"),
        "batch_decided": N_("Review batch %(number)s of “%(title)s” has been decided."),
        "objection_raised": N_("An objection was raised against the award of “%(title)s”."),
        "contract_to_sign": N_("A contract is ready for your signature: %(title)s"),
        "need_approved": N_("The need “%(title)s”, which you raised or support, is now a project: %(project)s."),
        "need_declined": N_("The need “%(title)s”, which you raised or support, was not made a project: %(reason)s"),
        "need_reopened": N_("The need “%(title)s”, which you raised or support, is open for support again."),
    },
    done_messages={
        "need_raised": N_("Your need is raised. Residents can support it, and the buyers for its area will review it."),
        "need_supported": N_("You support this need."),
        "need_withdrawn": N_("The need is withdrawn."),
        "need_declined": N_("The need is declined. Whoever raised it sees your reason."),
        "need_reopened": N_("The need is open again."),
        "project_created": N_("The project is approved, and so are the needs it answers. Next, draft a call for it."),
        "call_drafted": N_("The call is saved as a draft. Providers see it once you publish it."),
        "call_saved": N_("Your changes to the call are saved."),
        "call_published": N_("The call is published, and the providers who may bid have been told."),
        "call_cancelled": N_("The call is cancelled. Bidders and the public see your reason."),
        "call_failed": N_("The call is declared failed. The reason is public."),
        "question_asked": N_("Your question is sent. The buyer's answer will be public on this page."),
        "question_answered": N_("Your answer is public on this page, and whoever asked has been told."),
        "objection_raised": N_("Your objection is lodged, and the buyer has been told."),
        "objection_upheld": N_("The objection is upheld and your answer is public; the evaluation is open again."),
        "objection_rejected": N_("The objection is rejected and your answer is public."),
        "batch_decided": N_("The decision is published for its notice period, and the proposers have been told."),
        "panel_formed": N_("The evaluation panel is formed: add its members or hand it to an evaluation agency, then "
                           "start scoring."),
        "batch_opened": N_("The proposals received so far form a new batch, with its own panel. Decide it before "
                           "cutting off the next."),
        "contract_generated": N_("The contract is drawn up from the award. Check it and sign it; the provider signs "
                                 "it too."),
        "awarded": N_("The call is awarded. The award is now under public notice."),
        "signed": N_("You have signed the contract for your organisation."),
        "bid_submitted": N_("Your bid is in. You may change or withdraw it until the deadline."),
        "bid_withdrawn": N_("Your bid is withdrawn. You may submit it again until the deadline."),
        "bid_confirmed": N_("Your bid stands for the call as changed, and it will be evaluated."),
    },
    jobs=[_remind],
)
