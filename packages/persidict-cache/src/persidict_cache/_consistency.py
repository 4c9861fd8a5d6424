"""Compare a stored value with a rewritten one by content (deepdiff), for `WriteOnceDict`.

deepdiff is imported on the first comparison: it imports numpy and pandas when they are
installed, which a store that never compares values must not pay for.
"""

from __future__ import annotations

import sys
from typing import Any, Final

__all__ = ["describe_difference"]

_MAX_REPORT: Final = 4000  # characters of the difference shown in an error message
_pandas_operator_class: type | None = None


def _pandas_operator() -> type:
    """The deepdiff operator comparing pandas objects by content (labels alone otherwise)."""
    global _pandas_operator_class
    if _pandas_operator_class is None:
        from deepdiff.operator import BaseOperator

        class _PandasOperator(BaseOperator):
            def give_up_diffing(self, level: Any, diff_instance: Any) -> bool:
                old, new = level.t1, level.t2
                if type(old) is not type(new) or not old.equals(new):
                    diff_instance.custom_report_result(
                        "values_changed", level, {"old_value": old, "new_value": new}
                    )
                return True

            def normalize_value_for_hashing(self, parent: Any, obj: Any) -> Any:
                """Leave values as they are (deepdiff asks this when it compares sets)."""
                return obj

        _pandas_operator_class = _PandasOperator
    return _pandas_operator_class


def _custom_operators() -> list[Any]:
    pandas = sys.modules.get("pandas")  # a pandas value means pandas is imported already
    if pandas is None:
        return []
    return [_pandas_operator()(types=[pandas.DataFrame, pandas.Series, pandas.Index])]


def describe_difference(old: Any, new: Any) -> str | None:
    """Return a readable description of how ``new`` differs from ``old``, or None if equal.

    Content comparison: dict order and set order do not matter, numpy arrays and pandas
    objects compare element by element, NaN equals NaN; types matter (``1`` differs from
    ``1.0``, a list from a tuple).
    """
    from deepdiff import DeepDiff

    diff = DeepDiff(old, new, ignore_nan_inequality=True, custom_operators=_custom_operators())
    if not diff:
        return None
    try:
        text = str(diff.pretty())
    except Exception:  # pretty() cannot render every report: fall back to the raw tree
        text = repr(diff)
    if len(text) > _MAX_REPORT:
        text = text[:_MAX_REPORT] + " ... (truncated)"
    return text
