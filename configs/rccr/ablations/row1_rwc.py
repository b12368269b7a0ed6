# RCCR Table 3, row I (55.3): the region-wise contrast alone: every cell of the square is an anchor,
# all 2hw-2 in-image negatives, no memory.
_base_ = ['../synthia2cs.py']
model = dict(region_contrast=dict(random_half=False, class_aware=False, confidence=None,
                                  memory_batches=0))
