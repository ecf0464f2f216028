"""``infill-lsp``: serve over stdio (default) or TCP, or run the demo session."""

from __future__ import annotations

import argparse
import logging
import sys

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _ExitIsNotAnError(logging.Filter):
    """pygls ends a TCP session with ``sys.exit`` inside asyncio's connection callback, which
    asyncio logs as an unhandled error: drop that one record (the process still exits 0)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SystemExit))


def serve(tcp: str | None = None, log_level: str = "info") -> None:
    """Start the language server (stdio unless ``tcp`` is ``HOST:PORT``)."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format=LOG_FORMAT)
    logging.getLogger("lsp_server").setLevel(log_level.upper())

    import lsp_server.features  # noqa: F401  (registers the handlers)
    from lsp_server.server import ClientLogHandler, server

    logging.getLogger("lsp_server").addHandler(ClientLogHandler(server))
    if tcp:
        logging.getLogger("asyncio").addFilter(_ExitIsNotAnError())
        host, _, port = tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(
        prog="infill-lsp", description="Language server infilling code with a diffusion model.")
    parser.add_argument("--stdio", action="store_true", help="serve over stdio (the default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="serve over TCP instead, for debugging")
    parser.add_argument("--log-level", default="info",
                        choices=["debug", "info", "warning", "error"])
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="run a real LSP session over a sample file")
    demo.add_argument("--model", metavar="PATH", help="checkpoint dir (default: shipped weights)")
    demo.add_argument("--sample", default="stats", help="sample under lsp_server/samples/")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``infill-lsp`` console script and ``python -m lsp_server``."""
    args = parse_args(argv)
    if args.command == "demo":
        from lsp_server.demo import run_demo

        return run_demo(args.model, args.sample)
    serve(args.tcp, args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
