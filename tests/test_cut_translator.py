"""CUTTranslator (CONFETI stage 0, spec §3.0/§2.9) and the CUTStylize transform, on tiny tensors."""
import copy
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from conftest import free_port
from mmengine.optim import OptimWrapper, OptimWrapperDict, build_optim_wrapper
from mmseg.registry import MODELS, TRANSFORMS
from mmseg.structures import SegDataSample

from mmseg_uda.engine.optim_wrapper import CPUAmpOptimWrapper

SIZE = 32
TINY = dict(
    type='CUTTranslator',
    generator=dict(type='ResnetGenerator', ngf=4, num_blocks=1),
    discriminator=dict(type='PatchDiscriminator', ndf=4),
    patch_mlp=dict(type='PatchSampleMLP', mlp_dim=8),
    nce_layers=(0, 4, 8, 12),  # one residual block: 12 is the last encoder layer
    num_patches=16,
    data_preprocessor=dict(type='UDADataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, size=(SIZE, SIZE)))
KEYS = ('generator', 'discriminator', 'patch_mlp')


def build(**kwargs):
    torch.manual_seed(0)
    return MODELS.build(dict(copy.deepcopy(TINY), **kwargs))


def batch(num=2, seed=0):
    gen = torch.Generator().manual_seed(seed)

    def branch():
        imgs = [torch.randint(0, 256, (3, SIZE, SIZE), generator=gen, dtype=torch.uint8)
                for _ in range(num)]
        samples = [SegDataSample(metainfo=dict(img_shape=(SIZE, SIZE), ori_shape=(SIZE, SIZE),
                                               pad_shape=(SIZE, SIZE))) for _ in range(num)]
        return dict(inputs=imgs, data_samples=samples)
    return dict(source=branch(), target=branch())


def optim_wrappers(model, wrapper=OptimWrapper, **kwargs):
    return OptimWrapperDict(**{
        k: wrapper(optimizer=torch.optim.Adam(getattr(model, k).parameters(), lr=2e-4,
                                              betas=(0.5, 0.999)), **kwargs) for k in KEYS})


def params(module):
    return [p.detach().clone() for p in module.parameters()]


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_train_step_updates_each_network_from_its_own_loss():
    model = build()
    ow = optim_wrappers(model)
    start = {k: params(getattr(model, k)) for k in KEYS}
    seen = {}
    d_update = ow['discriminator'].update_params

    def checked_d_update(loss, **kwargs):
        g_before = params(model.generator)
        d_update(loss, **kwargs)
        # L_D reaches neither 𝒢's weights nor its gradients
        seen['g_untouched'] = same(g_before, params(model.generator)) and all(
            p.grad is None or not p.grad.any() for p in model.generator.parameters())
        seen['d_after_d_step'] = params(model.discriminator)
    ow['discriminator'].update_params = checked_d_update

    log = model.train_step(batch(), ow)
    assert set(log) >= {'loss_d', 'loss_g_gan', 'loss_nce', 'loss_nce_idt', 'loss_g'}
    assert all(torch.isfinite(v) and not v.requires_grad for v in log.values())
    assert seen['g_untouched']
    assert not same(seen['d_after_d_step'], start['discriminator'])
    # L_G moves 𝒢 and H_l but not ℰ (frozen), and ℰ is trainable again afterwards
    assert same(seen['d_after_d_step'], params(model.discriminator))
    assert not same(start['generator'], params(model.generator))
    assert not same(start['patch_mlp'], params(model.patch_mlp))
    assert all(p.requires_grad for p in model.discriminator.parameters())
    for k in KEYS:  # one Adam step each, gradients cleared
        opt = ow[k].optimizer
        assert {int(s['step']) for s in opt.state.values()} == {1}, k
        assert all(p.grad is None or not p.grad.any() for p in getattr(model, k).parameters())
    expected = log['loss_g_gan'] + 0.5 * (log['loss_nce'] + log['loss_nce_idt'])
    torch.testing.assert_close(log['loss_g'], expected)


def test_without_identity_nce_and_bad_arguments():
    model = build(nce_idt=False)
    log = model.train_step(batch(), optim_wrappers(model))
    assert 'loss_nce_idt' not in log
    torch.testing.assert_close(log['loss_g'], log['loss_g_gan'] + log['loss_nce'])
    with pytest.raises(ValueError, match='nce_layers'):
        build(nce_layers=(0, 4, 8, 16))  # 16 is in the decoder with one block
    with pytest.raises(ValueError, match='bgr_to_rgb'):
        build(data_preprocessor=dict(TINY['data_preprocessor'], bgr_to_rgb=False))
    with pytest.raises(KeyError, match='patch_mlp'):
        model.train_step(batch(), OptimWrapperDict(generator=optim_wrappers(model)['generator']))


def test_bf16_autocast_losses_finite():
    """Through the configs' constructor, with the top-level type that `train.py --amp` sets."""
    model = build()
    adam = dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))
    ow = build_optim_wrapper(model, dict(constructor='MultiOptimWrapperConstructor',
                                         type='CPUAmpOptimWrapper',
                                         **{k: dict(optimizer=adam) for k in KEYS}))
    assert isinstance(ow, OptimWrapperDict) and set(ow.keys()) == set(KEYS)
    assert all(isinstance(ow[k], CPUAmpOptimWrapper) for k in KEYS)
    log = model.train_step(batch(), ow)
    assert all(torch.isfinite(v) for v in log.values())


def test_translate_and_state_dict_round_trip(tmp_path):
    model = build()
    model.train_step(batch(), optim_wrappers(model))
    path = osp.join(tmp_path, 'cut.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    other = build(generator=dict(TINY['generator'], init_gain=0.5))
    other.load_state_dict(torch.load(path, weights_only=False)['state_dict'], strict=True)
    x = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        out = model(x)
        torch.testing.assert_close(other(x), out)
    assert out.shape == x.shape
    samples = model.val_step(batch())  # the source images, translated, in the normalised space
    assert len(samples) == 2 and samples[0].translated_img.data.shape == (3, SIZE, SIZE)


def test_separate_ddp_train_step():
    """The DDP wrapper the configs name: one DDP per child, train_step of the module (1 rank)."""
    import torch.distributed as dist
    from mmengine.model import MMSeparateDistributedDataParallel
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{free_port()}', rank=0,
                            world_size=1)
    try:
        model = MMSeparateDistributedDataParallel(build())
        log = model.train_step(batch(), optim_wrappers(model.module))
        log2 = model.train_step(batch(seed=1), optim_wrappers(model.module))
        assert all(torch.isfinite(v) for v in list(log.values()) + list(log2.values()))
    finally:
        dist.destroy_process_group()


# ------------------------------------------------------------------------------ CUTStylize
def tiny_generator():
    torch.manual_seed(0)
    return MODELS.build(dict(type='ResnetGenerator', ngf=4, num_blocks=1, init_gain=0.5))


def test_cut_stylize(tmp_path):
    gen = tiny_generator()
    bare = osp.join(tmp_path, 'bare.pth')
    torch.save(gen.state_dict(), bare)
    mmengine_ckpt = osp.join(tmp_path, 'iter_1.pth')
    torch.save(dict(meta=dict(iter=1), state_dict={f'generator.{k}': v for k, v in
                                                   gen.state_dict().items()}), mmengine_ckpt)
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (32, 36, 3), dtype=np.uint8)
    x = torch.from_numpy(img[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 127.5 - 1
    with torch.no_grad():
        expected = ((gen(x)[0] + 1) * 127.5).round().clamp(0, 255).byte().permute(1, 2, 0)
    expected = expected.numpy()[..., ::-1]
    for path in (bare, mmengine_ckpt):
        t = TRANSFORMS.build(dict(type='CUTStylize', checkpoint=path))
        out = t(dict(img=img.copy()))['img']
        assert out.dtype == np.uint8 and out.shape == img.shape
        assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1
    # odd sizes are padded by reflection and cropped back; tiny ones by replication
    for shape in ((33, 47, 3), (3, 5, 3)):
        odd = rng.integers(0, 256, shape, dtype=np.uint8)
        out = t(dict(img=odd))['img']
        assert out.shape == shape and out.dtype == np.uint8
    # a spawned worker builds its own generator
    assert pickle.loads(pickle.dumps(t))._generator is None
    skip = TRANSFORMS.build(dict(type='CUTStylize', checkpoint=bare, prob=0.))
    assert skip(dict(img=img))['img'] is img


def test_cut_stylize_errors(tmp_path):
    missing = osp.join(tmp_path, 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        TRANSFORMS.build(dict(type='CUTStylize', checkpoint=missing))
    no_gen = osp.join(tmp_path, 'disc_only.pth')
    torch.save(dict(state_dict={'discriminator.model.0.weight': torch.zeros(1)}), no_gen)
    t = TRANSFORMS.build(dict(type='CUTStylize', checkpoint=no_gen))
    with pytest.raises(KeyError, match=r'disc_only\.pth.*discriminator\.model\.0\.weight'):
        t(dict(img=np.zeros((8, 8, 3), np.uint8)))
