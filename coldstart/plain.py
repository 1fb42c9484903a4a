"""Report values made JSON-ready, as the committed reports hold them."""

from typing import Any

import numpy as np


def plain(value: Any) -> Any:
    """numpy scalars and arrays as JSON-ready Python values, floats rounded to 6 places."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(item) for item in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return round(float(value), 6)
    return value
