"""The diffusion infill engine: ``load(path, device)`` and ``infill(engine, prefix, suffix)``.

See :mod:`model.sampler` for how holes are denoised and :mod:`model.checkpoint`
for the checkpoint format.
"""

from model.checkpoint import Engine, load
from model.sampler import (
           DecodeSettings,
           InfillResult,
           SpansResult,
           infill,
           infill_spans,
           shared_first_pass,
)

__all__ = ["DecodeSettings", "Engine", "InfillResult", "SpansResult", "infill", "infill_spans",
           "load", "shared_first_pass"]
