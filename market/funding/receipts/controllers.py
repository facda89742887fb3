"""Receipts of confirmed payments: a printable page, a PDF and the JSON twin. Who may see one is the
service's rule (the funder's and the receiver's members, platform administrators)."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from market.core.access import SIGNED_IN
from market.core.web import Db, User, page
from market.funding.receipts import services as receipts
from market.funding.receipts.services import Receipt

SIGNED_IN_OPT = {"access": SIGNED_IN}


class ReceiptPages(Controller):
    include_in_schema = False

    @get("/payments/{payment_id:int}/receipt", opt=SIGNED_IN_OPT)
    async def show(self, request: Request, conn: Db, identity: User, payment_id: FromPath[int]) -> Response:
        receipt = await receipts.receipt(conn, identity, payment_id)
        return page(request, "funding/receipt.html", receipt=receipt, facts=receipts.facts(receipt))

    @get("/payments/{payment_id:int}/receipt.pdf", opt={**SIGNED_IN_OPT, "shows": "pdf"})
    async def pdf(self, conn: Db, identity: User, payment_id: FromPath[int]) -> Response:
        receipt = await receipts.receipt(conn, identity, payment_id)
        return Response(receipts.render_pdf(receipt), media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{receipts.filename(receipt)}"'})


class ReceiptApi(Controller):
    path = "/api"
    tags = ("funding",)

    @get("/payments/{payment_id:int}/receipt", opt=SIGNED_IN_OPT,
         summary="The receipt of a confirmed payment (its funder's and its receiver's)")
    async def show(self, conn: Db, identity: User, payment_id: FromPath[int]) -> Receipt:
        return await receipts.receipt(conn, identity, payment_id)
