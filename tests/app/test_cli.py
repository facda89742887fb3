
import gzip
import json

import pytest

from market.cli import main
from market.core import clock, db
from market.core.i18n import use_locale
from market.demo import load_demo
from market.procurement.calls import services as calls
from market.procurement.calls.workflow import CALL_STATUSES
from tests.factories import run_cli


@pytest.fixture
def cli_env(database, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", database)
    monkeypatch.setenv("MARKET_SECRET_KEY", "c" * 40)
    monkeypatch.setenv("MARKET_DATA_DIR", str(tmp_path))


TREE = """code,parent_code,level,name_zh,name_en
310101,,district,黄浦区,Huangpu District
310101-01,310101,street,南京东路街道,East Nanjing Road Street
310101-01-01,310101-01,community,贵州路居委,Guizhou Road Community
"""


async def test_import_a_jurisdiction_tree_then_create_the_platform_admin(cli_env, tmp_path, pool, capsys, monkeypatch):
    (tmp_path / "tree.csv").write_text(TREE, encoding="utf-8")
    monkeypatch.setenv("MARKET_ADMIN_PASSWORD", "a long admin phrase")
    assert await run_cli("admin", "create", "root@bureau.cn") == 2  # no district yet
    assert await run_cli("jurisdictions", "import", str(tmp_path / "tree.csv")) == 0
    with use_locale("en"):
        assert await run_cli("jurisdictions", "import", str(tmp_path / "tree.csv")) == 0  # idempotent
    assert "0 jurisdictions added, 3 already there" in capsys.readouterr().out
    levels = [r["level"] for r in await pool.fetch("select level from jurisdictions order by id")]
    assert levels == ["district", "street", "community"]
    assert await run_cli("admin", "create", "root@bureau.cn") == 0
    row = await pool.fetchrow("""select o.kind, o.status, m.role from memberships m join organisations o
                                 on o.id = m.organisation_id join users u on u.id = m.user_id
                                 where u.email = 'root@bureau.cn'""")
    assert dict(row) == {"kind": "platform", "status": "verified", "role": "admin"}


@pytest.mark.parametrize("bad,message", [
    ("310101-09,310199,street,某街道,Some Street\n", "310199"),
    ("310101-09,310101,province,某省,Some Province\n", "level"),
    ("310101-09,310101,grid,某网格,Some Grid\n", "3"),
    ("310101-09,,street,某街道,Some Street\n", "3"),
])
async def test_a_bad_tree_file_imports_nothing(cli_env, tmp_path, pool, capsys, bad, message):
    (tmp_path / "bad.csv").write_text("\n".join(TREE.splitlines()[:2]) + "\n" + bad, encoding="utf-8")
    with use_locale("en"):
        code = await run_cli("jurisdictions", "import", str(tmp_path / "bad.csv"))
    err = capsys.readouterr().err
    assert code == 2 and message in err and "3" in err and "nothing was imported" in err
    assert await pool.fetchval("select count(*) from jurisdictions") == 0


async def test_db_status_lists_migrations(cli_env, capsys):
    assert await run_cli("db", "status") == 0
    out = capsys.readouterr().out
    assert all(m.name in out and "applied" in out for m in db.load_migrations())


async def test_opendata_export_makes_the_bulk_file_now(cli_env, tmp_path, pool, capsys):
    """An operator makes the bulk file at once (the app makes it daily): an empty market's is a valid,
    empty package, kept in the storage under the data directory."""
    assert await run_cli("opendata", "export") == 0
    said = capsys.readouterr().out
    key, sha = await pool.fetchrow("select storage_key, sha256 from opendata_exports")
    assert said.startswith("0 releases") and sha in said
    package = json.loads(gzip.decompress((tmp_path / "files" / key).read_bytes()))
    assert package["releases"] == [] and package["version"] == "1.1"


async def test_demo_is_idempotent(database):
    conn = await db.connect_admin(database)
    try:
        first = await load_demo(conn)
        counts = [await conn.fetchval(f"select count(*) from {t}") for t in ("jurisdictions", "organisations",
                                                                             "users", "memberships", "audit_events")]
        second = await load_demo(conn)
        again = [await conn.fetchval(f"select count(*) from {t}") for t in ("jurisdictions", "organisations",
                                                                            "users", "memberships", "audit_events")]
        providers = await conn.fetchval("select count(*) from organisations where kind = 'provider' and status = 'verified'")
        # The all-year round shows a decided batch with funded proposals, and a proposal waiting for the next.
        funded = await conn.fetchval("select count(*) from awards where batch_id is not null and reopened_at is null")
        statuses = {calls.status_of(r) for r in await conn.fetch("select * from calls")}
        waiting = await conn.fetchval("select count(*) from bids b join calls c on c.id = b.call_id "
                                      "where c.deadline_at is null and b.batch_id is null")
        enterprises = await conn.fetchval("select count(*) from organisations where subtype = 'enterprise'")
        projects_funded = await conn.fetchval("select count(distinct allocated_project_id) from pledges "
                                              "where status = 'allocated'")
        payments = {tuple(r) for r in await conn.fetch("select method, status from payments")}
        unbalanced = await conn.fetchval("select coalesce(sum(amount_fen), 0) from ledger_entries")
        matched = await conn.fetchval("select coalesce(sum(e.amount_fen), 0) from ledger_entries e join ledger_transactions t "
                                      "on t.id = e.transaction_id where t.kind = 'matching' and e.amount_fen > 0")
        open_pools = await conn.fetchval("select count(*) from funds f where matching <> 'none' and not exists "
                                         "(select 1 from matching_runs r where r.fund_id = f.id)")
        offers = await conn.fetchval("select count(*) from resources where not private and withdrawn_at is null")
        fair_states = {r["status"]: r["raises"] for r in await conn.fetch(
            "select f.status, count(r.token) as raises from fairs f left join fair_raises r on r.fair_id = f.id "
            "group by f.status")}
        docked = [(r["fair_id"] is not None, calls.status_of(r), r["contract_status"]) for r in await conn.fetch(
            "select d.fair_id, c.*, k.status as contract_status from dockings d join calls c on c.id = d.call_id "
            "left join contracts k on k.call_id = c.id order by d.id")]
        run = await conn.fetchrow("select result, instance from docking_runs order by id desc limit 1")
        # One story in time: nothing happens after the step it precedes, and nothing in the future.
        contradictions = await conn.fetch("""
            select 'bid after its deadline', b.id from bids b join calls c on c.id = b.call_id
             where b.batch_id is null and b.submitted_at > c.deadline_at
            union all select 'bid before its call was published', b.id from bids b join calls c on c.id = b.call_id
             where b.submitted_at < c.published_at
            union all select 'award before the deadline', a.id from awards a join calls c on c.id = a.call_id
             where a.batch_id is null and a.awarded_at < c.deadline_at and c.procedure_type <> 'fair_docking'
            union all select 'award and call disagree on the notice', a.id from awards a join calls c on c.id = a.call_id
             where a.batch_id is null and a.reopened_at is null and a.notice_ends_at <> c.notice_ends_at
            union all select 'contract before the notice ended', k.id from contracts k join awards a on a.id = k.award_id
             where k.created_at < a.notice_ends_at or k.buyer_signed_at < k.created_at
            union all select 'call published before its project', c.id from calls c join projects p on p.id = c.project_id
             where c.published_at < p.created_at
            union all select 'payment dated after it was confirmed', p.id from payments p
             where p.decided_at is not null and p.paid_on > (p.decided_at at time zone 'Asia/Shanghai')::date
            union all select 'raise outside its fair', r.pledge_id from fair_raises r join fairs f on f.id = r.fair_id
             where r.confirmed_at not between f.starts_at and f.ends_at
            union all select 'in the future', id from audit_events where at > now() + interval '1 minute'""")
        ready = await conn.fetchval("select count(*) from awards a join calls c on c.id = a.call_id where a.batch_id "
                                    "is null and a.reopened_at is null and a.notice_ends_at < now() and not exists "
                                    "(select 1 from contracts k where k.award_id = a.id)")
        offset = await conn.fetchval("select offset_seconds from clock_offset")
        report_states = {r["status"]: r["late"] for r in await conn.fetch(
            "select r.status, r.late from delivery_reports r join contracts k on k.id = r.contract_id "
            "where k.status = 'signed'")}
    finally:
        await conn.close()
    assert first == second and counts == again
    assert [tuple(r) for r in contradictions] == []
    assert ready >= 1  # an award whose contract the bureau may prepare now
    assert offset == 0 and clock.offset().total_seconds() == 0
    assert providers == 30 and enterprises == 10
    assert funded == 2 and waiting == 1
    # Money: funded projects, payments of both kinds (and one in the bureau's queue), books that balance.
    assert projects_funded >= 2 and unbalanced == 0
    assert {("offline", "confirmed"), ("offline", "pending"), ("stripe", "confirmed")} <= payments
    # A pool that has paid its matches, one whose round is still open, and a resources list.
    assert matched > 0 and open_pools >= 1 and offers >= 4
    # A fair ready to go live, and one finished with paddles raised (its report).
    assert fair_states.get("open") == 0 and fair_states.get("closed", 0) > 0
    # Its two dockings: one past its notice with the bureau's signature on the contract, one under notice.
    assert docked == [(True, "awarded", "buyer_signed"), (True, "notice", None)]
    # A rolling docking run over the bureau's waiting projects, keeping a pin, suggesting providers.
    assert len(run["instance"]["needs"]) >= 3 and len(run["instance"]["pinned"]) == 1
    assert run["instance"]["pinned"][0] in [[a["need"], a["provider"]] for a in run["result"]["assignments"]]
    # Contracts in delivery, their mid-term reports at every step, none of them late.
    assert report_states == {"draft": False, "submitted": False, "returned": False, "accepted": False}
    # A newcomer can click through the whole process: a call in every state.
    assert statuses == set(CALL_STATUSES)
    assert {role for role, _, _ in first} >= {"platform admin", "buyer admin", "provider admin", "funder (enterprise)",
                                              "evaluator", "resident"}


async def test_an_unreachable_database_is_a_message_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("MARKET_SECRET_KEY", "c" * 40)
    assert await run_cli("db", "status") == 2
    assert "cannot use the database" in capsys.readouterr().err


def test_a_bad_setting_stops_the_command_naming_it(monkeypatch):
    monkeypatch.setenv("MARKET_STORAGE_BACKEND", "ftp")
    with pytest.raises(SystemExit) as exc:
        main(["db", "status"])
    assert "MARKET_STORAGE_BACKEND" in str(exc.value)
