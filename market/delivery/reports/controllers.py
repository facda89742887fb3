"""The report page (filing for the provider, review for the buyer, reading for the evaluators) and
its JSON twins. The rules are in `delivery.reports.services`."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody

from market.core.access import SIGNED_IN, Identity, member
from market.core.errors import Invalid
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.validation import parse
from market.core.web import Config, Db, User, done, page, require_confirmation
from market.delivery.reports import forms
from market.delivery.reports import services as reports
from market.delivery.reports.models import ReportInput, ReportView, ReturnInput

SIGNED_IN_OPT = {"access": SIGNED_IN}
PROVIDERS_OPT = {"access": member(N_("social organisations"), "provider")}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}
TEMPLATE = "delivery/report.html"
PATH = "/contracts/{contract_id:int}/reports/{position:int}"


def _here(contract_id: int, position: int) -> str:
    return f"/contracts/{contract_id}/reports/{position}"


async def _context(request: Request, conn: asyncpg.Connection, identity: Identity, contract_id: int,
                   position: int) -> Mapping[str, Any]:
    """What the page shows around a form that was refused (which shows the form as it was sent)."""
    return {"report": await reports.report_view(conn, request.app.state.settings, identity, contract_id, position)}


async def _form(request: Request, conn: asyncpg.Connection, identity: Identity, contract_id: int, position: int,
                action: Callable[[dict[str, Any]], Awaitable[Response]]) -> Response:
    """A form of the report page: on a refusal, the page again with the problem."""
    async def context() -> Mapping[str, Any]:
        return await _context(request, conn, identity, contract_id, position)

    return await form_step(request, conn, TEMPLATE, action, context=context)


async def _evidence(request: Request, conn: asyncpg.Connection, identity: Identity, contract_id: int,
                    position: int, form: Mapping[str, Any]) -> int:
    """Keep the files chosen on the form as evidence of the draft; how many there were."""
    state: State = request.app.state
    uploads = [u for u in (await request.form()).getall("evidence", []) if isinstance(u, UploadFile) and u.filename]
    kind = form.get("evidence_kind") or "photo"
    for upload in uploads:
        data = await upload.read(state.settings.max_upload_bytes + 1)
        await reports.add_evidence(conn, state.storage, state.settings, identity, contract_id, position, data,
                                   upload.filename, kind)
    return len(uploads)


class ReportPages(Controller):
    include_in_schema = False

    @get(PATH, opt=SIGNED_IN_OPT)
    async def show(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int],
                   position: FromPath[int]) -> Response:
        context = await _context(request, conn, identity, contract_id, position)
        return page(request, TEMPLATE, errors={}, form=forms.form_of(context["report"].draft), **context)

    @post(PATH, opt=PROVIDERS_OPT)
    async def save(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int],
                   position: FromPath[int]) -> Response:
        """Save the draft with the files chosen; with the submit button, submit it as well."""
        async def action(form: dict[str, Any]) -> Response:
            await reports.save(conn, identity, contract_id, position, forms.report_from_form(form))
            await _evidence(request, conn, identity, contract_id, position, form)
            if form.get("then") == "submit":
                await reports.submit(conn, identity, contract_id, position)
                return done(_here(contract_id, position), "report_submitted")
            return done(_here(contract_id, position) + "#draft", "report_saved")

        return await _form(request, conn, identity, contract_id, position, action)

    @post(PATH + "/evidence/{file_id:uuid}/remove", opt=PROVIDERS_OPT)
    async def remove_evidence(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int],
                              position: FromPath[int], file_id: FromPath[uuid.UUID]) -> Response:
        async def action(_: dict[str, Any]) -> Response:
            await reports.remove_evidence(conn, identity, contract_id, position, file_id)
            return done(_here(contract_id, position) + "#evidence", "evidence_removed")

        return await _form(request, conn, identity, contract_id, position, action)

    @post(PATH + "/return", opt=BUYERS_OPT)
    async def return_report(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int],
                            position: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await reports.return_report(conn, identity, contract_id, position,
                                        parse({"comment": form.get("comment", "")}, ReturnInput))
            return done(_here(contract_id, position), "report_returned")

        return await _form(request, conn, identity, contract_id, position, action)

    @post(PATH + "/accept", opt=BUYERS_OPT)
    async def accept(self, request: Request, conn: Db, identity: User, contract_id: FromPath[int],
                     position: FromPath[int]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            require_confirmation(form, "accept")
            await reports.accept(conn, identity, contract_id, position)
            return done(_here(contract_id, position), "report_accepted")

        return await _form(request, conn, identity, contract_id, position, action)


class ReportApi(Controller):
    path = "/api"
    tags = ("reports",)

    @get(PATH, opt=SIGNED_IN_OPT, summary="A provider's report on a report milestone: its draft (for the provider) "
                                         "and every submitted version, with expiring links to its evidence")
    async def show(self, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                   position: FromPath[int]) -> ReportView:
        return await reports.report_view(conn, settings, identity, contract_id, position)

    @put(PATH, opt=PROVIDERS_OPT, summary="Save the report's draft (the whole of it)")
    async def save(self, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                   position: FromPath[int], data: JSONBody[ReportInput]) -> ReportView:
        await reports.save(conn, identity, contract_id, position, data)
        return await reports.report_view(conn, settings, identity, contract_id, position)

    @post(PATH + "/evidence", opt=PROVIDERS_OPT, status_code=201,
          summary="Attach a file to the draft (multipart fields `file` and `kind`: photo, sign_in_sheet or "
                  "document); a photo's location metadata is removed")
    async def add_evidence(self, request: Request, conn: Db, identity: User, settings: Config,
                           contract_id: FromPath[int], position: FromPath[int],
                           data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
                           ) -> ReportView:
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid("Choose a file to upload.", field="file")
        content = await upload.read(settings.max_upload_bytes + 1)
        await reports.add_evidence(conn, request.app.state.storage, settings, identity, contract_id, position,
                                   content, upload.filename or "", data.get("kind") or "photo")
        return await reports.report_view(conn, settings, identity, contract_id, position)

    @delete(PATH + "/evidence/{file_id:uuid}", opt=PROVIDERS_OPT, status_code=200,
            summary="Take a file off the draft")
    async def remove_evidence(self, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                              position: FromPath[int], file_id: FromPath[uuid.UUID]) -> ReportView:
        await reports.remove_evidence(conn, identity, contract_id, position, file_id)
        return await reports.report_view(conn, settings, identity, contract_id, position)

    @post(PATH + "/submit", opt=PROVIDERS_OPT, status_code=201,
          summary="Submit the draft, or resubmit a corrected report; the version is frozen")
    async def submit(self, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                     position: FromPath[int]) -> ReportView:
        await reports.submit(conn, identity, contract_id, position)
        return await reports.report_view(conn, settings, identity, contract_id, position)

    @post(PATH + "/return", opt=BUYERS_OPT, status_code=201, summary="Return the report for correction, with comments")
    async def return_report(self, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                            position: FromPath[int], data: JSONBody[ReturnInput]) -> ReportView:
        await reports.return_report(conn, identity, contract_id, position, data)
        return await reports.report_view(conn, settings, identity, contract_id, position)

    @post(PATH + "/accept", opt=BUYERS_OPT, status_code=201, summary="Accept the report")
    async def accept(self, conn: Db, identity: User, settings: Config, contract_id: FromPath[int],
                     position: FromPath[int]) -> ReportView:
        await reports.accept(conn, identity, contract_id, position)
        return await reports.report_view(conn, settings, identity, contract_id, position)
