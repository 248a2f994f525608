"""Energy reports as people get them, against the demo's meter history: the API in JSON,
CSV, XLSX and PDF (its first page rendered to an image), only for the roles that read
reports; the scheduled reports stored and announced; `hub report energy` on the command
line."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from hub.cli import _demo_history, main
from hub.domain import Notice
from hub.identity import Role
from hub.runtime import Hub
from hub.services.energy.scheduled import ScheduledReports
from hub.services.periods import last_complete
from hub.settings import Settings
from hub.site import Site
from tests.support.mail import smtp_inbox
from tests.support.web import ARTIFACTS

PASSWORD = "test password 123"
TZ = ZoneInfo("Asia/Shanghai")
MONTH = last_complete("month", datetime.now(UTC), TZ).label


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("energy")
    return Settings(data_dir=data, secret_key="k" * 48, site_file=Path("site.yaml"))


@pytest.fixture(scope="module")
def hub(settings: Settings, demo_site: Site) -> Hub:
    asyncio.run(_demo_history(settings, demo_site))  # a year and more of 15-minute readings
    return Hub(settings, demo_site, factories=())


@pytest.fixture(scope="module")
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(hub.app()) as c:
        yield c


def sign_in(hub: Hub, client: TestClient, role: Role) -> dict[str, str]:
    name = f"energy-{role.value}"
    hub.ctx.identity.ensure_user(name, PASSWORD, [role], work_unit="u-logistics")
    r = client.post("/api/auth/token", data={"username": name, "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def first_page(pdf: bytes, name: str) -> tuple[int, int, float]:
    """Render page 1 (saved as a test artifact); its size and share of inked pixels."""
    page = pdfium.PdfDocument(pdf)[0]
    image = page.render(scale=1.5).to_pil().convert("L")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image.save(ARTIFACTS / name)
    inked = sum(image.histogram()[:128]) / (image.width * image.height)
    return image.width, image.height, inked


def test_managers_get_the_month_in_every_format(hub: Hub, client: TestClient) -> None:
    manager = sign_in(hub, client, Role.MANAGER)
    r = client.get("/api/energy/report", params={"period": MONTH}, headers=manager)
    assert r.status_code == 200, r.text
    report = r.json()
    buildings = {b["id"]: b["measures"]["electricity"] for b in report["buildings"]}
    assert set(buildings) == {"b1", "b2", "b3"}
    assert all(b["total"] > 1000 for b in buildings.values())
    compound = report["compound"]["electricity"]
    assert compound["total"] == pytest.approx(sum(b["total"] for b in buildings.values()))
    assert 0 < compound["out_of_hours_pct"] < 100
    assert compound["peak_demand_kw"] > 0
    assert compound["yoy_pct"] is not None  # the demo's history covers last year's month
    assert len(buildings["b1"]["series"]) == len(report["period"]["windows"])

    csv = client.get(
        "/api/energy/report", params={"period": MONTH, "format": "csv"}, headers=manager
    )
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("building,measure,unit,total")
    assert len(lines) == 1 + 3 + 1  # three buildings and the compound

    xlsx = client.get(
        "/api/energy/report", params={"period": MONTH, "format": "xlsx"}, headers=manager
    )
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["summary", "series", "quality"]
    assert book["series"].max_row == 1 + len(report["period"]["windows"])

    for lang in ("zh-CN", "en"):
        pdf = client.get(
            "/api/energy/report",
            params={"period": MONTH, "format": "pdf", "lang": lang},
            headers=manager,
        )
        assert pdf.headers["content-type"] == "application/pdf"
        assert len(pdfium.PdfDocument(pdf.content)) == 3
        width, height, inked = first_page(pdf.content, f"energy-report-{lang}.png")
        assert width > height  # A4 landscape
        assert 0.005 < inked < 0.5  # a table and a chart, not a blank page


def test_only_report_readers_get_energy_reports(hub: Hub, client: TestClient) -> None:
    url = "/api/energy/report"
    assert client.get(url, params={"period": MONTH}).status_code == 401
    for role in (Role.STAFF, Role.SECURITY, Role.DISPLAY):
        r = client.get(url, params={"period": MONTH}, headers=sign_in(hub, client, role))
        assert r.status_code == 403
    tech = sign_in(hub, client, Role.TECHNICIAN)
    assert client.get(url, params={"period": MONTH}, headers=tech).status_code == 200
    bad = client.get(url, params={"period": "last month"}, headers=tech)
    assert bad.status_code == 422
    assert "period" in bad.text


def test_finished_periods_are_stored_once_and_the_managers_told(
    hub: Hub, client: TestClient
) -> None:
    assert hub.ctx.energy is not None
    assert hub.ctx.reports is not None
    told: list[Notice] = []
    job = ScheduledReports(
        hub.ctx.energy,
        hub.ctx.reports,
        kinds=["day", "month"],
        settle=hub.ctx.energy.gap,
        notify=["role:manager"],
        announce=told.append,
        link=lambda name: f"https://hub.example/energy.html#stored={name}",
    )
    assert asyncio.run(job()) == 2
    assert asyncio.run(job()) == 0  # already stored
    assert {n.notify for n in told} == {("role:manager",)}
    assert f"energy-month-{MONTH}.pdf" in told[1].body
    manager = sign_in(hub, client, Role.MANAGER)
    listed = client.get("/api/energy/reports", headers=manager).json()
    assert {r["name"] for r in listed} >= {f"energy-month-{MONTH}.pdf"}
    pdf = client.get(f"/api/energy/reports/energy-month-{MONTH}.pdf", headers=manager)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    sneaky = client.get("/api/energy/reports/..%2Fhub.db", headers=manager)
    assert sneaky.status_code == 404


def test_the_command_line_writes_the_months_pdf(
    hub: Hub, settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(
        main,
        ["report", "energy", "--month", MONTH, "--format", "pdf", "--out", str(out)],
        env={"HUB_DATA_DIR": str(settings.data_dir), "HUB_SECRET_KEY": "k" * 48},
    )
    assert result.exit_code == 0, result.output
    assert f"({MONTH}, electricity " in result.output
    assert len(pdfium.PdfDocument(out.read_bytes())) == 3
    first_page(out.read_bytes(), "energy-report-cli.png")
    wrong = CliRunner().invoke(main, ["report", "energy", "--month", "2026-13"])
    assert wrong.exit_code != 0
    assert "no such period" in wrong.output


def test_the_managers_are_emailed_when_a_day_has_ended(tmp_path: Path, demo_site: Site) -> None:
    """The hub's own schedule (a real SMTP server receives the mail)."""
    with smtp_inbox() as inbox:
        settings = Settings(
            data_dir=tmp_path,
            secret_key="k" * 48,
            site_file=Path("site.yaml"),
            public_url="https://hub.example",
            notify={"email": {"host": "127.0.0.1", "port": inbox.port, "security": "none"}},
            energy={"schedule": ["day"], "sweep_s": 5, "settle_min": 0},
        )
        hub = Hub(settings, demo_site.model_copy(update={"devices": []}), factories=())
        with TestClient(hub.app()):
            hub.ctx.identity.ensure_user(
                "boss", PASSWORD, [Role.MANAGER], email="boss@x.gov.cn", work_unit="u-office"
            )
            hub.ctx.identity.ensure_user(
                "clerk", PASSWORD, [Role.STAFF], email="clerk@x.gov.cn", work_unit="u-office"
            )
            inbox.wait(1, timeout=60)
        (to, mail), *_ = inbox.mails
        yesterday = last_complete("day", datetime.now(UTC), TZ).label
        assert to == ["boss@x.gov.cn"]
        assert yesterday in mail["Subject"]
        link = f"https://hub.example/energy.html#stored=energy-day-{yesterday}.pdf"
        assert link in mail.get_content()
        assert (tmp_path / "reports" / f"energy-day-{yesterday}.pdf").exists()
