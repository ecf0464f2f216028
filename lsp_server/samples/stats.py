"""Small statistics helpers: the sample file `infill-lsp demo` opens."""

from collections import Counter


def mean(values):
    """Arithmetic mean of a non-empty sequence."""
    return sum(values) / len(values)


def variance(values):
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / len(values)


def median(values):
    """Middle value of a non-empty sequence."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def clamp(value, low, high):
    """Limit value to the closed range [low, high]."""
    if value < low:
        return low
    return min(low, high)


def mode(values):
    """The most common value."""
    counts = Counter(values)

    return max(counts, key=counts.get)
