"""A missing model: error status and null results; pointing modelPath at a real one reloads it."""

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.session import inline_params, open_document, poll, wait_for_status

pytestmark = pytest.mark.asyncio(loop_scope="module")
INIT_OPTIONS = {"modelPath": "/nonexistent/infill-weights"}
TEXT = "def double(x):\n    return x * 2\n"


async def assert_answers(client: LanguageClient, uri: str) -> None:
    """A new document at ``uri`` gets an inline completion: a model is loaded and working."""
    open_document(client, uri, TEXT)
    result = await client.text_document_inline_completion_async(inline_params(uri, 1, 16))
    assert result is not None and result.items


async def test_missing_model_reports_an_error_and_features_return_null(client: LanguageClient):
    error = await wait_for_status(client, "error")
    assert "/nonexistent/infill-weights" in error["message"]
    # the status notification comes first, then window/showMessage
    await poll(lambda: any(m.type == types.MessageType.Error for m in client.messages),
               "error message")
    uri = "file:///e2e/no-model.py"
    open_document(client, uri, TEXT)
    assert await client.text_document_inline_completion_async(inline_params(uri, 1, 16)) is None


async def test_changing_model_path_reloads_the_model(client: LanguageClient, tiny_checkpoint):
    since = len(client.statuses)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"infill": {"modelPath": str(tiny_checkpoint)}}))
    await wait_for_status(client, "loading", since)
    await wait_for_status(client, "ready", since)
    await assert_answers(client, "file:///e2e/reloaded.py")


async def test_a_model_path_that_fails_keeps_the_loaded_model(client: LanguageClient,
                                                              tiny_checkpoint):
    since, shown = len(client.statuses), len(client.messages)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"infill": {"modelPath": "/nonexistent/typo"}}))
    error = await wait_for_status(client, "error", since)
    assert "/nonexistent/typo" in error["message"]
    kept = await poll(lambda: next((s for s in client.statuses[since:]
                                    if s["state"] == "ready" and "still using" in s["message"]),
                                   None), "ready again with the previous model")
    assert kept["message"].endswith(f"still using {tiny_checkpoint}")
    await poll(lambda: any("/nonexistent/typo" in m.message for m in client.messages[shown:]),
               "the load error shown")
    await assert_answers(client, "file:///e2e/kept.py")


async def test_changing_precision_reloads_the_model_in_it(client: LanguageClient, tiny_checkpoint):
    """The ready status names the dtype; the model keeps answering in the new one."""
    for precision in ("float32", "bfloat16"):
        since = len(client.statuses)
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"infill": {"modelPath": str(tiny_checkpoint), "precision": precision}}))
        loading = await wait_for_status(client, "loading", since)  # not a job's "ready"
        ready = await wait_for_status(client, "ready", client.statuses.index(loading, since))
        assert ready["message"].endswith(f"on cpu in {precision}"), client.statuses[since:]
        await assert_answers(client, f"file:///e2e/{precision}.py")


async def test_an_invalid_precision_is_refused_and_the_model_kept(client: LanguageClient):
    shown = len(client.messages)
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"infill": {"precision": "int4"}}))
    await poll(lambda: any("precision" in m.message for m in client.messages[shown:]),
               "the invalid setting shown")
    await assert_answers(client, "file:///e2e/after-invalid.py")
