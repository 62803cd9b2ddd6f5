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
