"""The evaluation report of a decided mid-term or final evaluation: its figures against a case worked
by hand on the demo's mid-term system, the same view as a page, a JSON twin, a PDF and a workbook,
public once the stage is decided and never showing an evaluator's own scores or notes."""

import io
from decimal import Decimal

import openpyxl
import pytest
from pypdf import PdfReader

from market.core.i18n import use_locale
from market.delivery import rounds
from market.delivery.evaluation_report import files
from market.delivery.evaluation_report.services import evaluation_report
from market.evaluation import services as engine
from market.evaluation.indicators import services as indicators
from market.evaluation.indicators.models import NewSystemVersion
from market.evaluation.models import AddMember, Declaration, NoteInput, ScoreInput
from market.evaluation.views import panel_view
from market.procurement.contracts import services as contracts
from tests.conftest import act_as
from tests.factories import do, evaluate_delivery, identity_for_user, make_person, stage_reports_accepted, who
from tests.indicator_files import demo_rows, xlsx

# The hand-worked case on the demo mid-term system (market/evaluation/indicators/demo_midterm.csv):
# every scale at 5 points (100), both yes/no leaves "no" (0), every target met (100), 4.2 not
# applicable. Dimension 1: 40 % and 35 % at 100, 25 % at 0 = 75; dimension 2: 40 % and 30 % at
# 100, 30 % at 0 = 70; 3 all 100; 4: 4.2 left out, 4.1 takes the weight = 100; 5 all 100.
# Total: 20 % × 75 + 20 % × 70 + 35 % + 10 % + 15 % of 100 = 89.00, grade A (from 85), passed.
CONSENSUS = {"1.1": 100, "1.2": 100, "1.3": 0, "2.1": 100, "2.2": 100, "2.3": 0, "3.1": 100, "3.2": 100,
             "3.3.1": 100, "3.3.2": 100, "4.1": 100, "4.2": None, "5.1": 100, "5.2": 100}
SUBTOTALS = {"1": "75.00", "2": "70.00", "3": "100.00", "3.3": "100.00", "4": "100.00", "5": "100.00"}
# What only the panel's own pages may show: the second expert's score on 3.1 (an open target, so any
# figure), its note, and a site-visit note. The chair's note on a consensus is for the parties.
OWN_SCORE = 37.5
OWN_NOTE = "专家个人意见-OWN-7731"
SITE_NOTE = "入户走访记录-SITE-4410"
CHAIR_NOTE = "合议意见：台账完整-CHAIR-2209"


@pytest.fixture
async def decided(pool, settings, world, contract_id):
    """The contract signed under the platform's published mid-term system; its mid-term decided by a
    panel of two (the chair and a second expert who differs on 3.1) on the hand-worked case."""
    platform = await who(pool, settings, world, "platform_admin")
    async with pool.acquire() as conn, conn.transaction():
        version = await indicators.create_version(conn, platform, NewSystemVersion(
            stage="midterm", title_zh="中期评估指标", title_en="Mid-term indicators"))
        await indicators.import_file(conn, platform, version, xlsx(demo_rows("midterm")))
        await indicators.change_status(conn, platform, version, "publish")
        second = await make_person(conn, world, "second_expert", "evaluator", "evaluator")
    for name in ("buyer_admin", "provider_admin"):
        await do(pool, contracts.sign, await who(pool, settings, world, name), contract_id)
    bureau = await who(pool, settings, world, "buyer_admin")
    chair = await who(pool, settings, world, "evaluator")
    expert = await identity_for_user(pool, settings, second, world.orgs["evaluator"])
    await stage_reports_accepted(pool, settings, world, contract_id, "midterm")
    async with pool.acquire() as conn, conn.transaction():
        panel_id = await rounds.open_round(conn, bureau, contract_id, "midterm")
        await engine.add_member(conn, bureau, panel_id, AddMember(email=world["evaluator"].email, role="chair"))
        await engine.add_member(conn, bureau, panel_id, AddMember(email="second_expert@people.test"))
        await engine.start_scoring(conn, bureau, panel_id)
        positions = {c.indicator_path: c.position for c in await engine.criteria_of(conn, panel_id)}
        for person in (chair, expert):
            await engine.declare(conn, person, panel_id, Declaration(candidate_id=contract_id, conflicted=False))
            for path, score in CONSENSUS.items():
                own = OWN_SCORE if person is expert and path == "3.1" else score
                await engine.score(conn, person, panel_id, ScoreInput(
                    candidate_id=contract_id, position=positions[path], score=own,
                    note=OWN_NOTE if person is expert else ""))
        await engine.write_note(conn, expert, panel_id, NoteInput(candidate_id=contract_id, kind="site", body=SITE_NOTE))
        for path, score in CONSENSUS.items():
            await engine.record_consensus(conn, chair, panel_id, ScoreInput(
                candidate_id=contract_id, position=positions[path], score=score,
                note=CHAIR_NOTE if path == "1.2" else ""))
        await rounds.decide_round(conn, bureau, contract_id, "midterm")
    return contract_id, panel_id


def _pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _cells(data: bytes) -> dict[str, list[list[object]]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


async def test_the_report_holds_the_hand_worked_figures(pool, settings, world, decided):
    contract_id, panel_id = decided
    report = await do(pool, evaluation_report, None, contract_id, "midterm")
    rows = {r.path: r for r in report.rows}
    assert [r.path for r in report.dimensions] == ["1", "2", "3", "4", "5"]
    assert {p: str(rows[p].score) for p in SUBTOTALS} == SUBTOTALS
    assert rows["4.2"].score is None and rows["1.3"].score == Decimal("0.00") and rows["3.3.1"].level == 3
    assert (rows["1"].weight, rows["1.1"].weight, rows["3.3.2"].weight) == (20, 40, 50)
    assert (str(report.total), report.grade, report.outcome) == ("89.00", "A", "passed")
    assert report.system_title_en == "Mid-term indicators" and report.system_revision == 1
    chair_name = await pool.fetchval("select display_name from users where id = $1", world["evaluator"].user_id)
    assert [(m.display_name, m.role) for m in report.members] == [(chair_name, "chair"), ("second_expert", "member")]
    assert report.panel_id == panel_id and report.standing and report.decided_at is not None
    # The agreement is the one the chair reads on the panel page: the same alpha over the same scores.
    chair_view = await do(pool, panel_view, await who(pool, settings, world, "evaluator"), panel_id)
    assert report.agreement is not None and report.agreement == chair_view.panel.agreement < 1
    assert (report.contract_id, report.provider_name, report.amount_fen) == tuple(await pool.fetchrow(
        "select k.id, o.name_zh, k.amount_fen from contracts k join organisations o on o.id = k.provider_id "
        "where k.id = $1", contract_id))
    assert report.report is not None and report.report.status == "accepted" and report.report.link is None


async def test_no_one_finds_an_evaluators_own_scores_or_notes(client, pool, settings, world, decided):
    """Not the public, not the parties: the page, its JSON, the PDF and the workbook show consensus
    only. The chair's consensus notes reach the parties, never the public."""
    contract_id, _ = decided
    base = f"/contracts/{contract_id}/evaluations/midterm/report"
    for reader in (None, "buyer_admin", "provider_admin", "platform_admin"):
        person = world[reader] if reader else None
        await act_as(client, pool, settings, person.user_id if person else None, person.org_id if person else None)
        page, twin = await client.get(base), await client.get("/api" + base)
        pdf, book = await client.get(base + ".pdf"), await client.get(base + ".xlsx")
        assert {r.status_code for r in (page, twin, pdf, book)} == {200}, reader
        cells = _cells(book.content)
        shown = [page.text, twin.text, _pdf_text(pdf.content), repr(cells)]
        for text in shown:
            assert "37.5" not in text and OWN_NOTE not in text and SITE_NOTE not in text, reader
            assert "second_expert" in text  # the composition is published
        assert ("89.00" in page.text and '"total":"89.00"' in twin.text.replace(" ", "")
                and "89.00" in shown[2] and Decimal("89.00") in [row[4] for row in cells[next(iter(cells))]])
        chair_note_shown = [CHAIR_NOTE in text for text in shown]
        assert chair_note_shown == [reader is not None] * 4, reader
        assert twin.json()["notes_shown"] is (reader is not None)


async def test_a_panel_scoring_no_system_reports_its_criteria(pool, settings, world, signed):
    """Signed before any system was published: the panel scored plain criteria, each a row of its own;
    with one evaluator the agreement is not defined."""
    panel_id = await evaluate_delivery(pool, settings, world, signed, "midterm", total=72.5)
    report = await do(pool, evaluation_report, None, signed, "midterm")
    assert [(r.path, r.weight, r.score) for r in report.rows] == [("1", 100, Decimal("72.50"))]
    assert (report.total, report.grade, report.outcome, report.system_id) == (Decimal("72.50"), "B", "passed", None)
    assert report.panel_id == panel_id and report.agreement is None and len(report.members) == 1
    with use_locale("en"):
        assert "not defined" in _pdf_text(files.render_pdf(report))


async def test_a_contract_not_signed_by_both_has_no_report(client, pool, settings, world, contract_id):
    await act_as(client, pool, settings, None)
    assert (await client.get(f"/contracts/{contract_id}/evaluations/midterm/report")).status_code == 404
    assert (await client.get(f"/api/contracts/{contract_id}/evaluations/midterm/report")).status_code == 404


async def test_not_found_until_decided_and_linked_once_it_is(client, pool, settings, world, decided):
    """Not found: a stage not decided, a stage that is not one, a panel of another stage or none.
    Found: from the contract page's evaluations and from the closed panel's page."""
    contract_id, panel_id = decided
    await act_as(client, pool, settings, None)
    for path in ("final/report", "final/report.pdf", "final/report.xlsx", "interim/report",
                 f"final/report?panel={panel_id}", "midterm/report?panel=999999"):
        assert (await client.get(f"/contracts/{contract_id}/evaluations/{path}")).status_code == 404, path
    assert (await client.get(f"/api/contracts/{contract_id}/evaluations/final/report")).status_code == 404
    contract_page = (await client.get(f"/contracts/{contract_id}")).text
    assert f'href="/contracts/{contract_id}/evaluations/midterm/report"' in contract_page
    assert f'href="/contracts/{contract_id}/evaluations/final/report"' not in contract_page
    buyer = world["buyer_admin"]
    await act_as(client, pool, settings, buyer.user_id, buyer.org_id)
    panel_page = (await client.get(f"/panels/{panel_id}")).text
    link = f"/contracts/{contract_id}/evaluations/midterm/report?panel={panel_id}"
    assert f'href="{link}"' in panel_page
    # The parties read the provider's report from it.
    assert f'href="/contracts/{contract_id}/reports/' in (await client.get(link)).text


async def test_a_stage_failed_for_a_report_not_filed_says_so(client, pool, settings, world, decided):
    contract_id, _ = decided
    await pool.execute("insert into contract_stage_failures (contract_id, stage, reason, position) "
                       "select $1, 'midterm', 'The report was not filed by the end of the grace period.', position "
                       "from contract_milestones where contract_id = $1 and kind = 'report' and stage = 'midterm'",
                       contract_id)
    report = await do(pool, evaluation_report, None, contract_id, "midterm")
    assert (report.outcome, report.panel_id, report.rows, report.total) == ("failed", None, [], None)
    assert report.report is not None and report.report.not_filed
    with use_locale("zh_Hans"):
        text = _pdf_text(files.render_pdf(report))
    assert "截止" in text and "不合格" in text
    await act_as(client, pool, settings, None)
    page = await client.get(f"/contracts/{contract_id}/evaluations/midterm/report")
    assert page.status_code == 200 and "宽限期" in page.text
    # The panel's report stays readable, saying a later decision stands.
    earlier = await do(pool, evaluation_report, None, contract_id, "midterm", decided[1])
    assert earlier.total == Decimal("89.00") and not earlier.standing


async def test_the_pdf_and_the_workbook_follow_the_readers_language(client, pool, settings, world, decided):
    contract_id, _ = decided
    base = f"/contracts/{contract_id}/evaluations/midterm/report"
    await act_as(client, pool, settings, None)
    texts, books = {}, {}
    for lang in ("zh_Hans", "en"):
        await client.get(f"/lang/{lang}?next=/")
        pdf = await client.get(base + ".pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"] == f"attachment; filename*=UTF-8''evaluation-{contract_id:06d}-midterm.pdf"
        assert pdf.content.startswith(b"%PDF") and b"STSong-Light" in pdf.content
        texts[lang] = " ".join(_pdf_text(pdf.content).split())
        books[lang] = _cells((await client.get(base + ".xlsx")).content)
    assert "中期评估报告" in texts["zh_Hans"] and "资质与管理" in texts["zh_Hans"] and "合格" in texts["zh_Hans"]
    assert "Report of the mid-term evaluation" in texts["en"] and "Qualification and management" in texts["en"]
    for text in texts.values():
        assert "89.00" in text and "75.00" in text and "70.00" in text
    scores, facts = list(books["en"].values())
    assert scores[0][:5] == ["No.", "Name (Chinese)", "Name (English)", "Weight", "Consensus"]
    by_path = {row[0]: row for row in scores[1:] if row and row[0]}
    assert by_path["1"][1:5] == ["资质与管理", "Qualification and management", 20, Decimal("75.00")]
    assert by_path["4.2"][4] == "N/A" and by_path["Total"][4] == Decimal("89.00") and by_path["Grade"][4] == "A"
    assert by_path["Outcome"][4] == "passed"
    assert ["Buyer", "Test bureau"] in facts and ["Provider", "Test provider"] in facts  # named in English
    assert list(books["zh_Hans"]) == ["评分", "概况"]
    assert ["采购方", "测试bureau"] in list(books["zh_Hans"].values())[1]


async def test_the_report_reads_a_fixed_number_of_statements(pool, settings, world, decided):
    """However large the tree or the panel: a handful of statements, none per indicator or member."""
    contract_id, _ = decided
    sent: list[str] = []
    async with pool.acquire() as conn:
        conn.add_query_logger(lambda record: sent.append(record.query))
        await evaluation_report(conn, await who(pool, settings, world, "buyer_admin"), contract_id, "midterm")
    assert len(sent) <= 20, "\n".join(q[:90].replace("\n", " ") for q in sent)
