"""Uploading files, and fetching them through expiring signed links."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import quote

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter

from market.core.access import PUBLIC, SIGNED_IN, Identity
from market.core.errors import Invalid
from market.core.forms import form_step
from market.core.i18n import gettext
from market.core.web import (
    Config,
    Db,
    MaybeUser,
    User,
    done,
    redirect,
    same_origin_referer,
)
from market.storage import services as files
from market.storage.services import FileLink, StoredFile

SIGNED_IN_OPT = {"access": SIGNED_IN}


async def _upload(request: Request, conn: asyncpg.Connection, state: State, identity: Identity) -> StoredFile:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Invalid("Choose a file to upload.", field="file")
    settings = state.settings
    # Read one byte past the limit: enough to know it is too large without reading all of it.
    data = await upload.read(settings.max_upload_bytes + 1)
    visibility = form.get("visibility") or "private"
    return await files.store(conn, state.storage, settings, identity, data, upload.filename or "",
                             visibility if isinstance(visibility, str) else "")


class FilePages(Controller):
    include_in_schema = False

    @post("/files", opt=SIGNED_IN_OPT)
    async def upload(self, request: Request, conn: Db, state: State, identity: User) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            await _upload(request, conn, state, identity)
            return done("/dashboard#files", "file_uploaded")

        async def context() -> dict[str, Any]:
            title = gettext(Invalid.title)
            return {"title": title, "detail": title, "back": same_origin_referer(request)}
        # The form is the upload itself, which `_upload` reads; nothing of it is shown again.
        return await form_step(request, conn, "errors/error.html", action, context=context, form={})

    @get("/files/{file_id:uuid}", opt={"access": PUBLIC, "shows": "redirect"})
    async def open(self, conn: Db, settings: Config, identity: MaybeUser,
                   file_id: FromPath[uuid.UUID]) -> Response:
        record = await files.get_record(conn, identity, file_id)
        return redirect(files.signed_link(settings, record, identity).url)

    @get("/files/{file_id:uuid}/content", opt={"access": PUBLIC, "shows": "file"})
    async def content(self, conn: Db, state: State, settings: Config, identity: MaybeUser,
                      file_id: FromPath[uuid.UUID],
                      expires: Annotated[int, QueryParameter(ge=0, le=2**40)],
                      user: Annotated[int, QueryParameter(ge=0, le=2**62)],
                      sig: Annotated[str, QueryParameter(max_length=128)] = "",
                      grant: Annotated[int, QueryParameter(ge=0, le=1)] = 0) -> Response:
        files.check_link(settings, file_id, identity, expires, user, sig, granted=grant == 1)
        record, data = await files.read(conn, state.storage, identity, file_id, granted=grant == 1)
        return Response(data, media_type=record.content_type, headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(record.filename)}",
            "Cache-Control": "private, no-store",
        })


class FileOut(StoredFile, frozen=True, kw_only=True):
    link: FileLink


class FileApi(Controller):
    path = "/api/files"
    tags = ("files",)

    @post("/", opt=SIGNED_IN_OPT, status_code=201, summary="Upload a file (multipart form field `file`)")
    async def upload(self, request: Request, conn: Db, state: State, identity: User,
                     data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]) -> FileOut:
        record = await _upload(request, conn, state, identity)
        return FileOut(**{f: getattr(record, f) for f in StoredFile.__struct_fields__},
                       link=files.signed_link(state.settings, record, identity))

    @get("/{file_id:uuid}", opt={"access": PUBLIC}, summary="A file's details and an expiring link to it")
    async def detail(self, conn: Db, settings: Config, identity: MaybeUser,
                     file_id: FromPath[uuid.UUID]) -> FileOut:
        record = await files.get_record(conn, identity, file_id)
        return FileOut(**{f: getattr(record, f) for f in StoredFile.__struct_fields__},
                       link=files.signed_link(settings, record, identity))
