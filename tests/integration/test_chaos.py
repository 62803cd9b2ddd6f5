"""A CI-sized chaos run: a fixed seed set of fault scenarios, with the same invariants as the full run."""
import os

from conftest import REPO_ROOT

import chaos  # tests/chaos/chaos.py


def test_fixed_seed_chaos_scenarios(tmp_path, capsys):
    figures = str(tmp_path / 'chaos.json')
    assert chaos.main(['--scenarios', '2', '--seed', '1', '--devices', '10', '--accounts', '1',
                       '--json', figures]) == 0, capsys.readouterr().out
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith('chaos: scenarios=2 ') and ' lost=0 ' in line
    assert os.path.exists(figures) and REPO_ROOT


# The reported lockouts: PINs changed at the console, then audits, --check and dry runs and rotations against
# the stale store, a resolving import, a kill and late applies; then a random schedule.
PLAN = 'console,console,audit,check,check,dry,rotate,rotate,resolve,rotate,kill,late,rotate,check,dry,rotate'


def test_schedules_across_runs(tmp_path, capsys):
    import schedules  # tests/chaos/schedules.py
    figures = str(tmp_path / 'schedules.json')
    assert schedules.main(['--schedules', '1', '--seed', '5', '--devices', '10', '--accounts', '2', '--plan', PLAN,
                           '--json', figures]) == 0, capsys.readouterr().out
    planned = capsys.readouterr().out.strip().splitlines()[-1]
    assert ' quarantined=0 ' not in planned  # the console changes were caught, and nothing was sent for them
    assert schedules.main(['--schedules', '1', '--steps', '8', '--seed', '3', '--devices', '10', '--accounts', '2',
                           '--json', figures]) == 0, capsys.readouterr().out
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith('schedules: schedules=1 runs=') and ' budget=2' in line
    assert int(line.split('max_wrong_attempts_per_entry=')[1].split()[0]) <= 2
