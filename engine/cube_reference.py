"""The cube's full variable reference as Markdown, from the cube's own registry
(``engine.cube.VARIABLES``), so the documentation cannot drift from the code.

``python -m engine.cube_reference > docs/cube.md`` writes it; a test compares the two.
"""

from __future__ import annotations

from .cube import UNIT_WORDS, VARIABLES
from .kernels.layout import EVENT_NAMES, HIST_NAMES
from .products import PRODUCT_ATTR

COORDINATES = (
    ("regime", "regime", "RMP regime name (a sweep has `pace`, $bn/month, instead)"),
    ("other_regime", "other_regime", "the second regime of a pair (joint counts)"),
    ("event", "event", "event tier: " + ", ".join(f"`{e}`" for e in EVENT_NAMES)),
    ("time", "time", "month start (CF time; the last dimension of every variable in a file)"),
    ("horizon", "time", "months ahead, 1..M"),
    ("quantile", "quantile", "quantile level"),
    ("weight", "regime", "prior weight of the regime (NaN: not in the mixture)"),
    ("estimate", "estimate", "`monthly`, `cumulative` (with `[rare_events]` conditional only)"),
    ("limb", "limb", "fixed-point limb of an exact sum (with `[rare_events]` conditional only)"),
)
GLOBAL_ATTRIBUTES = (
    ("Conventions", "CF-1.11"),
    (PRODUCT_ATTR, "`cube` (a run), `sweep`, `required_pace` or `sensitivity`"),
    ("title, source, history", "what, which engine version, the command and when"),
    ("config_json, config_sha256, config_source", "the resolved config, its hash, its file"),
    ("seed, n_paths, block_size, start, horizon_months", "the run's identity"),
    ("versions, computed_*", "library versions; how the run was computed (workers, tasks, ...)"),
    ("metadata_sha256", "in files only: sha256 of the attributes and names, checked on reading"),
    ("data_sha256", "in files only: sha256 of the numeric values, checked on reading"),
    ("conditional_tier", "the tier of the `conditional_*` variables (`[rare_events]` on only)"),
)


def _units(units: str) -> str:
    words = UNIT_WORDS.get(units)
    return f"`{units}` ({words})" if words else f"`{units}`"


def markdown() -> str:
    """The reference: variables (dims, units, meaning), coordinates and global attributes."""
    lines = [
        "# The cube: variable reference",
        "",
        "Generated from `engine.cube.VARIABLES` by `python -m engine.cube_reference`; do not edit.",
        "Dimensions as in memory (`engine.open_cube`); files put `time` last (CF).",
        "",
        "| variable | dims | units | meaning |",
        "|---|---|---|---|",
    ]
    for name, spec in VARIABLES.items():
        dims = ", ".join(spec.dims)
        lines.append(f"| `{name}` | {dims} | {_units(spec.units)} | {spec.long_name} |")
    lines += ["", "Histograms: " + ", ".join(f"`{n}_histogram`" for n in HIST_NAMES)]
    lines += [
        "hold the fixed-bin counts each quantile variable comes from (attributes `bin_low`,",
        "`bin_width`; bin 0 counts values below `bin_low`, the last bin those at or above",
        "the top).",
        "",
        "The `conditional_*` variables are in a cube only where `[rare_events] estimator =",
        '"conditional"` (docs/rare_events.md); quantile variables then say `weighted = no`.',
        "",
        "| coordinate | dim | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {dim} | {meaning} |" for name, dim, meaning in COORDINATES]
    lines += ["", "| global attribute | meaning |", "|---|---|"]
    lines += [f"| {name} | {meaning} |" for name, meaning in GLOBAL_ATTRIBUTES]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
