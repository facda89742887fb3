"""What the survey pages show: the buyer's and provider's survey page and list, the residents'
public page, and the results (never for fewer than `MIN_ANSWERS` answers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, NamedTuple

import msgspec

from market.core.keyset import Paged

from market.core.i18n import N_

MIN_ANSWERS = 5  # below this many answers no figure of a survey is shown anywhere
MAX_CODES = 500  # codes one request makes
SCALE = (1, 2, 3, 4, 5)
SATISFIED = 4  # a 4 or a 5 is satisfied
SCALE_NAMES = {1: N_("Very dissatisfied"), 2: N_("Dissatisfied"), 3: N_("Neutral"), 4: N_("Satisfied"),
               5: N_("Very satisfied")}

SURVEY_STATUSES = ("draft", "open", "closed")
SURVEY_STATUS_NAMES = {"draft": N_("not open yet"), "open": N_("open for answers"), "closed": N_("closed")}
SURVEY_ACTION_NAMES = {"open": N_("Open the survey"), "close": N_("Close the survey"),
                       "reopen": N_("Reopen the survey")}
TEXT_STATUSES = ("pending", "published", "hidden")
TEXT_STATUS_NAMES = {"pending": N_("waiting for moderation"), "published": N_("published"),
                     "hidden": N_("hidden")}
TEXT_ACTION_NAMES = {"publish": N_("Publish"), "hide": N_("Hide")}
KIND_NAMES = {"project": N_("Project survey"), "community": N_("Community survey")}
NOT_SHOWN = N_("Fewer than 5 answers: results are not shown.")

Kind = Literal["project", "community"]


class Question(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    text_zh: str
    text_en: str


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """A question's (or the whole survey's) figures: the mean score with its 95 % confidence interval
    (Student's t), and the share satisfied (4 or 5) with its 95 % Wilson interval, in percent."""

    answers: int
    mean: float
    mean_low: float
    mean_high: float
    satisfied: int
    satisfied_percent: float
    satisfied_low: float
    satisfied_high: float


class QuestionResult(msgspec.Struct, frozen=True, kw_only=True):
    question: Question
    figure: Figure


class Results(msgspec.Struct, frozen=True, kw_only=True):
    """Overall: each resident's mean over the questions; satisfied overall where that mean is 4 or more."""

    overall: Figure
    questions: list[QuestionResult]
    threshold_percent: int
    below_threshold: bool


class Comment(msgspec.Struct, frozen=True, kw_only=True):
    answer_id: int
    text: str
    status: str
    answered_at: datetime
    actions: list[str] = []


class Codes(msgspec.Struct, frozen=True, kw_only=True):
    made: int
    spent: int
    batches: int


class SurveyView(msgspec.Struct, frozen=True, kw_only=True):
    """The survey page of the buyer (who runs it) and the provider (who hands out the slips and the
    poster). `results` is null, and `comments` empty, while fewer than 5 residents have answered."""

    id: int
    kind: Kind
    status: str
    title_zh: str
    title_en: str
    buyer_name_zh: str
    buyer_name_en: str
    provider_name_zh: str | None
    provider_name_en: str | None
    contract_id: int | None
    community_id: int | None
    link: str
    questions: list[Question]
    answers: int
    results_shown: bool
    results: Results | None
    comments: list[Comment]
    codes: Codes | None  # the buyer's alone
    below_threshold: bool
    opened_at: datetime | None
    closed_at: datetime | None
    actions: list[str]
    manages: bool


class SurveyRow(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    kind: Kind
    status: str
    title_zh: str
    title_en: str
    answers: int
    to_moderate: int
    below_threshold: bool


class SurveyList(Paged, kw_only=True):
    """A page of the surveys: projects' before communities', open ones first, then the newest."""

    surveys: list[SurveyRow]


class SurveyToAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A survey a resident may answer: their community's standing one, or that of a project done there."""

    kind: Kind
    title_zh: str  # the community's name, or the project's call
    title_en: str
    provider_name_zh: str | None = None
    provider_name_en: str | None = None
    link: str  # its public page
    opened_at: datetime | None


class ResidentSurveys(msgspec.Struct, frozen=True, kw_only=True):
    """What a resident's workbench offers to answer: the community's survey (None where it has none and no
    bureau or street office keeps the community to make one: nobody would read it) and the first of the
    open surveys of projects done in the community, its street or its district, nearest first, then the
    newest."""

    community: SurveyToAnswer | None
    projects: list[SurveyToAnswer]
    projects_total: int


class PublicSurvey(msgspec.Struct, frozen=True, kw_only=True):
    """What a resident sees: the questions and whether answers are taken. No results."""

    token: str
    kind: Kind
    status: str
    title_zh: str
    title_en: str
    provider_name_zh: str | None
    provider_name_en: str | None
    buyer_name_zh: str
    buyer_name_en: str
    questions: list[Question]
    accepting: bool


class AnswerInput(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    scores: dict[int, Annotated[int, msgspec.Meta(ge=1, le=5)]]
    comment: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    """A survey below the threshold, as the rectification loop takes it up."""

    survey_id: int
    contract_id: int | None
    buyer_id: int
    provider_id: int | None
    satisfied_percent: float
    threshold_percent: int
    text_zh: str
    text_en: str


class CommunitySatisfaction(NamedTuple):
    """A year's answers to the standing surveys of some communities: (answers, satisfied percent,
    mean), by name or unpacked; the share and mean are None under 5 answers."""

    answers: int
    satisfied_percent: float | None
    mean: float | None
