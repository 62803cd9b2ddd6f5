"""digitro_password with batch: [] (the rotation's connection check) is checked in the action's worker against the
PABX, without a module process (plugin_utils/_connection_check.py); every other task runs its module as before."""
import os
import sys
from unittest import mock

import pytest
from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from conftest import API_KEY
from ansible_collections.digitro.pabx.plugins.action.digitro_password import ActionModule
from ansible_collections.digitro.pabx.plugins.module_utils._module import UNVERIFIED_WARNING
from ansible_collections.digitro.pabx.plugins.plugin_utils import _pipelined_action
from ansible_collections.digitro.pabx.plugins.plugin_utils._connection_check import is_connection_check
from ansible_collections.digitro.pabx.plugins.plugin_utils._controller_watch import gone_message

CHECKED = {'changed': False, 'results': [], 'summary': {}}


class LocalConnection(object):
    """The local connection, as far as the action sees it; running anything on it is a module process."""
    transport = 'local'
    _load_name = 'ansible.builtin.local'
    become = None
    has_native_async = False
    has_pipelining = True
    always_pipeline_modules = False

    def __init__(self):
        self._shell = mock.Mock(tmpdir=None)

    def get_option(self, name):
        return True

    def set_option(self, name, value):
        pass

    def exec_command(self, *args, **kwargs):
        pytest.fail('a command ran on the connection: a module process for a connection check')

    def put_file(self, *args, **kwargs):
        pytest.fail('a file was written on the connection')


class Action(ActionModule):
    """digitro_password's action with what surrounds it in Ansible replaced: it records the module runs it starts."""

    def __init__(self, args, environment=None):  # pylint: disable=super-init-not-called
        self._task = mock.Mock(async_val=0, args=args, environment=environment, delegate_to=None,
                               resolved_action='digitro.pabx.digitro_password')
        self._connection = LocalConnection()
        self._play_context = mock.Mock(become=False)
        self._templar = mock.Mock(template=lambda value: value)
        self.runs = []

    def run(self, tmp=None, task_vars=None):
        # the implicit localhost's interpreter is this process's, unless a test says otherwise
        return super(Action, self).run(tmp, dict({'ansible_python_interpreter': sys.executable}, **(task_vars or {})))

    def _is_pipelining_enabled(self, module_style, wrap_async=False):
        return True

    def _remove_tmp_path(self, tmp_path, force=False):
        pass

    def _execute_module(self, **kwargs):
        self.runs.append(kwargs['module_args'])
        return {'changed': True, 'ran': 'module'}


@pytest.fixture(autouse=True)
def no_ansible_run(monkeypatch):
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})
    for name in ('DIGITRO_URL', 'DIGITRO_API_KEY', 'DIGITRO_CA_PATH', 'DIGITRO_VALIDATE_CERTS', 'DIGITRO_API_OVERRIDES'):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def pabx(start_emulator):
    return start_emulator(devices=2, accounts=0, dac_devices=0)


def test_an_empty_batch_is_checked_without_a_module(pabx):
    action = Action({'batch': [], 'url': pabx.url, 'api_key': API_KEY})
    assert action.run(task_vars={}) == CHECKED
    assert action.runs == []


def test_the_connection_comes_from_the_host_variables_or_the_environment(pabx, monkeypatch):
    host = {'digitro_url': pabx.url, 'digitro_api_key': API_KEY}
    action = Action({'batch': []})
    assert action.run(task_vars=host) == CHECKED and action.runs == []
    # a task with an environment of its own (which could break the module's Python: PYTHONHOME) runs its module
    action = Action({'batch': []}, environment=[{'DIGITRO_URL': pabx.url}, {'DIGITRO_API_KEY': API_KEY}])
    assert action.run(task_vars={})['ran'] == 'module' and len(action.runs) == 1
    monkeypatch.setenv('DIGITRO_URL', pabx.url)
    monkeypatch.setenv('DIGITRO_API_KEY', API_KEY)
    monkeypatch.setenv('DIGITRO_VALIDATE_CERTS', 'no')
    action = Action({'batch': []})
    assert action.run(task_vars={}) == dict(CHECKED, warnings=[UNVERIFIED_WARNING]) and action.runs == []


def test_failures_name_the_setting_and_never_the_key(pabx, monkeypatch):
    wrong = Action({'batch': [], 'url': pabx.url, 'api_key': 'not-the-key'}).run(task_vars={})
    assert wrong['failed'] is True and wrong['status'] == 401
    assert 'HTTP 401' in wrong['msg'] and 'check api_key' in wrong['msg'] and 'not-the-key' not in str(wrong)
    down = Action({'batch': [], 'url': 'http://127.0.0.1:9', 'api_key': API_KEY}).run(task_vars={})
    assert down['failed'] is True and 'Could not open the event channel at http://127.0.0.1:9' in down['msg']
    unset = Action({'batch': []}).run(task_vars={})
    assert unset['failed'] is True and unset['msg'].startswith('invalid input: url is not set: set the PABX host')
    assert 'api_key is not set' in unset['msg']
    userinfo = Action({'batch': [], 'url': 'https://admin:s3cr3t@pabx', 'api_key': API_KEY}).run(task_vars={})
    assert 'must not carry a user name or password' in userinfo['msg'] and 's3cr3t' not in str(userinfo)
    typed = Action({'batch': [], 'url': pabx.url, 'api_key': API_KEY, 'concurrency': 'many'}).run(task_vars={})
    assert typed['failed'] is True and "argument 'concurrency' is of type str" in typed['msg']
    monkeypatch.setenv('DIGITRO_CA_PATH', os.path.abspath(__file__))  # not a certificate
    unreadable = Action({'batch': [], 'url': 'https://127.0.0.1:9', 'api_key': API_KEY}).run(task_vars={})
    assert unreadable['failed'] is True and 'cannot be read as CA certificates' in unreadable['msg']
    assert 'Traceback' not in str([wrong, down, unset, userinfo, typed, unreadable])


@pytest.mark.parametrize('args', [
    {'batch': '[]'},                                                       # the JSON text: as before, the module
    {'batch': [{'device': '2000', 'device_password': '1357', 'new_password': '8642'}]},
    {'device': '2000', 'device_password': '1357', 'new_password': '8642'},  # the single form
    {'batch': [], 'lock_file': '/tmp/lock'},                               # options the check does not read
    {'batch': [], 'journal': '/tmp/journal'},
    {'batch': [], 'max_wrong_attempts': 0},
    {'batch': None},
])
def test_anything_but_an_empty_batch_runs_the_module(args):
    action = Action(dict(args, url='http://127.0.0.1:9', api_key=API_KEY))
    assert action.run(task_vars={})['ran'] == 'module' and len(action.runs) == 1


def test_an_empty_batch_elsewhere_or_as_another_user_runs_the_module():
    remote = Action({'batch': [], 'url': 'http://127.0.0.1:9', 'api_key': API_KEY})
    remote._connection.transport = 'ssh'
    become = Action({'batch': [], 'url': 'http://127.0.0.1:9', 'api_key': API_KEY})
    become._connection.become = mock.Mock(pipelining=True)
    for action in (remote, become):
        assert action.run(task_vars={})['ran'] == 'module' and len(action.runs) == 1


def test_an_empty_batch_for_another_interpreter_or_shell_runs_the_module(pabx):
    """A module that would run with another Python or shell (which may not even start) runs: whatever stops the rotation's
    module must stop its check, before anything is staged."""
    args = {'batch': [], 'url': pabx.url, 'api_key': API_KEY}
    other = Action(dict(args))
    assert other.run(task_vars={'ansible_python_interpreter': '/nonexistent/python3'})['ran'] == 'module'
    discovered = Action(dict(args))
    assert discovered.run(task_vars={'ansible_python_interpreter': None})['ran'] == 'module'
    delegated = Action(dict(args))
    delegated._task.delegate_to = 'localhost'
    assert delegated.run(task_vars={'ansible_delegated_vars': {'localhost': {
        'ansible_python_interpreter': sys.executable}}}) == CHECKED and delegated.runs == []
    elsewhere = Action(dict(args))
    elsewhere._task.delegate_to = 'localhost'
    assert elsewhere.run(task_vars={'ansible_delegated_vars': {'localhost': {
        'ansible_python_interpreter': '/usr/bin/python3.6'}}})['ran'] == 'module'
    shell = Action(dict(args))  # a shell that does not exist: the module's process would not start
    assert shell.run(task_vars={'ansible_shell_executable': '/nonexistent/bash'})['ran'] == 'module'
    default_shell = Action(dict(args))
    assert default_shell.run(task_vars={'ansible_shell_executable': C.DEFAULT_EXECUTABLE}) == CHECKED


def test_the_pipelining_refusals_and_the_controller_watch_still_come_first(pabx, monkeypatch):
    monkeypatch.setattr(C, 'DEFAULT_KEEP_REMOTE_FILES', True)
    action = Action({'batch': [], 'url': pabx.url, 'api_key': API_KEY})
    with pytest.raises(AnsibleActionFail) as refused:
        action.run(task_vars={})
    assert 'ANSIBLE_KEEP_REMOTE_FILES is set' in str(refused.value)
    monkeypatch.setattr(C, 'DEFAULT_KEEP_REMOTE_FILES', False)
    monkeypatch.setattr(_pipelined_action, 'controller_pid', os.getpid)  # not our parent: the job is gone
    with pytest.raises(AnsibleActionFail) as gone:
        action.run(task_vars={})
    assert str(gone.value) == gone_message('digitro.pabx.digitro_password') and action.runs == []


def test_a_wrong_progress_interval_still_fails_the_check(pabx):
    action = Action({'batch': [], 'url': pabx.url, 'api_key': API_KEY})
    with pytest.raises(AnsibleActionFail) as wrong:
        action.run(task_vars={'digitro_progress_interval': 'often'})
    assert 'digitro_progress_interval must be 0 (no progress)' in str(wrong.value) and action.runs == []


def test_only_digitro_password_checks_in_the_worker(pabx):
    action = Action({'batch': [], 'url': pabx.url, 'api_key': API_KEY})
    action.checks_connection = False  # digitro_user_validate, digitro_dac_session
    assert action.run(task_vars={})['ran'] == 'module'


def test_what_counts_as_a_connection_check():
    assert is_connection_check({'batch': []})
    assert is_connection_check({'batch': [], 'url': 'x', 'api_key': 'k', 'timeout': 3, 'ca_path': '/c', 'channel_id': 1,
                                'validate_certs': True, 'api_overrides': {}, 'concurrency': 2, 'rate_limit': 1,
                                'breaker_threshold': 2, 'lock_timeout': 5})
    for args in ({}, {'batch': '[]'}, {'batch': ()}, {'batch': [{}]}, {'batch': [], 'progress_file': '/p'},
                 {'batch': [], 'confirm_timeout': 1}, {'device': '2000'}):
        assert not is_connection_check(args), args
