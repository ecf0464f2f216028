"""InfillProtocol's decoding of messages that are not valid JSON-RPC requests."""

import json

import pytest
from pygls.exceptions import JsonRpcInvalidRequest

from lsp_server.server import InfillServer


class Sent:
    """A writer that keeps the bodies the protocol sends."""

    def __init__(self):
        self.bodies = []

    def write(self, data: bytes) -> None:
        self.bodies.append(json.loads(data.split(b"\r\n\r\n", 1)[1]))


@pytest.mark.parametrize("msg_id", [{}, [], True, None, 1.5])
def test_a_request_id_that_is_no_integer_or_string_gets_invalid_request(msg_id):
    protocol, sent = InfillServer().protocol, Sent()
    protocol.set_writer(sent)
    body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": "shutdown"})
    with pytest.raises(JsonRpcInvalidRequest):
        json.loads(body, object_hook=protocol.structure_message)
    [answer] = sent.bodies
    assert answer["id"] is None and answer["error"]["code"] == -32600
    assert repr(msg_id) in answer["error"]["message"]


def test_a_request_with_an_integer_or_string_id_decodes():
    protocol, sent = InfillServer().protocol, Sent()
    protocol.set_writer(sent)
    for msg_id in (7, "a7"):
        body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": "shutdown"})
        assert json.loads(body, object_hook=protocol.structure_message).id == msg_id
    assert not sent.bodies
