"""Rating the buyer of a contract, a buyer's ratings in aggregate, the buyer scorecards of each place
and their index, and their JSON twins. The rules are in `buyers.ratings` and `buyers.scorecards`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from market.buyers import ratings, scorecards
from market.buyers.models import (
    CRITERIA,
    BuyerRatings,
    ContractRating,
    JurisdictionScorecard,
    RatingInput,
    ScorecardIndex,
)
from market.core.access import PUBLIC, member
from market.core.errors import Invalid, InvalidFields
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.web import Db, MaybeUser, User, done, page

PUBLIC_OPT = {"access": PUBLIC}
PROVIDERS_OPT = {"access": member(N_("social organisations"), "provider")}
RATE_TEMPLATE = "buyers/rate.html"


def _rating_input(form: dict[str, Any]) -> RatingInput:
    """The form's answers; a criterion left unanswered is named next to its scale."""
    scores: dict[str, int] = {}
    errors = []
    for c in CRITERIA:
        value = str(form.get(c, "")).strip()
        if value in ("1", "2", "3", "4", "5"):
            scores[c] = int(value)
        else:
            errors.append(Invalid("Choose a score from 1 to 5.", field=c))
    if errors:
        raise InvalidFields(errors)
    return RatingInput(stage=str(form.get("stage", "")), comment=str(form.get("comment", ""))[:2000], **scores)


class RatingPages(Controller):
    include_in_schema = False

    @get("/contracts/{contract_id:int}/buyer-rating", opt=PROVIDERS_OPT)
    async def show(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int]) -> Response:
        return page(request, RATE_TEMPLATE, view=await ratings.contract_rating(conn, identity, contract_id),
                    form={}, errors={})

    @post("/contracts/{contract_id:int}/buyer-rating", opt=PROVIDERS_OPT)
    async def rate(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await ratings.rate(conn, identity, contract_id, _rating_input(form))
            return done(f"/contracts/{contract_id}/buyer-rating", "buyer_rated")

        async def context() -> Mapping[str, Any]:
            return {"view": await ratings.contract_rating(conn, identity, contract_id)}

        return await form_step(request, conn, RATE_TEMPLATE, action, context=context)

    @get("/organisations/{org_id:int}/buyer-ratings", opt=PUBLIC_OPT)
    async def buyer(self, request: Request, conn: Db, identity: MaybeUser, org_id: FromPath[int]) -> Response:
        return page(request, "buyers/ratings.html", view=await ratings.buyer_ratings(conn, identity, org_id))


class ScorecardPages(Controller):
    include_in_schema = False

    @get("/scorecards", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db) -> Response:
        return page(request, "buyers/index.html", view=await scorecards.index(conn))

    @get("/scorecards/{jurisdiction_id:int}", opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, jurisdiction_id: FromPath[int]) -> Response:
        return page(request, "buyers/scorecard.html", view=await scorecards.scorecard(conn, jurisdiction_id))


class BuyersApi(Controller):
    path = "/api"
    tags = ("buyers",)

    @get("/contracts/{contract_id:int}/buyer-rating", opt=PROVIDERS_OPT,
         summary="The provider's ratings of the contract's buyer: each stage given (with what it gave), due, or "
                 "not yet due")
    async def contract_rating(self, conn: Db, identity: User, contract_id: FromPath[int]) -> ContractRating:
        return await ratings.contract_rating(conn, identity, contract_id)

    @post("/contracts/{contract_id:int}/buyer-rating", opt=PROVIDERS_OPT, status_code=201,
          summary="Rate the contract's buyer on a due stage: five criteria from 1 to 5 (5 is best; for "
                  "interference, 5 = none) and a comment; once per stage")
    async def rate(self, conn: Db, identity: User, contract_id: FromPath[int],
                   data: JSONBody[RatingInput]) -> ContractRating:
        await ratings.rate(conn, identity, contract_id, data)
        return await ratings.contract_rating(conn, identity, contract_id)

    @get("/organisations/{org_id:int}/buyer-ratings", opt=PUBLIC_OPT,
         summary="A buyer's ratings by providers, by year, only in aggregate and only over at least 3 providers; "
                 "the comments only for the buyer's members")
    async def buyer(self, conn: Db, identity: MaybeUser, org_id: FromPath[int]) -> BuyerRatings:
        return await ratings.buyer_ratings(conn, identity, org_id)

    @get("/scorecards", opt=PUBLIC_OPT,
         summary="Every district, street and community with its buyer score this year and last year")
    async def index(self, conn: Db) -> ScorecardIndex:
        return await scorecards.index(conn)

    @get("/scorecards/{jurisdiction_id:int}", opt=PUBLIC_OPT,
         summary="The buyer scorecard of a district, street or community: each component's score by year, with "
                 "its weight and how it is measured")
    async def show(self, conn: Db, jurisdiction_id: FromPath[int]) -> JurisdictionScorecard:
        return await scorecards.scorecard(conn, jurisdiction_id)
