"""The report_files action: both report files, private to the team, rewritten only when they change."""
import json
import os
import stat

PLAYBOOK = 'tests/integration/playbooks/report_files.yml'


def test_writes_both_files_then_changes_only_what_differs_and_nothing_in_check_mode(run_playbook, tmp_path):
    directory = tmp_path / 'reports'
    first = run_playbook(PLAYBOOK, dict(report_dir=str(directory), report_text='all fine\n', report_checked=3))
    assert first.result['changed'] is True
    text, document = directory / 'pabx1-check.txt', directory / 'pabx1-check.json'
    assert text.read_text() == 'all fine\n' and json.loads(document.read_text()) == {'counts': {'checked': 3}}
    assert [stat.S_IMODE(os.stat(p).st_mode) for p in (directory, text, document)] == [0o750, 0o640, 0o640]
    again = run_playbook(PLAYBOOK, dict(report_dir=str(directory), report_text='all fine\n', report_checked=3))
    assert again.result['changed'] is False
    planned = run_playbook(PLAYBOOK, dict(report_dir=str(directory), report_text='changed\n', report_checked=3),
                           check=True)
    assert planned.result['changed'] is True and text.read_text() == 'all fine\n'
    assert sorted(os.listdir(directory)) == ['pabx1-check.json', 'pabx1-check.txt']  # no temporary file left


def test_a_directory_that_cannot_be_written_is_named(run_playbook, tmp_path):
    blocker = tmp_path / 'a-file'
    blocker.write_text('not a directory')
    failed = run_playbook(PLAYBOOK, dict(report_dir=str(blocker / 'reports'), report_text='x\n', report_checked=1))
    assert failed.result['failed'] and 'could not write the report' in failed.result['msg']
    assert '_report_dir' in failed.result['msg'] and 'Traceback' not in failed.output
