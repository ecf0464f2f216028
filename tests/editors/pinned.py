"""Server settings both real-editor suites pin.

The decoding defaults follow the CPU (bf16 in hardware or not), and so do the shipped model's
suggestions at the spots the suites type at: pinned, every machine gets the same ones (in
Neovim, ``return total / `` gets ``ver``; in fp32 with the quick defaults it got `` #``, which
breaks the line and is never shown).
"""

SAME_ON_EVERY_CPU = {"precision": "float32", "threshold": 0.9, "stepsPerToken": 0.5}
