from setuptools import find_packages, setup


def readme():
    with open('README.md', encoding='utf-8') as f:
        return f.read()


def version():
    scope = {}
    with open('mmseg_uda/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmseg-uda',
    version=version(),
    description='Unsupervised domain adaptation for semantic segmentation on mmsegmentation 1.x',
    long_description=readme(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tools', 'configs', 'benchmarks')),
    python_requires='>=3.9',
    # The exact, tested versions are pinned in requirements/cpu.txt; these are the supported ranges.
    # torch and mmcv are deliberately not listed: an unpinned torch pulls a multi-GB CUDA build, and
    # mmcv comes either as mmcv-lite (CPU, no compiled ops) or as full mmcv (GPU): the requirements
    # files choose.
    install_requires=[
        'mmengine>=0.10.0,<1.0.0',
        'mmsegmentation>=1.2.0,<1.3.0',
        'ftfy',
        'regex',
        'numpy',
        'kornia>=0.7',
    ],
    extras_require={'pretrain': ['mmpretrain>=1.2.0,<1.3.0']},
    zip_safe=False,
)
