"""End-to-end fixtures: the real server subprocess, a pytest-lsp client, the tiny checkpoint.

Each test module gets its own server, shared by its tests (they use distinct document URIs). A
module may set ``INIT_OPTIONS`` (merged over the defaults below) and ``CLIENT_CAPABILITIES``.

The tiny checkpoint's random weights write text that rarely parses and names nothing the file
has, and the server offers no suggestion that adds a syntax error or uses an unknown name; so
these sessions turn those checks off (``syntaxAttempts: 0``, ``knownNames: false``) unless a
module turns them back on (``test_syntax_check.py`` does the first).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest_lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from tests.e2e.session import CAPABILITIES, start_session

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "lsp_server"])


@pytest_lsp.fixture(
    scope="module",
    config=SERVER,
)
async def client(lsp_client: LanguageClient, request, tiny_checkpoint: Path):
    """A client session with the real server, the tiny checkpoint loaded."""
    options = {"modelPath": str(tiny_checkpoint), "debounceMs": 0, "syntaxAttempts": 0,
               "knownNames": False, **getattr(request.module, "INIT_OPTIONS", {})}
    capabilities = getattr(request.module, "CLIENT_CAPABILITIES", CAPABILITIES)
    await start_session(lsp_client, options, capabilities)
    yield
    await lsp_client.shutdown_session()


