"""Organisation pages and their JSON twins: directory, registration, profile, members, verification."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from market.accounts import invitations
from market.accounts import services as accounts
from market.accounts.models import AddMember
from market.core.access import PLATFORM_ADMIN, PUBLIC, SIGNED_IN
from market.core.errors import NotFound
from market.core.forms import form_step
from market.core.validation import parse
from market.core.web import (
    PAGE_SIZE,
    Config,
    CursorParam,
    Db,
    browsed_place,
    form_data,
    place_id,
    MaybeUser,
    User,
    done,
    keyset_pager,
    page,
    redirect,
    require_confirmation,
)
from market.organisations import services as organisations
from market.organisations import views, workflow
from market.organisations.models import (
    OrganisationInput,
    OrganisationPrivate,
    StatusChange,
)
from market.places import services as places
from market.places.models import Places

PUBLIC_OPT = {"access": PUBLIC}
SIGNED_IN_OPT = {"access": SIGNED_IN}
ADMIN_OPT = {"access": PLATFORM_ADMIN}
KindFilter = Literal["buyer", "provider", "funder", "evaluator"]
Action = Literal["verify", "reject", "resubmit", "suspend", "reinstate"]


def _input_from_form(form: dict[str, Any]) -> OrganisationInput:
    if form.get("kind") != "provider":
        form = {k: v for k, v in form.items() if k not in ("rating", "registration_date")}
    return parse(form, OrganisationInput)


class OrganisationPages(Controller):
    include_in_schema = False

    @get("/organisations", opt=PUBLIC_OPT)
    async def directory(self, request: Request, conn: Db,
                        kind: FromQuery[KindFilter | None] = None,
                        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
                        cursor: CursorParam = None) -> Response:
        found = await views.directory(conn, kind=kind, q=q, limit=PAGE_SIZE, cursor=cursor)
        return page(request, "organisations/directory.html", **msgspec.structs.asdict(found),
                    pager=keyset_pager(request, found, len(found.organisations)))

    @get("/organisations/new", opt={**SIGNED_IN_OPT, "shows": "form"})
    async def register_form(self, request: Request, conn: Db) -> Response:
        return page(request, "organisations/register.html", form={"kind": request.query_params.get("kind", "provider")},
                    errors={}, **await _register_places(request, conn, None))

    @post("/organisations/new", opt=SIGNED_IN_OPT)
    async def register(self, request: Request, conn: Db, identity: User) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            org_id = await organisations.register(conn, identity, _input_from_form(form))
            return done(f"/organisations/{org_id}", "organisation_registered")
        sent = await form_data(request)
        return await form_step(request, conn, "organisations/register.html", action,
                               **await _register_places(request, conn, sent.get("jurisdiction_id")))

    @get("/organisations/{org_id:int}", opt=PUBLIC_OPT)
    async def profile(self, request: Request, conn: Db, identity: MaybeUser,
                      org_id: FromPath[int]) -> Response:
        return page(request, "organisations/profile.html", errors={},
                    **msgspec.structs.asdict(await views.profile(conn, identity, org_id)))

    @get("/organisations/{org_id:int}/edit", opt={**SIGNED_IN_OPT, "shows": "form"})
    async def edit_form(self, request: Request, conn: Db, identity: User, org_id: FromPath[int]) -> Response:
        accounts.require_organisation_admin(identity, org_id)
        org = await organisations.get_private(conn, identity, org_id)
        return page(request, "organisations/edit.html", org=org, form=_form_of(org), errors={})

    @post("/organisations/{org_id:int}/edit", opt=SIGNED_IN_OPT)
    async def edit(self, request: Request, conn: Db, identity: User, org_id: FromPath[int]) -> Response:
        accounts.require_organisation_admin(identity, org_id)
        org = await organisations.get_private(conn, identity, org_id)

        async def action(form: dict[str, Any]) -> Response:
            fixed = {"kind": org.kind, "subtype": org.subtype, "jurisdiction_id": org.jurisdiction_id}
            await organisations.update(conn, identity, org_id, _input_from_form({**form, **fixed}))
            return done(f"/organisations/{org_id}", "organisation_saved")
        return await form_step(request, conn, "organisations/edit.html", action, org=org)

    @post("/organisations/{org_id:int}/resubmit", opt=SIGNED_IN_OPT)
    async def resubmit(self, request: Request, conn: Db, identity: User, org_id: FromPath[int]) -> Response:
        await organisations.change_status(conn, identity, org_id, "resubmit", StatusChange())
        return done(f"/organisations/{org_id}", "organisation_resubmitted")

    @get("/organisations/{org_id:int}/members", opt=SIGNED_IN_OPT)
    async def members(self, request: Request, conn: Db, identity: User, org_id: FromPath[int]) -> Response:
        return page(request, "organisations/members.html", form={}, errors={},
                    **msgspec.structs.asdict(await views.members(conn, identity, org_id)))

    @post("/organisations/{org_id:int}/members", opt=SIGNED_IN_OPT)
    async def add_member(self, request: Request, conn: Db, identity: User, settings: Config, state: State,
                         org_id: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            outcome = await invitations.add_or_invite(conn, settings, state.mailer, identity, org_id, parse(form, AddMember))
            return done(f"/organisations/{org_id}/members", "member_added" if outcome == "added" else "member_invited")

        async def context() -> dict[str, Any]:
            return msgspec.structs.asdict(await views.members(conn, identity, org_id))
        return await form_step(request, conn, "organisations/members.html", action, context=context)

    @post("/organisations/{org_id:int}/invitations/{invitation_id:int}/withdraw", opt=SIGNED_IN_OPT)
    async def withdraw_invitation(self, conn: Db, identity: User, org_id: FromPath[int],
                                  invitation_id: FromPath[int]) -> Response:
        await invitations.withdraw(conn, identity, org_id, invitation_id)
        return done(f"/organisations/{org_id}/members", "invitation_withdrawn")

    @post("/organisations/{org_id:int}/members/{user_id:int}/remove", opt=SIGNED_IN_OPT)
    async def remove_member(self, conn: Db, identity: User, org_id: FromPath[int], user_id: FromPath[int]) -> Response:
        await accounts.remove_member(conn, identity, org_id, user_id)
        return done(f"/organisations/{org_id}/members", "member_removed")

    @get("/admin/organisations", opt=ADMIN_OPT)
    async def pending(self, request: Request, conn: Db, identity: User) -> Response:
        return page(request, "organisations/pending.html",
                    **msgspec.structs.asdict(await views.awaiting_verification(conn, identity)))

    @post("/admin/organisations/{org_id:int}/{action:str}", opt=ADMIN_OPT)
    async def change_status(self, request: Request, conn: Db, identity: User, org_id: FromPath[int],
                            action: FromPath[str]) -> Response:
        if action not in workflow.ORGANISATION.actions:
            raise NotFound()

        async def step(form: dict[str, Any]) -> Response:
            if action == "verify":
                require_confirmation(form, action)
            await organisations.change_status(conn, identity, org_id, action, parse(form, StatusChange))
            return done("/admin/organisations", "verified") if action == "verify" else redirect("/admin/organisations")
        async def context() -> dict[str, Any]:
            return msgspec.structs.asdict(await views.profile(conn, identity, org_id))
        return await form_step(request, conn, "organisations/profile.html", step, context=context)


async def _register_places(request: Request, conn: Db, value: Any) -> dict[str, Any]:
    """Where the organisation is based, a level at a time (places.form_picker)."""
    shown, offered = await places.form_picker(conn, value=place_id(value), browse=await browsed_place(request))
    return {"place_picker": shown, "place_choices": offered}


def _form_of(org: OrganisationPrivate) -> dict[str, Any]:
    return {k: getattr(org, k) for k in OrganisationInput.__struct_fields__ if hasattr(org, k)}


class OrganisationApi(Controller):
    path = "/api"
    tags = ("organisations",)

    @get("/jurisdictions", opt=PUBLIC_OPT,
         summary="Places a level at a time: the districts, the places below `parent`, or those whose name holds `q`")
    async def jurisdictions(self, conn: Db, parent: Annotated[int | None, QueryParameter(ge=1, le=2_147_483_647)] = None,
                            q: Annotated[str | None, QueryParameter(max_length=100)] = None,
                            cursor: CursorParam = None,
                            limit: Annotated[int, QueryParameter(ge=1, le=200)] = 100) -> Places:
        if q:
            return await places.search(conn, q, limit=min(limit, 50))
        return await places.children(conn, parent, cursor=cursor, limit=limit)

    @get("/organisations", opt=PUBLIC_OPT, summary="Verified organisations, how many there are in all, and their places")
    async def directory(self, conn: Db,
                        kind: FromQuery[KindFilter | None] = None,
                        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
                        limit: Annotated[int, QueryParameter(ge=1, le=200)] = PAGE_SIZE,
                        cursor: CursorParam = None) -> views.Directory:
        return await views.directory(conn, kind=kind, q=q, limit=limit, cursor=cursor)

    @post("/organisations", opt=SIGNED_IN_OPT, status_code=201, summary="Register an organisation")
    async def register(self, conn: Db, identity: User,
                       data: JSONBody[OrganisationInput]) -> dict[str, Any]:
        org_id = await organisations.register(conn, identity, data)
        return {"organisation_id": org_id, "status": "pending"}

    @get("/organisations/{org_id:int}", opt=PUBLIC_OPT,
         summary="An organisation's page: its profile (private fields for its members and the platform), place, "
                 "documents and the platform's decisions open now")
    async def profile(self, conn: Db, identity: MaybeUser, org_id: FromPath[int]) -> views.Profile:
        return await views.profile(conn, identity, org_id)

    @get("/admin/organisations", opt=ADMIN_OPT, summary="Organisations awaiting verification")
    async def pending(self, conn: Db, identity: User) -> views.AwaitingVerification:
        return await views.awaiting_verification(conn, identity)

    @put("/organisations/{org_id:int}", opt=SIGNED_IN_OPT, summary="Edit an organisation's profile")
    async def update(self, conn: Db, identity: User, org_id: FromPath[int],
                     data: JSONBody[OrganisationInput]) -> OrganisationPrivate:
        await organisations.update(conn, identity, org_id, data)
        return await organisations.get_private(conn, identity, org_id)

    @get("/organisations/{org_id:int}/members", opt=SIGNED_IN_OPT,
         summary="The organisation and its members (its administrators and the platform)")
    async def members(self, conn: Db, identity: User, org_id: FromPath[int]) -> views.Members:
        return await views.members(conn, identity, org_id)

    @post("/organisations/{org_id:int}/members", opt=SIGNED_IN_OPT, status_code=201, summary="Add a member")
    async def add_member(self, conn: Db, identity: User, org_id: FromPath[int],
                         data: JSONBody[AddMember]) -> dict[str, int]:
        return {"user_id": await accounts.add_member(conn, identity, org_id, data)}

    @post("/organisations/{org_id:int}/invitations", opt=SIGNED_IN_OPT, status_code=201,
          summary="Invite someone with no account yet to join, by email")
    async def invite(self, conn: Db, identity: User, settings: Config, state: State, org_id: FromPath[int],
                     data: JSONBody[AddMember]) -> dict[str, int]:
        return {"invitation_id": await invitations.invite(conn, settings, state.mailer, identity, org_id, data)}

    @post("/organisations/{org_id:int}/invitations/{invitation_id:int}/withdraw", opt=SIGNED_IN_OPT, status_code=200,
          summary="Withdraw an invitation not taken up yet")
    async def withdraw_invitation(self, conn: Db, identity: User, org_id: FromPath[int],
                                  invitation_id: FromPath[int]) -> dict[str, str]:
        await invitations.withdraw(conn, identity, org_id, invitation_id)
        return {"status": "withdrawn"}

    @post("/admin/organisations/{org_id:int}/{action:str}", opt=ADMIN_OPT, summary="Verify, reject, suspend, reinstate")
    async def change_status(self, conn: Db, identity: User, org_id: FromPath[int], action: FromPath[Action],
                            data: JSONBody[StatusChange]) -> dict[str, str]:
        return {"status": await organisations.change_status(conn, identity, org_id, action, data)}
