"""The browser the page tests drive: one headless chromium per test module (a module that
needs another kind, e.g. with axe-core checked first, defines its own `browser`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.support.web import chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b
