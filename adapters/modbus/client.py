"""The one place the adapter touches pymodbus: connect, read, write, with errors translated.

Refusals by the device are values (`Refused(code)`), not exceptions: they are answers, and
the coordinator decides what they mean. Failures to get an answer (no connection, timeout,
garbage) raise `LinkError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from struct import error as struct_error
from typing import Any, Literal

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from adapters.modbus.points import Table

ILLEGAL_FUNCTION = 1
ILLEGAL_ADDRESS = 2
ILLEGAL_VALUE = 3
DEVICE_FAILURE = 4
DEVICE_BUSY = 6
GATEWAY_PATH_UNAVAILABLE = 10
GATEWAY_NO_RESPONSE = 11

EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    5: "acknowledge",
    6: "device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target failed to respond",
}


class LinkError(Exception):
    """No answer: not connected, connection lost, timed out, or an unreadable reply."""


@dataclass(frozen=True, slots=True)
class Refused:
    """The device answered with a Modbus exception."""

    code: int

    @property
    def reason(self) -> str:
        """The exception's name."""
        return EXCEPTION_NAMES.get(self.code, f"exception {self.code}")


class ModbusLink:
    """One TCP connection (a device, or a gateway with several unit ids behind it)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        framer: Literal["socket", "rtu"] = "socket",
        timeout: float = 1.0,
    ) -> None:
        self.host, self.port, self.timeout, self.framer = host, port, timeout, framer
        self._made: AsyncModbusTcpClient | None = None

    @property
    def _client(self) -> AsyncModbusTcpClient:
        # pymodbus binds its client to the running event loop when it is made, so it is made
        # on first use, inside the loop, not when the hub is being assembled.
        if self._made is None:
            self._made = AsyncModbusTcpClient(
                self.host,
                port=self.port,
                framer=FramerType.RTU if self.framer == "rtu" else FramerType.SOCKET,
                timeout=self.timeout,
                retries=0,  # retries and backoff are the coordinator's
                reconnect_delay=0,  # no background reconnect: the coordinator reconnects
            )
        return self._made

    @property
    def connected(self) -> bool:
        """Whether the TCP connection is up."""
        return self._made is not None and bool(self._made.connected)

    async def connect(self) -> None:
        """Open the connection; LinkError if the host doesn't accept."""
        try:
            ok = await asyncio.wait_for(self._client.connect(), self.timeout + 1)
        except (TimeoutError, OSError, ModbusException) as err:
            raise LinkError(f"cannot connect to {self.host}:{self.port}: {err}") from err
        if not ok:
            raise LinkError(f"cannot connect to {self.host}:{self.port}")

    def close(self) -> None:
        """Close the connection."""
        if self._made is not None:
            self._made.close()

    async def _call(self, coro: Any) -> Any:
        try:
            response = await asyncio.wait_for(coro, self.timeout * 2)
        except TimeoutError as err:
            raise LinkError("timed out") from err
        except ModbusException as err:
            raise LinkError(str(err)) from err
        except (OSError, ValueError, struct_error) as err:
            raise LinkError(f"{type(err).__name__}: {err}") from err
        if response.isError():
            code = getattr(response, "exception_code", None)
            if code is None:
                raise LinkError(f"unreadable reply: {response}")
            return Refused(int(code))
        return response

    async def read(
        self, table: Table, address: int, count: int, unit: int
    ) -> list[int] | list[bool] | Refused:
        """Read `count` registers (or bits) of a table."""
        c = self._client
        match table:
            case Table.HOLDING:
                call = c.read_holding_registers(address, count=count, device_id=unit)
            case Table.INPUT:
                call = c.read_input_registers(address, count=count, device_id=unit)
            case Table.COIL:
                call = c.read_coils(address, count=count, device_id=unit)
            case Table.DISCRETE:
                call = c.read_discrete_inputs(address, count=count, device_id=unit)
        response = await self._call(call)
        if isinstance(response, Refused):
            return response
        if table.is_bits:
            bits: list[bool] = list(response.bits[:count])
            if len(bits) < count:
                raise LinkError(f"short reply: {len(bits)} of {count} bits")
            return bits
        registers: list[int] = list(response.registers)
        if len(registers) != count:
            raise LinkError(f"short reply: {len(registers)} of {count} registers")
        return registers

    async def write(
        self, table: Table, address: int, value: Sequence[int] | bool, unit: int
    ) -> Refused | None:
        """Write a coil (FC05), one register (FC06) or several (FC16)."""
        c = self._client
        if table is Table.COIL:
            call = c.write_coil(address, bool(value), device_id=unit)
        elif isinstance(value, bool):
            raise ValueError("a register write needs register values")
        elif len(value) == 1:
            call = c.write_register(address, value[0], device_id=unit)
        else:
            call = c.write_registers(address, list(value), device_id=unit)
        response = await self._call(call)
        return response if isinstance(response, Refused) else None
