"""``python -m hlx_moe.training`` (and ``accelerate launch -m hlx_moe.training``): train one expert."""

import sys

from hlx_moe.training.train import main

sys.exit(main())
