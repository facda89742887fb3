"""A small district for tests: one organisation of each kind, people in each role, and a stranger
organisation of the same kind for every tampering test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import asyncpg

from market.accounts.services import hash_password, insert_membership, insert_user
from market.organisations import credit_code
from market.organisations.services import insert_organisation
from market.places.services import insert_jurisdiction

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)


@dataclass
class Persona:
    name: str
    user_id: int
    email: str
    org_id: int | None = None
    org_kind: str | None = None
    role: str | None = None
    verified: bool = True


@dataclass
class World:
    district: int = 0
    street: int = 0
    community: int = 0
    other_community: int = 0
    orgs: dict[str, int] = field(default_factory=dict)
    people: dict[str, Persona] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Persona:
        return self.people[name]


def code(prefix: str, serial: int) -> str:
    return credit_code.make(prefix, "330102", f"TE{serial:06d}")


async def build_world(pool: asyncpg.Pool) -> World:
    w = World()
    async with pool.acquire() as conn, conn.transaction():
        async def place(parent: int | None, level: str, c: str, zh: str) -> int:
            return await insert_jurisdiction(
                conn, parent_id=parent, level=level, code=c, name_zh=zh, name_en=f"{c} (en)")

        w.district = await place(None, "district", "330102", "上城区")
        w.street = await place(w.district, "street", "330102-s1", "湖滨街道")
        w.community = await place(w.street, "community", "330102-s1-c1", "东坡路社区")
        w.other_community = await place(w.street, "community", "330102-s1-c2", "青年路社区")

        async def org(key: str, kind: str, subtype: str, serial: int, status: str = "verified",
                      where: int | None = None, **extra: object) -> int:
            org_id = await insert_organisation(
                conn, kind=kind, subtype=subtype, name_zh=f"测试{key}", name_en=f"Test {key}",
                credit_code=code({"provider": "52", "funder": "91", "buyer": "11"}.get(kind, "12"), serial),
                jurisdiction_id=where or w.district, rating=extra.get("rating"),
                registration_date=extra.get("registration_date"), description="", contact_name="联系人",
                contact_phone="0571-1234", contact_email=f"{key}@org.test", address="私密地址", status=status)
            w.orgs[key] = org_id
            return org_id

        await org("platform", "platform", "platform", 1)
        await org("bureau", "buyer", "bureau", 2)
        await org("provider", "provider", "social_service_agency", 3, rating=4, registration_date=date(2015, 1, 1))
        await org("other_provider", "provider", "social_group", 4, rating=3, registration_date=date(2016, 1, 1))
        await org("funder", "funder", "enterprise", 5)
        await org("evaluator", "evaluator", "agency", 6)
        await org("pending_provider", "provider", "social_group", 7, status="pending",
                  registration_date=date(2024, 1, 1))

        async def person(name: str, org_key: str | None, role: str | None, community: int | None = None) -> None:
            email = f"{name.replace('_', '.')}@people.test"
            uid = await insert_user(conn, email=email, display_name=name, password_hash=_HASH,
                                                     community_id=community, locale="zh_Hans")
            org_id = w.orgs[org_key] if org_key else None
            if org_id:
                await insert_membership(conn, user_id=uid, organisation_id=org_id, role=role)
            kind = {"bureau": "buyer", "provider": "provider", "other_provider": "provider", "funder": "funder",
                    "evaluator": "evaluator", "platform": "platform", "pending_provider": "provider"}.get(org_key or "")
            w.people[name] = Persona(name, uid, email, org_id, kind, role, org_key != "pending_provider")

        await person("platform_admin", "platform", "admin")
        await person("buyer_admin", "bureau", "admin")
        await person("buyer_staff", "bureau", "staff")
        await person("provider_admin", "provider", "admin")
        await person("provider_staff", "provider", "staff")
        await person("other_provider_admin", "other_provider", "admin")
        await person("funder_admin", "funder", "admin")
        await person("evaluator", "evaluator", "evaluator")
        await person("pending_admin", "pending_provider", "admin")
        await person("resident", None, None, w.community)
    return w
