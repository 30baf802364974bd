"""tripwire: reinforcement timing on NATO's Baltic flank, simulated."""

__version__ = "0.1.0"
