"""The working precision of losses and statistics."""
import torch

FULL = (torch.float32, torch.float64)


def upcast(x):
    """``x`` as float32 when it is of lower precision (fp16/bf16 under AMP, or an integer/bool
    mask), unchanged when it is float32 or float64.

    Losses and running statistics compute in at least float32 under AMP; a float64 model keeps
    float64 (``x.float()`` would round it to float32, and N processes would then differ from one
    by float32 noise that Adam's normalised steps amplify).
    """
    return x if x.dtype in FULL else x.float()
