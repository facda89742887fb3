"""Panel pages and their JSON twins. The engine knows what a panel evaluates only through the
subjects registered with it; forming a call's panel is procurement's (calls.controllers)."""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, JSONBody

from market.core.access import SIGNED_IN, member
from market.core.errors import Invalid, InvalidFields, NotFound
from market.core.forms import form_step
from market.core.i18n import N_
from market.core.validation import parse
from market.core.web import Config, Db, User, done, page, require_confirmation
from market.evaluation import services as engine
from market.evaluation.models import (
    AddMember,
    AgencyInput,
    AssignInput,
    Declaration,
    NoteInput,
    ScoreInput,
    ScoreList,
)
from market.evaluation.views import PanelView, panel_view

SIGNED_IN_OPT = {"access": SIGNED_IN}
BUYERS_OPT = {"access": member(N_("buyers"), "buyer")}


# The panel steps whose landing says they worked (the others show what was given where it was given).
PANEL_DONE = {"members": "panel_member_added", "agency": "panel_agency_assigned", "assign": "panel_experts_seated",
              "declarations": "declared", "start": "panel_scoring_started", "submit": "panel_submitted",
              "consensus": "consensus_saved", "notes": "note_saved"}


class PanelPages(Controller):
    include_in_schema = False

    @get("/panels/{panel_id:int}", opt=SIGNED_IN_OPT)
    async def show(self, request: Request, conn: Db, identity: User, panel_id: FromPath[int]) -> Response:
        return page(request, "evaluation/panel.html", errors={},
                    **_shown(await panel_view(conn, identity, panel_id, request.app.state.settings)))

    @post("/panels/{panel_id:int}/{step:str}", opt=SIGNED_IN_OPT)
    async def act(self, request: Request, conn: Db, identity: User, panel_id: FromPath[int],
                  step: FromPath[str]) -> Response:
        actions: dict[str, tuple[type[msgspec.Struct], Any]] = {
            "members": (AddMember, engine.add_member), "declarations": (Declaration, engine.declare),
            "consensus": (ScoreInput, engine.record_consensus),
            "notes": (NoteInput, engine.write_note), "assign": (AssignInput, _assign),
            "agency": (AgencyInput, _agency)}
        bare = {"start": engine.start_scoring, "submit": engine.submit}
        if step not in bare and step not in actions and step != "scores":
            raise NotFound()

        async def action(form: dict[str, Any]) -> Response:
            if step in bare:
                if step == "submit":
                    require_confirmation(form, "submit")
                await bare[step](conn, identity, panel_id)
                return done(f"/panels/{panel_id}", PANEL_DONE[step])
            if step == "scores":
                candidate_id, only, items, notes, errors = _scores_sent(form, set((await request.form()).keys()))
                try:  # every refusal at once: what the form could not read, and what the engine refuses
                    await engine.score_all(conn, identity, panel_id, candidate_id, items, notes)
                except InvalidFields as refused:
                    raise InvalidFields(errors + refused.errors) from None
                if errors:  # nothing is kept: the step's transaction is rolled back
                    raise InvalidFields(errors)
                if only is not None:  # one criterion's own button: back at that criterion
                    return done(f"/panels/{panel_id}#scores-{candidate_id}-{only}", "score_saved")
                return done(f"/panels/{panel_id}#candidate-{candidate_id}", "scores_saved")
            struct, act = actions[step]
            if struct is Declaration:
                form["conflicted"] = form.get("conflicted") == "yes"
            if struct is ScoreInput and form.get("score", "na") == "na":
                form["score"] = None  # chosen, or left empty: not applicable
            form.pop("photos", None)  # read from the upload itself below
            data = parse(form, struct)
            saved = await act(conn, identity, panel_id, data)
            if step == "notes":
                await _photos(request, conn, identity, saved)
            return done(f"/panels/{panel_id}{_landing(step, data)}", PANEL_DONE[step])

        async def context() -> dict[str, Any]:
            return _shown(await panel_view(conn, identity, panel_id, request.app.state.settings))
        return await form_step(request, conn, "evaluation/panel.html", action, context=context)


def _scores_sent(form: dict[str, Any], sent_fields: set[str]) -> tuple[int, int | None, list[ScoreInput], dict[int, str],
                                                                   list[Invalid]]:
    """A member's scores on one candidate as its form sends them (`score-<candidate>-<position>`, with
    `note-…` and `achieved-…`; `sent_fields` every field the browser sent, empty ones too, as a select
    left at "choose" sends nothing and a number left empty sends ""): every criterion given a score
    when the whole form is saved, and the notes written beside a number left empty, kept with the score
    already given there (what was achieved against a target is not shown again); a criterion left
    unchosen or empty, with no note, stays as it was. Or the one criterion whose own button was pressed
    (`only`), where a number left empty means not applicable, as its placeholder says. With the
    refusals of what it could not read, each at its field."""
    candidate_id = parse({"candidate_id": form.get("candidate_id")}, _Candidate).candidate_id
    only = parse({"position": form["only"]}, _Position).position if form.get("only") else None
    positions = {int(m[2]) for k in sent_fields if (m := _SCORE_FIELD.match(k)) and int(m[1]) == candidate_id}
    items, notes, errors = [], {}, []
    for position in sorted(positions) if only is None else [only]:
        key = f"{candidate_id}-{position}"
        score, achieved = form.get(f"score-{key}"), form.get(f"achieved-{key}")
        note = form.get(f"note-{key}", "")
        note_only = False
        if score is None and achieved is None:
            if f"score-{key}" not in sent_fields and f"achieved-{key}" not in sent_fields:  # a choice left at "choose"
                if only is not None or note.strip():  # pressed, or a note beside it: either would be lost unsaid
                    errors.append(Invalid("Choose one of the options offered.", field=f"score-{key}"))
                continue
            if only is None and not note.strip():
                continue
            note_only = only is None
        try:
            data = parse({"candidate_id": candidate_id, "position": position, "note": note,
                          "score": None if score == "na" else score, "achieved": achieved}, ScoreInput)
        except InvalidFields as refused:
            errors += [Invalid(e.message, field=f"{e.field}-{key}", **e.params) for e in refused.errors]
            continue
        if note_only:
            notes[position] = data.note
        else:
            items.append(data)
    if not items and not notes and not errors:
        raise Invalid("There is no score to save: choose one first.")
    return candidate_id, only, items, notes, errors


_SCORE_FIELD = re.compile(r"^(?:score|achieved|note)-(\d+)-(\d+)$")


class _Candidate(msgspec.Struct):
    candidate_id: Annotated[int, msgspec.Meta(ge=1, le=2**62)]


class _Position(msgspec.Struct):
    position: Annotated[int, msgspec.Meta(ge=1, le=999)]


def _landing(step: str, data: Any) -> str:
    """Where the panel's page lands after a step: a consensus at its own criterion (the chair goes down
    the page criterion by criterion, and the top of the page is far above; a member's scores land so
    too, see `act`), a declaration at its candidate (whose criteria it opens), a note among the notes."""
    if step == "consensus":
        return f"#consensus-{data.candidate_id}-{data.position}"
    if step == "declarations":
        return f"#candidate-{data.candidate_id}"
    return "#notes" if step == "notes" else ""


async def _photos(request: Request, conn: Db, identity: User, note_id: int) -> None:
    """Keep the photos chosen with a note."""
    state = request.app.state
    for upload in (await request.form()).getall("photos", []):
        if isinstance(upload, UploadFile) and upload.filename:
            await engine.add_note_photo(conn, state.storage, state.settings, identity, note_id,
                                        await upload.read(state.settings.max_upload_bytes + 1), upload.filename)


async def _assign(conn: Db, identity: User, panel_id: int, data: AssignInput) -> list[int]:
    return await engine.assign_balanced(conn, identity, panel_id, data.count)


async def _agency(conn: Db, identity: User, panel_id: int, data: AgencyInput) -> None:
    await engine.assign_agency(conn, identity, panel_id, data.agency_id)


def _shown(view: PanelView) -> dict[str, Any]:
    return {name: getattr(view, name) for name in view.__struct_fields__}


class PanelApi(Controller):
    path = "/api"
    tags = ["evaluation"]

    @get("/panels/{panel_id:int}", opt=SIGNED_IN_OPT,
         summary="A panel as its page shows it: members, criteria, candidates, ranking, and your own part in it")
    async def show(self, conn: Db, identity: User, settings: Config, panel_id: FromPath[int]) -> PanelView:
        return await panel_view(conn, identity, panel_id, settings)

    @post("/panels/{panel_id:int}/members", opt=SIGNED_IN_OPT, status_code=201, summary="Add a member or the chair")
    async def add_member(self, conn: Db, identity: User, panel_id: FromPath[int],
                         data: JSONBody[AddMember]) -> dict[str, int]:
        return {"user_id": await engine.add_member(conn, identity, panel_id, data)}

    @post("/panels/{panel_id:int}/start", opt=SIGNED_IN_OPT, status_code=201,
          summary="Close the membership and open scoring (the panel needs a chair)")
    async def start(self, conn: Db, identity: User, panel_id: FromPath[int]) -> dict[str, str]:
        await engine.start_scoring(conn, identity, panel_id)
        return {"status": "scoring"}

    @post("/panels/{panel_id:int}/agency", opt=BUYERS_OPT, status_code=201,
          summary="Hand the forming of the panel to an evaluation organisation, which assigns its own experts")
    async def agency(self, conn: Db, identity: User, panel_id: FromPath[int], data: JSONBody[AgencyInput]) -> dict[str, str]:
        await engine.assign_agency(conn, identity, panel_id, data.agency_id)
        return {"status": "handed"}

    @post("/panels/{panel_id:int}/assign", opt=SIGNED_IN_OPT, status_code=201,
          summary="The agency seats its least-loaded experts who may sit on this panel (the first is the chair)")
    async def assign(self, conn: Db, identity: User, panel_id: FromPath[int],
                     data: JSONBody[AssignInput]) -> dict[str, list[int]]:
        return {"user_ids": await engine.assign_balanced(conn, identity, panel_id, data.count)}

    @post("/panels/{panel_id:int}/notes", opt=SIGNED_IN_OPT, status_code=201,
          summary="Write a document-review or site-visit note on a candidate")
    async def note(self, conn: Db, identity: User, panel_id: FromPath[int], data: JSONBody[NoteInput]) -> dict[str, int]:
        return {"id": await engine.write_note(conn, identity, panel_id, data)}

    @post("/panels/{panel_id:int}/submit", opt=SIGNED_IN_OPT, status_code=201,
          summary="Hand in your scores as a whole; then you see the other members' scores")
    async def submit(self, conn: Db, identity: User, panel_id: FromPath[int]) -> dict[str, str]:
        await engine.submit(conn, identity, panel_id)
        return {"status": "submitted"}

    @post("/panels/{panel_id:int}/declarations", opt=SIGNED_IN_OPT, status_code=201,
          summary="Declare a conflict of interest, or none, for a candidate")
    async def declare(self, conn: Db, identity: User, panel_id: FromPath[int],
                      data: JSONBody[Declaration]) -> dict[str, str]:
        await engine.declare(conn, identity, panel_id, data)
        return {"status": "declared"}

    @post("/panels/{panel_id:int}/scores", opt=SIGNED_IN_OPT, status_code=201, summary="Score a criterion (null: N/A)")
    async def score(self, conn: Db, identity: User, panel_id: FromPath[int], data: JSONBody[ScoreInput]) -> dict[str, str]:
        await engine.score(conn, identity, panel_id, data)
        return {"status": "scored"}

    @post("/panels/{panel_id:int}/candidates/{candidate_id:int}/scores", opt=SIGNED_IN_OPT, status_code=201,
          summary="Score many criteria of one candidate at once: all kept, or none where any is refused")
    async def score_all(self, conn: Db, identity: User, panel_id: FromPath[int], candidate_id: FromPath[int],
                        data: JSONBody[ScoreList]) -> dict[str, str]:
        await engine.score_all(conn, identity, panel_id, candidate_id, data)
        return {"status": "scored"}

    @post("/panels/{panel_id:int}/consensus", opt=SIGNED_IN_OPT, status_code=201,
          summary="Record the chair's consensus score")
    async def consensus(self, conn: Db, identity: User, panel_id: FromPath[int],
                        data: JSONBody[ScoreInput]) -> dict[str, str]:
        await engine.record_consensus(conn, identity, panel_id, data)
        return {"status": "recorded"}
