"""The Trainer's callbacks of an expert's training: progress lines (``logging``) and the time limit."""

from __future__ import annotations

import logging
import time
from typing import Any

__all__ = ["progress_callback", "time_limit_callback", "duration"]

logger = logging.getLogger(__name__)


def progress_callback() -> Any:
    from transformers import TrainerCallback

    class Progress(TrainerCallback):
        """One line per logging step: step, loss, tokens/s, elapsed and time left."""

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.started = time.perf_counter()
            self.first_step = state.global_step
            self.first_tokens = state.num_input_tokens_seen

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, float] | None = None, **kwargs: Any) -> None:
            if not state.is_world_process_zero or not logs:
                return
            elapsed = time.perf_counter() - self.started
            steps = max(1, state.global_step - self.first_step)
            left = (state.max_steps - state.global_step) * elapsed / steps
            tokens = (state.num_input_tokens_seen - self.first_tokens) / max(elapsed, 1e-9)
            parts = [f"step {state.global_step}/{state.max_steps}"]
            if "loss" in logs:
                parts.append(f"loss {logs['loss']:.4f}")
            if "eval_loss" in logs:
                parts.append(f"validation loss {logs['eval_loss']:.4f}")
            parts += [f"{tokens:,.0f} tok/s", f"elapsed {duration(elapsed)}", f"left {duration(left)}"]
            logger.info("  ".join(parts))

    return Progress()


def time_limit_callback(seconds: float) -> Any:
    """Ends training at the first step after ``seconds`` of it (``time_limit_s``), so that a
    run on a machine lent for a fixed time still saves its adapter. Under several processes
    the decision is shared (the longest any process has run), so that all stop at one step."""
    import torch
    import torch.distributed as distributed
    from transformers import TrainerCallback

    class TimeLimit(TrainerCallback):
        stopped = False

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.started = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            elapsed = time.perf_counter() - self.started
            if distributed.is_available() and distributed.is_initialized():
                shared = torch.tensor([elapsed], dtype=torch.float64, device=args.device)
                distributed.all_reduce(shared, op=distributed.ReduceOp.MAX)
                elapsed = float(shared.item())
            if elapsed >= seconds and state.global_step < state.max_steps:
                self.stopped = True
                control.should_training_stop = True

    return TimeLimit()


def duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
