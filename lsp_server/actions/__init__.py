"""The plain logic behind the features: what to mask, how to ask the model, which edits result.

One module per feature: ``inline`` (inline completion, and a completion item's edit), ``fix``
("Fix this function") and ``docstring`` ("Insert docstring"); ``common`` holds what they share.
The package re-exports nothing: import the module itself (``from lsp_server.actions import
fix``), so that a name patched there is the one its callers look up.

Each action has two halves. ``*_request`` runs on the event loop: it reads one immutable
``Document`` version (tree-sitter only, milliseconds) and returns a frozen request. ``run_*`` runs
on the scheduler's worker thread with the engine and returns text or ``TextEdit`` lists; it touches
only the request, never the live document store.
"""
