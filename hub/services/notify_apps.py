"""Each person's own messages through the compound's work app: a WeCom (企业微信) or DingTalk
(钉钉) internal application sends what reaches a person's inbox (a booking decided, a car
dispatched, a repair accepted) to that person's phone, as those systems' documented server
APIs take it:

- WeCom: `GET /cgi-bin/gettoken?corpid&corpsecret` → `access_token` (7200 s), then
  `POST /cgi-bin/message/send?access_token` with `{"touser": "a|b", "msgtype": "textcard",
  "agentid", "textcard": {"title", "description", "url", "btntxt"}}`;
- DingTalk: `GET /gettoken?appkey&appsecret` → `access_token`, then
  `POST /topapi/message/corpconversation/asyncsend_v2?access_token` with `{"agent_id",
  "userid_list": "a,b", "msg": {"msgtype": "action_card", "action_card": {...}}}`.

Both answer `{"errcode": 0, ...}`; a token the server no longer takes (WeCom 40014 / 42001,
DingTalk 40014 / 42001 / 88) is fetched again once. The letters are the inbox's (one
translation of events into messages); the people are the active users the event names.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

from hub.domain import Notice, TicketEvent
from hub.services.inbox.service import Letter, letter_of
from hub.services.notify_delivery import DeliveryError
from hub.settings import WorkAppSettings

BASE = {"wecom": "https://qyapi.weixin.qq.com", "dingtalk": "https://oapi.dingtalk.com"}
STALE_TOKEN = {40014, 42001, 88}  # invalid or expired access_token: fetch a new one
MAX_USERS = {"wecom": 1000, "dingtalk": 100}  # recipients per call the APIs take


def call(url: str, body: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
    """GET (no body) or POST JSON; the JSON answer. DeliveryError on HTTP or network errors."""
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    req = urllib.request.Request(  # noqa: S310 (base URL checked to be http(s) in settings)
        url, data=data, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            answer = json.loads(resp.read())
    except urllib.error.HTTPError as err:
        raise DeliveryError(f"HTTP {err.code}") from None
    except (urllib.error.URLError, OSError) as err:
        raise DeliveryError(str(getattr(err, "reason", err))) from None
    except ValueError:
        raise DeliveryError("answered something other than JSON") from None
    if not isinstance(answer, dict):
        raise DeliveryError("answered something other than a JSON object")
    return answer


class WorkApp:
    """One WeCom or DingTalk app: its access token (kept until shortly before it expires) and
    the sending of one letter to the people it names."""

    def __init__(
        self,
        cfg: WorkAppSettings,
        *,
        usernames: Callable[[Sequence[str]], list[str]],
        app_ids: dict[str, str],
        public_url: str,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfg = cfg
        self.base = (cfg.base_url or BASE[cfg.kind]).rstrip("/")
        self._usernames = usernames  # "role:x" / "user:y" / "y" -> active usernames
        self._app_ids = app_ids  # username -> their id in the app, where it differs
        self._public = public_url.rstrip("/")
        self._timeout = timeout
        self._clock = clock
        self._token: tuple[str, float] | None = None  # (token, good until)
        self._lock = threading.Lock()
        self.label = cfg.name or f"{cfg.kind} app {cfg.agent_id}"

    # -- the access token ----------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, float]:
        secret = urllib.parse.quote(self.cfg.secret.get_secret_value())
        if self.cfg.kind == "wecom":
            corp = urllib.parse.quote(self.cfg.corp_id)
            url = f"{self.base}/cgi-bin/gettoken?corpid={corp}&corpsecret={secret}"
        else:
            key = urllib.parse.quote(self.cfg.app_key)
            url = f"{self.base}/gettoken?appkey={key}&appsecret={secret}"
        answer = call(url, None, self._timeout)
        token = answer.get("access_token")
        if answer.get("errcode", 0) != 0 or not isinstance(token, str) or not token:
            raise DeliveryError(f"gettoken errcode {answer.get('errcode')}: {answer.get('errmsg')}")
        lifetime = float(answer.get("expires_in") or 7200)
        return token, self._clock() + max(60.0, lifetime - 300)  # renewed 5 minutes early

    def token(self) -> str:
        """A valid access token (fetched when none is held or it is about to expire)."""
        with self._lock:
            if self._token is None or self._clock() >= self._token[1]:
                self._token = self._fetch_token()
            return self._token[0]

    # -- sending -------------------------------------------------------------------------------
    def recipients(self, letter: Letter) -> list[str]:
        """The app's user ids of the active people a letter names."""
        return [self._app_ids.get(u, u) for u in self._usernames(letter.to)]

    def _body(self, letter: Letter, users: list[str]) -> tuple[str, dict[str, Any]]:
        link = f"{self._public}{letter.link}" if letter.link.startswith("/") else letter.link
        text = letter.body or letter.title
        if not link.startswith(("http://", "https://")):  # no public address set: words only
            words = f"{letter.title}\n{letter.body}".strip()
            if self.cfg.kind == "wecom":
                body = {"touser": "|".join(users), "msgtype": "text", "agentid": self.cfg.agent_id}
                return "/cgi-bin/message/send", {**body, "text": {"content": words}}
            msg = {"msgtype": "text", "text": {"content": words}}
            body = {"agent_id": self.cfg.agent_id, "userid_list": ",".join(users), "msg": msg}
            return "/topapi/message/corpconversation/asyncsend_v2", body
        if self.cfg.kind == "wecom":
            card = {"title": letter.title, "description": text, "url": link, "btntxt": "查看"}
            body = {
                "touser": "|".join(users),
                "msgtype": "textcard",
                "agentid": self.cfg.agent_id,
                "textcard": card,
            }
            return "/cgi-bin/message/send", body
        action = {
            "title": letter.title,
            "markdown": f"### {letter.title}\n\n{text}",
            "single_title": "查看",
            "single_url": link,
        }
        body = {
            "agent_id": self.cfg.agent_id,
            "userid_list": ",".join(users),
            "msg": {"msgtype": "action_card", "action_card": action},
        }
        return "/topapi/message/corpconversation/asyncsend_v2", body

    def send(self, event: TicketEvent | Notice) -> int:
        """Send the event's letter to its people (in calls of at most what the API takes);
        how many were addressed. DeliveryError when the app refuses."""
        letter = letter_of(event)
        if letter is None:
            return 0
        users = self.recipients(letter)
        step = MAX_USERS[self.cfg.kind]
        for i in range(0, len(users), step):
            self._post(*self._body(letter, users[i : i + step]))
        return len(users)

    def _post(self, path: str, body: dict[str, Any]) -> None:
        for attempt in (1, 2):
            answer = call(f"{self.base}{path}?access_token={self.token()}", body, self._timeout)
            code = answer.get("errcode", 0)
            if code == 0:
                return
            if code in STALE_TOKEN and attempt == 1:
                with self._lock:
                    self._token = None
                continue
            raise DeliveryError(f"{self.cfg.kind} errcode {code}: {answer.get('errmsg')}")
