# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A password module's task with an empty ``batch``, done in the action's worker: the connection check.

The rotation role checks the PABX before it stages anything with ``digitro_password`` and ``batch: []``:
the module opens the event channel with the host's URL, key and certificate settings and sends
nothing else. A module process for that costs about half a second and a third of a CPU second per
PABX host and run (fork, AnsiballZ, argument parsing); the worker that would start it does the same
here, with the module's own argument spec, checks, client and messages (``module_utils/_module.py``),
and returns what the module returns for an empty batch. The action does this only where the module
would run as the worker does (``_pipelined_action._checks_here``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values

try:  # ansible-core 2.19 and later: the encoder and decoder of a module's arguments
    from ansible.module_utils.common.json import Direction, get_module_decoder, get_module_encoder
    _ENCODING = dict(cls=get_module_encoder('legacy', Direction.CONTROLLER_TO_MODULE))
    _DECODING = dict(cls=get_module_decoder('legacy', Direction.CONTROLLER_TO_MODULE))
except ImportError:  # 2.16 to 2.18 (executor/module_common.py)
    from ansible.module_utils.common.json import AnsibleJSONEncoder
    _ENCODING, _DECODING = dict(cls=AnsibleJSONEncoder, vault_to_text=True), {}

from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._module import (
    UNVERIFIED_WARNING, UnreadableCaPath, connection_argspec, connection_errors, contract_of, invalid_input,
    make_client)

# The options the check reads as the module does. The others do more than check (a lock to wait for, a progress
# file, a journal to read) or belong to one module: with any of them the task runs its module.
CHECKED_OPTIONS = frozenset(connection_argspec()) - frozenset(['lock_file', 'progress_file'])


def is_connection_check(args):
    """True for a task's arguments that only check the connection: ``batch`` an empty list (not its JSON text) and
    no option but those the check reads."""
    batch = args.get('batch')
    return isinstance(batch, list) and not batch and set(args) - set(['batch']) <= CHECKED_OPTIONS


def check_connection(args):
    """The module's result for ``args`` (an empty batch), in this process's environment, which the module's would be
    (a task with an environment of its own runs its module): the options' fallbacks, DIGITRO_API_OVERRIDES, proxies
    and CA bundles read it."""
    options = dict((k, v) for k, v in args.items() if k != 'batch')
    return _check(_as_sent(options))


def _as_sent(options):
    """The options as the module reads them: encoded as Ansible sends them to a module (a vaulted value as its
    text), decoded as the module decodes them (plain types, which the argument spec's messages name)."""
    return json.loads(json.dumps(options, **_ENCODING), **_DECODING)


def _check(options):
    validated = ArgumentSpecValidator(connection_argspec()).validate(options)
    hidden = validated._no_log_values  # the API key, as AnsibleModule masks it in whatever it returns
    if validated.error_messages:  # the first, as AnsibleModule fails with it
        return _masked({'failed': True, 'msg': validated.errors.msg}, hidden)
    params = validated.validated_parameters
    errors = connection_errors(params)
    if errors:
        return _masked({'failed': True, 'msg': invalid_input(errors)}, hidden)
    warnings = [] if params['validate_certs'] else [UNVERIFIED_WARNING]
    try:
        client = make_client(params, contract_of(params))
    except UnreadableCaPath as exc:
        return _masked(_failed(str(exc), warnings), hidden)
    except (IOError, OSError, ValueError) as exc:  # where the module would end with a traceback
        return _masked(_failed('the TLS settings cannot be used (%s); nothing was sent'
                               % (getattr(exc, 'strerror', None) or exc), warnings), hidden)
    try:
        client.channel_id()  # the module's first request for any batch: a bad URL, key or certificate fails here
    except PabxError as exc:
        return _masked(_failed(exc.message, warnings, status=exc.status), hidden)
    finally:
        client.close()
    done = {'changed': False, 'results': [], 'summary': {}}
    if warnings:
        done['warnings'] = warnings
    return _masked(done, hidden)


def _failed(msg, warnings, **more):
    result = dict(more, failed=True, msg=msg)
    if warnings:
        result['warnings'] = warnings
    return result


def _masked(result, hidden):
    return remove_values(result, hidden) if hidden else result
