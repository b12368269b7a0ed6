"""The CONFETI segmentor on small generated tensors: its iteration, gradient routing, gates, stages,
stylisation variants, checkpoints, AMP and DDP (the losses themselves: test_confeti_losses.py; CUT:
test_cut.py, test_cut_translator.py)."""
import os.path as osp

import pytest
import torch
from conftest import REPO
from mmengine.optim import OptimWrapper, OptimWrapperDict
from test_dacs import NUM_CLASSES, build_uda, paired_batch, tiny_segmentor
from test_ddp_exactness import run_torchrun

from mmseg_uda.engine import CPUAmpOptimWrapper
from mmseg_uda.engine.optim_wrapper import step_with_scaler
from mmseg_uda.models.style import to_cut_range

CUT = ('generator', 'discriminator', 'patch_mlp')


def build_confeti(**kwargs):
    """CONFETI on the tiny segmentor (64-d layer4, 4 classes) with a tiny CUT; every gate open."""
    cfg = dict(
        type='CONFETI', segmentor=tiny_segmentor(), ema=dict(alpha=0.99),
        cam_head=dict(type='CAMHead', in_channels=64),
        projection_head=dict(type='ProjectionHead', in_channels=64, out_channels=16, num_convs=1,
                             bias=False, normalize=False),
        prototypes=dict(top_n=4, cam_start_iter=0), pcl=dict(start_iter=-1, num_samples=64),
        cam_loss=dict(mixed_start_iter=-1),
        style=dict(type='CUT', generator=dict(type='ResnetGenerator', ngf=4, num_blocks=5),
                   discriminator=dict(type='PatchDiscriminator', ndf=4),
                   patch_mlp=dict(type='PatchSampleMLP', mlp_dim=8), num_patches=16))
    cfg.update(kwargs)
    return build_uda(**cfg)


def optim(model, wrapper=OptimWrapper, lr=0.01):
    """An OptimWrapperDict as MultiOptimWrapperConstructor builds: SGD on the student, Adam on each
    trained CUT network (a single student wrapper when CUT does not train)."""
    student = wrapper(optimizer=torch.optim.SGD(model.student.parameters(), lr=lr))
    nets = {k: getattr(model, k) for k in CUT if getattr(model, k, None) is not None
            and any(p.requires_grad for p in getattr(model, k).parameters())}
    if not nets:
        return student
    return OptimWrapperDict(student=student, **{
        k: wrapper(optimizer=torch.optim.Adam(n.parameters(), lr=1e-3)) for k, n in nets.items()})


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before, module):
    return {k for k, v in module.state_dict().items() if not torch.equal(before[k], v)}


# -- one iteration -------------------------------------------------------------------------------
def test_an_iteration_trains_every_network_and_logs_every_loss():
    torch.manual_seed(0)
    model = build_confeti()
    model.teacher.steps.fill_(5)  # past every gate
    before = {k: snapshot(getattr(model, k)) for k in CUT + ('student', )}
    log = model.train_step(paired_batch(), optim(model))
    assert {'src.decode.loss_ce', 'src.loss_cam', 'src.loss_pcl', 'src.loss_reg', 'cut.loss_d',
            'cut.loss_g_gan', 'cut.loss_nce', 'cut.loss_nce_idt', 'cut.loss_g', 'cut.loss_sc',
            'mix.decode.loss_ce', 'mix.loss_cam', 'mix.loss_pcl', 'mix.loss_reg', 'tgt.loss_pcl',
            'tgt.loss_reg'} <= set(log)
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())
    for name in CUT + ('student', ):
        assert changed(before[name], getattr(model, name)), f'{name} was not updated'
    assert bool(model.prototypes.seen.any())
    assert int(model.teacher.steps) == 6


def test_the_segmenter_sees_the_stylised_source_and_mixes_it():
    torch.manual_seed(0)
    model = build_confeti()
    seen = []
    original = model.source_loss
    model.source_loss = lambda inputs, *a, **k: seen.append(inputs) or original(inputs, *a, **k)
    batch = paired_batch()
    model.train_step(batch, optim(model, lr=0.0))
    src = model.data_preprocessor(batch, True)['inputs']['source']
    assert len(seen) == 1 and not seen[0].requires_grad  # detached X̂^{S→T}, not X^S
    assert not torch.allclose(seen[0], src)
    mask = model.debug_output['mix_mask']
    stylised = (model.debug_output['stylised_img'] - model.data_preprocessor.mean) \
        / model.data_preprocessor.std
    torch.testing.assert_close(stylised, seen[0], atol=1e-4, rtol=0)
    assert mask.any() and (~mask).any()


# -- gradient routing ----------------------------------------------------------------------------
def test_consistency_loss_reaches_only_the_generator_and_phi():
    """L_SC (Eq. 11) back-propagates into 𝒢 (through X̂^{S→T}) and φ; the student's backbone,
    projector, CAM and decode heads and the teacher get nothing (spec §6 item 2)."""
    torch.manual_seed(0)
    model = build_confeti()
    model.prototypes.prototypes.copy_(torch.nn.functional.normalize(torch.randn(NUM_CLASSES, 16)))
    src = model.data_preprocessor(paired_batch(), True)['inputs']['source']
    stylised = model.from_cut(model.generator(model.to_cut(src)))
    loss = model.consistency_loss(src, None, stylised)['loss_sc']
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert all(grads[n] is not None and grads[n].abs().sum() > 0
               for n in grads if n.startswith('student.consistency_proj'))
    assert any(g is not None and g.abs().sum() > 0 for n, g in grads.items()
               if n.startswith('generator.'))
    others = [n for n, g in grads.items() if g is not None and not
              n.startswith(('student.consistency_proj', 'generator.'))]
    assert others == []
    assert all(p.requires_grad for p in model.student.parameters())  # unfrozen afterwards


def test_segmenter_losses_do_not_reach_the_generator():
    """Without L_SC and with λ_GAN = λ_NCE = 0 the generator's gradient at its step is zero: the
    CE, CAM, PCL and FD passes see X̂^{S→T} detached (spec §3.1)."""
    torch.manual_seed(0)
    model = build_confeti(consistency=None, style=dict(
        type='CUT', generator=dict(type='ResnetGenerator', ngf=4, num_blocks=5),
        discriminator=dict(type='PatchDiscriminator', ndf=4),
        patch_mlp=dict(type='PatchSampleMLP', mlp_dim=8), num_patches=16, lambda_gan=0.0,
        lambda_nce=0.0))
    model.teacher.steps.fill_(5)
    norms = {}
    original = model.cut_step

    def record(name, main):
        norms[name] = sum(float(p.grad.abs().sum()) for p in getattr(model, name).parameters()
                          if p.grad is not None)
        original(name, main)

    model.cut_step = record
    model.train_step(paired_batch(), optim(model))
    assert norms['generator'] == 0 and norms['patch_mlp'] == 0 and norms['discriminator'] > 0


def test_phi_is_optimised_by_the_segmenter_optimiser_at_the_end_of_the_iteration():
    torch.manual_seed(0)
    model = build_confeti()
    phi = snapshot(model.student.consistency_proj)
    ow = optim(model)
    assert any(p is q for g in ow['student'].optimizer.param_groups for p in g['params']
               for q in model.student.consistency_proj.parameters())
    model.train_step(paired_batch(), ow)
    assert changed(phi, model.student.consistency_proj)


# -- gates and prototypes ------------------------------------------------------------------------
def test_gates_follow_the_code_thresholds():
    """Source and target L_PCL for t > start, mixed for t ≥ start, mixed L_CAM for t > 2000."""
    def keys_at(t):
        torch.manual_seed(0)
        model = build_confeti(pcl=dict(start_iter=3, num_samples=64),
                              cam_loss=dict(mixed_start_iter=2))
        model.teacher.steps.fill_(t)
        return set(model.train_step(paired_batch(), optim(model)))

    at2, at3, at4 = keys_at(2), keys_at(3), keys_at(4)
    assert 'mix.loss_cam' not in at2 and 'mix.loss_pcl' not in at2 and 'src.loss_pcl' not in at2
    assert 'src.loss_cam' in at2  # the source CAM loss from iteration 0
    assert {'mix.loss_cam', 'mix.loss_pcl'} <= at3 and 'src.loss_pcl' not in at3
    assert 'tgt.loss_pcl' not in at3
    assert {'src.loss_pcl', 'tgt.loss_pcl'} <= at4


def test_prototypes_use_only_source_pixels_with_uniform_weights_until_cam_start():
    torch.manual_seed(0)
    model = build_confeti(prototypes=dict(top_n=4, cam_start_iter=5))
    labels = torch.zeros(2, 32, 32, dtype=torch.long)
    labels[:, 16:] = 1  # class 1 only on target (not pasted) pixels
    mask = torch.zeros(2, 32, 32, dtype=torch.bool)
    mask[:, :16] = True
    img = torch.randn(2, 3, 32, 32)
    model.iter = 5
    model.update_prototypes(img, labels, mask)
    assert model.prototypes.seen.tolist() == [True, False, False, False]
    model.iter = 6  # CAM weights, every pixel of Y^M
    model.update_prototypes(img, labels, mask)
    assert model.prototypes.seen.tolist()[:2] == [True, True]


def test_prototypes_are_not_updated_when_nothing_reads_them():
    torch.manual_seed(0)
    model = build_confeti(style=None, pcl=dict(weight=0.0, target=False),
                          regularizer=dict(weight=0.0), cam_loss=dict(weight=0.0))
    log = model.train_step(paired_batch(), optim(model))
    assert not model.prototypes.seen.any()
    assert not any('cam' in k or 'pcl' in k or 'cut' in k for k in log)


# -- stages and stylisation variants -------------------------------------------------------------
def test_stage_two_applies_a_frozen_generator_without_cut_losses():
    torch.manual_seed(0)
    model = build_confeti(style=dict(type='CUT', train=False,
                                     generator=dict(type='ResnetGenerator', ngf=4, num_blocks=5)),
                          pcl=dict(start_iter=-1, num_samples=64, target=False),
                          allow_random_style=True)
    assert model.discriminator is None and model.patch_mlp is None
    assert model.consistency is None and not hasattr(model.student, 'consistency_proj')
    generator = snapshot(model.generator)
    ow = optim(model)
    assert isinstance(ow, OptimWrapper) and not isinstance(ow, OptimWrapperDict)
    batch = paired_batch()
    log = model.train_step(batch, ow)
    assert not any(k.startswith(('cut.', 'tgt.')) for k in log)
    assert not changed(generator, model.generator)
    src = model.data_preprocessor(batch, True)['inputs']['source']
    with torch.no_grad():
        expected = model.denormalize(model.from_cut(model.generator(model.to_cut(src))))
    torch.testing.assert_close(model.debug_output['stylised_img'], expected)


STAGE_TWO = dict(style=dict(type='CUT', train=False,
                            generator=dict(type='ResnetGenerator', ngf=4, num_blocks=5)),
                 pcl=dict(start_iter=-1, num_samples=64, target=False))


def test_stage_two_refuses_a_generator_that_was_never_loaded(tmp_path):
    """A frozen 𝒢 trains only once loaded: from cut_checkpoint, or from load_from's generator.*
    (the pipeline's stage-2 init); a resumed stage-2 checkpoint keeps the record."""
    from mmengine.runner import load_checkpoint
    torch.manual_seed(0)
    model = build_confeti(**STAGE_TWO)
    with pytest.raises(RuntimeError, match='never loaded.*model.cut_checkpoint.*load_from.*'
                       'pipeline_gta2cs.py.*allow_random_style'):
        model.train_step(paired_batch(), optim(model))
    path = str(tmp_path / 'stage1.pth')
    torch.save(dict(state_dict={k: v for k, v in build_confeti().state_dict().items()
                                if k.startswith('generator.')}), path)
    loaded = build_confeti(**STAGE_TWO, cut_checkpoint=path)
    loaded.train_step(paired_batch(), optim(loaded))
    from_load = build_confeti(**STAGE_TWO)
    load_checkpoint(from_load, path)  # as the Runner's load_from
    from_load.train_step(paired_batch(), optim(from_load))
    resumed_path = str(tmp_path / 'stage2.pth')
    torch.save(dict(state_dict=from_load.state_dict()), resumed_path)
    resumed = build_confeti(**STAGE_TWO)
    load_checkpoint(resumed, resumed_path)
    assert bool(resumed.generator_loaded)
    resumed.train_step(paired_batch(), optim(resumed))
    random = build_confeti(**STAGE_TWO, allow_random_style=True)
    random.train_step(paired_batch(), optim(random))
    torch.save(dict(state_dict=random.state_dict()), resumed_path)  # its record stays False
    load_checkpoint(model, resumed_path)
    with pytest.raises(RuntimeError, match='never loaded'):
        model.train_step(paired_batch(), optim(model))


def test_fda_and_no_stylisation_variants_train():
    for style, check in ((dict(type='FDA', beta=0.09), lambda s, x: not torch.equal(s, x)),
                         (None, torch.equal)):
        torch.manual_seed(0)
        model = build_confeti(style=style)
        assert model.generator is None
        batch = paired_batch()
        log = model.train_step(batch, optim(model))
        src = model.denormalize(model.data_preprocessor(batch, True)['inputs']['source'])
        assert check(model.debug_output['stylised_img'], src)
        assert 'src.loss_pcl' in log and not any(k.startswith('cut.') for k in log)


def test_feature_mse_consistency_variant():
    torch.manual_seed(0)
    model = build_confeti(consistency=dict(type='feature_mse'))
    log = model.train_step(paired_batch(), optim(model))
    assert float(log['cut.loss_sc']) > 0


@pytest.mark.parametrize('kwargs,error', [
    (dict(style=dict(type='AdaIN')), "style type must be 'CUT' or 'FDA'"),
    (dict(pcl=dict(wieght=1.0)), 'unknown pcl keys'),
    (dict(consistency=dict(type='cosine')), r"model\.consistency\.type must be"),
    (dict(prototypes=dict(resolution='half')), "resolution must be 'input' or 'feature'"),
    (dict(ema=None), 'needs the EMA teacher'),
    (dict(contrast=dict()), "CLDA's contrast"),
])
def test_bad_settings_are_named(kwargs, error):
    with pytest.raises((ValueError, KeyError), match=error):
        build_confeti(**kwargs)


def test_a_joint_run_without_cut_optimisers_is_refused():
    model = build_confeti()
    with pytest.raises(KeyError, match="no \\['generator', 'discriminator', 'patch_mlp'\\]"):
        model.train_step(paired_batch(), OptimWrapper(
            optimizer=torch.optim.SGD(model.student.parameters(), lr=0.1)))


# -- edge cases ----------------------------------------------------------------------------------
@pytest.mark.parametrize('fill', [255, 2])
def test_all_ignore_and_single_class_sources_train_finitely(fill):
    torch.manual_seed(0)
    model = build_confeti()
    model.teacher.steps.fill_(5)
    batch = paired_batch()
    for ds in batch['source']['data_samples']:
        ds.gt_sem_seg.data.fill_(fill)
    log = model.train_step(batch, optim(model))
    assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())


def test_prototype_resolution_feature_trains():
    torch.manual_seed(0)
    model = build_confeti(prototypes=dict(top_n=4, cam_start_iter=0, resolution='feature'))
    model.train_step(paired_batch(), optim(model))
    assert model.prototypes.seen.any()


# -- weights -------------------------------------------------------------------------------------
def test_checkpoint_holds_cut_prototypes_and_teacher_heads(tmp_path):
    torch.manual_seed(0)
    model = build_confeti()
    model.train_step(paired_batch(), optim(model))
    state = model.state_dict()
    for prefix in ('generator.', 'discriminator.', 'patch_mlp.', 'prototypes.prototypes',
                   'student.consistency_proj.', 'teacher.module.cam_head.',
                   'teacher.module.projection_head.'):
        assert any(k.startswith(prefix) for k in state), prefix
    path = str(tmp_path / 'ckpt.pth')
    torch.save(dict(state_dict=state), path)
    torch.manual_seed(1)
    other = build_confeti(cut_checkpoint=path)  # init_weights loads the CUT networks
    for name in CUT:
        assert not changed(snapshot(getattr(model, name)), getattr(other, name))
    assert not torch.equal(next(other.student.backbone.parameters()),
                           next(model.student.backbone.parameters()))  # only CUT was loaded


def test_cut_checkpoint_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='model.cut_checkpoint .*missing.pth'):
        build_confeti(cut_checkpoint=str(tmp_path / 'missing.pth'))
    path = str(tmp_path / 'segmentor.pth')
    torch.save(dict(state_dict={'backbone.conv1.weight': torch.zeros(1)}), path)
    with pytest.raises(KeyError, match='segmentor.pth has no generator'):
        build_confeti(cut_checkpoint=path)


def test_a_segmentor_checkpoint_with_a_generator_loads_both():
    """tools/train_pipeline.py hands stage 2 a plain student state plus ``generator.*``."""
    torch.manual_seed(0)
    source = build_confeti()
    state = {k[len('student.'):]: v for k, v in source.state_dict().items()
             if k.startswith('student.')}
    state.update({k: v for k, v in source.state_dict().items() if k.startswith('generator.')})
    torch.manual_seed(1)
    target = build_confeti()
    target.load_state_dict(state, strict=False)
    assert not changed(snapshot(source.generator), target.generator)
    assert not changed(snapshot(source.student), target.student)
    assert not changed(snapshot(source.student), target.teacher.module)


# -- AMP ------------------------------------------------------------------------------------------
def test_bf16_autocast_iterations_are_finite():
    torch.manual_seed(0)
    model = build_confeti()
    model.teacher.steps.fill_(5)
    ow = optim(model, wrapper=CPUAmpOptimWrapper)
    for it in range(2):
        log = model.train_step(paired_batch(seed=it), ow)
        assert all(torch.isfinite(torch.as_tensor(v)) for v in log.values())


def test_step_with_scaler_unscales_with_the_main_loss_scale():
    """An optimiser fed by a backward of ``main`` (fp16 loss scale 1024) steps on the true
    gradient, and the scale is left to ``main``'s own step."""
    class Scaled:  # the parts of AmpOptimWrapper that step_with_scaler reads
        def __init__(self):
            self.loss_scaler = torch.amp.GradScaler('cpu', init_scale=1024.0)

    main = Scaled()
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    other = OptimWrapper(optimizer=torch.optim.SGD([w], lr=0.5))
    main.loss_scaler.scale((w ** 2).sum()).backward()
    assert torch.equal(w.grad, torch.tensor([2048.0, 4096.0]))
    step_with_scaler(other, main)
    torch.testing.assert_close(w.detach(), torch.tensor([0.0, 0.0]))  # w − 0.5 · 2w
    assert w.grad is None or not w.grad.any()
    assert main.loss_scaler.get_scale() == 1024.0


# -- DDP ------------------------------------------------------------------------------------------
def test_state_is_identical_on_every_rank_under_ddp():
    out = run_torchrun(osp.join(REPO, 'tests', 'dist', 'confeti_ddp_check.py'),
                       'CONFETI_DDP_STATE_OK')
    assert 'state tensors equal on both ranks' in out


def test_to_cut_range_of_the_preprocessor_images():
    model = build_confeti()
    img = torch.rand(1, 3, 4, 4) * 255
    pre = model.data_preprocessor
    norm = (img - pre.mean) / pre.std
    torch.testing.assert_close(model.to_cut(norm), img / 127.5 - 1, atol=1e-5, rtol=0)
    torch.testing.assert_close(to_cut_range(norm, pre.mean.flatten(), pre.std.flatten()),
                               model.to_cut(norm))
