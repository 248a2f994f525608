"""A questionnaire's questions and what an answer to them may be: single and multiple choice,
text, a scale (1-5 or 1-10), a matrix (rows rated on a scale); required ones; ones shown only
when an earlier choice was made. Pure functions: checking a questionnaire, cleaning a
person's answers, counting everyone's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hub.errors import Invalid

Text = Annotated[str, Field(min_length=1, max_length=300)]
MAX_TEXT = 2000  # a text answer


class Condition(BaseModel):
    """Shown only when the answer to an earlier choice question includes one of `any_of`."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(max_length=16)
    any_of: list[Text] = Field(min_length=1, max_length=20)


class Question(BaseModel):
    """One question."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,15}$")
    type: Literal["single", "multiple", "text", "scale", "matrix"]
    title: Text
    required: bool = False
    options: list[Text] = Field(default_factory=list, max_length=20)  # single, multiple
    scale: Literal[5, 10] = 5  # scale, matrix: 1..scale
    rows: list[Text] = Field(default_factory=list, max_length=20)  # matrix
    when: Condition | None = None

    @model_validator(mode="after")
    def _fits_its_type(self) -> Question:
        if self.type in ("single", "multiple"):
            if len(self.options) < 2 or len(set(self.options)) != len(self.options):
                raise ValueError("a choice needs two or more different options")
        elif self.options:
            raise ValueError("only choice questions have options")
        if self.type == "matrix":
            if not self.rows or len(set(self.rows)) != len(self.rows):
                raise ValueError("a matrix needs rows, each different")
        elif self.rows:
            raise ValueError("only a matrix has rows")
        return self


def check(raw: Sequence[dict[str, Any]]) -> list[Question]:
    """The questions, or Invalid saying what is wrong (ids distinct, conditions on an earlier
    choice question and its options)."""
    if not 1 <= len(raw) <= 50:
        raise Invalid("1 to 50 questions", field="questions", key="survey.questions")
    try:
        questions = [Question.model_validate(q) for q in raw]
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        detail = f"{where} {first['msg']}"
        raise Invalid(
            f"question: {detail}", field="questions", key="survey.question", detail=detail
        ) from None
    seen: dict[str, Question] = {}
    for q in questions:
        if q.id in seen:
            raise Invalid(
                f"two questions {q.id!r}",
                field="questions",
                key="survey.question",
                detail=f"{q.id} twice",
            )
        if q.when is not None:
            earlier = seen.get(q.when.question)
            if earlier is None or earlier.type not in ("single", "multiple"):
                raise Invalid(
                    f"{q.id}: shown after an earlier choice question only",
                    field="questions",
                    key="survey.condition",
                )
            if any(o not in earlier.options for o in q.when.any_of):
                raise Invalid(
                    f"{q.id}: no such option of {earlier.id}",
                    field="questions",
                    key="survey.condition",
                )
        seen[q.id] = q
    return questions


def shown(q: Question, answers: dict[str, Any]) -> bool:
    """Whether the question is asked, given the answers so far."""
    if q.when is None:
        return True
    given = answers.get(q.when.question)
    chosen = set(given) if isinstance(given, list) else {given}
    return bool(chosen & set(q.when.any_of))


def clean(questions: Sequence[Question], answers: dict[str, Any], *, final: bool) -> dict[str, Any]:
    """The answers kept: each checked against its question, those to questions not asked
    dropped; `final`: every required question asked must be answered. Invalid otherwise."""
    known = {q.id for q in questions}
    stray = [k for k in answers if k not in known]
    if stray:
        raise Invalid(f"no question {stray[0]!r}", field=stray[0], key="survey.unknown")
    out: dict[str, Any] = {}
    for q in questions:
        if not shown(q, out):
            continue
        value = answers.get(q.id)
        if _empty(value):
            if final and q.required:
                raise Invalid(
                    f"{q.title}: an answer is needed", field=q.id, key="survey.required", q=q.title
                )
            continue
        out[q.id] = _value(q, value)
    return out


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _value(q: Question, value: Any) -> Any:
    bad = Invalid(f"{q.title}: not an answer to this question", field=q.id, key="survey.answer")
    match q.type:
        case "single":
            if value not in q.options:
                raise bad
            return value
        case "multiple":
            if not isinstance(value, list) or any(v not in q.options for v in value):
                raise bad
            return [o for o in q.options if o in value]  # in the question's order, once each
        case "text":
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise bad
            return value.strip()
        case "scale":
            if not _rating(value, q.scale):
                raise bad
            return value
        case _:  # matrix
            if not isinstance(value, dict) or any(
                r not in q.rows or not _rating(v, q.scale) for r, v in value.items()
            ):
                raise bad
            return {r: value[r] for r in q.rows if r in value}


def _rating(value: Any, top: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= top


def complete(questions: Sequence[Question], answers: dict[str, Any]) -> bool:
    """Whether every required question asked is answered (a matrix: every row)."""
    for q in questions:
        if q.required and shown(q, answers):
            value = answers.get(q.id)
            if _empty(value) or (q.type == "matrix" and len(value or {}) < len(q.rows)):
                return False
    return True


def tally(questions: Sequence[Question], answers: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Everyone's answers counted, question by question: a choice's options, a scale's points
    and mean, a matrix's rows, a text question's answers."""
    rows = list(answers)
    out = []
    for q in questions:
        given = [a[q.id] for a in rows if q.id in a]
        entry: dict[str, Any] = {
            "id": q.id,
            "type": q.type,
            "title": q.title,
            "answers": len(given),
        }
        if q.type == "single":
            entry["counts"] = _counts(q.options, given)
        elif q.type == "multiple":
            entry["counts"] = _counts(q.options, [o for chosen in given for o in chosen])
        elif q.type == "scale":
            entry.update(_points(q.scale, given))
        elif q.type == "matrix":
            entry["rows"] = [
                {"row": r, **_points(q.scale, [g[r] for g in given if r in g])} for r in q.rows
            ]
        else:
            entry["texts"] = [t for t in given if t][-200:]
        out.append(entry)
    return out


def _counts(options: Sequence[str], given: Sequence[str]) -> list[dict[str, Any]]:
    counted = Counter(given)
    return [{"option": o, "count": counted[o]} for o in options]


def _points(top: int, given: Sequence[int]) -> dict[str, Any]:
    counted = Counter(given)
    mean = round(sum(given) / len(given), 2) if given else None
    return {
        "counts": [{"option": str(p), "count": counted[p]} for p in range(1, top + 1)],
        "mean": mean,
    }


def columns(questions: Sequence[Question]) -> list[tuple[str, str | None]]:
    """The export's answer columns: (question id, matrix row or None)."""
    out: list[tuple[str, str | None]] = []
    for q in questions:
        if q.type == "matrix":
            out.extend((q.id, r) for r in q.rows)
        else:
            out.append((q.id, None))
    return out


def cell(answers: dict[str, Any], qid: str, row: str | None) -> str | int | None:
    """One answer as a spreadsheet cell (several choices joined by '; ')."""
    value = answers.get(qid)
    if row is not None:
        return value.get(row) if isinstance(value, dict) else None
    if isinstance(value, list):
        return "; ".join(value)
    return value
