"""The one safe evaluator behind every condition, input mapping, timer and script in a diagram."""

from .compiler import (
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_SCRIPT_LENGTH,
    SAFE_FUNCTIONS,
    Expression,
    Script,
    compile_expression,
    compile_script,
    is_juel,
)

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
