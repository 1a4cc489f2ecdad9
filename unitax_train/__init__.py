"""unitax_train: train a PyTorch FCN with hierarchical heads on a unitax export.

It needs PyTorch. Install it first, then the extra, so that pip keeps the
CPU build you chose instead of pulling a multi-GB CUDA build::

    pip install torch==2.13.0
    pip install "unitax[train]"

Importing this package works without torch; `require_torch` (called by
everything that trains) says what to install when it is missing. unitax
itself never imports torch.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require_torch"]

_INSTALL = (
    "unitax_train needs PyTorch, which is not installed. Install it with "
    "'pip install torch==2.13.0', then 'pip install \"unitax[train]\"'."
)


def require_torch() -> ModuleType:
    """Return the ``torch`` module, or raise an ImportError saying how to get it.

    Raises
    ------
    ImportError
        If torch cannot be imported; the message gives the install commands.
    """
    try:
        return importlib.import_module("torch")
    except ImportError as err:
        raise ImportError(_INSTALL) from err
