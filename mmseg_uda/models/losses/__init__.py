from .contrastive import supervised_info_nce

__all__ = ['supervised_info_nce']
