# T2S-DA Table S4, row 7 (60.4 ± 0.6): row 6 + domain-equalised negative sampling (DENPS), the full
# method (= ../gta2cs.py).
_base_ = ['../gta2cs.py']
