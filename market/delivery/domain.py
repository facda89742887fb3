from litestar.datastructures import State

from market.core.domain import Domain
from market.core.i18n import N_, gettext
from market.delivery import models
from market.delivery import rounds, scorecard
from market.delivery.controllers import ContractApi, ContractPages, ScorecardApi, ScorecardPages
from market.delivery.evaluation_report.controllers import EvaluationReportApi, EvaluationReportPages
from market.delivery.reports import jobs as report_jobs
from market.delivery.reports.controllers import ReportApi, ReportPages
from market.delivery.reports.models import EVIDENCE_KIND_NAMES, REPORT_STATUS_NAMES


async def _report_clock(state: State) -> None:
    await report_jobs.run(state.pool, state.settings.report_grace_days, state.settings.timezone)


DOMAIN = Domain(
    "delivery",
    routes=[ContractPages, ContractApi, ReportPages, ReportApi, ScorecardPages, ScorecardApi, EvaluationReportPages,
            EvaluationReportApi],
    template_globals={
        "REPORT_STATUS_NAMES": REPORT_STATUS_NAMES, "EVIDENCE_KIND_NAMES": EVIDENCE_KIND_NAMES,
        "evidence_choices": lambda: [(k, gettext(v)) for k, v in EVIDENCE_KIND_NAMES.items()],
        "STAGE_NAMES": models.STAGE_NAMES, "OUTCOME_NAMES": models.OUTCOME_NAMES,
        "DELIVERY_STATUS_NAMES": models.DELIVERY_STATUS_NAMES, "RETURN_KIND_NAMES": models.RETURN_KIND_NAMES,
        "CONTRACT_LIST_STATUS_NAMES": models.LIST_STATUS_NAMES, "CONTRACT_SIDE_NAMES": models.SIDE_NAMES,
    },
    urgent_notices=frozenset({"report_due"}),  # its second reminder comes the day before
    notification_kinds={
        "report_due": N_("Your report on “%(title)s” is due on %(due)s."),
        "report_overdue": N_("The report on “%(title)s” was due on %(due)s and has not been submitted; if it is "
                             "not submitted within %(days)s days of that date, the stage counts as failed."),
        "report_not_filed": N_("The report on “%(title)s” was not submitted within %(days)s days of its due date: "
                               "that stage counts as a failed evaluation."),
        "report_submitted": N_("A report on “%(title)s” was submitted for your review."),
        "report_resubmitted": N_("A corrected report on “%(title)s” was resubmitted for your review."),
        "report_returned": N_("Your report on “%(title)s” was returned for correction."),
        "report_accepted": N_("Your report on “%(title)s” was accepted."),
        "contract_rectify": N_("An evaluation of “%(title)s” failed: put it right by %(date)s."),
        "contract_reevaluation": N_("A new evaluation of “%(title)s” has been ordered after its rectification."),
        "contract_ended": N_("The contract for “%(title)s” was ended after a failed evaluation."),
        "contract_money_returned": N_("The contract for “%(title)s” was ended: %(amount)s of your money for it "
                                      "was returned."),
        "evaluation_decided": N_("The evaluation of “%(title)s” is decided: %(total)s, grade %(grade)s."),
        "fund_money_returned": N_("The contract for “%(title)s” was ended: %(amount)s went back to the fund "
                                  "“%(fund)s”."),
    },
    done_messages={
        "report_saved": N_("The draft is saved. Submit it when it is complete."),
        "evidence_removed": N_("The file is removed from the report's evidence."),
        "report_submitted": N_("The report is submitted. The buyer has been told."),
        "report_returned": N_("The report is returned to the provider with your comments."),
        "report_accepted": N_("The report is accepted."),
        "rectification_set": N_("The rectification deadline is set, and the provider has been told."),
        "reevaluation_ordered": N_("A new evaluation panel is formed for the stage: add its members, then start "
                                   "scoring."),
        "contract_ended": N_("The contract is ended. What was not paid has gone back, and the funders have been "
                             "told."),
        "round_opened": N_("The evaluation is open: add its members or hand it to an evaluation agency, then start "
                           "scoring."),
        "round_decided": N_("The evaluation is decided, and the provider has been told."),
    },
    jobs=[_report_clock],
    # The standing rule is the process's, read from its settings once (market.delivery.scorecard).
    state=lambda settings: {"standing_rule": scorecard.configure(settings)},
    install=lambda _: rounds.register(),
)
