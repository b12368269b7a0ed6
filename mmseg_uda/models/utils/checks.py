"""Build-time checks of a method's numeric and choice keys, with one error format:
``"DACS: model.pseudo_threshold must be in (0, 1], got 2.0"``.

A value out of its range rarely fails loudly later (a threshold of 2.0 makes DACS source-only), so
segmentors check every key when they are built. Rules are keyword dicts of :func:`check_range`
(the constants below) or tuples of allowed values (:func:`check_choice`).
"""
import numbers

PROBABILITY = dict(low=0, high=1)  # [0, 1]
THRESHOLD = dict(low=0, high=1, open_low=True)  # (0, 1]
POSITIVE = dict(low=0, open_low=True)  # temperatures, scales
NON_NEGATIVE = dict(low=0)  # loss weights
COUNT = dict(low=1, integer=True)
NON_NEGATIVE_INT = dict(low=0, integer=True)
INTEGER = dict(integer=True)  # iteration gates (may be negative: always open)
BETA = dict(low=0, high=1, open_high=True)  # momenta / EMA coefficients [0, 1)


def _describe(low, high, open_low, open_high, integer):
    if low is not None and high is not None:
        text = f"in {'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
    elif low is not None:
        text = f"{'>' if open_low else '>='} {low}"
    elif high is not None:
        text = f"{'<' if open_high else '<='} {high}"
    else:
        text = ''
    return f'an integer {text}'.strip() if integer else text


def _fits(v, low, high, open_low, open_high, integer):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        return False
    if integer and not float(v).is_integer():
        return False
    # written as negations of the failing comparisons would let NaN through; these reject it
    return ((low is None or (v > low if open_low else v >= low))
            and (high is None or (v < high if open_high else v <= high)))


def check_range(owner, key, value, low=None, high=None, open_low=False, open_high=False,
                integer=False, form='scalar'):
    """Raise ``ValueError("<owner>: model.<key> must be <range>, got <value>")`` unless ``value``
    is a number in the range.

    Args:
        owner (str): the segmentor's type name, e.g. ``'DACS'``.
        key (str): the key below ``model``, e.g. ``'pseudo_threshold'`` or ``'pcl.tau'``.
        low, high (float | None): bounds (None: unbounded), closed unless ``open_low`` /
            ``open_high``.
        integer (bool): the value must be integral.
        form (str): ``'scalar'``; ``'pair'``: a (low, high) pair with low <= high, each in the
            range; ``'scalar_or_pair'``; ``'sequence'``: a non-empty sequence, each in the range.
    """
    bounds = (low, high, open_low, open_high, integer)
    scalar = _fits(value, *bounds)
    is_seq = isinstance(value, (list, tuple))
    pair = is_seq and len(value) == 2 and all(_fits(v, *bounds) for v in value) \
        and value[0] <= value[1]
    ok = {'scalar': scalar, 'pair': pair, 'scalar_or_pair': scalar or pair,
          'sequence': is_seq and len(value) > 0 and all(_fits(v, *bounds) for v in value)}[form]
    if not ok:
        text = _describe(*bounds)
        text = {'scalar': text, 'pair': f'a (low, high) pair with low <= high, each {text}',
                'scalar_or_pair': f'{text} or a (low, high) pair with low <= high, each {text}',
                'sequence': f'a non-empty list of values {text}'}[form]
        raise ValueError(f'{owner}: model.{key} must be {text}, got {value!r}')


def check_choice(owner, key, value, choices):
    """Raise ``ValueError`` naming ``model.<key>`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        names = [repr(c) for c in choices]
        text = ' or '.join(names) if len(names) < 3 else f"{', '.join(names[:-1])} or {names[-1]}"
        raise ValueError(f'{owner}: model.{key} must be {text}, got {value!r}')


def optional(rule):
    """``rule`` that also accepts None (a switch: None turns the part off)."""
    return dict(rule, optional=True)


def check_keys(owner, values, rules, prefix=''):
    """Check each key of the dict ``values`` that ``rules`` names (absent keys keep their defaults
    and are skipped); ``prefix`` names a sub-dict, e.g. ``'pcl.'``."""
    values = values or {}
    for key, rule in rules.items():
        if key not in values:
            continue
        if isinstance(rule, tuple):
            check_choice(owner, prefix + key, values[key], rule)
        elif not (rule.get('optional') and values[key] is None):
            check_range(owner, prefix + key, values[key],
                        **{k: v for k, v in rule.items() if k != 'optional'})
