"""Latest request wins, $/cancelRequest, and edits during a denoise.

This module's server debounces automatic requests by 5 s, so an automatic request is reliably
still in flight when the next message arrives; no test measures time.
"""

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

from tests.e2e.session import TIMEOUT, change_document, inline_params, open_document

pytestmark = pytest.mark.asyncio(loop_scope="module")
INIT_OPTIONS = {"debounceMs": 5000}
TEXT = "def scale(values, k):\n    out = [v * k for v in values]\n    return out\n"


def send_inline(client: LanguageClient, params, msg_id=None) -> asyncio.Future:
    """Send an inlineCompletion request now; the future resolves with its result."""
    future = client.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params,
                                          msg_id=msg_id)
    return asyncio.wait_for(asyncio.wrap_future(future), TIMEOUT)


async def test_a_newer_request_for_the_same_document_wins(client: LanguageClient):
    uri = "file:///e2e/latest.py"
    open_document(client, uri, TEXT)
    older = send_inline(client, inline_params(uri, 1, 33, automatic=True))
    newer = send_inline(client, inline_params(uri, 1, 33))
    older_result, newer_result = await asyncio.gather(older, newer)
    assert older_result is None
    assert newer_result is not None and newer_result.items


async def test_cancel_request_answers_cancelled_and_frees_the_worker(client: LanguageClient):
    uri = "file:///e2e/cancel.py"
    open_document(client, uri, TEXT)
    pending = send_inline(client, inline_params(uri, 1, 33, automatic=True), msg_id="cancel-me")
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="cancel-me"))
    try:
        result = await pending
    except JsonRpcRequestCancelled:
        result = None
    assert result is None
    follow_up = await send_inline(client, inline_params(uri, 1, 33))
    assert follow_up is not None and follow_up.items


async def test_edit_during_a_denoise_drops_the_result(client: LanguageClient):
    uri = "file:///e2e/edited.py"
    open_document(client, uri, TEXT)
    pending = send_inline(client, inline_params(uri, 1, 33, automatic=True))
    end = types.Position(line=1, character=33)
    change_document(client, uri, 2, types.Range(start=end, end=end), "  # doubled")
    assert await pending is None
    fresh = await send_inline(client, inline_params(uri, 1, 44))
    assert fresh is not None and fresh.items
    for item in fresh.items:  # in version 2's columns
        assert item.range.start == types.Position(line=1, character=44)
