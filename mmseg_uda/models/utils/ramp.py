"""Loss-weight schedules."""
import math


def exp_rampup(step, total, weight, power=2.0):
    """w · exp(−5 (1 − t/T)^p), t/T clipped to [0, 1]: the sigmoid-shaped ramp-up of mean-teacher
    consistency losses (Laine & Aila, 2017; p = 2). RCCR's μ(t) (Eq. 9) prints p = 0.5."""
    if total <= 0:
        return weight
    progress = min(max(step / total, 0.0), 1.0)
    return weight * math.exp(-5.0 * (1.0 - progress) ** power)
