"""Fit scoring's pages and JSON twins: a project's best providers and funders with the reasons, the
excluded pairs, and the weights in force."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter

from market.core.access import PUBLIC, member
from market.core.i18n import N_, gettext
from market.core.web import Config, Db, MaybeUser, page
from market.matching.scoring import candidates, matches
from market.matching.scoring.weights import WEIGHT_NOTES, WeightsView, weights_view
from market.matching.scoring.weights import configured as configured_weights

PUBLIC_OPT = {"access": PUBLIC}
# Buyers and the platform pass the gate; the service then keeps to the project's area and to
# platform administrators.
MATCHES_OPT = {"access": member(N_("buyers and platform administrators"), "buyer", "platform")}
Limit = Annotated[int, QueryParameter(ge=1, le=100)]


class MatchingPages(Controller):
    include_in_schema = False

    @get("/projects/{project_id:int}/matches", opt=MATCHES_OPT)
    async def matches(self, request: Request, conn: Db, identity: MaybeUser, settings: Config,
                      project_id: FromPath[int], limit: Limit = 10) -> Response:
        found = await matches.project_matches(conn, identity, project_id, configured_weights(settings), limit)
        return page(request, "matching/matches.html", m=found,
                    factor_names={key: gettext(name) for key, (_side, name, _how) in WEIGHT_NOTES.items()})

    @get("/matching/weights", opt=PUBLIC_OPT)
    async def weights(self, request: Request, settings: Config) -> Response:
        return page(request, "matching/weights.html", view=weights_view(configured_weights(settings)))


class MatchingApi(Controller):
    path = "/api"
    tags = ["matching"]

    @get("/projects/{project_id:int}/matches", opt=MATCHES_OPT,
         summary="A project's best providers and funders with the reasons for their scores, and every excluded "
                 "pair with its reasons (buyers of the project's area, platform administrators)")
    async def matches(self, conn: Db, identity: MaybeUser, settings: Config, project_id: FromPath[int],
                      limit: Limit = 10) -> candidates.ProjectMatches:
        return await matches.project_matches(conn, identity, project_id, configured_weights(settings), limit)

    @get("/matching/weights", opt=PUBLIC_OPT, summary="The fit-scoring weights in force, and what each counts")
    async def weights(self, settings: Config) -> WeightsView:
        return weights_view(configured_weights(settings))
