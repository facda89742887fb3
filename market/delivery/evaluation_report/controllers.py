"""The evaluation report's page, PDF, workbook and JSON twin; public once the stage is decided. What
each reader sees is the service's rule (`evaluation_report.services`)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter

from market.core.access import PUBLIC
from market.core.web import Db, MaybeUser, page
from market.delivery.evaluation_report import files
from market.delivery.evaluation_report.models import EvaluationReport
from market.delivery.evaluation_report.services import evaluation_report

PUBLIC_OPT = {"access": PUBLIC}
BASE = "/contracts/{contract_id:int}/evaluations/{stage:str}/report"
# An earlier closed panel of the stage, where it was evaluated again after a rectification.
PanelId = Annotated[int | None, QueryParameter(ge=1, le=2**62)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


class EvaluationReportPages(Controller):
    include_in_schema = False

    @get(BASE, opt=PUBLIC_OPT)
    async def show(self, request: Request, conn: Db, identity: MaybeUser, contract_id: FromPath[int],
                   stage: FromPath[str], panel: PanelId = None) -> Response:
        report = await evaluation_report(conn, identity, contract_id, stage, panel)
        return page(request, "delivery/evaluation_report.html", report=report, facts=files.facts(report),
                    title=files.title(report), query=f"?panel={panel}" if panel else "")

    @get(BASE + ".pdf", opt={**PUBLIC_OPT, "shows": "pdf"})
    async def pdf(self, conn: Db, identity: MaybeUser, contract_id: FromPath[int], stage: FromPath[str],
                  panel: PanelId = None) -> Response:
        report = await evaluation_report(conn, identity, contract_id, stage, panel)
        return _download(files.render_pdf(report), "application/pdf", files.filename(report, "pdf"))

    @get(BASE + ".xlsx", opt={**PUBLIC_OPT, "shows": "file"})
    async def xlsx(self, conn: Db, identity: MaybeUser, contract_id: FromPath[int], stage: FromPath[str],
                   panel: PanelId = None) -> Response:
        report = await evaluation_report(conn, identity, contract_id, stage, panel)
        return _download(files.to_xlsx(report), XLSX, files.filename(report, "xlsx"))


class EvaluationReportApi(Controller):
    path = "/api"
    tags = ("contracts",)

    @get(BASE, opt=PUBLIC_OPT,
         summary="The report of a decided mid-term or final evaluation (public once decided; no evaluator's own "
                 "scores)")
    async def show(self, conn: Db, identity: MaybeUser, contract_id: FromPath[int], stage: FromPath[str],
                   panel: PanelId = None) -> EvaluationReport:
        return await evaluation_report(conn, identity, contract_id, stage, panel)
