# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared base of the modules: connection options, the single/batch entry forms, the run.

A module declares the options of one entry; this base adds the connection
options (see the ``digitro.pabx.connection`` doc fragment) and a ``batch``
list of the same entries, checks the input before any request, runs the
entries with bounded concurrency on one client and ends with per-entry
results and a summary.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import fcntl
import os
import sys
import time

from ansible.module_utils.basic import AnsibleModule, env_fallback, heuristic_log_sanitize
from ansible.module_utils.common.warnings import get_deprecation_messages, get_warning_messages

from ansible_collections.digitro.pabx.plugins.module_utils import _api
from ansible_collections.digitro.pabx.plugins.module_utils._batch import run_batch
from ansible_collections.digitro.pabx.plugins.module_utils._entry import describe
from ansible_collections.digitro.pabx.plugins.module_utils._client import PabxClient, stop_when_orphaned
from ansible_collections.digitro.pabx.plugins.module_utils._errors import PabxError
from ansible_collections.digitro.pabx.plugins.module_utils._journal import Journal, JournalUnreadable, read_counts
from ansible_collections.digitro.pabx.plugins.module_utils._progress import ProgressFile
from ansible_collections.digitro.pabx.plugins.module_utils._validation import check_entry, check_url

CONCURRENCY_MAX = 256
OVERRIDES_ENV = 'DIGITRO_API_OVERRIDES'


CONNECTION_ARGSPEC = dict(
    # Not required=True: the check below names the variables that give them (Ansible's message would not).
    url=dict(type='str', fallback=(env_fallback, ['DIGITRO_URL'])),
    api_key=dict(type='str', no_log=True, fallback=(env_fallback, ['DIGITRO_API_KEY'])),
    validate_certs=dict(type='bool', default=True, fallback=(env_fallback, ['DIGITRO_VALIDATE_CERTS'])),
    ca_path=dict(type='path', fallback=(env_fallback, ['DIGITRO_CA_PATH'])),
    timeout=dict(type='float', default=10),
    channel_id=dict(type='int'),
    api_overrides=dict(type='dict'),  # or DIGITRO_API_OVERRIDES, read as strict JSON by PabxModule.contract()
)

# How hard to push the PABX, and how runs of one PABX wait for each other (doc fragment digitro.pabx.execution).
EXECUTION_ARGSPEC = dict(
    concurrency=dict(type='int', default=8),
    rate_limit=dict(type='float', default=0),
    lock_file=dict(type='path'),
    lock_timeout=dict(type='float', default=600),
    breaker_threshold=dict(type='int', default=5),
    progress_file=dict(type='path'),
)

# The wrong-attempt budget, for the modules that send passwords (doc fragment digitro.pabx.budget).
BUDGET_OPTIONS = dict(
    max_wrong_attempts=dict(type='int', default=2, fallback=(env_fallback, ['DIGITRO_MAX_WRONG_ATTEMPTS'])),
    journal=dict(type='path'),
)

# Building blocks of the entry options; modules combine them.
DEVICE_OPTIONS = dict(
    device=dict(type='str'),
    device_password=dict(type='str', no_log=True),
)
ACCOUNT_OPTIONS = dict(
    account=dict(type='str'),
    account_password=dict(type='str', no_log=True),
)
NUMBER_FIELDS = ('device', 'account')


def connection_argspec():
    """The options every module has: the connection, and how the module runs against the PABX."""
    return copy.deepcopy(dict(CONNECTION_ARGSPEC, **EXECUTION_ARGSPEC))


# The module's checks of those options and its client, as functions of the validated options: the password
# modules' action plugins check the connection in their worker with them (plugin_utils/_connection_check.py).
UNVERIFIED_WARNING = ('validate_certs is false: the PABX certificate is not verified and the API key could be read by '
                      'whoever can intercept the connection')


def invalid_input(errors):
    """The message of a module that refuses its input, naming the first ten errors."""
    shown = errors[:10] + (['... and %d more' % (len(errors) - 10)] if len(errors) > 10 else [])
    return 'invalid input: ' + '; '.join(shown)


class UnreadableCaPath(Exception):
    """ca_path cannot be read as CA certificates; the text is the whole message (nothing was sent)."""


def connection_errors(params):
    """The errors of the connection and execution options (``params`` as the argument spec gives them), in words."""
    if not params['url']:
        errors = ['url is not set: set the PABX host\'s variable digitro_url (or the environment variable '
                  'DIGITRO_URL, which the collection\'s AWX credential type sets)']
    else:
        errors = [check_url('url', params['url'])]
    if not params['api_key']:
        errors.append('api_key is not set: set the PABX host\'s variable digitro_api_key (or the environment '
                      'variable DIGITRO_API_KEY, which the collection\'s AWX credential type sets)')
    if not 1 <= params['concurrency'] <= CONCURRENCY_MAX:
        errors.append('concurrency must be between 1 and %d' % CONCURRENCY_MAX)
    if params['timeout'] <= 0:
        errors.append('timeout must be greater than 0')
    if params['rate_limit'] < 0:
        errors.append('rate_limit must not be negative')
    if params['breaker_threshold'] < 0:
        errors.append('breaker_threshold must not be negative')
    try:
        contract_of(params)
    except _api.OverrideError as exc:
        errors.append('%s (the api_overrides option, digitro_api_overrides or DIGITRO_API_OVERRIDES)' % exc)
    return [e for e in errors if e]


def contract_of(params):
    """The API contract under the PABX's names (``api_overrides``, else DIGITRO_API_OVERRIDES as strict JSON);
    raises _api.OverrideError when it is wrong."""
    overrides = params.get('api_overrides')
    if overrides is None and os.environ.get(OVERRIDES_ENV):
        overrides = _api.overrides_from_json(OVERRIDES_ENV, os.environ[OVERRIDES_ENV])
    return _api.contract(overrides)


def make_client(params, contract):
    """The PabxClient of the options; raises UnreadableCaPath when ``ca_path`` cannot be read (the TLS settings are
    read here; ssl.SSLError is an OSError). Another such error, without a ca_path, is raised as it is."""
    try:
        return PabxClient(params['url'], params['api_key'], validate_certs=params['validate_certs'],
                          ca_path=params['ca_path'], timeout=params['timeout'], channel_id=params['channel_id'],
                          concurrency=params['concurrency'], rate_limit=params['rate_limit'],
                          breaker_threshold=params['breaker_threshold'], contract=contract)
    except (IOError, OSError, ValueError) as exc:
        if not params['ca_path']:
            raise
        raise UnreadableCaPath('ca_path %s cannot be read as CA certificates (%s): give a PEM file, or a directory of '
                               'certificates prepared with c_rehash (openssl rehash); nothing was sent'
                               % (params['ca_path'], getattr(exc, 'strerror', None) or exc))


class PabxModule(AnsibleModule):
    """AnsibleModule with the collection's connection options and the single/batch entry forms."""

    def __init__(self, entry_options, entry_required, password_fields, extra_options=None, batch_only_options=None,
                 batch=True, **kwargs):
        self.journaled = {}
        self.entry_options = entry_options
        self.entry_required = entry_required
        self.password_fields = password_fields
        spec = connection_argspec()
        spec.update(copy.deepcopy(entry_options))
        spec.update(extra_options or {})
        if batch:  # without it (digitro_api_check), the single form only
            batch_options = copy.deepcopy(entry_options)
            for name in entry_required:
                batch_options[name]['required'] = True
            batch_options.update(copy.deepcopy(batch_only_options or {}))
            spec['batch'] = dict(type='list', elements='dict', options=batch_options)
            spec['echo_numbers'] = dict(type='bool', default=True)  # doc fragment digitro.pabx.batch
            kwargs.update(mutually_exclusive=[['batch', name] for name in entry_options],
                          required_one_of=[['batch', entry_required[0]]])
        super(PabxModule, self).__init__(argument_spec=spec, **kwargs)

    # -- input ---------------------------------------------------------------------------------
    def entries(self):
        """The entries to process, checked; fails the module (before any request) on bad input."""
        if self.params.get('batch') is not None:
            entries = [dict(e) for e in self.params.get('batch')]
            prefixes = ['batch[%d].' % i for i in range(len(entries))]
        else:
            entries = [dict((k, self.params[k]) for k in self.entry_options)]
            prefixes = ['']
            missing = [k for k in self.entry_required if self.params[k] in (None, '')]
            if missing:
                self.fail_json(msg='missing required option(s) for the single form: %s' % ', '.join(missing))
        errors = self._connection_errors() + self.option_errors()
        for prefix, entry in zip(prefixes, entries):
            found = check_entry(prefix, entry, NUMBER_FIELDS, self.password_fields) + self.entry_errors(prefix, entry)
            # an index alone sends the reader counting through thousands of entries: name the target too
            errors.extend(found if not prefix else ['%s (%s)' % (e, describe(entry)) for e in found])
        if self.params.get('batch') is not None:
            errors.extend(self._duplicate_errors(entries))
        if errors:
            self.fail_json(msg=invalid_input(errors))
        return entries

    def entry_errors(self, prefix, entry):
        """Module-specific checks of one entry; override when needed."""
        return []

    def option_errors(self):
        """Module-specific checks of the module's own options; override when needed."""
        if 'max_wrong_attempts' in self.params and self.params['max_wrong_attempts'] < 1:
            return ['max_wrong_attempts must be at least 1 (set it below the PABX lockout threshold)']
        return []

    def journal(self):
        """The wrong-attempt journal of the ``journal`` option (one that records nothing without it)."""
        return Journal(self.params.get('journal'))

    def entry_key(self, entry):
        """What two batch entries must not both target, in words."""
        return describe(entry)

    def _duplicate_errors(self, entries):
        seen, errors = {}, []
        for index, entry in enumerate(entries):
            key = self.entry_key(entry)
            if key in seen:
                errors.append('batch[%d] and batch[%d] both target %s' % (seen[key], index, key))
            seen.setdefault(key, index)
        return errors

    def _connection_errors(self):
        return connection_errors(self.params)

    def contract(self):
        """The API contract under the PABX's names (``api_overrides``); raises _api.OverrideError when it is wrong."""
        return contract_of(self.params)

    # -- run -----------------------------------------------------------------------------------
    def client(self):
        if not self.params['validate_certs']:
            self.warn(UNVERIFIED_WARNING)
        try:
            return make_client(self.params, self.contract())
        except UnreadableCaPath as exc:
            self.fail_json(msg=str(exc))

    def run(self, entries, worker):
        """Run ``worker(client, entry)`` over the entries on one client; the per-entry results."""
        lock = self._take_lock()
        if self.params.get('journal'):
            # read once the lock is ours: a killed run's module, which held it, may have added to the journal
            try:
                self.journaled = read_counts(self.params['journal'])
            except JournalUnreadable as exc:  # its text is the whole message, never the line
                if lock is not None:
                    lock.close()
                self.fail_json(msg=str(exc))
        client = self.client()
        stop_when_orphaned(client)
        try:
            client.channel_id()  # fail fast, once, on a bad URL, key or certificate
            results = self._run_batch(entries, lambda entry: worker(client, entry))
            if client.breaker_open:
                self.warn('the PABX stopped answering (%s): the entries after that were not sent, and every '
                          'pending PIN is kept' % client.breaker_reason)
            return results
        except PabxError as exc:
            self.fail_json(msg=exc.message, status=exc.status)
        finally:
            client.close()
            if lock is not None:
                lock.close()  # closing the file releases the lock

    def _run_batch(self, entries, worker):
        """run_batch, counting the finished entries in ``progress_file`` when there is one."""
        if not self.params.get('progress_file'):
            return run_batch(entries, worker, self.params['concurrency'])
        with ProgressFile(self.params['progress_file'], len(entries)) as progress:
            return run_batch(entries, worker, self.params['concurrency'], on_result=progress.count)

    def _take_lock(self):
        """Hold ``lock_file`` exclusively while the module works (released by the OS if the process dies)."""
        path = self.params['lock_file']
        if not path:
            return None
        handle = open(path, 'a')
        deadline = time.monotonic() + self.params['lock_timeout']
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return handle
            except (IOError, OSError):
                if time.monotonic() >= deadline:
                    handle.close()
                    self.fail_json(msg='another run still holds the lock %s after %gs: wait for it to end, or find '
                                       'the process that holds it (fuser %s)' % (path, self.params['lock_timeout'], path))
                time.sleep(0.2)

    def _log_invocation(self):
        """Log the invocation as ``_invocation`` shows it, sanitised as Ansible sanitises what it logs.

        Ansible would log the whole batch: megabytes per run in syslog, of numbers and masked PINs. And it would mask
        the line against every PIN of the batch; only those that occur in the line can change it.
        """
        args = dict((k, str(v)) for k, v in self._invocation()['module_args'].items())
        line = 'Invoked with %s' % ' '.join('%s=%s' % item for item in sorted(args.items()))
        logged = ' '.join(text for text in (getattr(self, '_target_log_info', None), line) if text)  # as log() joins them
        every_value, self.no_log_values = self.no_log_values, set(occurring_values(logged, self.no_log_values))
        try:
            args = dict((k, heuristic_log_sanitize(v, self.no_log_values)) for k, v in args.items())
            self.log('Invoked with %s' % ' '.join('%s=%s' % item for item in sorted(args.items())), log_args=args)
        finally:
            self.no_log_values = every_value

    def _invocation(self):
        """The arguments, as Ansible would echo them, but a batch only by its size (thousands of entries
        would make the result larger than the work's own output)."""
        args = dict((k, v) for k, v in self.params.items() if k != 'batch')
        args.update((k, 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER') for k, spec in self.argument_spec.items()
                    if spec.get('no_log') and args.get(k) is not None)
        if self.params.get('batch') is not None:
            args['batch'] = '%d entries (not echoed)' % len(self.params.get('batch'))
        return {'module_args': args}

    def finish(self, results, diff_lines=None):
        """Exit with the per-entry results, a summary and, with --diff, a diff; fail if any entry failed."""
        summary = {}
        for result in results:
            summary[result['status']] = summary.get(result['status'], 0) + 1
        if self.params.get('batch') is None:
            outcome = dict((k, v) for k, v in results[0].items() if k not in ('failed', 'changed'))
        else:
            # a routine success says all in its status, so its words are left out (a failure keeps them)
            outcome = {}
            results = [slim(r, self.params.get('echo_numbers', True)) for r in results]
        outcome.update(changed=any(r['changed'] for r in results), results=results, summary=summary,
                       invocation=self._invocation())
        if diff_lines is not None and self._diff:
            outcome['diff'] = dict(before=''.join(d[0] for d in diff_lines), after=''.join(d[1] for d in diff_lines),
                                   before_header='PABX (before)', after_header='PABX (after)')
        failed = [r for r in results if r.get('failed')]
        if failed and self.params.get('batch') is not None:
            outcome['msg'] = '%d of %d entries failed; first: %s' % (len(failed), len(results), failed[0]['msg'])
        self._mask_only_what_occurs(outcome)
        if failed:
            self.fail_json(**outcome)
        self.exit_json(**outcome)

    def _mask_only_what_occurs(self, outcome):
        """Keep in ``no_log_values`` only the passwords that occur in the outcome, or could after masking.

        Ansible masks every string of a result against every no_log value, which is quadratic in a
        batch's size (hours at ten thousand entries). The masking itself stays Ansible's, and its
        output is the same: a value can change a string only if it occurs in it, or contains the
        '*' that masking writes.
        """
        if sys.exc_info()[1] is not None:
            return  # fail_json would add the traceback, which this scan does not see
        shown = [outcome, list(get_warning_messages()), list(get_deprecation_messages())]
        self.no_log_values = set(occurring_values(shown, self.no_log_values))


ROUTINE = ('changed', 'unchanged', 'would_change', 'valid')


def slim(result, numbers=True):
    """A batch entry's result without the words that repeat its status (thousands of them add up), and without its
    numbers unless ``numbers``: the results are in batch order, and a number that equals a PIN of the batch is
    masked, which at thousands of entries costs Ansible's masking about half a second and shows which numbers are
    someone's PIN (the ``echo_numbers`` option)."""
    if result.get('failed') or result.get('status') not in ROUTINE:
        return result
    left_out = ('target', 'msg') if numbers else ('target', 'msg') + NUMBER_FIELDS
    return dict((k, v) for k, v in result.items() if k not in left_out)


def occurring_values(data, values):
    """The values (strings) that occur in any string or number of ``data``, or that contain '*', in their order."""
    values = list(values)
    lengths = sorted(set(len(v) for v in values))
    found = set()
    todo = [data]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo.extend(item.values())  # keys are never masked
        elif isinstance(item, (list, tuple, set, frozenset)):
            todo.extend(item)
        elif isinstance(item, (str, bytes, int, float)) and not isinstance(item, bool):
            text = item.decode('utf-8', 'surrogateescape') if isinstance(item, bytes) else str(item)
            for length in lengths:
                found.update(text[start:start + length] for start in range(len(text) - length + 1))
    return [v for v in values if v in found or '*' in v]
