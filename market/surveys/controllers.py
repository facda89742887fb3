"""The survey pages: the residents' public page at /s/<token> (no account; answered with a slip's code
or a number confirmed by text message), and the buyer's and provider's survey pages with the QR code,
the poster, the code slips, the results and their export. The rules are in `surveys.services`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from market.core.access import PUBLIC, member
from market.core.errors import Invalid, InvalidFields
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.validation import parse
from market.core.web import PAGE_SIZE, Config, CursorParam, Db, User, done, form_data, keyset_pager, page, redirect
from market.surveys import files
from market.surveys import services as surveys
from market.surveys.models import AnswerInput, PublicSurvey, SurveyList, SurveyView

PUBLIC_OPT = {"access": PUBLIC}
PARTIES_OPT = {"access": member(N_("buyers and social organisations"), "buyer", "provider")}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
SURVEY = "/surveys/{survey_id:int}"
PUBLIC_PATH = "/s/{token:str}"
Ticket = Annotated[str | None, QueryParameter(max_length=64)]
Batch = Annotated[int | None, QueryParameter(ge=1, le=32767)]


def client_address(request: Request) -> str:
    """The address SMS limits count by: the peer (uvicorn puts the client's there from
    X-Forwarded-For when the proxy is trusted)."""
    return request.client.host if request.client else "unknown"


def _download(data: bytes, media_type: str, name: str, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}"})


async def public_view(conn: asyncpg.Connection, token: str) -> PublicSurvey:
    return await surveys.survey_view_public(conn, await surveys.public_survey(conn, token))


def _answer(form: Mapping[str, Any], view: PublicSurvey) -> AnswerInput:
    """The form's scores (q1…qN, each 1–5) and comment; every question not answered is named."""
    scores: dict[int, int] = {}
    problems = []
    for q in view.questions:
        raw = form.get(f"q{q.position}")
        if raw in ("1", "2", "3", "4", "5"):
            scores[q.position] = int(raw)
        else:
            problems.append(Invalid("Choose an answer.", field=f"q{q.position}"))
    if problems:
        raise InvalidFields(problems)
    return parse({"scores": scores, "comment": form.get("comment", "")}, AnswerInput)


class PublicSurveyPages(Controller):
    include_in_schema = False

    @get(PUBLIC_PATH, opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, token: FromPath[str], ticket: Ticket = None) -> Response:
        return page(request, "surveys/public.html", survey=await public_view(conn, token), form={}, errors={},
                    ticket=ticket)

    @post(PUBLIC_PATH, opt=PUBLIC_OPT)
    async def answer(self, request: Request, conn: Db, settings: Config, token: FromPath[str]) -> Response:
        survey = await public_view(conn, token)
        form = await form_data(request)
        ticket = form.get("ticket")
        if ticket:
            # A wrong code counts even though the answer is refused (see note_sms_attempt).
            await surveys.note_sms_attempt(conn, settings, token, str(ticket), str(form.get("sms_code", "")))

        async def action(form: dict[str, Any]) -> Response:
            if ticket:
                await surveys.answer_with_phone(conn, settings, token, str(ticket), str(form.get("sms_code", "")),
                                                _answer(form, survey))
            else:
                await surveys.answer_with_code(conn, token, str(form.get("code", "")), _answer(form, survey))
            return done(f"/s/{token}/thanks", "survey_answered")

        return await form_step(request, conn, "surveys/public.html", action, form=form, survey=survey,
                               ticket=ticket)

    @get(PUBLIC_PATH + "/thanks", opt=PUBLIC_OPT)
    async def thanks(self, request: Request, conn: Db, token: FromPath[str]) -> Response:
        return page(request, "surveys/thanks.html", survey=await public_view(conn, token))

    @get(PUBLIC_PATH + "/phone", opt={**PUBLIC_OPT, "shows": "form"})
    async def phone_form(self, request: Request, conn: Db, token: FromPath[str]) -> Response:
        return page(request, "surveys/phone.html", survey=await public_view(conn, token), form={}, errors={})

    @post(PUBLIC_PATH + "/phone", opt=PUBLIC_OPT)
    async def send_code(self, request: Request, conn: Db, settings: Config, token: FromPath[str]) -> Response:
        survey = await public_view(conn, token)

        async def action(form: dict[str, Any]) -> Response:
            ticket = await surveys.send_sms_code(conn, settings, request.app.state.sms, token,
                                                 str(form.get("phone", "")), client_address(request))
            return redirect(f"/s/{token}?ticket={ticket}&done=sms_sent")

        return await form_step(request, conn, "surveys/phone.html", action, survey=survey)


class PublicSurveyApi(Controller):
    path = "/api"
    tags = ("surveys",)

    @get(PUBLIC_PATH, opt=PUBLIC_OPT, summary="A survey as residents see it: its questions and whether it takes "
                                               "answers (never its results)")
    async def show(self, conn: Db, token: FromPath[str]) -> PublicSurvey:
        return await public_view(conn, token)

    @get(PUBLIC_PATH + "/thanks", opt=PUBLIC_OPT, summary="The page after answering: the survey as residents see it")
    async def thanks(self, conn: Db, token: FromPath[str]) -> PublicSurvey:
        return await public_view(conn, token)


async def _survey_form(request: Request, conn: asyncpg.Connection, settings: Any, identity: Any, survey_id: int,
                       step: Any, code: str) -> Response:
    async def action(form: dict[str, Any]) -> Response:
        await step(form)
        return done(f"/surveys/{survey_id}", code)

    async def context() -> Mapping[str, Any]:
        return {"survey": await surveys.survey_view(conn, settings, identity, survey_id)}

    return await form_step(request, conn, "surveys/survey.html", action, context=context)


class SurveyPages(Controller):
    include_in_schema = False

    @get("/surveys", opt=PARTIES_OPT)
    async def index(self, request: Request, conn: Db, identity: User, cursor: CursorParam = None) -> Response:
        listing = await surveys.survey_list(conn, identity, cursor=cursor, limit=PAGE_SIZE)
        return page(request, "surveys/list.html", listing=listing, pager=keyset_pager(request, listing, len(listing.surveys)))

    @get("/contracts/{contract_id:int}/survey", opt={**PARTIES_OPT, "shows": "redirect"})
    async def for_contract(self, conn: Db, identity: User, contract_id: FromPath[int]) -> Response:
        return redirect(f"/surveys/{await surveys.survey_for_contract(conn, identity, contract_id)}")

    @get(SURVEY, opt=PARTIES_OPT)
    async def show(self, request: Request, conn: Db, identity: User, settings: Config,
                   survey_id: FromPath[int]) -> Response:
        return page(request, "surveys/survey.html", survey=await surveys.survey_view(conn, settings, identity, survey_id),
                    form={}, errors={})

    @post(SURVEY + "/status", opt=BUYERS_OPT)
    async def change(self, request: Request, conn: Db, identity: User, settings: Config,
                     survey_id: FromPath[int]) -> Response:
        action = str((await form_data(request)).get("action", ""))

        async def move(_: dict[str, Any]) -> None:
            await surveys.change_status(conn, settings, identity, survey_id, action)

        return await _survey_form(request, conn, settings, identity, survey_id, move, f"survey_{action}")

    @post(SURVEY + "/codes", opt=BUYERS_OPT)
    async def codes(self, request: Request, conn: Db, identity: User, settings: Config,
                    survey_id: FromPath[int]) -> Response:
        async def make(form: dict[str, Any]) -> None:
            raw = str(form.get("count", ""))
            await surveys.make_codes(conn, identity, survey_id, int(raw) if raw.isdigit() and len(raw) < 6 else 0)

        return await _survey_form(request, conn, settings, identity, survey_id, make, "survey_codes")

    @post(SURVEY + "/comments/{answer_id:int}", opt=BUYERS_OPT)
    async def moderate(self, request: Request, conn: Db, identity: User, settings: Config, survey_id: FromPath[int],
                       answer_id: FromPath[int]) -> Response:
        action = str((await form_data(request)).get("action", ""))

        async def move(_: dict[str, Any]) -> None:
            await surveys.moderate(conn, identity, survey_id, answer_id, action)

        return await _survey_form(request, conn, settings, identity, survey_id, move, f"survey_text_{action}")

    @get(SURVEY + "/poster.pdf", opt={**PARTIES_OPT, "shows": "pdf"})
    async def poster(self, conn: Db, identity: User, settings: Config, survey_id: FromPath[int]) -> Response:
        view = await surveys.survey_view(conn, settings, identity, survey_id)
        return _download(files.poster_pdf(view), "application/pdf", f"survey-{survey_id}-poster.pdf", inline=True)

    @get(SURVEY + "/codes.pdf", opt={**BUYERS_OPT, "shows": "pdf"})
    async def slips(self, conn: Db, identity: User, settings: Config, survey_id: FromPath[int],
                    batch: Batch = None) -> Response:
        view = await surveys.survey_view(conn, settings, identity, survey_id)
        codes = await surveys.batch_codes(conn, identity, survey_id, batch)
        return _download(files.slips_pdf(view, codes), "application/pdf", f"survey-{survey_id}-codes.pdf")

    @get(SURVEY + "/results.csv", opt={**PARTIES_OPT, "shows": "file"})
    async def export(self, conn: Db, identity: User, settings: Config, survey_id: FromPath[int]) -> Response:
        view = await surveys.survey_view(conn, settings, identity, survey_id)
        return _download(files.results_csv(view), "text/csv; charset=utf-8", f"survey-{survey_id}-results.csv")


class SurveyApi(Controller):
    path = "/api"
    tags = ("surveys",)

    @get("/surveys", opt=PARTIES_OPT, summary="The surveys of your organisation's contracts and, for a buyer, the "
                                              "standing surveys of the communities it keeps")
    async def index(self, conn: Db, identity: User, cursor: CursorParam = None,
                    limit: Annotated[int, QueryParameter(ge=1, le=200)] = PAGE_SIZE) -> SurveyList:
        return await surveys.survey_list(conn, identity, cursor=cursor, limit=limit)

    @get(SURVEY, opt=PARTIES_OPT, summary="A survey: questions, answers so far, results with 95% intervals (null "
                                           "under 5 answers), comments, codes (the buyer's)")
    async def show(self, conn: Db, identity: User, settings: Config, survey_id: FromPath[int]) -> SurveyView:
        return await surveys.survey_view(conn, settings, identity, survey_id)

