"""``initialize`` options and ``workspace/didChangeConfiguration``: the ServerConfig layers."""

from __future__ import annotations

from lsprotocol import types

from lsp_server.config import settings_section
from lsp_server.server import InfillServer, server


@server.feature(types.INITIALIZE)
def initialize(ls: InfillServer, params: types.InitializeParams) -> None:
    """Read ``initializationOptions``; invalid options are reported and defaults used."""
    options = settings_section(params.initialization_options)
    if options is None:
        return
    if ls.apply_settings(options):
        ls.init_options = options


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: InfillServer,
                                   params: types.DidChangeConfigurationParams) -> None:
    """Apply pushed settings (``settings.infill`` or the whole object), else pull them."""
    settings = settings_section(params.settings)
    if not settings and ls.pulls_configuration:
        pulled = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="infill")])
        )
        settings = pulled[0] if pulled else None
    ls.apply_settings(ls.init_options, settings or {})
