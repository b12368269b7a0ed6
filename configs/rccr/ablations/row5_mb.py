# RCCR Table 3, row V (56.8, the full method = configs/rccr/synthia2cs.py): + the memory bank of the
# last 3 batches.
_base_ = ['./row4_ps.py']
model = dict(region_contrast=dict(memory_batches=3))
