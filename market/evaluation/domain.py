from market.core.domain import Domain
from market.core.i18n import N_
from market.evaluation.controllers import PanelApi, PanelPages
from market.evaluation.workflow import PANEL_STATUS_NAMES

DOMAIN = Domain(
    "evaluation", routes=[PanelPages, PanelApi], template_globals={"PANEL_STATUS_NAMES": PANEL_STATUS_NAMES},
    done_messages={
        "panel_submitted": N_("Your scores are submitted. You now see the other members' scores."),
        "panel_member_added": N_("The member is added to the panel and has been told."),
        "panel_agency_assigned": N_("The panel is handed to the agency, whose staff have been told to seat its experts."),
        "panel_experts_seated": N_("The experts are seated, the least loaded first."),
        "declared": N_("Your declaration is recorded. You may change it until you score this candidate."),
        "panel_scoring_started": N_("Scoring is open: the members can now give their scores."),
        "score_saved": N_("Your score is saved. You may change it until you submit your scores."),
        "scores_saved": N_("Your scores are saved. You may change them until you submit your scores."),
        "consensus_saved": N_("The consensus score is recorded."),
        "note_saved": N_("Your note is kept with the panel's records."),
    },
    notification_kinds={
        "panel_agency_assigned": N_("An evaluation of “%(title)s” was handed to your organisation: assign your "
                                    "experts to its panel."),
        "panel_member_added": N_("You sit on the evaluation panel for “%(title)s”: declare any conflict of interest, "
                                 "read the bids and score them."),
        "delivery_panel_member_added": N_("You sit on the evaluation panel for “%(title)s”: declare any conflict of "
                                          "interest, read the provider's reports and score its delivery."),
    },
)
