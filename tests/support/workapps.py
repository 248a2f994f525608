"""A stand-in for the WeCom and DingTalk servers on loopback, speaking their documented
server APIs for internal apps: access tokens from `gettoken`, messages to user ids. It checks
what a real server checks (the app's secret, the token, the agent id, known user ids) and keeps
what it accepted. The real services are on the internet, which the tests may not reach."""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CORP_ID, WECOM_SECRET, WECOM_AGENT = "ww-dayuan", "wecom-app-secret", 1000002
DING_KEY, DING_SECRET, DING_AGENT = "ding-app-key", "ding-app-secret", 2000003


class WorkApps(ThreadingHTTPServer):
    """Both servers in one (their paths do not overlap)."""

    def __init__(self, users: set[str]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.users = users
        self.tokens: set[str] = set()
        self.token_calls = 0
        self.wecom: list[dict[str, Any]] = []
        self.dingtalk: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def expire_tokens(self) -> None:
        """As if two hours had passed: every token handed out stops working."""
        with self.lock:
            self.tokens.clear()


class _Handler(BaseHTTPRequestHandler):
    server: WorkApps

    def _answer(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)  # both answer errors as 200 with an errcode
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _token(self) -> dict[str, Any]:
        token = secrets.token_hex(16)
        with self.server.lock:
            self.server.tokens.add(token)
            self.server.token_calls += 1
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/cgi-bin/gettoken":
            ok = q.get("corpid") == CORP_ID and q.get("corpsecret") == WECOM_SECRET
            self._answer(
                self._token() if ok else {"errcode": 40001, "errmsg": "invalid credential"}
            )
        elif url.path == "/gettoken":
            ok = q.get("appkey") == DING_KEY and q.get("appsecret") == DING_SECRET
            self._answer(self._token() if ok else {"errcode": 40089, "errmsg": "invalid appkey"})
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if q.get("access_token") not in self.server.tokens:
            self._answer({"errcode": 42001, "errmsg": "access_token expired"})
        elif url.path == "/cgi-bin/message/send":
            if body.get("agentid") != WECOM_AGENT:
                self._answer({"errcode": 40056, "errmsg": "invalid agentid"})
                return
            to = body["touser"].split("|")
            unknown = [u for u in to if u not in self.server.users]
            self.server.wecom.append(body)
            self._answer({"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(unknown)})
        elif url.path == "/topapi/message/corpconversation/asyncsend_v2":
            if body.get("agent_id") != DING_AGENT:
                self._answer({"errcode": 400012, "errmsg": "invalid agent_id"})
                return
            self.server.dingtalk.append(body)
            self._answer({"errcode": 0, "errmsg": "ok", "task_id": len(self.server.dingtalk)})
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def work_apps(users: set[str]) -> Iterator[WorkApps]:
    server = WorkApps(users)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
