# -*- coding: utf-8 -*-
# Copyright (c) 2026, digitro.pabx contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module that carries passwords only pipelined, so that its arguments never reach a file.

Without pipelining Ansible writes the module, with its arguments embedded, to
``<remote_tmp>/ansible-tmp-*/AnsiballZ_<module>.py`` and runs it from there; a job killed with
``SIGKILL`` leaves that file behind with every PIN of the chunk in plain text. Pipelined, the
module goes to the interpreter's standard input and its arguments stay in memory.

The action plugins of ``digitro_password``, ``digitro_user_validate`` and ``digitro_dac_session``
are this class under the module's name: it turns the connection's ``pipelining`` option on for
the task, refuses the task (before anything is transferred) when Ansible would still not
pipeline, and otherwise runs the module as ``ansible.builtin.normal`` does; but never for a job
whose ansible-playbook process is gone (``_controller_watch.py``). A ``digitro_password`` task with
``batch: []``, which only checks the connection, is checked here without a module process
(``_connection_check.py``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import sys

from ansible import constants as C
from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.digitro.pabx.plugins.plugin_utils._connection_check import check_connection, is_connection_check
from ansible_collections.digitro.pabx.plugins.plugin_utils._controller_watch import (
    ControllerWatch, controller_gone, controller_pid, gone_message)
from ansible_collections.digitro.pabx.plugins.plugin_utils._progress_display import (
    INTERVAL_VARIABLE, ProgressWatch, interval_of)


# Module option, and the host variable (set per PABX host, or by the AWX credential type's environment through the
# option's own fallback) that gives it when a task does not.
CONNECTION_VARIABLES = (('url', 'digitro_url'), ('api_key', 'digitro_api_key'),
                        ('validate_certs', 'digitro_validate_certs'), ('ca_path', 'digitro_ca_path'),
                        ('api_overrides', 'digitro_api_overrides'))


class PipelinedModuleAction(ActionBase):
    """``ansible.builtin.normal`` for a module whose arguments must never be written to a file."""

    _supports_check_mode = True
    _supports_async = True  # accepted here only to refuse it below with a message that says why
    # True for digitro_password, whose empty batch is the rotation's connection check (plugin_utils/_connection_check.py)
    checks_connection = False

    def run(self, tmp=None, task_vars=None):
        del tmp  # no longer has any effect (as in ansible.builtin.normal)
        wrap_async = bool(self._task.async_val) and not self._connection.has_native_async
        undo = self._force_pipelining()
        try:
            problem = self._why_not_pipelined(wrap_async)
            if problem:
                raise AnsibleActionFail(
                    '%s carries passwords and runs only pipelined, so that no password is written to a temporary '
                    'file; %s' % (self._module_fqcn(), problem))
            result = super(PipelinedModuleAction, self).run(None, task_vars)
            args = self._with_connection(task_vars or {})
            # a job killed by its process group leaves this worker running (its own session): start no module
            # for it, and end the worker if the job goes while its module runs (plugin_utils/_controller_watch.py)
            controller = controller_pid()
            if controller_gone(controller):
                raise AnsibleActionFail(gone_message(self._module_fqcn()))
            if self._checks_here(task_vars or {}):
                self._progress_interval(task_vars or {})  # a wrong one still fails here, before anything is staged
                with ControllerWatch(controller):
                    return merge_hash(result, check_connection(args))
            with self._progress_watch(args, task_vars or {}), ControllerWatch(controller):
                done = self._execute_module(module_args=args, task_vars=task_vars, wrap_async=wrap_async)
            if isinstance(self._task.args.get('batch'), str) and isinstance(done.get('results'), list):
                # a batch given as text gets its results as text: ten thousand of them cost Ansible seconds to pass
                # to its callbacks and the next task as a list (the same reason as for the batch)
                done['results'] = json.dumps(done['results'], separators=(',', ':'))
            return merge_hash(result, done)
        finally:
            undo()
            # remove a temporary directory Ansible made (it holds no module file), also after a failure
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _checks_here(self, task_vars):
        """True when the task only checks the connection (``batch: []``, plugin_utils/_connection_check.py) and its
        module would run here, as this process runs: on the controller, as this user, with this Python, through the
        default shell, with no environment of the task's own. Otherwise (another interpreter, which may not even
        start; a shell or a PYTHONHOME that breaks it) the module runs, so that whatever would stop the rotation's
        module stops its check, before anything is staged."""
        connection = self._connection
        if not (self.checks_connection and is_connection_check(self._task.args)
                and getattr(connection, 'transport', None) == 'local'
                and connection.become is None and not getattr(self._play_context, 'become', False)
                and not self._task_environment()):
            return False
        variables = self._module_host_vars(task_vars)
        return (self._templated(variables.get('ansible_shell_executable')) in (None, C.DEFAULT_EXECUTABLE)
                and self._templated(variables.get('ansible_python_interpreter')) == sys.executable)

    def _module_host_vars(self, task_vars):
        """The variables of the host the module would run on (the delegated one's; the implicit localhost's
        interpreter is this process's)."""
        delegate_to = getattr(self._task, 'delegate_to', None)
        if delegate_to:
            return (task_vars.get('ansible_delegated_vars') or {}).get(delegate_to) or {}
        return task_vars

    def _task_environment(self):
        """The task's ``environment`` as the module's process would get it (empty when it sets none)."""
        environment = {}
        if self._task.environment:
            self._compute_environment_string(environment)
        return environment

    def _templated(self, value):
        """A host variable's value, templated (the templar is None where the action is built by hand: tests)."""
        return self._templar.template(value) if value is not None and self._templar is not None else value

    def _with_connection(self, task_vars):
        """The task's arguments, with each connection option it does not set taken from the PABX host's variable
        (``digitro_url``, ...): the one way roles and playbooks pass the connection to every module."""
        args = dict(self._task.args)
        for option, variable in CONNECTION_VARIABLES:
            if option not in args and variable in task_vars:
                args[option] = self._templar.template(task_vars[variable])
        if isinstance(args.get('batch'), str):
            args['batch'] = self._batch_from_text(args['batch'])
        return args

    def _batch_from_text(self, text):
        """A ``batch`` given as the JSON text of its list, as the rotation role hands it over (``rotation_batch``):
        Ansible passes a text from task to task as it is, where it walks every entry of a list each time."""
        try:
            batch = json.loads(text)
        except ValueError:
            batch = None
        if not isinstance(batch, list):
            raise AnsibleActionFail('%s: batch must be a list of entries, or the JSON text of one (as the '
                                    'digitro.pabx.rotation_batch filter gives it)' % self._module_fqcn())
        return batch

    def _progress_interval(self, task_vars):
        """``digitro_progress_interval`` in seconds; fails the task, naming it, when it is not one."""
        value = self._templated(task_vars.get(INTERVAL_VARIABLE))
        try:
            return interval_of(value)
        except (TypeError, ValueError):
            raise AnsibleActionFail('%s must be 0 (no progress) or a number of seconds from 1 to 3600, not %r'
                                    % (INTERVAL_VARIABLE, value))

    def _progress_watch(self, args, task_vars):
        """Shows the batch's progress while the module runs (plugin_utils/_progress_display.py)."""
        interval = self._progress_interval(task_vars)
        connection = getattr(self._connection, '_load_name', None) or getattr(self._connection, 'transport', None)
        return ProgressWatch(args, connection, task_vars.get('inventory_hostname', 'localhost'),
                             self._module_fqcn().rsplit('.', 1)[-1], interval)

    def _transfer_data(self, remote_path, data):
        """The backstop: should Ansible decide not to pipeline after all, write nothing."""
        raise AnsibleActionFail('%s carries passwords and runs only pipelined; Ansible was about to write it to %s '
                                'instead: nothing was written and the module did not run'
                                % (self._module_fqcn(), remote_path))

    def _transfer_file(self, local_path, remote_path):
        return self._transfer_data(remote_path, None)

    def _module_fqcn(self):
        return getattr(self._task, 'resolved_action', None) or self._task.action

    def _force_pipelining(self):
        """Turn pipelining on for this task; returns a function that puts the previous setting back.

        The option is set on this task's connection object, after Ansible has set it from the
        configuration and the host's variables (``ansible_pipelining``), so it wins over both.
        A connection plugin without the option falls back to the play context, as
        ``ConnectionBase.is_pipelining_enabled`` does.
        """
        connection = self._connection
        try:
            before = connection.get_option('pipelining')
        except (KeyError, AnsibleError):
            before = None
        if before is not None:
            try:
                connection.set_option('pipelining', True)
                return lambda: connection.set_option('pipelining', before)
            except (KeyError, AnsibleError):
                pass
        context = self._play_context
        previous = getattr(context, 'pipelining', None)
        try:
            context.pipelining = True
        except (AttributeError, TypeError, ValueError):
            return lambda: None

        def undo():
            try:
                context.pipelining = previous
            except (AttributeError, TypeError, ValueError):
                pass
        return undo

    def _why_not_pipelined(self, wrap_async):
        """None when Ansible will pipeline this task, otherwise what stops it and what to do."""
        connection = self._connection
        if self._task.async_val and not connection.has_native_async:
            return ('the task uses async, which Ansible runs from a file: remove async and poll from the task '
                    '(the module has its own concurrency and timeouts)')
        if C.DEFAULT_KEEP_REMOTE_FILES:
            return 'ANSIBLE_KEEP_REMOTE_FILES is set: unset it (or set it to false)'
        if C.DEFAULT_DEBUG:
            return ("ANSIBLE_DEBUG is set, and Ansible's debug lines print every module's arguments: unset it (or set "
                    "it to false); -vvvv shows what a run does without them")
        if self._is_pipelining_enabled('new', wrap_async):
            return None
        name = getattr(connection, '_load_name', None) or getattr(connection, 'transport', None) or 'this'
        if not (connection.has_pipelining or connection.always_pipeline_modules):
            return ('the %s connection cannot pipeline: run the task with delegate_to: localhost (or connection: '
                    'local), as the modules talk to the PABX over HTTPS from wherever they run' % name)
        become = connection.become
        if become is not None and not getattr(become, 'pipelining', True):
            method = getattr(become, '_load_name', None) or getattr(become, 'name', None) or 'this'
            return ('become method %s cannot pipeline: leave become off for this task (the module needs no '
                    'privileges) or use a method that pipelines, such as sudo' % method)
        return ('the %s connection will not pipeline here (for ssh, a tty requested with -t in ssh_args, or '
                'usetty): run the task with delegate_to: localhost or drop the tty request' % name)
