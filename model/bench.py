"""`python -m model.bench {speed,humaneval,fix,docstring} [args]`: run one benchmark module."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# subcommand -> (module, entry point taking argv); imported lazily so each stays light.
COMMANDS = {
    "speed": ("model.bench_speed", "main"),
    "humaneval": ("model.bench_humaneval", "cli"),
    "fix": ("model.bench_fix", "cli"),
    "docstring": ("model.bench_docstring", "cli"),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark named by argv[0] with the remaining arguments."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m model.bench {{{','.join(COMMANDS)}}} [args]", file=sys.stderr)
        return 2
    module, entry = COMMANDS[argv[0]]
    return getattr(importlib.import_module(module), entry)(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
