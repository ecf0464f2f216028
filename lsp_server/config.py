"""Server settings: one msgspec Struct tree decoded from camelCase keys.

Layers, lowest first: defaults, ``initializationOptions``, ``workspace/didChangeConfiguration``
(``settings.infill`` or the whole settings object). ``None`` values mean "unset".
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

# The shipped checkpoint: package data of the sibling ``model`` package (not imported here,
# importing it pulls in torch).
log = logging.getLogger(__name__)

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "model" / "weights"

Fraction = Annotated[float, msgspec.Meta(gt=0.0, le=1.0)]
# (threshold, steps per token), slowest last: typing a line in fp32 on a CPU gets QUICK; typing
# where the model computes in bf16 or on a GPU, or an explicit request (a key, "Fix this
# function", "Insert docstring") in fp32 on a CPU, CAREFUL (about twice the model time); an
# explicit request there THOROUGH (one step per token, about 1.4x CAREFUL's). An empty line's
# block gets at least BLOCK: the slowest steps inside its 350 ms goal in fp32 on a CPU.
QUICK = (0.5, 0.125)
CAREFUL = (0.9, 0.5)
BLOCK = (0.9, 0.75)
THOROUGH = (0.9, 1.0)
Tokens = Annotated[int, msgspec.Meta(ge=1, le=4096)]
LanguageId = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
CONTEXT, SHORT_CONTEXT = 384, 256  # tokens of code around the span (``ServerConfig.context``)


class Features(msgspec.Struct, rename="camel", forbid_unknown_fields=False):
    """Enable flags, one per LSP feature."""

    inline_completion: bool = True
    completion: bool = True
    fix_function: bool = True
    docstring: bool = True


class ServerConfig(msgspec.Struct, rename="camel", forbid_unknown_fields=False):
    """Everything the server reads from the client's settings."""

    model_path: str = str(DEFAULT_MODEL_PATH)
    device: Annotated[str, msgspec.Meta(pattern=r"^(cpu|auto|mps|cuda(:\d+)?)$")] = "cpu"
    # auto: bf16 on CUDA and on CPUs with bf16 in hardware (about 2x faster there), else float32.
    precision: Literal["auto", "float32", "bfloat16"] = "auto"
    # None: by how fast the model computes (``decoding``).
    threshold: Fraction | None = None
    steps_per_token: Fraction | None = None
    max_span_tokens: Tokens = 128
    line_tokens: Tokens = 24
    # An empty line's budget: the model reads 64 masks as more than a line (model card).
    block_tokens: Tokens = 24
    # None: by how fast the model computes (``context``).
    context_tokens: Annotated[int, msgspec.Meta(ge=16, le=32768)] | None = None
    # Syntax-checked candidates (none that adds an error is offered); 0: one, unchecked.
    syntax_attempts: Annotated[int, msgspec.Meta(ge=0, le=8)] = 2
    # Different suggestions an explicit inline request (a key, cycling) returns; automatic: one.
    explicit_candidates: Annotated[int, msgspec.Meta(ge=1, le=8)] = 3
    # An explicit request on an empty line also decodes the block at other lengths, for its
    # alternatives, best-scored first (``model.length_search``; about 0.5 s more in fp32 on a CPU);
    # an automatic one only when none of its own candidates is usable.
    length_search: bool = True
    # No Python suggestion that uses a name neither the file nor Python has (``lsp_server.names``)
    # or calls a function of the file with arguments it cannot take (``lsp_server.calls``).
    known_names: bool = True
    # No Python suggestion that makes the whole file compile worse than it does (CPython's parser
    # and where return/break may stand, over the statements around the cursor; ``file_check``).
    whole_file_check: bool = True
    # "Fix this function" without a diagnostic: how much more likely (log-probability) the model
    # must find its token than the one there, beyond half its preference at the function's least
    # likely other token (``token_repair``). Lower: more repairs, and more right code changed.
    fix_margin: Annotated[float, msgspec.Meta(ge=0, le=30)] = 5.0
    debounce_ms: Annotated[int, msgspec.Meta(ge=0, le=5000)] = 75
    log_level: Literal["debug", "info", "warning", "error"] | None = None  # None: --log-level
    features: Features = msgspec.field(default_factory=Features)
    # Language ids, as the editor names them ("markdown", "javascriptreact"), whose documents
    # get no suggestions (inline or completion item); "Fix this function" and "Insert
    # docstring" still answer there.
    disabled_languages: Annotated[list[LanguageId], msgspec.Meta(max_length=256)] = \
        msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.model_path:
            self.model_path = str(DEFAULT_MODEL_PATH)
        self.model_path = str(Path(self.model_path).expanduser())
        try:
            self.model_path.encode()
        except UnicodeEncodeError:
            raise ValueError("modelPath is not valid Unicode (a lone surrogate)") from None

    def suggests_in(self, language_id: str | None) -> bool:
        """Whether a document of this LSP language id gets suggestions (``disabledLanguages``)."""
        return language_id not in self.disabled_languages

    def decoding(self, fast: bool, explicit: bool = False,
                 block: bool = False) -> tuple[float, float]:
        """(threshold, steps per token): the settings', else one step slower on the ladder
        QUICK, CAREFUL, THOROUGH for each of ``fast`` (the model computes in bf16 or on a GPU)
        and ``explicit`` (a key asked: the user waits for it). Typing then gets a line in about
        the same time either way (model card: single-line pass@1 17.4% against 14.7%). A
        ``block`` (an empty line: its latency goal is 350 ms, a typed line's 120) decodes at
        least BLOCK (model card: 18.4% against CAREFUL's 17.2% in fp32)."""
        default = (QUICK, CAREFUL, THOROUGH)[fast + explicit]
        if block:
            default = max(default, BLOCK, key=lambda rung: rung[1])
        return (self.threshold if self.threshold is not None else default[0],
                self.steps_per_token if self.steps_per_token is not None else default[1])

    def context(self, fast: bool, explicit: bool = False) -> int:
        """Tokens of code kept around the span: the setting's, else ``SHORT_CONTEXT`` for
        typing where the model computes in fp32 on a CPU (the context pass is most of a line's
        time there) and ``CONTEXT`` otherwise (model card: the same pass@1 either way)."""
        if self.context_tokens is not None:
            return self.context_tokens
        return CONTEXT if fast or explicit else SHORT_CONTEXT

    def model_key(self) -> tuple[str, str, str]:
        """What identifies the resident model: changing it means a reload."""
        return (self.model_path, self.device, self.precision)


class ConfigError(ValueError):
    """Settings that do not decode; the message names the bad field."""


def settings_section(settings: Any) -> Any:
    """The ``infill`` section of a didChangeConfiguration payload, else the whole object."""
    if isinstance(settings, dict) and isinstance(settings.get("infill"), dict):
        return settings["infill"]
    return settings


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` over ``base``; ``None`` values in ``override`` are unset."""
    out = dict(base)
    for key, value in override.items():
        if value is None:
            continue
        if isinstance(value, dict):  # its ``None`` values unset too, with or without a base
            out[key] = merge(out[key] if isinstance(out.get(key), dict) else {}, value)
        else:
            out[key] = value
    return out


def decode(*layers: Any) -> ServerConfig:
    """Decode settings layers (lowest first) into a ServerConfig or raise ConfigError."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer is None:
            continue
        if not isinstance(layer, dict):
            raise ConfigError(f"Expected `object`, got `{type(layer).__name__}` - at `$`")
        merged = merge(merged, layer)
    known = {f.encode_name for f in msgspec.structs.fields(ServerConfig)}
    if unknown := sorted(set(merged) - known):
        log.warning("ignoring unknown settings: %s", ", ".join(unknown))
    try:
        return msgspec.convert(merged, ServerConfig)
    except (msgspec.ValidationError, UnicodeEncodeError) as exc:  # a lone surrogate in a number
        raise ConfigError(str(exc)) from None
