from market.core.domain import Domain
from market.core.i18n import N_
from market.core.web import localized
from market.evaluation.indicators import models, workflow
from market.evaluation.indicators.controllers import IndicatorApi, IndicatorPages

DOMAIN = Domain(
    "indicators", routes=[IndicatorPages, IndicatorApi],
    template_globals={
        "INDICATOR_STAGE_NAMES": models.STAGE_NAMES, "INDICATOR_METHOD_NAMES": models.METHOD_NAMES,
        "INDICATOR_LEVEL_NAMES": models.LEVEL_NAMES, "INDICATOR_STATUS_NAMES": models.STATUS_NAMES,
        "INDICATOR_ACTION_NAMES": workflow.ACTION_NAMES,
        "indicator_choices": lambda versions: [(v.id, f"{localized(v, 'title')} · r{v.revision}") for v in versions],
    },
    done_messages={
        "indicators_imported": N_("The file was imported."), "indicator_saved": N_("The indicator was saved."),
        "indicators_draft_created": N_("The draft indicator system is created. Import its indicators from a file, "
                                       "then publish it."),
        "indicators_draft_deleted": N_("The draft indicator system is deleted."),
        "indicators_published": N_("The indicator system is published; the version it replaces, if any, is retired."),
        "indicators_retired": N_("The indicator system is retired."),
    },
)
