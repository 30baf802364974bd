"""The theatre model: a scenario compiled once, then one replication per seed."""

from tripwire.model.plan import Plan, compile_plan, stream
from tripwire.model.theatre import simulate

__all__ = ["Plan", "compile_plan", "simulate", "stream"]
