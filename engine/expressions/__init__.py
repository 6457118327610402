"""The one safe evaluator behind every condition, input mapping, timer and script in a diagram.

Rooms: :mod:`.checker` (the deploy-time whitelist of ``ast`` nodes and the safe functions),
:mod:`.juel` (Camunda ``${...}`` translated into the same ``ast``), :mod:`.evaluator` (walks a
checked tree), :mod:`.compiler` (text -> :class:`Expression`/:class:`Script`, with deploy-time
folding of constant subexpressions) and :mod:`.limits` (what an allowed expression may compute).
"""

from .checker import MAX_DEPTH, MAX_LENGTH, MAX_SCRIPT_LENGTH, SAFE_FUNCTIONS
from .compiler import Expression, Script, compile_expression, compile_script
from .juel import is_juel

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_SCRIPT_LENGTH",
    "SAFE_FUNCTIONS",
    "Expression",
    "Script",
    "compile_expression",
    "compile_script",
    "is_juel",
]
