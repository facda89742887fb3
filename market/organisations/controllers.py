"""Organisation pages and their JSON twins: directory, registration, profile, members, verification."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from market.accounts import services as accounts
from market.accounts.models import AddMember, Member
from market.core.access import PLATFORM_ADMIN, PUBLIC, SIGNED_IN
from market.core.errors import NotFound
from market.core.forms import form_step
from market.core.validation import parse
from market.core.web import (
    PAGE_SIZE,
    Db,
    MaybeUser,
    Offset,
    User,
    done,
    page,
    pager,
    redirect,
    require_confirmation,
)
from market.organisations import services as organisations
from market.organisations import workflow
from market.organisations.models import (
    Jurisdiction,
    Organisation,
    OrganisationInput,
    OrganisationPrivate,
    StatusChange,
)
from market.storage import services as storage

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
                        q: Annotated[str | None, QueryParameter(max_length=100)] = None, offset: Offset = 0) -> Response:
        found = await organisations.directory(conn, kind=kind, q=q, limit=PAGE_SIZE, offset=offset)
        return page(request, "organisations/directory.html", kind=kind, q=q or "", organisations=found,
                    pager=pager(request, offset, PAGE_SIZE, await organisations.count_directory(conn, kind=kind, q=q),
                                len(found)),
                    places={j.id: j for j in await organisations.jurisdictions(conn)})

    @get("/organisations/new", opt=SIGNED_IN_OPT)
    async def register_form(self, request: Request, conn: Db) -> Response:
        return page(request, "organisations/register.html", form={"kind": request.query_params.get("kind", "provider")},
                    errors={}, places=await organisations.jurisdictions(conn))

    @post("/organisations/new", opt=SIGNED_IN_OPT)
    async def register(self, request: Request, conn: Db, identity: User) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            org_id = await organisations.register(conn, identity, _input_from_form(form))
            return redirect(f"/organisations/{org_id}")
        return await form_step(request, conn, "organisations/register.html", action,
                               places=await organisations.jurisdictions(conn))

    @get("/organisations/{org_id:int}", opt=PUBLIC_OPT)
    async def profile(self, request: Request, conn: Db, identity: MaybeUser,
                      org_id: FromPath[int]) -> Response:
        org = await organisations.get_public(conn, identity, org_id)
        private = (await organisations.get_private(conn, identity, org_id)
                   if identity and organisations.can_see_private(identity, org_id) else None)
        place = next(j for j in await organisations.jurisdictions(conn) if j.id == org.jurisdiction_id)
        documents = await storage.organisation_files(conn, identity, org_id) if private else []
        return page(request, "organisations/profile.html", org=org, private=private, place=place, documents=documents,
                    public_documents=[] if private else await storage.public_files(conn, org_id),
                    actions=[t for t in workflow.TRANSITIONS if t.source == org.status and t.by == "platform_admin"]
                    if identity and identity.is_platform_admin else [], errors={})

    @get("/organisations/{org_id:int}/edit", opt=SIGNED_IN_OPT)
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
            return redirect(f"/organisations/{org_id}")
        return await form_step(request, conn, "organisations/edit.html", action, org=org)

    @post("/organisations/{org_id:int}/resubmit", opt=SIGNED_IN_OPT)
    async def resubmit(self, request: Request, conn: Db, identity: User, org_id: FromPath[int]) -> Response:
        await organisations.change_status(conn, identity, org_id, "resubmit", StatusChange())
        return redirect(f"/organisations/{org_id}")

    @get("/organisations/{org_id:int}/members", opt=SIGNED_IN_OPT)
    async def members(self, request: Request, conn: Db, identity: User, org_id: FromPath[int]) -> Response:
        people = await accounts.members(conn, identity, org_id)
        org = await organisations.get_private(conn, identity, org_id)
        return page(request, "organisations/members.html", org=org, members=people, form={}, errors={})

    @post("/organisations/{org_id:int}/members", opt=SIGNED_IN_OPT)
    async def add_member(self, request: Request, conn: Db, identity: User, org_id: FromPath[int]) -> Response:
        people = await accounts.members(conn, identity, org_id)
        org = await organisations.get_private(conn, identity, org_id)

        async def action(form: dict[str, Any]) -> Response:
            await accounts.add_member(conn, identity, org_id, parse(form, AddMember))
            return redirect(f"/organisations/{org_id}/members")
        return await form_step(request, conn, "organisations/members.html", action, org=org, members=people)

    @post("/organisations/{org_id:int}/members/{user_id:int}/remove", opt=SIGNED_IN_OPT)
    async def remove_member(self, conn: Db, identity: User, org_id: FromPath[int], user_id: FromPath[int]) -> Response:
        await accounts.remove_member(conn, identity, org_id, user_id)
        return redirect(f"/organisations/{org_id}/members")

    @get("/admin/organisations", opt=ADMIN_OPT)
    async def pending(self, request: Request, conn: Db, identity: User) -> Response:
        return page(request, "organisations/pending.html",
                    organisations=await organisations.awaiting_verification(conn, identity),
                    places={j.id: j for j in await organisations.jurisdictions(conn)})

    @post("/admin/organisations/{org_id:int}/{action:str}", opt=ADMIN_OPT)
    async def change_status(self, request: Request, conn: Db, identity: User, org_id: FromPath[int],
                            action: FromPath[str]) -> Response:
        if action not in workflow.ACTIONS:
            raise NotFound()

        async def step(form: dict[str, Any]) -> Response:
            if action == "verify":
                require_confirmation(form, action)
            await organisations.change_status(conn, identity, org_id, action, parse(form, StatusChange))
            return done("/admin/organisations", "verified") if action == "verify" else redirect("/admin/organisations")
        org = await organisations.get_public(conn, identity, org_id)
        place = next(j for j in await organisations.jurisdictions(conn) if j.id == org.jurisdiction_id)
        return await form_step(request, conn, "organisations/profile.html", step, org=org, place=place,
                               public_documents=[],
                               documents=await storage.organisation_files(conn, identity, org_id),
                               private=await organisations.get_private(conn, identity, org_id),
                               actions=[t for t in workflow.TRANSITIONS if t.source == org.status])


def _form_of(org: OrganisationPrivate) -> dict[str, Any]:
    return {k: getattr(org, k) for k in OrganisationInput.__struct_fields__ if hasattr(org, k)}


class OrganisationApi(Controller):
    path = "/api"
    tags = ["organisations"]

    @get("/jurisdictions", opt=PUBLIC_OPT, summary="The jurisdiction tree, as a flat list with parent ids")
    async def jurisdictions(self, conn: Db) -> list[Jurisdiction]:
        return await organisations.jurisdictions(conn)

    @get("/organisations", opt=PUBLIC_OPT, summary="Verified organisations")
    async def directory(self, conn: Db,
                        kind: FromQuery[KindFilter | None] = None,
                        q: Annotated[str | None, QueryParameter(max_length=100)] = None,
                        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
                        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
                        ) -> list[Organisation]:
        return await organisations.directory(conn, kind=kind, q=q, limit=limit, offset=offset)

    @post("/organisations", opt=SIGNED_IN_OPT, status_code=201, summary="Register an organisation")
    async def register(self, conn: Db, identity: User,
                       data: JSONBody[OrganisationInput]) -> dict[str, Any]:
        org_id = await organisations.register(conn, identity, data)
        return {"organisation_id": org_id, "status": "pending"}

    @get("/organisations/{org_id:int}", opt=PUBLIC_OPT, summary="An organisation (private fields for its members)")
    async def profile(self, conn: Db, identity: MaybeUser,
                      org_id: FromPath[int]) -> Organisation | OrganisationPrivate:
        org = await organisations.get_public(conn, identity, org_id)
        if identity and organisations.can_see_private(identity, org_id):
            return await organisations.get_private(conn, identity, org_id)
        return org

    @put("/organisations/{org_id:int}", opt=SIGNED_IN_OPT, summary="Edit an organisation's profile")
    async def update(self, conn: Db, identity: User, org_id: FromPath[int],
                     data: JSONBody[OrganisationInput]) -> OrganisationPrivate:
        await organisations.update(conn, identity, org_id, data)
        return await organisations.get_private(conn, identity, org_id)

    @get("/organisations/{org_id:int}/members", opt=SIGNED_IN_OPT, summary="Members (organisation admins)")
    async def members(self, conn: Db, identity: User, org_id: FromPath[int]) -> list[Member]:
        return await accounts.members(conn, identity, org_id)

    @post("/organisations/{org_id:int}/members", opt=SIGNED_IN_OPT, status_code=201, summary="Add a member")
    async def add_member(self, conn: Db, identity: User, org_id: FromPath[int],
                         data: JSONBody[AddMember]) -> dict[str, int]:
        return {"user_id": await accounts.add_member(conn, identity, org_id, data)}

    @post("/admin/organisations/{org_id:int}/{action:str}", opt=ADMIN_OPT, summary="Verify, reject, suspend, reinstate")
    async def change_status(self, conn: Db, identity: User, org_id: FromPath[int], action: FromPath[Action],
                            data: JSONBody[StatusChange]) -> dict[str, str]:
        return {"status": await organisations.change_status(conn, identity, org_id, action, data)}
