"""Cross-domain alignment of class centroids of a trained segmentor's encoder features.

    python benchmarks/feature_alignment.py RUN_DIR [RUN_DIR ...] [--data-root DIR] [--out FILE]

For each run directory of ``benchmarks/camvid_day2dusk.py`` (its ``config.py``, ``config_day.py``
and last checkpoint), the inference network (teacher or student, as the config predicts) encodes
the dusk frames (``test_dataloader`` of ``config.py``) and the held-out day frames (of
``config_day.py``); each class's centroid of the encoder's last feature map is taken over the
pixels of that class (ground truth at each feature cell's centre). Reported per run: the mean over
classes of cos(day centroid, dusk centroid) of the same class (T2S-DA's Fig. 1/2 analysis:
higher = target features closer to source), and the mean cosine between different classes'
dusk centroids (lower = more separable).
"""
import argparse
import json
import os.path as osp
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmseg_uda  # noqa: E402,F401
from mmengine.config import Config  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.runner import Runner, load_checkpoint  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402

from mmseg_uda.models.utils.prototypes import class_prototypes  # noqa: E402
from mmseg_uda.models.utils.sampling import labels_to_grid  # noqa: E402


@torch.no_grad()
def centroids(model, dataloader, num_classes):
    """(C, D) unit class centroids of the encoder's last output and the (C,) presence mask."""
    net = getattr(model, 'inference_model', model)  # a UDA segmentor or a plain one
    sums, totals = 0, 0
    for batch in dataloader:
        data = model.data_preprocessor(batch, False)
        feat = net.extract_feat(data['inputs'])[-1].float()
        labels = torch.stack([s.gt_sem_seg.data[0] for s in data['data_samples']]).long()
        grid = labels_to_grid(labels, feat.shape[2:])
        rows = feat.permute(0, 2, 3, 1).reshape(-1, feat.shape[1])
        protos, present = class_prototypes(rows, grid.flatten(), num_classes, normalize=False)
        counts = torch.bincount(grid.flatten()[grid.flatten() < num_classes],
                                minlength=num_classes).float()
        sums = sums + protos * counts[:, None]
        totals = totals + counts
    present = totals > 0
    return F.normalize(sums / totals.clamp(min=1)[:, None], dim=1), present


def alignment(run_dir):
    cfg = Config.fromfile(osp.join(run_dir, 'config.py'))
    day_cfg = Config.fromfile(osp.join(run_dir, 'config_day.py'))
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    checkpoint = open(osp.join(run_dir, 'last_checkpoint')).read().strip()
    load_checkpoint(model, checkpoint, map_location='cpu')
    model.eval()
    num_classes = getattr(model, 'inference_model', model).decode_head.num_classes
    dusk, dusk_present = centroids(model, Runner.build_dataloader(cfg.test_dataloader),
                                   num_classes)
    day, day_present = centroids(model, Runner.build_dataloader(day_cfg.test_dataloader),
                                 num_classes)
    both = dusk_present & day_present
    same = (day * dusk).sum(1)[both]
    cos = dusk[both] @ dusk[both].t()
    off_diag = cos[~torch.eye(cos.shape[0], dtype=torch.bool)]
    return dict(cross_domain_same_class=round(same.mean().item(), 4),
                per_class=[round(v, 4) for v in same.tolist()],
                dusk_between_classes=round(off_diag.mean().item(), 4),
                classes=int(both.sum()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('run_dirs', nargs='+')
    parser.add_argument('--out', help='JSON file for the results (default: print only)')
    args = parser.parse_args()
    results = {d: alignment(d) for d in args.run_dirs}
    for d, r in results.items():
        print(f'{d}: same class day/dusk {r["cross_domain_same_class"]:.4f}, '
              f'dusk between classes {r["dusk_between_classes"]:.4f} ({r["classes"]} classes)')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
