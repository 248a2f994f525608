"""InfluxDB over HTTP: the connection settings, the v1 and v2 write endpoints, InfluxQL
queries on /query, and the quoting of InfluxQL literals."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlencode

import urllib3

from hub.telemetry.port import TelemetryError
from hub.telemetry.sqlite import to_us

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InfluxConfig:
    """Where and how to reach InfluxDB."""

    url: str
    api: Literal["v1", "v2"] = "v1"
    database: str = "hub"  # v1 database; for 2.x the DBRP-mapped name used by /query
    retention_policy: str | None = None
    username: str | None = None
    password: str | None = None
    token: str | None = None  # v2 / 3.x
    org: str | None = None
    bucket: str | None = None
    timeout: float = 10.0


class _Refused(Exception):
    def __init__(self, status: int, body: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status, self.body, self.retry_after = status, body, retry_after


class InfluxHttp:
    """Blocking HTTP to one InfluxDB server (called from worker threads)."""

    def __init__(self, config: InfluxConfig) -> None:
        self.config = config
        self._http = urllib3.PoolManager(num_pools=2, maxsize=4, retries=False)
        self._v2: Any = None
        headers = {}
        if config.token:
            headers["Authorization"] = f"Token {config.token}"
        elif config.username:
            headers.update(
                urllib3.make_headers(basic_auth=f"{config.username}:{config.password or ''}")
            )
        self._headers = headers

    def write(self, payload: bytes) -> None:
        """POST one gzip'd batch; raises _Refused or a urllib3 error."""
        if self.config.api == "v2":
            self._write_v2(payload)
            return
        params = {"db": self.config.database, "precision": "u"}
        if self.config.retention_policy:
            params["rp"] = self.config.retention_policy
        r = self._http.request(
            "POST",
            f"{self.config.url}/write?{urlencode(params)}",
            body=payload,
            headers={
                **self._headers,
                "Content-Encoding": "gzip",
                "Content-Type": "text/plain; charset=utf-8",
            },
            timeout=self.config.timeout,
        )
        if r.status >= 300:
            retry = r.headers.get("Retry-After")
            raise _Refused(
                r.status,
                r.data.decode("utf-8", "replace"),
                float(retry) if retry and retry.isdigit() else None,
            )

    def _write_v2(self, payload: bytes) -> None:
        from influxdb_client.client.influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS
        from influxdb_client.domain.write_precision import WritePrecision
        from influxdb_client.rest import ApiException

        if self._v2 is None:
            client = InfluxDBClient(
                url=self.config.url,
                token=self.config.token or "",
                org=self.config.org or "",
                timeout=int(self.config.timeout * 1000),
                enable_gzip=True,
            )
            self._v2 = client.write_api(write_options=SYNCHRONOUS)
        try:
            self._v2.write(
                bucket=self.config.bucket,
                org=self.config.org,
                record=gzip.decompress(payload).decode("utf-8"),
                write_precision=WritePrecision.US,
            )
        except ApiException as err:
            raise _Refused(int(err.status or 0), str(err.body or err.reason)) from err

    def query(self, q: str, timeout: float | None = None) -> list[dict[str, Any]]:
        """Run InfluxQL; the first statement's series."""
        return self.query_all(q, timeout)[0]

    def query_all(self, q: str, timeout: float | None = None) -> list[list[dict[str, Any]]]:
        """Run InfluxQL statements (`;`-separated); each one's series, in order."""
        params = {"db": self.config.database, "q": q, "epoch": "u"}
        if self.config.retention_policy:  # read where the writes go, not the default policy
            params["rp"] = self.config.retention_policy
        r = self._http.request(
            "POST",
            f"{self.config.url}/query",
            body=urlencode(params),
            headers={**self._headers, "Content-Type": "application/x-www-form-urlencoded"},
            timeout=timeout or self.config.timeout,
        )
        if r.status >= 300:
            raise _Refused(r.status, r.data.decode("utf-8", "replace"))
        out: list[list[dict[str, Any]]] = []
        for result in json.loads(r.data)["results"]:
            if "error" in result:
                raise TelemetryError(f"InfluxQL error: {result['error']}")
            out.append(result.get("series", []))
        return out


def q_str(value: str) -> str:
    """An InfluxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def q_time(ts: datetime) -> str:
    """An InfluxQL time literal (integer microseconds)."""
    return f"{to_us(ts)}u"


def point_filter(point_ids: Sequence[str]) -> str:
    """`"point" = 'a' OR "point" = 'b'`."""
    return " OR ".join(f'"point" = {q_str(p)}' for p in point_ids)
