from market.core.domain import Domain
from market.core.i18n import N_
from market.evaluation.controllers import PanelApi, PanelPages
from market.evaluation.workflow import PANEL_STATUS_NAMES

DOMAIN = Domain(
    "evaluation", routes=[PanelPages, PanelApi], template_globals={"PANEL_STATUS_NAMES": PANEL_STATUS_NAMES},
    done_messages={"panel_submitted": N_("Your scores are submitted. You now see the other members' scores.")},
    notification_kinds={
        "panel_agency_assigned": N_("An evaluation of “%(title)s” was handed to your organisation: assign your "
                                    "experts to its panel."),
        "panel_member_added": N_("You sit on the evaluation panel for “%(title)s”: declare any conflict of interest, "
                                 "read the bids and score them."),
    },
)
