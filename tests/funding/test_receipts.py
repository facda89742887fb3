"""Receipts of confirmed payments: numbered once and without gaps, the amount in capital numerals,
shown only to the funder, the receiver and the platform, as a page and as a PDF in either language."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from pypdf import PdfReader

from market.core.errors import Conflict, NotFound
from market.core.i18n import format_date, use_locale
from market.funding.pledges import services as pledges
from market.funding.receipts import services as receipts
from tests.conftest import act_as
from tests.factories import do, make_fund, make_pledge, pay_pledge, transfer, who
from tests.world import code

AMOUNT = 12_345_67


@pytest.mark.parametrize(("fen", "words"), [
    (0, "零元整"),
    (1, "壹分"),
    (10, "壹角"),
    (50, "伍角"),
    (100, "壹元整"),
    (105, "壹元零伍分"),
    (110, "壹元壹角"),
    (1000, "壹拾元整"),
    (1005, "壹拾元零伍分"),
    (21000, "贰佰壹拾元整"),
    (32504, "叁佰贰拾伍元零肆分"),
    (140950, "壹仟肆佰零玖元伍角"),
    (600714, "陆仟零柒元壹角肆分"),
    (1234567, "壹万贰仟叁佰肆拾伍元陆角柒分"),
    (1640902, "壹万陆仟肆佰零玖元零贰分"),
    (10000000, "壹拾万元整"),
    (10070000, "壹拾万零柒佰元整"),
    (10001000000, "壹亿零壹万元整"),
    (100000000000, "壹拾亿元整"),  # the largest pledge
])
def test_amount_in_chinese_capitals(fen, words):
    assert receipts.amount_in_words(fen) == words


@pytest.mark.parametrize("bad", [-1, 1.5, True, "100"])
def test_amount_in_words_takes_only_fen(bad):
    with pytest.raises(ValueError):
        receipts.amount_in_words(bad)


def _this_year() -> int:
    return datetime.now(ZoneInfo("Asia/Shanghai")).year


async def _receipt(pool, settings, world, name, payment_id):
    return await do(pool, receipts.receipt, await who(pool, settings, world, name), payment_id)


async def test_a_confirmed_offline_payment_has_a_receipt(pool, settings, world, project):
    payment = await pay_pledge(pool, settings, world, await make_pledge(pool, settings, world, "project", project, AMOUNT))
    r = await _receipt(pool, settings, world, "funder_admin", payment)
    assert r.number == f"{_this_year()}-000001"
    assert (r.amount_fen, r.amount_in_words, r.currency) == (AMOUNT, "壹万贰仟叁佰肆拾伍元陆角柒分", "CNY")
    assert (r.payer.name_zh, r.payer.credit_code) == ("测试funder", code("91", 5))
    assert (r.receiver.id, r.receiver.name_zh) == (world.orgs["bureau"], "测试bureau")
    assert (r.purpose, r.purpose_id, r.purpose_title_zh) == ("project", project, "东坡路社区老年助餐")
    assert (r.method, r.reference, r.paid_on) == ("offline", transfer().bank_reference, transfer().paid_on)
    assert r.confirmed_by == "buyer_admin" and r.refunded_at is None
    assert r.issued_on == r.confirmed_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
    # The receiver's members (any role) and the platform see the same receipt, with the same number.
    for name in ("buyer_staff", "buyer_admin", "platform_admin"):
        assert await _receipt(pool, settings, world, name, payment) == r


async def test_receipts_are_numbered_in_order_of_confirmation_without_gaps(pool, settings, world, project):
    funder = await who(pool, settings, world, "funder_admin")
    buyer = await who(pool, settings, world, "buyer_admin")
    first = await pay_pledge(pool, settings, world, await make_pledge(pool, settings, world, "project", project))
    pledge = await make_pledge(pool, settings, world, "fund", await make_fund(pool, world), 10_05)
    rejected = await do(pool, pledges.record_offline, funder, pledge, transfer())
    await do(pool, pledges.reject_payment, buyer, rejected, "未查到该笔到账记录。")
    second = await pay_pledge(pool, settings, world, pledge)
    year = _this_year()
    assert [(await _receipt(pool, settings, world, "funder_admin", p)).number for p in (first, second)] == [
        f"{year}-000001", f"{year}-000002"]
    fund_receipt = await _receipt(pool, settings, world, "funder_admin", second)
    assert (fund_receipt.purpose, fund_receipt.purpose_title_zh, fund_receipt.amount_in_words) == (
        "fund", "社区服务基金", "壹拾元零伍分")
    assert fund_receipt.receiver.id == world.orgs["bureau"]  # the fund's owner
    # The application may not renumber or remove a receipt.
    for sql in ("update receipts set serial = 9", "delete from receipts",
                "insert into receipts (payment_id, year, serial, issued_on) values ($1, 2020, 1, '2020-01-01')"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute(sql, *([rejected] if "$1" in sql else []))


async def test_a_refund_is_noted_on_the_receipt(pool, settings, world, project):
    pledge = await make_pledge(pool, settings, world, "fund", await make_fund(pool, world), AMOUNT)
    payment = await pay_pledge(pool, settings, world, pledge)
    await do(pool, pledges.refund, await who(pool, settings, world, "buyer_admin"), pledge, "基金调整，资金退回。")
    r = await _receipt(pool, settings, world, "funder_admin", payment)
    assert r.refunded_at is not None and r.amount_fen == AMOUNT


async def test_no_receipt_before_confirmation_or_after_rejection(pool, settings, world, project):
    funder = await who(pool, settings, world, "funder_admin")
    pledge = await make_pledge(pool, settings, world, "project", project)
    payment = await do(pool, pledges.record_offline, funder, pledge, transfer())
    with pytest.raises(Conflict, match="once the receiving organisation has confirmed"):
        await _receipt(pool, settings, world, "funder_admin", payment)
    await do(pool, pledges.reject_payment, await who(pool, settings, world, "buyer_admin"), payment, "未查到到账记录。")
    with pytest.raises(Conflict, match="not confirmed"):
        await _receipt(pool, settings, world, "buyer_admin", payment)
    assert await pool.fetchval("select count(*) from receipts") == 0


async def test_outsiders_find_no_receipt(pool, settings, world, project):
    pledge = await make_pledge(pool, settings, world, "project", project)
    confirmed = await pay_pledge(pool, settings, world, pledge)
    pending = await do(pool, pledges.record_offline, await who(pool, settings, world, "funder_admin"),
                        await make_pledge(pool, settings, world, "project", project), transfer())
    for name in ("provider_admin", "evaluator", "resident", "pending_admin"):
        for payment in (confirmed, pending, 10**9):  # not even whether a payment exists or is pending
            with pytest.raises(NotFound):
                await _receipt(pool, settings, world, name, payment)


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_the_receipt_page_and_pdf(client, pool, world, project):
    settings = client.app.state.settings
    payment = await pay_pledge(pool, settings, world, await make_pledge(pool, settings, world, "project", project, AMOUNT))
    number = f"{_this_year()}-000001"
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    r = await client.get(f"/payments/{payment}/receipt?lang=en")
    assert r.status_code == 200
    for text in (number, "¥12,345.67", "RMB 壹万贰仟叁佰肆拾伍元陆角柒分", "测试funder", code("91", 5), "测试bureau",
                 "东坡路社区老年助餐", transfer().bank_reference, "data-print", f"/payments/{payment}/receipt.pdf"):
        assert text in r.text, text

    pdfs = {}
    for lang in ("zh_Hans", "en"):
        r = await client.get(f"/payments/{payment}/receipt.pdf?lang={lang}")
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"] == f'attachment; filename="receipt-{number}.pdf"'
        assert r.content.startswith(b"%PDF") and b"STSong-Light" in r.content
        pdfs[lang] = _text(r.content)
        for text in (number, "12,345.67", transfer().bank_reference):
            assert text in pdfs[lang], (lang, text)
    assert pdfs["zh_Hans"] != pdfs["en"]
    paid_on = transfer().paid_on
    for locale in ("en", "zh_Hans"):
        with use_locale(locale):
            assert format_date(paid_on) in pdfs[locale], locale
    assert "Receipt" in pdfs["en"]

    api = await client.get(f"/api/payments/{payment}/receipt")
    assert api.status_code == 200 and api.json()["number"] == number and api.json()["amount_fen"] == AMOUNT

    await act_as(client, pool, settings, world["provider_admin"].user_id)
    for url in (f"/payments/{payment}/receipt", f"/payments/{payment}/receipt.pdf", f"/api/payments/{payment}/receipt"):
        assert (await client.get(url)).status_code == 404, url
    await act_as(client, pool, settings, None)
    r = await client.get(f"/payments/{payment}/receipt.pdf")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_a_pending_payment_page_says_why_there_is_no_receipt(client, pool, world, project):
    settings = client.app.state.settings
    funder = await who(pool, settings, world, "funder_admin")
    payment = await do(pool, pledges.record_offline, funder, await make_pledge(pool, settings, world, "project", project),
                        transfer())
    await act_as(client, pool, settings, world["funder_admin"].user_id)
    r = await client.get(f"/payments/{payment}/receipt?lang=en")
    assert r.status_code == 409 and "once the receiving organisation has confirmed" in r.text
