"""initialize / initialized: advertised capabilities, UTF-16, model load progress and status."""

import asyncio

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.session import TIMEOUT

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_capabilities_are_advertised(client: LanguageClient):
    caps = client.init_result.capabilities
    assert isinstance(caps.inline_completion_provider, types.InlineCompletionOptions)
    assert caps.code_action_provider.resolve_provider is True
    assert set(caps.code_action_provider.code_action_kinds) == {
        types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite}
    assert set(caps.execute_command_provider.commands) == {
        "infill.fixFunction", "infill.insertDocstring"}
    assert caps.completion_provider is not None
    assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental


async def test_positions_are_utf16_even_when_the_client_prefers_utf8(client: LanguageClient):
    assert client.init_result.capabilities.position_encoding == types.PositionEncodingKind.Utf16


async def test_model_load_reports_progress_and_status(client: LanguageClient):
    states = [s["state"] for s in client.statuses]
    assert states[:2] == ["loading", "ready"]
    [token] = client.progress_reports
    while not isinstance(client.progress_reports[token][-1], types.WorkDoneProgressEnd):
        await asyncio.wait_for(client.wait_for_notification(types.PROGRESS), TIMEOUT)
    reports = client.progress_reports[token]
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
