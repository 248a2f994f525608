"""The hub's settings: one typed object from environment variables (HUB_*), validated at start.

Secrets come only from the environment (or, in development and demo, from a key file the hub
generates in its data folder). In production the hub refuses to start without them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

WEAK_SECRETS = {"changeme", "change-me", "secret", "dev", "development", "please-change"}
MIN_SECRET_LENGTH = 32


class MqttSettings(BaseModel):
    """The MQTT broker the hub uses; `embedded` starts one in-process (demo)."""

    embedded: bool = False
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=0, le=65535)  # 0 with embedded: pick a free port
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    ca_file: str | None = None  # the CA that signed the broker's certificate (else the system's)
    ingest: bool = True  # subscribe to location topics (OwnTracks, ESPresense, generic)
    client_id: str = "dayuan-hub"  # stable, so the broker keeps the session across restarts
    protocol: Literal[5, 311] = 5  # 311 for MQTT 3.1.1-only brokers
    session_expiry_s: int = Field(7 * 24 * 3600, ge=0)
    shared_group: str | None = None  # MQTT 5 shared subscription across hub workers
    # Several hub workers: share accepted events (live view, rules) over the broker. Each
    # worker needs its own client_id, which is also its name among the workers.
    relay: bool = False


class WebhookSettings(BaseModel):
    """One place alarms are posted to: a generic JSON endpoint or a WeCom / DingTalk group
    robot (its URL carries the robot's key: keep it in the environment, not in files)."""

    url: SecretStr
    format: Literal["json", "wecom", "dingtalk"] = "json"
    min_severity: Literal["warning", "minor", "major", "critical"] = "warning"
    actions: list[str] = ["raised", "reminded", "escalated", "cleared"]
    name: str = ""  # shown in health instead of the URL

    @model_validator(mode="after")
    def _http(self) -> WebhookSettings:
        if not self.url.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("a webhook URL must be http(s)")
        return self


class EmailSettings(BaseModel):
    """The SMTP server alarm e-mails go through (to the users each rule's `notify` names)."""

    host: str
    port: int = Field(25, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "dayuan-hub@localhost"
    min_severity: Literal["warning", "minor", "major", "critical"] = "major"
    actions: list[str] = ["raised", "reminded", "escalated"]


class WorkAppSettings(BaseModel):
    """A WeCom (企业微信) or DingTalk (钉钉) internal app through which each person gets their
    own messages (what reaches their inbox), sent to their user id in that system: the site
    file's `people[].wecom` / `people[].dingtalk`, else their hub username."""

    kind: Literal["wecom", "dingtalk"]
    corp_id: str = ""  # WeCom: the corpid
    app_key: str = ""  # DingTalk: the app's AppKey
    secret: SecretStr  # WeCom: the app's Secret; DingTalk: its AppSecret
    agent_id: int = Field(ge=1)
    base_url: str = ""  # "": https://qyapi.weixin.qq.com, https://oapi.dingtalk.com
    name: str = ""  # shown in health

    @model_validator(mode="after")
    def _identified(self) -> WorkAppSettings:
        if self.kind == "wecom" and not self.corp_id:
            raise ValueError("a WeCom app needs its corp_id")
        if self.kind == "dingtalk" and not self.app_key:
            raise ValueError("a DingTalk app needs its app_key")
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be http(s)")
        return self


class NotifySettings(BaseModel):
    """Where alarm changes go besides the websocket. Delivery retries with backoff and never
    holds up the rules engine."""

    webhooks: list[WebhookSettings] = []
    email: EmailSettings | None = None
    apps: list[WorkAppSettings] = []  # each person's messages to WeCom / DingTalk
    # Alarm changes as JSON on "<topic>/<alarm type>" of the hub's broker (QoS 1); "" turns
    # it off.
    mqtt_topic: str = "hub/alarms"
    attempts: int = Field(5, ge=1, le=20)
    backoff_s: float = Field(2.0, gt=0, le=300)
    timeout_s: float = Field(5.0, gt=0, le=60)
    queue: int = Field(1000, ge=1)


class BacnetSettings(BaseModel):
    """The hub's own BACnet/IP application (a device on the network that reads the others)."""

    # bacpypes3 address syntax: "host" (this machine's interface, port 47808),
    # "10.20.0.9/24", "10.20.0.9/24:47809", "127.0.0.1/8:47900".
    address: str = "host"
    device_instance: int = Field(4190001, ge=0, le=4194302)
    bbmd: str | None = None  # register as a foreign device with this BBMD ("10.1.0.2:47808")
    ttl_s: int = Field(300, ge=30, le=65535)
    apdu_timeout_ms: int = Field(2000, ge=100, le=60_000)
    retries: int = Field(1, ge=0, le=5)


class InfluxSettings(BaseModel):
    """The InfluxDB telemetry backend and its durable spool."""

    url: str = "http://127.0.0.1:8086"
    api: Literal["v1", "v2"] = "v1"  # v1: /write (1.x, or 2.x/3.x compat); v2: /api/v2/write
    database: str = "hub"  # v1 database, and the DBRP-mapped name /query uses on 2.x
    retention_policy: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None  # 2.x / 3.x
    org: str | None = None
    bucket: str | None = None
    timeout_s: float = Field(10.0, gt=0, le=300)
    spool_max_mb: int = Field(1024, ge=1)
    spool_when_full: Literal["block", "drop_oldest"] = "block"
    spool_alarm_at: float = Field(0.8, gt=0, le=1)

    @model_validator(mode="after")
    def _v2_needs_token_org_bucket(self) -> InfluxSettings:
        if self.api == "v2" and not (self.token and self.org and self.bucket):
            raise ValueError("HUB_INFLUX__API=v2 needs HUB_INFLUX__TOKEN, __ORG and __BUCKET")
        return self


class TicketSettings(BaseModel):
    """Repair tickets."""

    close_on_clear: bool = False  # a fault that clears closes its untouched ticket
    rating_reminder_h: float = Field(24, gt=0)  # remind the reporter to rate after this
    sweep_s: float = Field(30, gt=0)  # how often SLA targets are checked


class BookingSettings(BaseModel):
    """Meeting rooms and official vehicles (docs/booking.md)."""

    release_after_min: int = Field(15, ge=1, le=240)  # no check-in by then: the room is freed
    horizon_days: int = Field(180, ge=7, le=730)  # how far ahead bookings and series reach
    max_occurrences: int = Field(200, ge=1, le=1000)  # of one recurring series
    sweep_s: float = Field(15.0, ge=1, le=600)  # release, HVAC and waitlist job period
    qr_step_s: int = Field(30, ge=10, le=600)  # the door's check-in code rotates this often
    vehicle_buffer_min: int = Field(15, ge=0, le=240)  # kept free around a dispatched trip


class CanteenSettings(BaseModel):
    """The canteen (docs/canteen.md)."""

    grace_min: int = Field(30, ge=0, le=240)  # the counter serves this long around a meal
    sweep_s: float = Field(300.0, ge=5, le=3600)  # no-shows counted this often
    keep_months: int = Field(13, ge=1, le=120)  # orders (and their people) kept this long


class GateSettings(BaseModel):
    """Visitors and the gate (docs/gate.md)."""

    retention_days: int = Field(30, ge=1, le=3650)  # visitors' personal data kept after a visit
    early_min: int = Field(60, ge=0, le=24 * 60)  # a pass opens this long before the visit
    overstay_grace_min: int = Field(30, ge=0, le=24 * 60)  # still inside after the end: alarm
    clock_skew_s: int = Field(120, ge=0, le=3600)  # terminals' clocks may be this far off
    denied_alarm: int = Field(3, ge=2, le=100)  # this many refusals of one credential ...
    denied_window_min: int = Field(10, ge=1, le=24 * 60)  # ... within this long: an alarm
    approval_over_visitors: int = Field(10, ge=1, le=10_000)  # bigger groups need approval
    approval_over_days: int = Field(1, ge=1, le=366)  # longer visits need approval
    sweep_s: float = Field(30.0, ge=1, le=3600)  # overstay, no-show and purge job
    pass_key_file: Path | None = None  # Ed25519 private key (PEM); default: in the data folder


class BackupSettings(BaseModel):
    """Scheduled backups (`hub backup` on a timer, by the leading worker), with rotation."""

    every_h: float = Field(0, ge=0, le=24 * 31)  # 0: none (run `hub backup` from cron instead)
    keep: int = Field(7, ge=1, le=1000)  # the newest archives kept; older ones are deleted
    folder: Path | None = None  # default: <data dir>/backups


class EnergySettings(BaseModel):
    """Energy reports (docs/energy.md)."""

    gap_min: float = Field(15, gt=0, le=24 * 60)  # readings further apart: a gap, spread over
    offline_min: float = Field(15, gt=0)  # a meter silent this long is listed offline
    lookback_days: float = Field(2, gt=0, le=31)  # how far back a period's first baseline is
    schedule: list[Literal["day", "week", "month", "year"]] = ["day", "week", "month"]
    notify: list[str] = ["role:manager"]  # who is e-mailed a new report ("role:x", usernames)
    settle_min: float = Field(30, ge=0, le=24 * 60)  # wait after a period ends (late data)
    sweep_s: float = Field(600, ge=5, le=86_400)
    lang: Literal["zh-CN", "en"] = "zh-CN"  # the stored PDFs' language


class PatrolSettings(BaseModel):
    """Patrol reports and the records behind them (docs/patrol.md)."""

    schedule: list[Literal["day", "week", "month"]] = ["week", "month"]
    notify: list[str] = ["role:security", "role:manager"]  # who is told of a new report
    settle_min: float = Field(60, ge=0, le=24 * 60)  # wait after a period ends (the last tour)
    sweep_s: float = Field(600, ge=5, le=86_400)
    lang: Literal["zh-CN", "en"] = "zh-CN"  # the stored reports' language
    keep_days: int = Field(400, ge=31, le=3650)  # tours and scans (they name guards) kept


class LiveSettings(BaseModel):
    """The live websocket (`/ws`): how often changes go out, and what the wall map may draw."""

    # Changes are coalesced per entity and sent at most this often to each client (a thousand
    # moving markers at 1 Hz make 10 frames a second, not a thousand messages).
    rate_hz: float = Field(10.0, gt=0, le=50)
    gate_history: int = Field(20, ge=1, le=500)  # last gate events a new client receives
    summary_s: float = Field(5.0, ge=0.5, le=300)  # counters and patrol progress refresh
    # An optional tile server (`{z}/{x}/{y}` URL) under the compound's own layers; off by
    # default: the compound draws without one and the hub needs no internet.
    tile_url: str | None = None
    tile_attribution: str = ""


class OidcSettings(BaseModel):
    """Single sign-on with an OpenID Connect provider (docs/identity.md): the authorization
    code flow with PKCE; who the person is, their roles and work unit come from the ID
    token's claims by this mapping. Local accounts stay (the demo, break-glass admins)."""

    issuer: str = Field(min_length=8, max_length=300)  # https://sso.example.gov.cn
    client_id: str = Field(min_length=1, max_length=200)
    client_secret: SecretStr | None = None  # none: a public client (PKCE alone)
    scopes: list[str] = ["openid", "profile", "email"]
    username_claim: str = "preferred_username"  # falls back to `sub`
    name_claim: str = "name"
    roles_claim: str = "groups"
    # claim value -> hub roles ("hub-security": ["security"]); people with none get `staff`
    role_map: dict[str, list[str]] = {}
    unit_claim: str | None = "unit"
    label: str = "统一身份认证登录"  # the sign-in page's button


class Settings(BaseSettings):
    """Everything configurable about a hub process."""

    model_config = SettingsConfigDict(
        env_prefix="HUB_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    env: Literal["development", "demo", "production"] = "development"
    site_file: Path | None = None
    data_dir: Path = Field(default_factory=lambda: platformdirs.user_data_path("dayuan-hub"))
    # Files every hub worker must see (ticket photos, stored reports, the visitor passes'
    # signing key): a folder all workers mount. Default: data_dir (one hub).
    shared_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    database_url: str | None = None  # default: SQLite in data_dir
    telemetry_backend: Literal["sqlite", "influxdb"] = "sqlite"
    influx: InfluxSettings = InfluxSettings()
    # energy reports compare a year with the year before: two years and a month are kept
    telemetry_retention_days: int = Field(800, ge=1)
    secret_key: SecretStr | None = None
    admin_username: str = "admin"
    admin_password: SecretStr | None = None
    access_token_hours: float = Field(12, gt=0, le=24 * 30)
    display_token_days: float = Field(365, gt=0, le=3650)
    # a checked token or API key is trusted this long without a database lookup; a change
    # made on another hub worker (a revoked key, a disabled user) takes effect within it
    credential_cache_s: float = Field(5.0, ge=0, le=60)
    # several hub workers on one PostgreSQL: how often a standby tries to take the lead
    leader_check_s: float = Field(5.0, ge=0.1, le=300)
    pipeline_queue: int = Field(10_000, ge=100)
    mqtt: MqttSettings = MqttSettings()
    notify: NotifySettings = NotifySettings()
    bacnet: BacnetSettings = BacnetSettings()
    web_dir: Path = Path(__file__).resolve().parent.parent / "web"
    public_url: str | None = None  # how people's phones reach the hub (QR labels); None: as asked
    # who may frame the wall display (a CSP frame-ancestors list, e.g. "https://ops.example");
    # every other page may never be framed
    wall_frame_ancestors: str = Field("'none'", max_length=500, pattern=r"^[^;,\n]*$")
    max_request_mib: int = Field(8, ge=1, le=100)  # a JSON body (a ticket's photo fits)
    # addresses whose X-Forwarded-For/-Proto the hub believes: the reverse proxy's ("*": any
    # peer, for a hub reachable only through its proxy, as in docker-compose.yml)
    forwarded_allow_ips: str = "127.0.0.1"
    max_upload_mib: int = Field(12, ge=1, le=500)  # a multipart upload
    tickets: TicketSettings = TicketSettings()
    live: LiveSettings = LiveSettings()
    booking: BookingSettings = BookingSettings()
    canteen: CanteenSettings = CanteenSettings()
    gate: GateSettings = GateSettings()
    energy: EnergySettings = EnergySettings()
    patrol: PatrolSettings = PatrolSettings()
    oidc: OidcSettings | None = None
    backup: BackupSettings = BackupSettings()
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if len(key) < MIN_SECRET_LENGTH or key.lower() in WEAK_SECRETS:
            problems.append(
                f"HUB_SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} "
                "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        if not self.database_url:
            problems.append("HUB_DATABASE_URL must be set (PostgreSQL) in production")
        if self.mqtt.embedded:
            problems.append(
                "the embedded MQTT broker is for the demo; set HUB_MQTT__EMBEDDED=false"
            )
        if self.site_file is None:
            problems.append("HUB_SITE_FILE (or `hub run -c FILE`) must name the site file")
        if problems:
            raise ValueError("refusing to start in production:\n  - " + "\n  - ".join(problems))
        return self

    @property
    def db_url(self) -> str:
        """The relational store's URL."""
        return self.database_url or f"sqlite:///{self.data_dir / 'hub.db'}"

    @property
    def files_dir(self) -> Path:
        """Where the files every worker must see live (shared_dir, else data_dir)."""
        return self.shared_dir or self.data_dir

    @property
    def spool_path(self) -> Path:
        """The InfluxDB backend's durable spool."""
        return self.data_dir / "spool" / "influx.db"

    @property
    def telemetry_path(self) -> Path:
        """The embedded telemetry store's file."""
        return self.data_dir / "telemetry.db"

    def resolve_secret(self) -> str:
        """The token-signing secret: from the environment, else a generated per-install key."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value)
        return value
