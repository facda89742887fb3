from market.core.domain import Domain
from market.core.i18n import N_
from market.delivery import models
from market.delivery.controllers import ContractApi, ContractPages

DOMAIN = Domain(
    "delivery",
    routes=[ContractPages, ContractApi],
    template_globals={
        "STAGE_NAMES": models.STAGE_NAMES, "OUTCOME_NAMES": models.OUTCOME_NAMES,
        "DELIVERY_STATUS_NAMES": models.DELIVERY_STATUS_NAMES, "RETURN_KIND_NAMES": models.RETURN_KIND_NAMES,
    },
    notification_kinds={
        "contract_rectify": N_("An evaluation of “%(title)s” failed: put it right by %(date)s."),
        "contract_reevaluation": N_("A new evaluation of “%(title)s” has been ordered after its rectification."),
        "contract_ended": N_("The contract for “%(title)s” was ended after a failed evaluation."),
        "contract_money_returned": N_("The contract for “%(title)s” was ended: %(amount)s of your money for it "
                                      "was returned."),
        "fund_money_returned": N_("The contract for “%(title)s” was ended: %(amount)s went back to the fund "
                                  "“%(fund)s”."),
    },
    done_messages={
        "rectification_set": N_("The rectification deadline is set, and the provider has been told."),
        "reevaluation_ordered": N_("A new evaluation panel is formed for the stage: add its members, then start "
                                   "scoring."),
        "contract_ended": N_("The contract is ended. What was not paid has gone back, and the funders have been "
                             "told."),
    },
)
