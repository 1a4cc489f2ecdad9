"""unitax_train: train a PyTorch FCN with hierarchical heads on a unitax export.

It needs PyTorch. Install it first, then the extra, so that pip keeps the
CPU build you chose instead of pulling a multi-GB CUDA build::

    pip install torch==2.13.0
    pip install "unitax[train]"

Importing this package works without torch: the names below are loaded on
first use (PEP 562), and `require_torch` says what to install when torch is
missing. unitax itself never imports torch.

    >>> import unitax_train as ut
    >>> ut.__all__
    ['FCN', 'ManifestDataset', 'TrainConfig', 'fit', 'marginal_nll', 'require_torch']

Modules: `unitax_train.data` (dataset, batch sampler, crops),
`unitax_train.backbone` (the ResNet), `unitax_train.model` (the FCN and its
flat and hierarchical heads),
`unitax_train.losses` (marginal, per-path and tag losses, the set table),
`unitax_train.evaluate` (decoding, projection, IoU) and
`unitax_train.train` (`TrainConfig`, `fit`, `main`).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unitax_train.data import ManifestDataset
    from unitax_train.losses import marginal_nll
    from unitax_train.model import FCN
    from unitax_train.train import TrainConfig, fit

__all__ = [
    "FCN",
    "ManifestDataset",
    "TrainConfig",
    "fit",
    "marginal_nll",
    "require_torch",
]

_LAZY = {
    "FCN": "unitax_train.model",
    "ManifestDataset": "unitax_train.data",
    "TrainConfig": "unitax_train.train",
    "fit": "unitax_train.train",
    "marginal_nll": "unitax_train.losses",
}

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


def __getattr__(name: str) -> Any:
    """Load a public name on first use, after checking that torch is there."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'unitax_train' has no attribute {name!r}")
    require_torch()
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
