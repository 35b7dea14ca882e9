"""Single-token LC-R glyphs: each glyph a new token of the base's tokenizer, with an
embedding row trained along with the adapter.

The embedded base's tokenizer splits every LC-R glyph into two or three byte-level pieces,
and the five alchemical glyphs share their first two (``hlx corpus stats``). With the
preset field ``glyph_tokens`` set, training adds the 17 glyphs (the 12 of LC-R and the 5
legacy ones that lenient inputs use) as tokens at the end of the vocabulary, starts each
new embedding row at the mean of the rows of the pieces it replaces, and trains those rows
with PEFT's ``trainable_token_indices`` (the base's output layer is tied to its input
embeddings, so the same rows score the glyphs as answers).

The adapter folder stays a standard PEFT folder (``trainable_token_indices`` in
``adapter_config.json``, the rows in ``adapter_model.safetensors``) and holds no copy of the
tokenizer: the tokens are the base's tokenizer plus :data:`GLYPH_TOKENS`, added in that
order, which :func:`add_glyph_tokens` rebuilds and checks against the ids the adapter
records.

In the mixture the experts may differ: one trained with glyph tokens and the others
without. PEFT cannot hold trainable tokens for some adapters of a model and not others, so
the mixture loads the LoRA weights through PEFT and keeps each expert's glyph rows itself
(:func:`glyph_rows`), writing them into the shared embedding when the expert is chosen; an
expert without them reads and writes the glyphs as byte-level pieces, as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hlx_formats.errors import HLXError
from hlx_formats.lcr import GLYPHS, LEGACY_GLYPHS

__all__ = [
    "GLYPH_TOKENS",
    "add_glyph_tokens",
    "adapter_config",
    "embedding_module_name",
    "glyph_token_ids",
    "glyph_rows",
    "add_glyph_rows",
    "RowBlocks",
    "row_blocks",
]

#: The tokens added, in this order, after the base's vocabulary.
GLYPH_TOKENS: tuple[str, ...] = tuple(GLYPHS) + tuple(LEGACY_GLYPHS)


def add_glyph_tokens(tokenizer: Any, model: Any) -> list[int]:
    """Add :data:`GLYPH_TOKENS` to ``tokenizer`` and rows for them to ``model``'s embeddings.

    Each new row starts as the mean of the rows of the pieces the tokenizer split the glyph
    into before. Returns the glyph token ids, in :data:`GLYPH_TOKENS` order. The model's
    output layer must be tied to its input embeddings (true of ``smollm2-135m`` and the
    small Qwen2.5 models), so that the new rows also score the glyphs as answers.
    """
    import torch

    _check_glyphs_can_be_added(tokenizer, model)
    pieces = [tokenizer(glyph, add_special_tokens=False)["input_ids"] for glyph in GLYPH_TOKENS]
    tokenizer.add_tokens(list(GLYPH_TOKENS))
    ids = glyph_token_ids(tokenizer)
    model.resize_token_embeddings(max(len(tokenizer), model.get_input_embeddings().weight.shape[0]), mean_resizing=False)
    weight = model.get_input_embeddings().weight
    with torch.no_grad():
        for token, piece_ids in zip(ids, pieces):
            weight[token] = weight[piece_ids].mean(dim=0)
    return ids


def add_glyph_rows(tokenizer: Any, model: Any) -> tuple[list[int], Any, int]:
    """For inference: add :data:`GLYPH_TOKENS` to ``tokenizer`` and give ``model`` rows for
    them without growing its embedding.

    Growing it (``resize_token_embeddings``, as training does) copies the whole embedding, and
    the original stays resident in the mapping of the base's weights file: for
    ``smollm2-135m`` the mixture measured 1.40 times the base's resident memory that way,
    against 1.01 without glyph tokens. Instead, when the glyph ids fall right after the
    embedding's rows, the embedding and the tied output layer read them from a table of their
    own (17 rows); when they fall within its rows (a vocabulary padded past the tokenizer's,
    as Qwen2.5's), they are those rows. Returns the glyph ids, the tensor holding their rows
    and the id of that tensor's first row. The rows start at zero: each expert's trained rows
    are written there when it is chosen.
    """
    import torch

    _check_glyphs_can_be_added(tokenizer, model)
    tokenizer.add_tokens(list(GLYPH_TOKENS))
    ids = glyph_token_ids(tokenizer)
    embedding = model.get_input_embeddings()
    rows = embedding.weight.shape[0]
    if max(ids) < rows:
        return ids, embedding.weight, 0
    if ids != list(range(rows, rows + len(ids))):
        raise HLXError(f"the glyph tokens got ids {ids}: neither within the embedding's {rows} rows nor right after them")
    extra = torch.zeros(len(ids), embedding.weight.shape[1], dtype=embedding.weight.dtype, device=embedding.weight.device)
    _read_rows_past(embedding, model.get_output_embeddings(), extra)
    return ids, extra, rows


class RowBlocks:
    """Glyph rows chosen row by row, for a batch that mixes experts (the mixture's
    ``query_batch``): ``table`` holds one block of glyph rows per expert, one after another,
    and ``offsets`` the index in it of each batch row's block (a tensor of one offset per
    row of the batch the model reads next). While ``offsets`` is None, every row reads the
    one set of rows :func:`add_glyph_rows` returned."""

    def __init__(self) -> None:
        self.table: Any = None
        self.offsets: Any = None


def row_blocks(model: Any) -> RowBlocks | None:
    """The :class:`RowBlocks` of a model given glyph rows past its embedding by
    :func:`add_glyph_rows`; None for any other model."""
    found = getattr(model.get_input_embeddings(), "hlx_row_blocks", None)
    return found if isinstance(found, RowBlocks) else None


def _read_rows_past(embedding: Any, output: Any, extra: Any) -> None:
    """Make ``embedding`` look up, and the tied ``output`` layer score, the token ids past the
    embedding's rows in ``extra`` (inference only: the lookups are written in place), or
    each batch row in its own block of the :class:`RowBlocks` table while its offsets are set."""
    import torch
    import torch.nn.functional as F

    rows = embedding.weight.shape[0]
    look_up, score = embedding.forward, output.forward
    blocks = RowBlocks()

    def embed(input_ids: Any) -> Any:
        past = input_ids >= rows
        vectors = look_up(input_ids.masked_fill(past, 0))
        if past.any():
            if blocks.offsets is None:
                vectors[past] = extra[input_ids[past] - rows].to(vectors.dtype)
            else:
                index = input_ids - rows + blocks.offsets.view(-1, *([1] * (input_ids.dim() - 1)))
                vectors[past] = blocks.table[index[past]].to(vectors.dtype)
        return vectors

    def logits(hidden: Any) -> Any:
        known = score(hidden)
        if blocks.offsets is None:
            return torch.cat([known, F.linear(hidden.to(extra.dtype), extra).to(known.dtype)], dim=-1)
        every = F.linear(hidden.to(blocks.table.dtype), blocks.table)  # each row scored by every block
        columns = blocks.offsets.view(-1, *([1] * (hidden.dim() - 1))) + torch.arange(len(extra), device=every.device)
        own = every.gather(-1, columns.expand(*every.shape[:-1], len(extra)))
        return torch.cat([known, own.to(known.dtype)], dim=-1)

    embedding.forward, output.forward = embed, logits
    embedding.hlx_row_blocks = blocks
    output.out_features = rows + len(extra)  # what the decoder's token masks are sized by


def glyph_token_ids(tokenizer: Any) -> list[int]:
    """The ids of :data:`GLYPH_TOKENS` in a tokenizer they were added to."""
    ids = tokenizer.convert_tokens_to_ids(list(GLYPH_TOKENS))
    if any(token is None or token == tokenizer.unk_token_id for token in ids):
        raise HLXError("the tokenizer has no glyph tokens")
    return ids


def _check_glyphs_can_be_added(tokenizer: Any, model: Any) -> None:
    if not _tied(model):
        raise HLXError(
            "glyph_tokens needs a base whose output layer is tied to its input embeddings "
            "(tie_word_embeddings); this base has a separate output layer"
        )
    if any(glyph in tokenizer.get_vocab() for glyph in GLYPH_TOKENS):
        raise HLXError("the tokenizer already has glyph tokens; add them once, to the base's own tokenizer")


def _tied(model: Any) -> bool:
    output = model.get_output_embeddings()
    return output is not None and output.weight is model.get_input_embeddings().weight


def embedding_module_name(model: Any) -> str:
    """The last part of the input embedding's module name (``embed_tokens``), as PEFT's
    ``trainable_token_indices`` takes it."""
    embedding = model.get_input_embeddings()
    for name, module in model.named_modules():
        if module is embedding:
            return name.rsplit(".", 1)[-1]
    raise HLXError("the model's input embedding is not one of its modules")


def adapter_config(adapter: Path, *, trainable_token_indices: dict[str, list[int]] | None, inference_mode: bool) -> Any:
    """The PEFT config of a saved adapter with its trainable tokens replaced: None to load
    the LoRA weights alone (the mixture keeps the glyph rows itself), or glyph ids to give a
    plain adapter the glyph tokens (training ``--init-from`` with ``glyph_tokens``)."""
    import peft

    peft_type = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))["peft_type"]
    config = peft.PEFT_TYPE_TO_CONFIG_MAPPING[peft_type].from_pretrained(str(adapter))
    config.trainable_token_indices = trainable_token_indices
    config.inference_mode = inference_mode
    return config


def glyph_rows(adapter: Path) -> tuple[list[int], Any] | None:
    """An adapter's trained glyph rows: (token ids, a tensor of one row per id), or None for
    an adapter trained without glyph tokens."""
    from safetensors import safe_open

    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    indices = config.get("trainable_token_indices")
    if not indices:
        return None
    if not isinstance(indices, dict) or len(indices) != 1:
        raise HLXError(f"{adapter}: trainable_token_indices must name one embedding, not {indices!r}")
    ((embedding, ids),) = indices.items()
    # The tied output layer's rows are saved too, as a copy: the embedding's are the ones.
    suffix = f".{embedding}.token_adapter.trainable_tokens_delta"
    with safe_open(str(adapter / "adapter_model.safetensors"), framework="pt") as weights:
        names = [name for name in weights.keys() if name.endswith(suffix)]
        if len(names) != 1:
            raise HLXError(f"{adapter}: adapter_model.safetensors holds {len(names)} tensors named *{suffix}, not 1")
        rows = weights.get_tensor(names[0])
    if rows.shape[0] != len(ids):
        raise HLXError(f"{adapter}: {rows.shape[0]} glyph rows for {len(ids)} token ids")
    return ids, rows
