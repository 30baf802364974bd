"""The names of the figures and file formats, apart from the plotting code, so that the CLI
can offer and check them without importing matplotlib (which only ``plot``, ``report`` and
``--plot`` need)."""

RUN_KINDS = ("reinforced", "ttr", "buildup", "bottlenecks", "map", "phases")
SWEEP_KINDS = ("response", "heatmap", "sensitivity")
KINDS = RUN_KINDS + SWEEP_KINDS
FORMATS = ("png", "svg")
