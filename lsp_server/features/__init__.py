"""LSP features, one module per method family; importing this package registers them all."""

from lsp_server.features import (  # noqa: F401
    code_actions,
    commands,
    completion,
    configuration,
    inline_completion,
    lifecycle,
    notebook_sync,
    text_sync,
)
