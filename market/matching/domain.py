from litestar import Litestar

from market.core.domain import Domain
from market.core.i18n import N_
from market.core.settings import Settings
from market.matching.scoring import weights
from market.matching.scoring.controllers import MatchingApi, MatchingPages
from market.matching.docking.controllers import DockingApi, DockingPages
from market.matching.fairs.controllers import FairApi, FairPages
from market.matching.fairs.models import FAIR_STATUS_NAMES
from market.matching.fairs.live import BoardHub


def _check(settings: Settings) -> list[str]:
    try:
        weights.parse(settings.matching_weights)
    except weights.WeightsError as exc:
        return [f"MARKET_MATCHING_WEIGHTS is not valid: {exc}"]
    return []


async def _open_boards(app: Litestar) -> None:
    app.state.boards = BoardHub(app.state.pool, app.state.dsn)


async def _close_boards(app: Litestar) -> None:
    boards = getattr(app.state, "boards", None)
    if boards is not None:
        await boards.close()


DOMAIN = Domain(
    "matching", routes=[FairPages, FairApi, DockingPages, DockingApi, MatchingPages, MatchingApi],
    template_globals={"FAIR_STATUS_NAMES": FAIR_STATUS_NAMES},
    notification_kinds={"funding_suggested": N_("A docking suggests your organisation give %(amount)s to “%(title)s”.")},
    done_messages={"docking_run": N_("The docking has run: its suggestions are below."),
                   "fair_created": N_("The fair is set up. Add the projects to present, in their running order."),
                   "fair_opened": N_("Registration is open: funders can now sign up and mark the projects they "
                                     "are interested in."),
                   "fair_live": N_("The fair is live: the first project is on stage and funders can raise paddles."),
                   "fair_staged": N_("The project is on stage: every board and phone now shows it."),
                   "fair_closed": N_("The fair is closed: no more paddles can be raised, and its report is ready."),
                   "fair_item_added": N_("The project is on the fair's running order."),
                   "fair_registered": N_("You are registered for the fair. Mark the projects you are interested in."),
                   "fair_interest_marked": N_("The project is marked: its presenters see one more funder interested."),
                   "fair_interest_cleared": N_("The project is no longer marked as interesting to you."),
                   "docking_pinned": N_("The provider is pinned to the project: every docking run keeps them together."),
                   "docking_banned": N_("The pair is banned: no docking run will suggest this provider for the project."),
                   "docking_rule_cleared": N_("The rule is cleared: docking runs choose freely for this project again."),
                   "docking_published": N_("The docking is published as a call awarded to the provider. The award "
                                           "is now under public notice."),
                   "run_docking_published": N_("The docking is published as a call awarded to the provider. The award "
                                               "is now under public notice, and each funder the run suggested is "
                                               "told how much to give.")},
    check_settings=_check, on_startup=[_open_boards], on_shutdown=[_close_boards],
)
