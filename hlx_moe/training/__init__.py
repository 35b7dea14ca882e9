"""Training one expert's LoRA adapter: presets, the depth curriculum, the Trainer run and its report."""
