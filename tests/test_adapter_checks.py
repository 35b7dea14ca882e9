"""An adapter is checked against the base it is about to load onto, tensor by tensor, before
any of its weights load: the base is named by the adapter's own files, so a wrong one must be
a clear HLXError, not a size mismatch from deep inside PEFT."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")

from hlx_formats import HLXError  # noqa: E402 - after the importorskips above
from hlx_moe.serving.mixture import check_adapter_shapes  # noqa: E402 - after the importorskips above


def _base() -> dict[str, object]:
    return {
        "model.embed_tokens": torch.nn.Embedding(32, 8),
        "model.layers.0.self_attn.q_proj": torch.nn.Linear(8, 8),
        "model.layers.0.mlp.down_proj": torch.nn.Linear(24, 8),
    }


def _adapter(folder: Path, down_inputs: int = 24, rank: int = 4, width: int = 8) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    prefix = "base_model.model.model."
    safetensors_torch.save_file(
        {
            prefix + "embed_tokens.token_adapter.trainable_tokens_delta": torch.zeros(3, width),
            prefix + "layers.0.self_attn.q_proj.lora_A.weight": torch.zeros(rank, 8),
            prefix + "layers.0.self_attn.q_proj.lora_B.weight": torch.zeros(8, rank),
            prefix + "layers.0.mlp.down_proj.lora_A.weight": torch.zeros(rank, down_inputs),
            prefix + "layers.0.mlp.down_proj.lora_B.weight": torch.zeros(8, rank),
        },
        str(folder / "adapter_model.safetensors"),
    )
    return folder


def test_an_adapter_that_fits_its_base_passes(tmp_path: Path) -> None:
    check_adapter_shapes(_base(), _adapter(tmp_path / "ok"), "tiny")


@pytest.mark.parametrize(
    ("adapter", "tensor"),
    [
        ({"down_inputs": 16}, "layers.0.mlp.down_proj.lora_A.weight has shape [4, 16], expected [4, 24]"),
        ({"width": 6}, "trainable_tokens_delta has shape [3, 6], expected [3, 8]"),
    ],
)
def test_an_adapter_for_another_base_is_refused_by_tensor(tmp_path: Path, adapter: dict[str, int], tensor: str) -> None:
    with pytest.raises(HLXError, match="does not fit the base tiny") as raised:
        check_adapter_shapes(_base(), _adapter(tmp_path / "other", **adapter), "tiny")
    assert tensor in str(raised.value)


def test_an_adapter_with_a_module_the_base_lacks_is_refused(tmp_path: Path) -> None:
    base = _base()
    del base["model.layers.0.mlp.down_proj"]
    with pytest.raises(HLXError, match=r"down_proj\.lora_A\.weight has shape .*no such module"):
        check_adapter_shapes(base, _adapter(tmp_path / "deeper"), "tiny")


def test_an_unreadable_adapter_file_is_an_hlx_error(tmp_path: Path) -> None:
    (tmp_path / "adapter_model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(HLXError, match="not a readable adapter"):
        check_adapter_shapes(_base(), tmp_path, "tiny")
