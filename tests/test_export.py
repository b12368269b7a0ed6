"""tools/export.py and tools/infer.py on a DACS demo run of 2 iterations: the exported network is a
plain mmseg pair that ``mmseg.apis`` and tools/test.py load unchanged and that predicts exactly as
the UDA model's predicting network."""
import glob
import json
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO
from test_tools import run
from test_uda_integration import DACS_DEMO, options

from mmseg.apis import MMSegInferencer, inference_model, init_model

sys.path.insert(0, osp.join(REPO, 'tools'))
import export  # noqa: E402
import infer  # noqa: E402


@pytest.fixture(scope='module')
def dacs_run(toy_root, tmp_path_factory):
    """A DACS demo checkpoint after 2 iterations (student and teacher differ) and the toy data."""
    tmp = tmp_path_factory.mktemp('dacs_run')
    work = str(tmp / 'work')
    run([sys.executable, osp.join(REPO, 'tools', 'train.py'), DACS_DEMO, '--work-dir', work]
        + options(toy_root, 2) + ['train_cfg.val_interval=100'], cwd=str(tmp))
    return dict(ckpt=osp.join(work, 'iter_2.pth'), root=toy_root, tmp=tmp,
                images=sorted(glob.glob(osp.join(toy_root, 'target', 'val', 'images', '*.png'))),
                data=[f'test_dataloader.dataset.data_root={toy_root}',
                      'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False'])


def export_pair(dacs_run, network):
    out = str(dacs_run['tmp'] / 'export')
    export.main([DACS_DEMO, dacs_run['ckpt'], out, '--network', network,
                 '--cfg-options'] + dacs_run['data'])
    return osp.join(out, f'dacs_toy_shift_{network}.py'), osp.join(out, f'dacs_toy_shift_{network}.pth')


def logits(model, images):
    return torch.stack([r.seg_logits.data for r in inference_model(model, images)])


@pytest.mark.parametrize('network', ['student', 'teacher'])
def test_export_loads_in_mmseg_and_predicts_as_the_uda_model(dacs_run, network):
    cfg_path, ckpt_path = export_pair(dacs_run, network)
    model = init_model(cfg_path, ckpt_path, device='cpu')  # mmseg's own loader, plain config
    assert type(model).__name__ == 'EncoderDecoder'
    assert model.cfg.model.data_preprocessor.type == 'SegDataPreProcessor'
    assert model.dataset_meta['classes'][0] == 'road' and len(model.dataset_meta['palette']) == 7
    saved = torch.load(ckpt_path, map_location='cpu', weights_only=False)
    assert set(saved) == {'meta', 'state_dict'}  # no optimiser state
    assert {k.split('.')[0] for k in saved['state_dict']} == {'backbone', 'decode_head'}
    assert saved['meta']['exported_from']['network'] == network
    # the UDA config itself now loads through init_model too (it rejected `pretrained` before)
    uda = init_model(DACS_DEMO, dacs_run['ckpt'], device='cpu',
                     cfg_options={'model.predict_on': network})
    assert torch.equal(logits(model, dacs_run['images']), logits(uda, dacs_run['images']))
    inferencer = MMSegInferencer(cfg_path, ckpt_path, device='cpu')
    pred = inferencer(dacs_run['images'][0])['predictions']
    np.testing.assert_array_equal(pred, logits(model, dacs_run['images'][:1])[0].argmax(0))


def test_teacher_export_differs_from_student_export(dacs_run):
    student = torch.load(export_pair(dacs_run, 'student')[1], weights_only=False)['state_dict']
    teacher = torch.load(export_pair(dacs_run, 'teacher')[1], weights_only=False)['state_dict']
    assert student.keys() == teacher.keys()
    assert any(not torch.equal(student[k], teacher[k]) for k in student
               if student[k].is_floating_point())


def test_test_tool_gives_the_same_metrics_on_the_export(dacs_run):
    cfg_path, ckpt_path = export_pair(dacs_run, 'student')
    metrics = []
    for pair in ((DACS_DEMO, dacs_run['ckpt']), (cfg_path, ckpt_path)):
        out = str(dacs_run['tmp'] / f'metrics_{len(metrics)}.json')
        run([sys.executable, osp.join(REPO, 'tools', 'test.py'), *pair, '--metrics-out', out,
             '--work-dir', str(dacs_run['tmp'] / 'test'), '--cfg-options'] + dacs_run['data'],
            cwd=str(dacs_run['tmp']))
        with open(out) as f:
            metrics.append(json.load(f))
    assert 'mIoU' in metrics[0] and metrics[0] == metrics[1]


def test_infer_writes_overlays_and_label_pngs(dacs_run):
    out = str(dacs_run['tmp'] / 'infer')
    folder = osp.dirname(dacs_run['images'][0])
    infer.main([DACS_DEMO, dacs_run['ckpt'], folder, '--out-dir', out, '--labelids', 'cityscapes',
                '--opacity', '0.5'])
    cfg_path, ckpt_path = export_pair(dacs_run, 'student')
    model = init_model(cfg_path, ckpt_path, device='cpu')
    cityscapes_ids = np.array([7, 8, 11, 17, 21, 23, 26])  # road ... car of the toy classes
    for path in dacs_run['images']:
        name = osp.basename(path)
        image = cv2.imread(path)
        pred = cv2.imread(osp.join(out, 'pred', name), cv2.IMREAD_UNCHANGED)
        expected = inference_model(model, path).pred_sem_seg.data[0].numpy()
        np.testing.assert_array_equal(pred, expected)
        label_ids = cv2.imread(osp.join(out, 'labelIds', name), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(label_ids, cityscapes_ids[pred])
        overlay = cv2.imread(osp.join(out, 'vis', name))
        assert overlay.shape == image.shape and not np.array_equal(overlay, image)


def test_bad_inputs_are_named(dacs_run, tmp_path):
    from mmengine.config import Config
    from mmseg.registry import MODELS
    model = Config.fromfile(DACS_DEMO).model
    with pytest.raises(ValueError, match='set model.segmentor.pretrained instead'):
        MODELS.build(dict(model, pretrained='open-mmlab://resnet18_v1c'))
    with pytest.raises(KeyError, match='not a UDA config'):
        export.export_network(osp.join(REPO, 'configs', 'demo', 'source_only_toy_shift.py'),
                              dacs_run['ckpt'])
    with pytest.raises(ValueError, match=r"classes \['cat'\] of the network are not Cityscapes"):
        infer.cityscapes_labelid_lut(['road', 'cat'])
    with pytest.raises(FileNotFoundError, match=f'input folder {tmp_path} holds no image'):
        infer.collect_images([str(tmp_path)])
