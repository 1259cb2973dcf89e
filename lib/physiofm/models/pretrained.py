"""Reading released encoder weights without running code from the file.

Weights published by another group (ECGFounder's checkpoints, any encoder the ``paper`` profile starts from)
come from outside the project, so :func:`read_state_dict` never unpickles arbitrary objects:

* ``.safetensors``: read with the ``safetensors`` package (a JSON header and raw tensor bytes, no pickle at
  all); prefer this format wherever a provider ships it;
* any other file (``.pt``, ``.pth``, ``.bin``): ``torch.load(weights_only=True)``, which rebuilds only tensors
  and plain containers and refuses a pickle that names any other Python object.

Text encoders (Flan-T5 and other Hugging Face models) are read through ``transformers`` from a local folder,
``from_pretrained(folder, use_safetensors=True, local_files_only=True)``: with ``use_safetensors=True`` a
folder that holds only pickled ``pytorch_model.bin`` weights is an error, not a pickle load.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import torch


def read_state_dict(path: Path, key: str | None = "state_dict") -> dict[str, torch.Tensor]:
    """The tensors of a released weights file, on CPU: ``{parameter name: tensor}``.

    Args:
        path: a ``.safetensors`` file, or a ``torch.save`` file of tensors and plain containers.
        key: the entry holding the weights when the file is a dict with more than weights (ECGFounder's
            released code reads ``checkpoint["state_dict"]``); a file without that entry must itself be the
            name -> tensor mapping. ``None``: always the whole file.

    A pickle naming any Python object other than tensors and plain containers is refused with a RuntimeError
    naming the file (nothing from it runs); so is a mapping with non-tensor values.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(path, device="cpu")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # the weights-only unpickler met a global it does not allow
        raise RuntimeError(
            f"weights file {path} refused: its pickle names Python objects other than tensors and plain "
            f"containers, and unpickling them could run code from the file ({err}). Use the provider's "
            ".safetensors release, or convert a copy you trust to one."
        ) from err
    except Exception as err:
        raise RuntimeError(f"weights file {path} could not be read: {err}") from err
    if key is not None and isinstance(obj, dict) and key in obj:
        obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        entries = sorted(obj)[:8] if isinstance(obj, dict) else type(obj).__name__
        raise RuntimeError(
            f"weights file {path}: expected a name -> tensor mapping (or one under {key!r}), found {entries}"
        )
    return dict(obj)
