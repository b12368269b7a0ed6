"""AdaBN: BatchNorm statistics re-estimated on target batches (engine/adabn.py, tools/adabn.py)."""
import pytest
import torch
from torch import nn

from mmseg_uda.engine import adapt_bn_statistics


class Identity:
    def __call__(self, batch, training):
        return dict(inputs=batch)


class TinySegmentor(nn.Module):
    """conv -> BN; forward(inputs, mode) like a BaseSegmentor."""

    def __init__(self):
        super().__init__()
        self.data_preprocessor = Identity()
        self.conv = nn.Conv2d(2, 2, 1, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor([[[[2.]], [[0.]]], [[[0.]], [[-1.]]]]))
        self.bn = nn.BatchNorm2d(2, momentum=0.1)
        self.drop = nn.Dropout(0.5)

    def forward(self, inputs, mode='tensor'):
        assert mode == 'tensor' and not self.drop.training
        return self.bn(self.conv(inputs))


def test_statistics_are_the_mean_of_the_batch_statistics():
    torch.manual_seed(0)
    batches = [torch.randn(2, 2, 3, 3) * s + m for s, m in ((1., 0.), (2., 5.), (.5, -1.))]
    model = TinySegmentor().train()
    with torch.no_grad():
        model.bn.weight.fill_(3.)
    assert adapt_bn_statistics(model, batches) == 3
    feats = [model.conv(b).detach() for b in batches]
    mean = torch.stack([f.mean((0, 2, 3)) for f in feats]).mean(0)
    var = torch.stack([f.transpose(0, 1).flatten(1).var(1, unbiased=True) for f in feats]).mean(0)
    torch.testing.assert_close(model.bn.running_mean, mean)
    torch.testing.assert_close(model.bn.running_var, var)
    # hand check of channel 0 (feature = 2 x input channel 0)
    torch.testing.assert_close(model.bn.running_mean[0],
                               sum(2 * b[:, 0].mean() for b in batches) / 3)
    assert model.bn.momentum == 0.1 and model.training  # restored
    assert model.bn.weight[0].item() == 3.  # affine parameters untouched
    assert not any(p.grad is not None for p in model.parameters())


def test_max_batches_and_eval_mode_restored():
    model = TinySegmentor().eval()
    batches = [torch.full((1, 2, 2, 2), float(i)) for i in range(4)]
    assert adapt_bn_statistics(model, batches, max_batches=2) == 2
    torch.testing.assert_close(model.bn.running_mean, torch.tensor([1., -0.5]))  # (0 + 2) / 2, ...
    assert not model.training


def test_uda_segmentor_adapts_only_its_inference_model():
    class UDA(nn.Module):
        def __init__(self):
            super().__init__()
            self.student, self.teacher = TinySegmentor(), TinySegmentor()
            self.data_preprocessor = Identity()

        @property
        def inference_model(self):
            return self.teacher

        def forward(self, inputs, mode='tensor'):
            return self.inference_model(inputs, mode)

    model = UDA()
    adapt_bn_statistics(model, [torch.ones(1, 2, 2, 2)])
    assert int(model.student.bn.num_batches_tracked) == 0
    assert model.student.bn.running_mean.tolist() == [0., 0.]
    assert model.teacher.bn.running_mean.tolist() == [2., -1.]


def test_errors():
    with pytest.raises(ValueError, match='no BatchNorm'):
        adapt_bn_statistics(nn.Conv2d(1, 1, 1), [])
    with pytest.raises(ValueError, match='yielded no batch'):
        adapt_bn_statistics(TinySegmentor(), [])


def test_tool_needs_adabn_dataloader(tmp_path):
    import os.path as osp
    import subprocess
    import sys

    from conftest import REPO
    cmd = [sys.executable, osp.join(REPO, 'tools', 'adabn.py'),
           osp.join(REPO, 'configs', 'demo', 'source_only_toy_shift.py'), 'missing.pth',
           str(tmp_path / 'out.pth')]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=str(tmp_path))
    assert out.returncode != 0
    assert 'source_only_toy_shift.py: AdaBN needs `adabn_dataloader`' in out.stderr
    assert not (tmp_path / 'out.pth').exists()
