"""The worker's watch on its ansible-playbook process (plugin_utils/_controller_watch.py), the password modules'
action refusing to start a module for a job whose ansible-playbook process is gone, and the module's side: its
client stops once the worker that reads its output is gone (module_utils/_client.stop_when_orphaned)."""
import contextlib
import multiprocessing
import os
import select
import sys
import threading
import time
from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.digitro.pabx.plugins.module_utils._client import stop_when_orphaned
from ansible_collections.digitro.pabx.plugins.plugin_utils import _controller_watch, _pipelined_action
from ansible_collections.digitro.pabx.plugins.plugin_utils._controller_watch import (
    ControllerWatch, controller_gone, controller_pid, gone_message)

FORK = multiprocessing.get_context('fork')  # as ansible-core starts its workers


def _report_controller(connection):
    connection.send((controller_pid(), os.getppid(), controller_gone(controller_pid())))


def test_a_worker_knows_the_process_it_was_forked_from_and_sees_it_alive():
    ours, theirs = FORK.Pipe()
    worker = FORK.Process(target=_report_controller, args=(theirs,))
    worker.start()
    assert ours.recv() == (os.getpid(), os.getpid(), False)
    worker.join()


def test_outside_a_worker_there_is_no_controller_and_nothing_is_watched():
    assert controller_pid() is None  # the test process itself: not forked by multiprocessing
    assert controller_gone(None) is False
    with ControllerWatch(None, interval=0.01, end=pytest.fail) as watch:
        time.sleep(0.05)
    assert watch._thread is None


def test_a_forkserver_or_spawn_child_is_not_taken_for_an_orphan(monkeypatch):
    # its parent is the fork server from the start: getppid() differs from the process that asked for it
    monkeypatch.setattr(multiprocessing, 'parent_process', lambda: mock.Mock(pid=os.getppid()))
    monkeypatch.setattr(multiprocessing, 'current_process', lambda: mock.Mock(_start_method='forkserver'))
    assert controller_pid() is None
    monkeypatch.setattr(multiprocessing, 'current_process', lambda: mock.Mock(_start_method='fork'))
    assert controller_pid() == os.getppid()


def test_the_controller_is_gone_once_this_process_has_another_parent():
    assert controller_gone(os.getppid()) is False
    assert controller_gone(os.getpid()) is True  # any pid but the parent's: reparented to init or a subreaper


def test_the_watch_ends_the_process_once_the_controller_is_gone_and_only_once():
    ended = []
    with ControllerWatch(os.getpid(), interval=0.01, end=lambda: ended.append(True)):
        deadline = time.monotonic() + 5
        while not ended and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
    assert ended == [True]


def test_the_watch_leaves_a_live_controller_alone_and_stops_with_the_block():
    with ControllerWatch(os.getppid(), interval=0.01, end=pytest.fail) as watch:
        time.sleep(0.1)
    assert not watch._thread.is_alive()
    assert not [t for t in threading.enumerate() if t.name == 'digitro-controller-watch']


def test_a_worker_whose_controller_dies_ends_within_seconds():
    watching, ready = FORK.Pipe(duplex=False)
    alive_read, alive_write = os.pipe()
    controller = FORK.Process(target=_controller_then_exit, args=(ready, alive_read, alive_write))
    controller.start()
    os.close(alive_write)
    try:
        assert watching.poll(30) and watching.recv() == 'watching'
        controller.join(10)
        # the worker holds the pipe's write end until it ends: its end reads as EOF
        started = time.monotonic()
        readable, _w, _x = select.select([alive_read], [], [], 10)
        assert readable and os.read(alive_read, 1) == b''
        assert time.monotonic() - started < 3
    finally:
        os.close(alive_read)


def _controller_then_exit(ready, alive_read, alive_write):
    os.close(alive_read)
    worker = FORK.Process(target=_worker_holding, args=(ready, alive_write))
    worker.start()
    os.close(alive_write)
    time.sleep(0.2)  # most likely while the worker watches (had it not started yet, it would see it at its first look)
    os._exit(0)  # as a SIGKILLed ansible-playbook: the worker is handed to init


def _worker_holding(ready, alive_write):
    with ControllerWatch(controller_pid()):
        ready.send('watching')
        time.sleep(20)  # a module run that outlives its job, unless the watch ends it
    os.close(alive_write)


# -- the action -------------------------------------------------------------------------------------------------


class RecordingAction(_pipelined_action.PipelinedModuleAction):
    """The action with what surrounds it in Ansible replaced: it records the module runs it would start."""

    def __init__(self):  # pylint: disable=super-init-not-called
        self._task = mock.Mock(async_val=0, args={'entries': []}, resolved_action='digitro.pabx.digitro_password')
        self._connection = mock.Mock(has_native_async=False, _load_name='local')
        self._connection.get_option.return_value = True
        self._play_context = mock.Mock()
        self._templar = None
        self.runs = []

    def _why_not_pipelined(self, wrap_async):
        return None

    def _remove_tmp_path(self, tmp_path, force=False):
        pass

    def _execute_module(self, **kwargs):
        self.runs.append(kwargs)
        return {'changed': True}


@pytest.fixture
def action(monkeypatch):
    monkeypatch.setattr(ActionBase, 'run', lambda self, tmp=None, task_vars=None: {})
    return RecordingAction()


def test_no_module_is_started_for_a_job_whose_playbook_process_is_gone(action, monkeypatch):
    monkeypatch.setattr(_pipelined_action, 'controller_pid', os.getpid)  # not our parent: gone
    with pytest.raises(AnsibleActionFail) as failed:
        action.run(task_vars={})
    assert action.runs == []
    assert str(failed.value) == gone_message('digitro.pabx.digitro_password')
    assert 'ansible-playbook process that ran this task is gone' in str(failed.value)
    assert 'nothing was sent' in str(failed.value) and 'next run resumes' in str(failed.value)


def test_the_module_runs_under_the_watch_while_the_playbook_process_lives(action, monkeypatch):
    watched = []
    monkeypatch.setattr(_pipelined_action, 'controller_pid', os.getppid)

    class Recorded(ControllerWatch):
        def __enter__(self):
            watched.append(self.controller)
            return super(Recorded, self).__enter__()
    monkeypatch.setattr(_pipelined_action, 'ControllerWatch', Recorded)
    assert action.run(task_vars={}) == {'changed': True}
    assert len(action.runs) == 1 and watched == [os.getppid()]


def test_an_action_built_by_hand_runs_its_module_unwatched(action):
    assert action.run(task_vars={}) == {'changed': True} and len(action.runs) == 1


def test_the_default_end_kills_this_process_alone(monkeypatch):
    sent = []
    monkeypatch.setattr(os, 'kill', lambda pid, signum: sent.append((pid, signum)))
    monkeypatch.setattr(os, 'killpg', lambda *a: pytest.fail('the process group: the module would die mid-request'))
    _controller_watch.end_this_process()
    assert sent == [(os.getpid(), _controller_watch.signal.SIGKILL)]


# -- the module's side --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def module_output():
    """The module's stdout as Ansible gives it: a pipe, whose read end (the worker's) the test holds. Set within the
    test itself: pytest puts its own capture back on sys.stdout between a fixture and the test."""
    reader, writer = os.pipe()
    saved, sys.stdout = sys.stdout, os.fdopen(writer, 'w')
    try:
        yield reader
    finally:
        output, sys.stdout = sys.stdout, saved
        output.close()


def test_the_module_stops_sending_once_its_worker_is_gone():
    client = mock.Mock(stopped=threading.Event())
    with module_output() as worker_side:
        thread = stop_when_orphaned(client, interval=0.05)
        time.sleep(0.1)
        assert not client.stopped.is_set()  # its worker reads
        os.close(worker_side)  # the worker is killed
        thread.join(5)
    assert client.stopped.is_set() and not thread.is_alive()


def test_a_module_whose_worker_died_while_it_waited_for_the_lock_sends_nothing():
    client = mock.Mock(stopped=threading.Event())
    with module_output() as worker_side:
        os.close(worker_side)
        # stopped before its first request, not a poll later
        assert stop_when_orphaned(client, interval=60) is None
    assert client.stopped.is_set()
