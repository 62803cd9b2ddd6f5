"""Progress of a batch: the module's counts file, the controller's reading of it, and the module runs' bounds."""
import os
import stat
import subprocess
import sys
import threading

import pytest

from ansible_collections.digitro.pabx.plugins.module_utils._batch import run_batch
from ansible_collections.digitro.pabx.plugins.module_utils._progress import ProgressFile, read_progress
from ansible_collections.digitro.pabx.plugins.plugin_utils import _outcome
from ansible_collections.digitro.pabx.plugins.plugin_utils._progress_display import (
    PREFIX, ProgressWatch, interval_of, progress_line, sweep_stale)


def test_the_file_holds_the_counts_while_the_batch_runs_and_the_final_ones_after(tmp_path):
    path = str(tmp_path / 'progress.json')
    release = threading.Event()
    seen = []

    def worker(entry):
        if entry == 5:
            seen.append(read_progress(path))  # written at the start and every 20 ms since
            release.set()
        return {'failed': entry % 4 == 0}
    with ProgressFile(path, 10, every=0.02) as progress:
        results = run_batch(list(range(10)), worker, 1, on_result=progress.count)
    assert len(results) == 10 and release.is_set()
    assert seen[0]['total'] == 10 and 0 <= seen[0]['done'] <= 5
    assert read_progress(path) == {'done': 10, 'total': 10, 'failed': 3}  # 0, 4 and 8
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not os.path.exists(path + '.part')


def test_counts_add_up_across_threads(tmp_path):
    path = str(tmp_path / 'progress.json')
    with ProgressFile(path, 500, every=0.01) as progress:
        run_batch(list(range(500)), lambda entry: {'failed': entry < 7}, 16, on_result=progress.count)
    assert read_progress(path) == {'done': 500, 'total': 500, 'failed': 7}


def test_a_link_planted_beside_the_file_is_not_written_through(tmp_path):
    victim = tmp_path / 'victim'
    victim.write_text('keep me')
    path = tmp_path / 'progress.json'
    for planted in (str(path) + '.part', str(path)):
        if path.exists():
            path.unlink()
        os.symlink(str(victim), planted)
        with ProgressFile(str(path), 1) as progress:
            progress.count({})
        assert victim.read_text() == 'keep me'
        assert not path.is_symlink() and read_progress(str(path))['done'] == 1
        if os.path.lexists(planted):
            os.remove(planted)


def test_a_directory_gone_does_not_fail_the_batch(tmp_path):
    path = str(tmp_path / 'gone' / 'progress.json')
    with ProgressFile(path, 2) as progress:
        assert len(run_batch([1, 2], lambda entry: {}, 2, on_result=progress.count)) == 2
    assert read_progress(path) is None


@pytest.mark.parametrize('content', ['', '{"done": 1', '[1, 2]', '{"done": "1", "total": 2, "failed": 0}'])
def test_a_half_written_or_strange_file_reads_as_none(tmp_path, content):
    path = tmp_path / 'progress.json'
    path.write_text(content)
    assert read_progress(str(path)) is None


def test_the_line_says_counts_and_never_an_entry():
    line = progress_line('pabx-sp', 'digitro_password', {'done': 3412, 'total': 10000, 'failed': 2}, 25.7)
    assert line == 'pabx-sp: digitro_password 3,412 of 10,000 entries done, 2 failed (25 s)'


@pytest.mark.parametrize('value, seconds', [(None, 5.0), ('', 5.0), (0, 0.0), ('2.5', 2.5), (10, 10.0), (1, 1.0),
                                            ('3600', 3600.0)])
def test_interval_values(value, seconds):
    assert interval_of(value) == seconds


@pytest.mark.parametrize('value', ['often', '-1', 'nan', 'inf', [5], True, 0.0001, '0.5', 1e10, 3601])
def test_interval_values_refused(value):
    with pytest.raises((ValueError, TypeError)):
        interval_of(value)


@pytest.mark.parametrize('connection, args, interval, wanted', [
    ('local', {'batch': [{}, {}]}, 5, True),
    ('ansible.builtin.local', {'batch': [{}, {}]}, 5, True),
    ('ssh', {'batch': [{}, {}]}, 5, False),          # the file would be on the other host
    ('local', {'batch': [{}]}, 5, False),            # one entry: nothing to follow
    ('local', {'device': '1000'}, 5, False),
    ('local', {'batch': [{}, {}]}, 0, False),        # asked for none
    ('local', {'batch': [{}, {}], 'progress_file': '/x'}, 5, False),  # the task's own file is left alone
])
def test_progress_is_watched_only_where_the_file_can_be_read(connection, args, interval, wanted):
    watch = ProgressWatch(dict(args), connection, 'pabx', 'digitro_password', interval)
    with watch:
        assert ('progress_file' in watch.args and watch.args['progress_file'] != '/x') is wanted
        directory = os.path.dirname(watch.args.get('progress_file', '/x'))
        if wanted:
            assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    if wanted:
        assert not os.path.exists(directory)  # removed after the module's run


def dead_pid():
    child = subprocess.Popen([sys.executable, '-c', ''])
    child.wait()
    return child.pid


def test_a_killed_workers_directory_is_swept_and_nothing_else(tmp_path):
    gone = tmp_path / ('%s%d-abc' % (PREFIX, dead_pid()))
    gone.mkdir(mode=0o700)
    (gone / 'progress.json').write_text('{}')
    ours = tmp_path / ('%s%d-def' % (PREFIX, os.getpid()))       # a run still going
    ours.mkdir()
    other = tmp_path / ('%sx-ghi' % PREFIX)                     # not our name
    other.mkdir()
    target = tmp_path / 'elsewhere'
    target.mkdir()
    (target / 'keep').write_text('')
    link = tmp_path / ('%s%d-jkl' % (PREFIX, dead_pid()))       # a link is never followed nor removed
    link.symlink_to(target)
    sweep_stale(str(tmp_path))
    assert not gone.exists()
    assert ours.exists() and other.exists() and link.is_symlink() and (target / 'keep').exists()


def test_a_missing_parent_is_no_error(tmp_path):
    sweep_stale(str(tmp_path / 'nothing'))


@pytest.mark.parametrize('total, size, bounds', [
    (12000, 5000, [(0, 5000), (5000, 10000), (10000, 12000)]),
    (12000, 0, [(0, 12000)]),   # 0: one module run
    (0, 0, []),
    (3, 1, [(0, 1), (1, 2), (2, 3)]),
])
def test_module_runs_over_a_batch(total, size, bounds):
    assert [(c['first'], c['last']) for c in _outcome.chunks(total, size)] == bounds
