# T2S-DA Table S4, row 3 (57.3 ± 0.9): L_pull with CBQS, DRW and DENPS but no pseudo-target: the
# queries come from the source image x_s.
_base_ = ['../gta2cs.py']
model = dict(query_image='source')
