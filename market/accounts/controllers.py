"""Account pages and their JSON twins: sign-up, log-in/out, passwords, acting for an organisation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import msgspec

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from market.accounts import invitations
from market.accounts import services as accounts
from market.accounts.models import (
    Account,
    AccountDetails,
    ActAs,
    EmailNotices,
    Joining,
    LogIn,
    PasswordChange,
    PasswordReset,
    PasswordResetRequest,
    SignUp,
)
from market.core import i18n
from market.core.access import PUBLIC, SIGNED_IN, Identity
from market.core.forms import form_step
from market.core.validation import parse
from market.core.web import (
    language_cookie,
    Config,
    Db,
    MaybeUser,
    User,
    browsed_place,
    done,
    form_data,
    page,
    place_id,
    problem,
    redirect,
    safe_next,
    session_cookie,
)
from market.places import services as places

PUBLIC_OPT = {"access": PUBLIC}
SIGNED_IN_OPT = {"access": SIGNED_IN}
FORM_OPT = {**PUBLIC_OPT, "shows": "form"}


def client_address(request: Request) -> str:
    """The address log-in throttling counts by: the peer (uvicorn puts the client's there from
    X-Forwarded-For when the proxy is trusted)."""
    return request.client.host if request.client else "unknown"


def refusal_status(refusal: accounts.LoginRefused) -> int:
    return 429 if refusal.retry_after_seconds else 400


def refusal_headers(refusal: accounts.LoginRefused) -> dict[str, str]:
    return {"Retry-After": str(refusal.retry_after_seconds)} if refusal.retry_after_seconds else {}


def logged_in(request: Request, token: FromPath[str], target: str) -> Response:
    response = redirect(target)
    response.set_cookie(session_cookie(request, token))
    return response


def _shown(account: Account, switch_to: str | None = None) -> dict[str, Any]:
    """The account page's context: the view, and its memberships by the name the act-as switch reads
    (the view's own `locale` would clash with the page's), with the one to offer first: a notice for
    another of the person's organisations sends them here to switch to it (`for`)."""
    return {"account": account, "memberships": account.memberships,
            "switch_to": next((m for m in account.memberships if str(m.organisation_id) == switch_to), None)}


T = TypeVar("T", bound=msgspec.Struct)


async def _account_form(request: Request, conn: asyncpg.Connection, identity: Identity,
                        change: Callable[[asyncpg.Connection, Identity, T], Awaitable[None]], model: type[T],
                        done: str) -> Response:
    """One of the account page's forms: the change made, or the page again with the errors beside the fields."""
    async def action(form: dict[str, Any]) -> Response:
        await change(conn, identity, parse(form, model))
        return redirect(done)

    async def context() -> dict[str, Any]:
        community = place_id((await form_data(request)).get("community_id")) or identity.community_id
        return _shown(await accounts.account(conn, identity)) | await _communities(request, conn, community)
    return await form_step(request, conn, "accounts/account.html", action, context=context, notice=None)


async def _communities(request: Request, conn: asyncpg.Connection, community: int | None) -> dict[str, Any]:
    """Sign-up's and the account page's community, a level at a time (places.form_picker)."""
    shown, offered = await places.form_picker(conn, value=community, browse=await browsed_place(request), leaf="community")
    return {"place_picker": shown, "communities": offered}


class AccountPages(Controller):
    include_in_schema = False

    @get("/signup", opt=FORM_OPT)
    async def signup_form(self, request: Request, conn: Db) -> Response:
        return page(request, "accounts/signup.html", form={}, errors={},
                    **await _communities(request, conn, None))

    @post("/signup", opt=PUBLIC_OPT)
    async def signup(self, request: Request, conn: Db, settings: Config) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            user_id = await accounts.sign_up(conn, parse(form, SignUp), i18n.current_locale.get())
            token = await accounts.start_session(conn, settings, user_id)
            return logged_in(request, token, "/dashboard")
        sent = await form_data(request)
        return await form_step(request, conn, "accounts/signup.html", action,
                               **await _communities(request, conn, place_id(sent.get("community_id"))))

    @get("/login", opt=FORM_OPT)
    async def login_form(self, request: Request) -> Response:
        return page(request, "accounts/login.html", form={"next": safe_next(request.query_params.get("next"), "")},
                    errors={})

    @post("/login", opt=PUBLIC_OPT)
    async def login(self, request: Request, conn: Db, settings: Config) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            data = parse({k: v for k, v in form.items() if k != "next"}, LogIn)
            outcome = await accounts.authenticate(conn, settings, data, client_address(request))
            if isinstance(outcome, accounts.LoginRefused):
                # An answer, not an error: the failure the refusal counted must be committed.
                response = page(request, "accounts/login.html", status=refusal_status(outcome), form=form,
                                errors={"_": outcome.message})
                response.headers.update(refusal_headers(outcome))
                return response
            token = await accounts.start_session(conn, settings, outcome)
            return logged_in(request, token,
                             safe_next(request.query_params.get("next") or form.get("next"), "/dashboard"))
        return await form_step(request, conn, "accounts/login.html", action)

    @post("/logout", opt=SIGNED_IN_OPT)
    async def logout(self, request: Request, conn: Db, identity: User) -> Response:
        await accounts.end_session(conn, identity)
        response = redirect("/")
        response.set_cookie(session_cookie(request, None))
        return response

    @get("/account", opt=SIGNED_IN_OPT)
    async def account(self, request: Request, conn: Db, identity: User) -> Response:
        return page(request, "accounts/account.html", form={}, errors={}, notice=request.query_params.get("notice"),
                    switch_next=safe_next(request.query_params.get("next"), ""),
                    **_shown(await accounts.account(conn, identity), request.query_params.get("for")),
                    **await _communities(request, conn, identity.community_id))

    @post("/account/details", opt=SIGNED_IN_OPT)
    async def change_details(self, request: Request, conn: Db, identity: User) -> Response:
        return await _account_form(request, conn, identity, accounts.update_details, AccountDetails,
                                   "/account?notice=details_saved#details")

    @post("/account/password", opt=SIGNED_IN_OPT)
    async def change_password(self, request: Request, conn: Db, identity: User) -> Response:
        return await _account_form(request, conn, identity, accounts.change_password, PasswordChange,
                                   "/account?notice=password_changed")

    @post("/account/email-notices", opt=SIGNED_IN_OPT)
    async def email_notices(self, request: Request, conn: Db, identity: User) -> Response:
        return await _account_form(request, conn, identity, accounts.set_email_notices, EmailNotices,
                                   "/account?notice=email_saved#email")

    @post("/account/act-as", opt=SIGNED_IN_OPT)
    async def act_as(self, request: Request, conn: Db, identity: User) -> Response:
        form = await form_data(request)
        await accounts.act_as(conn, identity, parse({k: v for k, v in form.items() if k != "next"}, ActAs))
        # Back to the page that asked for another organisation (its refusal links here), else the workbench.
        return redirect(safe_next(form.get("next"), "/dashboard"))

    @get("/password/forgot", opt=FORM_OPT)
    async def forgot_form(self, request: Request) -> Response:
        return page(request, "accounts/forgot.html", form={}, errors={}, sent=False)

    @post("/password/forgot", opt=PUBLIC_OPT)
    async def forgot(self, request: Request, conn: Db, settings: Config, state: State) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            data = parse(form, PasswordResetRequest)
            await accounts.request_password_reset(conn, settings, state.mailer, data.email)
            return page(request, "accounts/forgot.html", form={}, errors={}, sent=True)
        return await form_step(request, conn, "accounts/forgot.html", action, sent=False)

    @get("/password/reset/{token:str}", opt=FORM_OPT)
    async def reset_form(self, request: Request, token: FromPath[str]) -> Response:
        return page(request, "accounts/reset.html", token=token, form={}, errors={})

    @post("/password/reset/{token:str}", opt=PUBLIC_OPT)
    async def reset(self, request: Request, conn: Db, settings: Config, token: FromPath[str]) -> Response:
        async def action(form: dict[str, Any]) -> Response:
            user_id = await accounts.reset_password(conn, token, parse(form, PasswordReset).new_password)
            session = await accounts.start_session(conn, settings, user_id)
            return logged_in(request, session, "/dashboard?done=password_reset")
        return await form_step(request, conn, "accounts/reset.html", action, token=token)

    @get("/invitations/{token:str}", opt=FORM_OPT)
    async def invitation(self, request: Request, conn: Db, token: FromPath[str]) -> Response:
        return page(request, "accounts/invitation.html", token=token, form={}, errors={},
                    invitation=await invitations.invitation(conn, token))

    @post("/invitations/{token:str}", opt=PUBLIC_OPT)
    async def join(self, request: Request, conn: Db, settings: Config, token: FromPath[str]) -> Response:
        """Sign up from the invitation's link, and join."""
        async def action(form: dict[str, Any]) -> Response:
            user_id = await invitations.sign_up_and_join(conn, token, parse(form, Joining), i18n.current_locale.get())
            return logged_in(request, await accounts.start_session(conn, settings, user_id), "/dashboard?done=joined")

        async def context() -> dict[str, Any]:
            return {"invitation": await invitations.invitation(conn, token)}
        return await form_step(request, conn, "accounts/invitation.html", action, context=context, token=token)

    @post("/invitations/{token:str}/accept", opt=SIGNED_IN_OPT)
    async def accept_invitation(self, conn: Db, identity: User, token: FromPath[str]) -> Response:
        await invitations.accept(conn, identity, token)
        return done("/dashboard", "joined")

    @get("/lang/{code:str}", opt={**PUBLIC_OPT, "shows": "redirect"})
    async def switch_language(self, request: Request, conn: Db, identity: MaybeUser,
                              code: FromPath[str]) -> Response:
        locale = code if code in i18n.LOCALES else i18n.DEFAULT_LOCALE
        if identity is not None:
            await accounts.set_locale(conn, identity, locale)
        response = redirect(safe_next(request.query_params.get("next"), "/"))
        response.set_cookie(language_cookie(locale, request.app.state.settings.secure_cookies))
        return response


class AccountApi(Controller):
    path = "/api"
    tags = ("accounts",)

    @post("/users", opt=PUBLIC_OPT, status_code=201, summary="Sign up")
    async def sign_up(self, conn: Db, data: JSONBody[SignUp]) -> dict[str, int]:
        return {"user_id": await accounts.sign_up(conn, data, i18n.current_locale.get())}

    @post("/session", opt=PUBLIC_OPT, status_code=201, summary="Log in (sets the session cookie)")
    async def log_in(self, request: Request, conn: Db, settings: Config,
                     data: JSONBody[LogIn]) -> Response[dict[str, Any]]:
        outcome = await accounts.authenticate(conn, settings, data, client_address(request))
        if isinstance(outcome, accounts.LoginRefused):
            response = problem(refusal_status(outcome), outcome.message, outcome.message, request=request)
            response.headers.update(refusal_headers(outcome))
            return response
        token = await accounts.start_session(conn, settings, outcome)
        response = Response({"user_id": outcome}, status_code=201)
        response.set_cookie(session_cookie(request, token))
        return response

    @delete("/session", opt=SIGNED_IN_OPT, status_code=204, summary="Log out")
    async def log_out(self, conn: Db, identity: User) -> None:
        await accounts.end_session(conn, identity)

    @get("/me", opt=SIGNED_IN_OPT, summary="Who I am and which organisation I act for")
    async def me(self, conn: Db, identity: User) -> Account:
        return await accounts.account(conn, identity)

    @get("/account", opt=SIGNED_IN_OPT, summary="My account page: who I am and the organisations I may act for")
    async def account(self, conn: Db, identity: User) -> Account:
        return await accounts.account(conn, identity)

    @put("/account/details", opt=SIGNED_IN_OPT, status_code=204, summary="Change my name and my community")
    async def details(self, conn: Db, identity: User, data: JSONBody[AccountDetails]) -> None:
        await accounts.update_details(conn, identity, data)

    @post("/account/password", opt=SIGNED_IN_OPT, status_code=204, summary="Change my password")
    async def change_password(self, conn: Db, identity: User, data: JSONBody[PasswordChange]) -> None:
        await accounts.change_password(conn, identity, data)

    @put("/account/email-notices", opt=SIGNED_IN_OPT, status_code=204,
         summary="How I want my notices by email: each as it comes, one digest a day, or none")
    async def email_notices(self, conn: Db, identity: User, data: JSONBody[EmailNotices]) -> None:
        await accounts.set_email_notices(conn, identity, data)

    @post("/account/act-as", opt=SIGNED_IN_OPT, status_code=204, summary="Act for one of my organisations")
    async def act_as(self, conn: Db, identity: User, data: JSONBody[ActAs]) -> None:
        await accounts.act_as(conn, identity, data)

    @post("/password/forgot", opt=PUBLIC_OPT, status_code=202, summary="Mail a password reset link")
    async def forgot(self, conn: Db, settings: Config, state: State,
                     data: JSONBody[PasswordResetRequest]) -> dict[str, str]:
        await accounts.request_password_reset(conn, settings, state.mailer, data.email)
        return {"status": "sent if the address has an account"}

