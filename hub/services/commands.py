"""Commands to equipment (setpoints, start/stop): routed to the owning adapter, audited."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from hub.domain import Command, CommandHandler, CommandResult
from hub.errors import Conflict, Invalid, NotFound, Unavailable
from hub.storage import Database
from hub.storage.audit import record

log = logging.getLogger(__name__)


class CommandService:
    """Sends a command to the adapter that owns the point and records what happened."""

    def __init__(self, db: Database, handlers: Sequence[CommandHandler] = ()) -> None:
        self._db = db
        self.handlers = list(handlers)

    def _audit(self, actor: str, command: Command, result: CommandResult) -> None:
        with self._db.session() as s:
            record(
                s,
                actor,
                f"command.{command.action}",
                command.target,
                value=command.value,
                ok=result.ok,
                read_back=result.value,
                detail=result.detail,
                error=result.error,
            )

    async def execute(self, command: Command) -> CommandResult:
        """Carry out a command; the attempt is audited whatever its outcome."""
        handler = next((h for h in self.handlers if h.owns(command.target)), None)
        if handler is None:
            raise NotFound(f"no equipment takes commands for {command.target!r}")
        result = await handler.execute(command)
        await asyncio.to_thread(self._audit, command.requested_by, command, result)
        log.info(
            "command %s %s=%s by %s: %s",
            command.action,
            command.target,
            command.value,
            command.requested_by,
            result.detail,
        )
        return result

    async def write(self, actor: str, point_id: str, value: float) -> CommandResult:
        """Write a value to a point; HubErrors for a refusal, with the reason."""
        result = await self.execute(
            Command(point_id, "write", datetime.now(UTC), value=value, requested_by=actor)
        )
        if result.ok:
            return result
        if result.error == "invalid":
            raise Invalid(result.detail, field="value")
        if result.error == "unreachable":
            raise Unavailable(result.detail)
        raise Conflict(result.detail)
