# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PIN policy: one checker that both generation (rotation) and the audit use.

Defaults follow telephony practice: six digits, no digit more than twice in a
row, no ascending or descending run of three, no repeated group, at least
three distinct digits, not the extension number (or its reverse), none of the
last passwords. Messages name the rule, never the PIN.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import functools
import random
import secrets

from ansible.module_utils.parsing.convert_bool import boolean

DEFAULT_POLICY = dict(length=6, max_repeat=2, max_run=2, min_distinct=3, forbid_repeated_groups=True,
                      forbid_extension=True, history=5)
MAX_DRAWS = 10000
# of MAX_DRAWS random PINs, the fewest a policy must admit: generate then fails about once in e^30 (10^13) PINs
MIN_ADMITTED = 30


def policy_with_defaults(policy=None):
    """The policy with defaults filled in and values as their types (templated values may be strings)."""
    merged = dict(DEFAULT_POLICY)
    for name, value in (policy or {}).items():
        if name not in DEFAULT_POLICY:
            raise ValueError('digitro_pin_policy has an unknown setting %r (known: %s)'
                             % (name, ', '.join(sorted(DEFAULT_POLICY))))
        if value is None:
            continue
        if isinstance(DEFAULT_POLICY[name], bool):
            try:  # Ansible's words for true and false; any other is a mistake, never a quiet false
                merged[name] = boolean(value, strict=True)
            except TypeError:
                raise ValueError('digitro_pin_policy.%s must be true or false' % name)
        else:
            try:
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError(value)  # int() would drop the fraction without a word
                merged[name] = int(value)
            except (TypeError, ValueError):
                raise ValueError('digitro_pin_policy.%s must be a whole number' % name)
    problems = []
    if not 4 <= merged['length'] <= 12:
        problems.append('length must be 4 to 12')
    if not 1 <= merged['min_distinct'] <= min(merged['length'], 10):
        problems.append('min_distinct must be 1 to length (at most 10)')
    if merged['max_repeat'] < 1 or merged['max_run'] < 1 or merged['history'] < 0:
        problems.append('max_repeat and max_run must be 1 or more, history 0 or more')
    if problems:
        raise ValueError('invalid digitro_pin_policy: %s' % '; '.join(problems))
    admitted = _admitted(tuple(sorted(merged.items())))
    if not admitted:
        raise ValueError('invalid digitro_pin_policy: no PIN of %d digits satisfies it (found none in %d draws): relax '
                         'it' % (merged['length'], MAX_DRAWS))
    if admitted < MIN_ADMITTED:
        raise ValueError('invalid digitro_pin_policy: too few PINs of %d digits satisfy it (%d in %d random ones, and a '
                         'new PIN is drawn at most %d times): some entries would get none; relax it'
                         % (merged['length'], admitted, MAX_DRAWS, MAX_DRAWS))
    return merged


@functools.lru_cache(maxsize=32)
def _admitted(items):
    """How many of MAX_DRAWS random PINs satisfy the policy, counted up to MIN_ADMITTED (once per policy): a policy
    too strict for ``generate``'s draws is an input error, said before any PIN is staged, not a run failing at
    random entries."""
    p, rng = dict(items), random.Random(0)  # not PINs anyone uses: only how many satisfy the policy
    admitted = 0
    for _draw_index in range(MAX_DRAWS):
        if not _broken(_random_pin(p['length'], rng), None, (), p):
            admitted += 1
            if admitted == MIN_ADMITTED:
                break
    return admitted


def _random_pin(length, rng):
    """A whole number below 10^length, zero-padded: each digit uniform and independent, as with a draw per digit,
    in one call to the secure source instead of one per digit (a rotation of 10,000 made about 100,000)."""
    return '%0*d' % (length, rng.randrange(10 ** length))


def _draw(p, number, previous, rng):
    for _draw_index in range(MAX_DRAWS):
        pin = _random_pin(p['length'], rng)
        if not _broken(pin, number, previous, p):
            return pin
    return None


def _longest_repeat(pin):
    longest = current = 1
    for previous, digit in zip(pin, pin[1:]):
        current = current + 1 if digit == previous else 1
        longest = max(longest, current)
    return longest


def _longest_run(pin):
    """The longest ascending or descending run of consecutive digits (as in 123 or 987)."""
    longest = 1
    for step in (1, -1):
        current = 1
        for previous, digit in zip(pin, pin[1:]):
            current = current + 1 if int(digit) - int(previous) == step else 1
            longest = max(longest, current)
    return longest


def _repeated_group(pin):
    return any(len(pin) % size == 0 and pin == pin[:size] * (len(pin) // size) for size in range(1, len(pin) // 2 + 1))


def _resembles(pin, number):
    if not number:
        return False
    return any(pin in text or text in pin for text in (number, number[::-1]))


def violations(pin, number=None, previous=(), policy=None):
    """The rules ``pin`` breaks (empty when it complies). ``previous``: the current and past passwords."""
    return _broken(pin, number, previous, policy_with_defaults(policy))


def _broken(pin, number, previous, p):
    if not pin.isdigit():
        return ['not digits only']
    found = []
    if len(pin) != p['length']:
        found.append('not %d digits long' % p['length'])
    if p['max_repeat'] and _longest_repeat(pin) > p['max_repeat']:
        found.append('a digit repeated more than %d times in a row' % p['max_repeat'])
    if p['max_run'] and _longest_run(pin) > p['max_run']:
        found.append('an ascending or descending run longer than %d' % p['max_run'])
    if p['forbid_repeated_groups'] and _repeated_group(pin):
        found.append('a repeated group of digits')
    if len(set(pin)) < p['min_distinct']:
        found.append('fewer than %d distinct digits' % p['min_distinct'])
    if p['forbid_extension'] and _resembles(pin, number):
        found.append('the extension number or its reverse')
    if pin in list(previous)[:p['history'] + 1]:
        found.append('one of the last %d passwords' % p['history'])
    return found


def generate(number=None, previous=(), policy=None, rng=None):
    """A random PIN (from the OS's secure source) that breaks no rule of the policy."""
    pin = _draw(policy_with_defaults(policy), number, previous, rng or secrets.SystemRandom())
    if pin is None:
        raise ValueError('no PIN satisfies the policy after %d draws: relax it' % MAX_DRAWS)
    return pin
