"""Complaint pages (lodging, the public list and figures, the categories, a complaint for those who
handle it and for its complainant, by account or tracking link) and their JSON twins. The rules are
in `complaints.services`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, Literal

import asyncpg
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from urllib.parse import quote

from market.complaints import services as complaints
from market.complaints.models import (
    AnswerInput,
    Categories,
    CategoryInput,
    ComplaintInput,
    ComplaintList,
    ComplaintView,
    Figures,
    Lodged,
    RatingInput,
    ReopenInput,
)
from market.core.access import PLATFORM_ADMIN, PUBLIC, SIGNED_IN, Identity
from market.core.errors import Invalid
from market.core.forms import form_step
from market.core.validation import parse
from market.core.web import (PAGE_SIZE, Config, CursorParam, Db, MaybeUser, User, browsed_place, done, keyset_pager,
                             page)
from market.places import services as places

PUBLIC_OPT = {"access": PUBLIC}
SIGNED_IN_OPT = {"access": SIGNED_IN}
ADMIN_OPT = {"access": PLATFORM_ADMIN}
Status = Literal["dispatched", "acknowledged", "answered", "closed", "reopened"]
CategoryCode = Annotated[str | None, QueryParameter(pattern=r"^[a-z_]{2,40}$")]
OrgId = Annotated[int | None, QueryParameter(ge=1, le=2**62)]
PlaceId = Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)]  # a district, street or community
LinkId = Annotated[int | None, QueryParameter(ge=1, le=2**62)]
# A year complaints were lodged in; 0 for every year.
Year = Annotated[int | None, QueryParameter(ge=0, le=2999)]
_FIELDS = ("category_id", "community_id", "body", "address", "project_id", "provider_id", "contact_name",
           "contact_phone")


def _yes(value: Any) -> bool | None:
    return {"yes": True, "no": False}.get(value) if isinstance(value, str) else None


async def _photos(request: Request, limit: int) -> list[tuple[bytes, str]]:
    """The photos chosen on the form, refused next to their field when one is too large."""
    out = []
    for upload in (await request.form()).getall("photos", []):
        if isinstance(upload, UploadFile) and upload.filename:
            data = await upload.read(limit + 1)
            if len(data) > limit:
                raise Invalid("The file is too large.", field="photos")
            out.append((data, upload.filename))
    return out


def _shown(view: ComplaintView) -> dict[str, Any]:
    return {"complaint": view}


class ComplaintPages(Controller):
    include_in_schema = False

    @get("/complaints", opt=PUBLIC_OPT)
    async def index(self, request: Request, conn: Db, settings: Config, status: FromQuery[Status | None] = None,
                    category: CategoryCode = None, organisation: OrgId = None, place: PlaceId = None,
                    year: Year = None, cursor: CursorParam = None) -> Response:
        view = await complaints.public_list(conn, status=status, category=category, organisation=organisation,
                                            place=place, year=year, cursor=cursor, limit=PAGE_SIZE,
                                            timezone=settings.timezone)
        return page(request, "complaints/list.html", view=view, pager=keyset_pager(request, view, len(view.complaints)),
                    place_picker=await places.picker(conn, place))

    @get("/complaints/figures", opt=PUBLIC_OPT)
    async def figures(self, request: Request, conn: Db, year: Year = None, place: PlaceId = None,
                      cursor: CursorParam = None) -> Response:
        view = await complaints.figures(conn, year=year, place=place, cursor=cursor, limit=PAGE_SIZE)
        return page(request, "complaints/figures.html", view=view,
                    pager=keyset_pager(request, view, len(view.organisations)), place_picker=await places.picker(conn, place))

    @get("/complaints/categories", opt=PUBLIC_OPT)
    async def categories(self, request: Request, conn: Db, identity: MaybeUser) -> Response:
        return page(request, "complaints/categories.html", view=await complaints.categories_view(conn, identity),
                    errors={}, form={})

    @post("/complaints/categories/{category_id:int}", opt=ADMIN_OPT)
    async def update_category(self, request: Request, conn: Db, identity: User,
                              category_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            form = {**form, "active": form.get("active") == "yes"}
            await complaints.update_category(conn, identity, category_id, parse(form, CategoryInput))
            return done("/complaints/categories", "complaint_category_saved")

        async def context() -> Mapping[str, Any]:
            return {"view": await complaints.categories_view(conn, identity), "editing": category_id}

        return await form_step(request, conn, "complaints/categories.html", action, context=context)

    @get("/complaints/new", opt=PUBLIC_OPT | {"shows": "form"})
    async def new(self, request: Request, conn: Db, identity: MaybeUser, project: LinkId = None,
                  provider: LinkId = None, community: LinkId = None) -> Response:
        chosen = community or (identity.community_id if identity else None)
        offer = await complaints.lodge_form(conn, project, provider, community=chosen, browse=await browsed_place(request))
        form = {"community_id": chosen,
                "project_id": offer.project.id if offer.project else None,
                "provider_id": offer.provider.id if offer.provider else None}
        return page(request, "complaints/new.html", offer=offer, form=form, errors={})

    @post("/complaints/new", opt=PUBLIC_OPT)
    async def lodge(self, request: Request, conn: Db, identity: MaybeUser, settings: Config) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            data = parse({k: form[k] for k in _FIELDS if k in form}, ComplaintInput)
            photos = await _photos(request, settings.max_upload_bytes)
            lodged = await complaints.lodge(conn, request.app.state.storage, settings, identity, data, photos)
            return done(lodged.tracking_link, "complaint_lodged")

        sent = await request.form()
        offer = await complaints.lodge_form(conn, _int(sent.get("project_id")), _int(sent.get("provider_id")),
                                            community=_int(sent.get("community_id")),
                                            browse=await browsed_place(request))
        return await form_step(request, conn, "complaints/new.html", action, offer=offer)

    @get("/complaints/{complaint_id:int}", opt=SIGNED_IN_OPT)
    async def show(self, request: Request, conn: Db, identity: User, settings: Config,
                   complaint_id: FromPath[int]) -> Response:
        view = await complaints.complaint_view(conn, settings, identity, complaint_id)
        return page(request, "complaints/complaint.html", errors={}, form={}, **_shown(view))

    async def _step(self, request: Request, conn: asyncpg.Connection, identity: Identity | None, settings: Any,
                    complaint_id: int, token: str | None,
                    action: Callable[[dict[str, Any]], Awaitable[Response]]) -> Response:
        async def context() -> Mapping[str, Any]:
            return _shown(await complaints.complaint_view(conn, settings, identity, complaint_id, token))

        return await form_step(request, conn, "complaints/complaint.html", action, context=context)

    @post("/complaints/{complaint_id:int}/acknowledge", opt=SIGNED_IN_OPT)
    async def acknowledge(self, request: Request, conn: Db, identity: User, settings: Config,
                          complaint_id: FromPath[int]) -> Response:
        async def action(_: dict[str, Any]) -> Response:
            await complaints.acknowledge(conn, identity, complaint_id)
            return done(f"/complaints/{complaint_id}", "complaint_acknowledged")

        return await self._step(request, conn, identity, settings, complaint_id, None, action)

    @post("/complaints/{complaint_id:int}/answer", opt=SIGNED_IN_OPT)
    async def answer(self, request: Request, conn: Db, identity: User, settings: Config,
                     complaint_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            data = parse({"answer": form.get("answer", ""), "upheld": _yes(form.get("upheld"))}, AnswerInput)
            await complaints.answer(conn, identity, complaint_id, data, settings.rectification_days)
            return done(f"/complaints/{complaint_id}", "complaint_answered")

        return await self._step(request, conn, identity, settings, complaint_id, None, action)

    @post("/complaints/{complaint_id:int}/rate", opt=SIGNED_IN_OPT)
    async def rate(self, request: Request, conn: Db, identity: User, settings: Config,
                   complaint_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await complaints.rate(conn, identity, complaint_id, parse({"rating": form.get("rating")}, RatingInput))
            return done(f"/complaints/{complaint_id}", "complaint_rated")

        return await self._step(request, conn, identity, settings, complaint_id, None, action)

    @post("/complaints/{complaint_id:int}/reopen", opt=SIGNED_IN_OPT)
    async def reopen(self, request: Request, conn: Db, identity: User, settings: Config,
                     complaint_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await complaints.reopen(conn, identity, complaint_id, parse({"reason": form.get("reason", "")},
                                                                         ReopenInput))
            return done(f"/complaints/{complaint_id}", "complaint_reopened")

        return await self._step(request, conn, identity, settings, complaint_id, None, action)

    @get("/complaints/track/{token:str}", opt=PUBLIC_OPT)
    async def track(self, request: Request, conn: Db, settings: Config, token: FromPath[str]) -> Response:
        complaint_id = await complaints.by_token(conn, token)
        view = await complaints.complaint_view(conn, settings, None, complaint_id, token)
        return page(request, "complaints/complaint.html", errors={}, form={}, token=token, **_shown(view))

    @post("/complaints/track/{token:str}/rate", opt=PUBLIC_OPT)
    async def track_rate(self, request: Request, conn: Db, settings: Config, token: FromPath[str]) -> Response:
        complaint_id = await complaints.by_token(conn, token)

        async def action(form: dict[str, Any]) -> Response:
            await complaints.rate(conn, None, complaint_id, parse({"rating": form.get("rating")}, RatingInput), token)
            return done(complaints.tracking_link(token), "complaint_rated")

        return await self._step(request, conn, None, settings, complaint_id, token, action)

    @post("/complaints/track/{token:str}/reopen", opt=PUBLIC_OPT)
    async def track_reopen(self, request: Request, conn: Db, settings: Config, token: FromPath[str]) -> Response:
        complaint_id = await complaints.by_token(conn, token)

        async def action(form: dict[str, Any]) -> Response:
            await complaints.reopen(conn, None, complaint_id, parse({"reason": form.get("reason", "")}, ReopenInput),
                                    token)
            return done(complaints.tracking_link(token), "complaint_reopened")

        return await self._step(request, conn, None, settings, complaint_id, token, action)

    @get("/complaints/track/{token:str}/photos/{file_id:uuid}", opt=PUBLIC_OPT | {"shows": "file"})
    async def track_photo(self, request: Request, conn: Db, token: FromPath[str],
                          file_id: FromPath[uuid.UUID]) -> Response:
        record, data = await complaints.track_photo(conn, request.app.state.storage, token, file_id)
        return Response(data, media_type=record.content_type, headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(record.filename)}",
            "Cache-Control": "private, no-store"})


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 18 else None


class ComplaintApi(Controller):
    path = "/api"
    tags = ("complaints",)

    @get("/complaints", opt=PUBLIC_OPT, summary="Complaints as the public sees them: where, what kind, who answers "
                                                "for it and how it stands, newest first, of a `year` lodged if given; "
                                                "never who lodged it or what they wrote")
    async def index(self, conn: Db, settings: Config, status: FromQuery[Status | None] = None, category: CategoryCode = None,
                    organisation: OrgId = None, place: PlaceId = None, year: Year = None,
                    cursor: CursorParam = None) -> ComplaintList:
        return await complaints.public_list(conn, status=status, category=category, organisation=organisation,
                                            place=place, year=year, cursor=cursor, limit=PAGE_SIZE,
                                            timezone=settings.timezone)

    @post("/complaints", opt=PUBLIC_OPT, status_code=201,
          summary="Lodge a complaint (photos on the form only); it is dispatched at once, and the answer carries "
                  "its private tracking link")
    async def lodge(self, request: Request, conn: Db, identity: MaybeUser, settings: Config,
                    data: JSONBody[ComplaintInput]) -> Lodged:
        return await complaints.lodge(conn, request.app.state.storage, settings, identity, data)

    @get("/complaints/figures", opt=PUBLIC_OPT, summary="Per organisation responsible, busiest first: closure rate, "
                                                        "on-time rate, average days to close and satisfaction, of the "
                                                        "complaints lodged in a year (this one unless `year`; 0: every "
                                                        "year), of the organisations registered in `place` and below")
    async def figures(self, conn: Db, year: Year = None, place: PlaceId = None, cursor: CursorParam = None) -> Figures:
        return await complaints.figures(conn, year=year, place=place, cursor=cursor, limit=PAGE_SIZE)

    @get("/complaints/categories", opt=PUBLIC_OPT, summary="The complaint categories, who answers for each and "
                                                           "their time limits")
    async def categories(self, conn: Db, identity: MaybeUser) -> Categories:
        return await complaints.categories_view(conn, identity)

    @put("/complaints/categories/{category_id:int}", opt=ADMIN_OPT, summary="Change a category's time limits")
    async def update_category(self, conn: Db, identity: User, category_id: FromPath[int],
                              data: JSONBody[CategoryInput]) -> Categories:
        await complaints.update_category(conn, identity, category_id, data)
        return await complaints.categories_view(conn, identity)

    @get("/complaints/{complaint_id:int}", opt=SIGNED_IN_OPT, summary="A complaint, for those who handle it, "
                                                                      "its complainant and the platform")
    async def show(self, conn: Db, identity: User, settings: Config, complaint_id: FromPath[int]) -> ComplaintView:
        return await complaints.complaint_view(conn, settings, identity, complaint_id)

    @post("/complaints/{complaint_id:int}/acknowledge", opt=SIGNED_IN_OPT, status_code=201,
          summary="Acknowledge a complaint dispatched to your organisation")
    async def acknowledge(self, conn: Db, identity: User, settings: Config,
                          complaint_id: FromPath[int]) -> ComplaintView:
        await complaints.acknowledge(conn, identity, complaint_id)
        return await complaints.complaint_view(conn, settings, identity, complaint_id)

    @post("/complaints/{complaint_id:int}/answer", opt=SIGNED_IN_OPT, status_code=201,
          summary="Answer a complaint, saying whether it is upheld")
    async def answer(self, conn: Db, identity: User, settings: Config, complaint_id: FromPath[int],
                     data: JSONBody[AnswerInput]) -> ComplaintView:
        await complaints.answer(conn, identity, complaint_id, data, settings.rectification_days)
        return await complaints.complaint_view(conn, settings, identity, complaint_id)

    @post("/complaints/{complaint_id:int}/rate", opt=SIGNED_IN_OPT, status_code=201,
          summary="Rate the answer to your complaint (1–5), which closes it")
    async def rate(self, conn: Db, identity: User, settings: Config, complaint_id: FromPath[int],
                   data: JSONBody[RatingInput]) -> ComplaintView:
        await complaints.rate(conn, identity, complaint_id, data)
        return await complaints.complaint_view(conn, settings, identity, complaint_id)

    @post("/complaints/{complaint_id:int}/reopen", opt=SIGNED_IN_OPT, status_code=201,
          summary="Reopen your answered or closed complaint (once)")
    async def reopen(self, conn: Db, identity: User, settings: Config, complaint_id: FromPath[int],
                     data: JSONBody[ReopenInput]) -> ComplaintView:
        await complaints.reopen(conn, identity, complaint_id, data)
        return await complaints.complaint_view(conn, settings, identity, complaint_id)

    @get("/complaints/track/{token:str}", opt=PUBLIC_OPT, summary="A complaint, through its private tracking link")
    async def track(self, conn: Db, settings: Config, token: FromPath[str]) -> ComplaintView:
        return await complaints.complaint_view(conn, settings, None, await complaints.by_token(conn, token), token)

    @post("/complaints/track/{token:str}/rate", opt=PUBLIC_OPT, status_code=201,
          summary="Rate the answer through the tracking link")
    async def track_rate(self, conn: Db, settings: Config, token: FromPath[str],
                         data: JSONBody[RatingInput]) -> ComplaintView:
        complaint_id = await complaints.by_token(conn, token)
        await complaints.rate(conn, None, complaint_id, data, token)
        return await complaints.complaint_view(conn, settings, None, complaint_id, token)

    @post("/complaints/track/{token:str}/reopen", opt=PUBLIC_OPT, status_code=201,
          summary="Reopen the complaint (once) through the tracking link")
    async def track_reopen(self, conn: Db, settings: Config, token: FromPath[str],
                           data: JSONBody[ReopenInput]) -> ComplaintView:
        complaint_id = await complaints.by_token(conn, token)
        await complaints.reopen(conn, None, complaint_id, data, token)
        return await complaints.complaint_view(conn, settings, None, complaint_id, token)
