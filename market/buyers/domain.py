from litestar.datastructures import State

from market.buyers import chart, jobs, models
from market.buyers.controllers import BuyersApi, RatingPages, ScorecardPages
from market.core.domain import Domain
from market.core.i18n import N_


async def _rating_clock(state: State) -> None:
    await jobs.run(state.pool, state.settings.timezone)


DOMAIN = Domain(
    "buyers",
    routes=[RatingPages, ScorecardPages, BuyersApi],
    template_globals={
        "CRITERIA": models.CRITERIA, "CRITERION_NAMES": models.CRITERION_NAMES,
        "CRITERION_SCALES": models.CRITERION_SCALES, "RATING_STAGE_NAMES": models.RATING_STAGE_NAMES,
        "scorecard_chart": chart.chart,
    },
    notification_kinds={
        "buyer_rating_due_midterm": N_("The mid-term evaluation of “%(title)s” is decided: rate its buyer now."),
        "buyer_rating_due_final": N_("The contract for “%(title)s” is over: rate its buyer now."),
    },
    done_messages={
        "buyer_rated": N_("Your rating is recorded. The buyer sees it only together with other providers' "
                          "ratings, and never who gave it."),
    },
    jobs=[_rating_clock],
)
