"""Questionnaires over HTTP: made by a manager, answered once with the anonymous token in its
header (never in the address), exported as CSV and XLSX without names; refused to those who
may not make or read them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from hub.identity import Role
from tests.hub.api.conftest import auth

QUESTIONS = [
    {
        "id": "q1",
        "type": "single",
        "title": "满意吗",
        "options": ["满意", "不满意"],
        "required": True,
    },
    {"id": "q2", "type": "matrix", "title": "各项", "rows": ["环境", "服务"], "scale": 5},
]


def test_an_anonymous_questionnaire_over_http(client: TestClient, tokens: dict[Role, str]) -> None:
    manager, staff = auth(tokens[Role.MANAGER]), auth(tokens[Role.STAFF])
    closes = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = {
        "title": "办公环境调查",
        "questions": QUESTIONS,
        "everyone": True,
        "closes_at": closes,
        "anonymous": True,
    }
    assert client.post("/api/surveys", json=body, headers=staff).status_code == 403
    made = client.post("/api/surveys", json=body, headers=manager)
    assert made.status_code == 201, made.text
    sid = made.json()["id"]

    start = client.post(f"/api/surveys/{sid}/start", headers=staff)
    token = start.json()["token"]
    assert client.post(f"/api/surveys/{sid}/start", headers=staff).status_code == 409
    with_token = {**staff, "X-Survey-Token": token}
    draft = client.post(
        f"/api/surveys/{sid}/answers", json={"answers": {"q2": {"环境": 4}}}, headers=with_token
    )
    assert draft.status_code == 200, draft.text
    assert draft.json()["complete"] is False
    opened = client.get(f"/api/surveys/{sid}", headers=with_token).json()
    assert opened["answers"] == {"q2": {"环境": 4}}
    missing = client.post(
        f"/api/surveys/{sid}/answers",
        json={"answers": {"q2": {"环境": 4}}, "submit": True},
        headers=with_token,
    )
    assert missing.status_code == 422
    assert missing.json()["code"] == "survey.required"
    done = client.post(
        f"/api/surveys/{sid}/answers",
        json={"answers": {"q1": "满意", "q2": {"环境": 4, "服务": 5}}, "submit": True},
        headers=with_token,
    )
    assert done.json()["submitted"] is True
    again = client.post(
        f"/api/surveys/{sid}/answers",
        json={"answers": {"q1": "不满意"}, "submit": True},
        headers=with_token,
    )
    assert again.status_code == 409

    assert client.get(f"/api/surveys/{sid}/results", headers=staff).status_code == 403
    results = client.get(f"/api/surveys/{sid}/results", headers=manager).json()
    assert results["answered"] == 1
    csv_text = client.get(f"/api/surveys/{sid}/export.csv", headers=manager)
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert "user-staff" not in csv_text.content.decode("utf-8-sig")
    xlsx = client.get(f"/api/surveys/{sid}/export.xlsx", headers=manager)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert [c.value for c in sheet[2]][2:] == ["满意", 4, 5]
    assert "user-staff" not in str([[c.value for c in r] for r in sheet.iter_rows()])
    changed = client.post(f"/api/surveys/{sid}/change", json={"anonymous": False}, headers=manager)
    assert changed.status_code == 409
