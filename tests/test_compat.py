"""One test per fix in mmseg_uda.compat."""
import importlib.util
import re
import sys

import numpy as np
import pytest
import torch

from mmseg_uda import compat


def test_mmseg_imports_without_compiled_ops():
    import mmseg.models  # noqa: F401  (imports mmcv.ops at module level)
    if compat.mmcv_ext_available():
        pytest.skip('full mmcv with compiled ops is installed')
    from mmengine.utils.dl_utils import mmcv_full_available
    assert isinstance(sys.modules['mmcv._ext'], compat._MissingExtModule)
    assert importlib.util.find_spec('mmcv._ext') is not None
    assert mmcv_full_available() is False


def test_compiled_op_call_names_op_and_install_line():
    if compat.mmcv_ext_available():
        pytest.skip('full mmcv with compiled ops is installed')
    from mmcv.ops import nms
    boxes = torch.tensor([[0., 0., 1., 1.], [0., 0., 1., 1.]])
    with pytest.raises(compat.MissingMMCVOpError, match='"nms".*' + re.escape(compat.MMCV_OPS_INSTALL)):
        nms(boxes, torch.tensor([0.9, 0.8]), 0.5)


def test_pure_torch_mmcv_op_still_works():
    from mmcv.ops import point_sample
    out = point_sample(torch.rand(1, 2, 4, 4), torch.rand(1, 3, 2))
    assert out.shape == (1, 2, 3)


def test_patches_are_idempotent():
    compat.apply_all()
    compat.apply_all()
    import mmseg.models  # noqa: F401


def test_runner_checkpoint_with_numpy_and_history_buffer_loads(tmp_path):
    from mmengine.logging import HistoryBuffer
    from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint
    model = torch.nn.Linear(2, 2)
    ckpt = dict(state_dict=model.state_dict(),
                meta=dict(iter=np.int64(3), lr=np.float32(0.1)),
                message_hub=dict(log_scalars=dict(loss=HistoryBuffer([1.0, 2.0], [1, 1]))))
    path = str(tmp_path / 'iter_3.pth')
    torch.save(ckpt, path)
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path)  # the torch >= 2.6 default that broke mmengine
    loaded = _load_checkpoint(path, map_location='cpu')
    assert loaded['meta']['iter'] == 3
    fresh = torch.nn.Linear(2, 2)
    load_checkpoint(fresh, path, map_location='cpu')
    assert torch.equal(fresh.weight, model.weight)


def test_missing_checkpoint_names_file(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        _load_checkpoint(str(tmp_path / 'nope.pth'))


def test_torchvision_with_broken_library_gets_op_schemas(tmp_path):
    (tmp_path / '_C.so').write_bytes(b'not a shared library')
    assert compat.patch_torchvision(str(tmp_path)) is True
    assert compat._torchvision_op_defined('nms')
    assert compat._torchvision_op_defined('qnms')
    assert compat.patch_torchvision(str(tmp_path)) is True  # second call: no re-definition error


def test_torchvision_not_installed_is_a_no_op(tmp_path, monkeypatch):
    monkeypatch.setattr(importlib.util, 'find_spec', lambda name: None)
    assert compat.patch_torchvision() is False


def test_cpu_amp_optim_wrapper_autocasts_to_bfloat16():
    from mmseg_uda.engine import CPUAmpOptimWrapper
    model = torch.nn.Linear(4, 4)
    wrapper = CPUAmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with wrapper.optim_context(model):
        out = model(torch.rand(2, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().sum())
    assert model.weight.grad is None  # zero_grad ran after the step
