import math

import pytest
import torch

import mmseg_uda.evaluation.uda_iou_metric as uda_metric_mod
from mmseg.registry import METRICS
from mmseg_uda.evaluation import CITYSCAPES_SUBSETS, UDAIoUMetric

CLASSES = ('a', 'b', 'c', 'd')  # class 3 ('d') is absent from every prediction and label

# Two images; 255 = ignore (the prediction 3 under an ignored pixel must not count).
GT1, PRED1 = [[0, 0, 1], [1, 2, 255]], [[0, 1, 1], [1, 2, 0]]
GT2, PRED2 = [[0, 2], [2, 255]], [[0, 2], [0, 3]]
# Dataset-level counts over the 8 valid pixels:
#   class 0: TP 2, FP 1, FN 1 -> IoU 2/4, Acc 2/3
#   class 1: TP 2, FP 1, FN 0 -> IoU 2/3, Acc 2/2
#   class 2: TP 2, FP 0, FN 1 -> IoU 2/3, Acc 2/3
#   class 3: zero union -> NaN;  aAcc = 6/8
IOU = [2 / 4, 2 / 3, 2 / 3, math.nan]
ACC = [2 / 3, 1.0, 2 / 3]


def _sample(gt, pred):
    return {'pred_sem_seg': {'data': torch.tensor(pred)[None]},
            'gt_sem_seg': {'data': torch.tensor(gt)[None]}}


def _run(metric, evaluate=False):
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, [_sample(GT1, PRED1)])
    metric.process({}, [_sample(GT2, PRED2)])
    return metric.evaluate(2) if evaluate else metric.compute_metrics(metric.results)


def _pct(x):
    return round(x * 100, 2)


def test_metric_values_and_subsets():
    subsets = dict(s01=[0, 1], s13=[1, 3], s3=[3], s012=(0, 1, 2))
    metric = UDAIoUMetric(class_subsets=subsets)
    res = _run(metric)
    assert set(res) == {'aAcc', 'mIoU', 'mAcc', 'IoU.a', 'IoU.b', 'IoU.c', 'IoU.d', *subsets}
    assert res['aAcc'] == _pct(6 / 8)
    assert res['mIoU'] == _pct(sum(IOU[:3]) / 3)
    assert res['mAcc'] == _pct(sum(ACC) / 3)
    for name, iou in zip(CLASSES[:3], IOU):
        assert res[f'IoU.{name}'] == _pct(iou)
    assert math.isnan(res['IoU.d'])
    assert res['s01'] == _pct((IOU[0] + IOU[1]) / 2)
    assert res['s13'] == _pct(IOU[1])  # absent class 3 is excluded from the mean
    assert math.isnan(res['s3'])
    assert res['s012'] == res['mIoU']


def test_metric_evaluate_prefix_and_registry():
    metric = METRICS.build(dict(type='UDAIoUMetric', class_subsets=dict(s01=[0, 1]),
                                prefix='tgt'))
    res = _run(metric, evaluate=True)
    assert res['tgt/s01'] == _pct((IOU[0] + IOU[1]) / 2)
    assert res['tgt/IoU.b'] == _pct(IOU[1])
    assert res['tgt/mIoU'] == _pct(sum(IOU[:3]) / 3)
    assert metric.results == []  # evaluate() resets the accumulated results


def test_metric_without_subsets_and_nan_to_num():
    res = _run(UDAIoUMetric())
    assert set(res) == {'aAcc', 'mIoU', 'mAcc', 'IoU.a', 'IoU.b', 'IoU.c', 'IoU.d'}
    res = _run(UDAIoUMetric(class_subsets=dict(s13=[1, 3]), nan_to_num=0))
    assert res['IoU.d'] == 0
    assert res['s13'] == _pct(IOU[1] / 2)


def test_metric_logs_subset_table(monkeypatch):
    logged = []
    monkeypatch.setattr(uda_metric_mod, 'print_log', lambda msg, *a, **k: logged.append(msg))
    _run(UDAIoUMetric(class_subsets=dict(s01=[0, 1])))
    assert any('s01' in m and '58.33' in m for m in logged)


@pytest.mark.parametrize('bad_id', [4, -1])
def test_metric_bad_id_raises_at_compute(bad_id):
    metric = UDAIoUMetric(class_subsets=dict(ok=[0], broken=[1, bad_id]))
    with pytest.raises(ValueError, match=rf"'broken'.*id {bad_id}\b"):
        _run(metric)


@pytest.mark.parametrize('subsets, match', [
    (dict(empty=[]), "'empty' is empty"),
    (dict(flt=[0, 1.5]), "'flt': id 1.5"),
    (dict(flag=[True]), "'flag': id True"),
    (dict(mIoU=[0]), 'clashes'),
    ({'IoU.a': [0]}, 'clashes'),
])
def test_metric_invalid_subsets_raise(subsets, match):
    with pytest.raises(ValueError, match=match):
        UDAIoUMetric(class_subsets=subsets)


def test_cityscapes_subsets():
    assert CITYSCAPES_SUBSETS == dict(
        mIoU16=[0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18],
        mIoU13=[0, 1, 2, 6, 7, 8, 10, 11, 12, 13, 15, 17, 18])
    metric = UDAIoUMetric(class_subsets=CITYSCAPES_SUBSETS)
    metric._check_subset_ids(19)
    with pytest.raises(ValueError, match="'mIoU16'.*id 18"):
        metric._check_subset_ids(18)
