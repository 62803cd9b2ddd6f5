"""The password_audit role: drift and weak PINs found, healthy after a rotation, no PIN in any report."""
import re

from pabx_site import Site

WEAK, DRIFTED = '111111', '73951'


def test_audit_finds_drift_and_weak_pins_then_passes_after_rotation(start_emulator, tmp_path):
    emulator = start_emulator(devices=40, accounts=5, dac_devices=0)
    numbers = list(emulator.site['devices'])
    emulator.site['devices'][numbers[0]]['password'] = WEAK   # the export (CSV) shows the weak PIN...
    emulator.control(set_passwords=[['devices', numbers[0], WEAK]])   # ...that the PABX really has
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    emulator.control(set_passwords=[['devices', numbers[1], DRIFTED]])   # changed at the console

    audit = site.run('audit_passwords.yml', check=True)
    assert audit.returncode != 0  # findings over the default threshold of 0
    assert 'never changes a password' in audit.stdout
    report = site.latest_report(prefix='pabx1-audit-')
    flagged = dict((row['number'], [f['finding'] for f in row['findings']]) for row in report['entries'])
    assert 'out_of_sync' in flagged[numbers[1]] and 'out_of_sync' not in flagged[numbers[0]]
    assert 'weak' in flagged[numbers[0]]
    assert report['counts']['age_unknown'] == 45 and report['counts']['out_of_sync'] == 1
    assert emulator.state()['devices'][numbers[1]]['wrong_attempts'] == 1  # tried once, never guessed
    assert 'op_altera-senha' not in emulator.state()['stats']
    text = site.latest_report('.txt', prefix='pabx1-audit-')
    for secret in (WEAK, DRIFTED, site.secret):
        assert secret not in text + audit.stdout + repr(report)

    # the audit quarantined the drifted device: nothing more is sent for it, and rotations fail, until a
    # person resolves it by importing what the console shows
    assert site.store()['devices'][numbers[1]]['quarantined']
    blocked = site.run('rotate_passwords.yml')
    assert blocked.returncode != 0 and '1 entries are quarantined' in blocked.stdout
    assert emulator.state()['devices'][numbers[1]]['wrong_attempts'] == 1  # the rotation sent it nothing
    with open(site.csv_path, 'w') as handle:
        handle.write('kind,number,password\ndevice,%s,%s\n' % (numbers[1], DRIFTED))
    assert site.run('import_passwords.yml').returncode == 0
    assert not site.store()['devices'][numbers[1]].get('quarantined')
    assert site.run('rotate_passwords.yml').returncode == 0
    healthy = site.run('audit_passwords.yml')
    assert healthy.returncode == 0, healthy.stdout[-2000:]
    counts = site.latest_report(prefix='pabx1-audit-')['counts']
    assert counts['healthy'] == counts['checked'] == 45


def test_audit_after_a_restore_tries_the_candidates_and_check_mode_writes_no_pin(start_emulator, tmp_path):
    """A restore to the import keeps the PINs the rotation set as candidates: the audit proves them, for accounts as
    for devices, within the budget; a --check audit records the ledger and no PIN, a real one settles them.
    The assertions compare numbers and counts only: a failing one must not print a PIN."""
    emulator = start_emulator(devices=6, accounts=3, dac_devices=0)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    rotated = site.run('rotate_passwords.yml', {'password_rotation_confirm_timeout': 2})
    assert rotated.returncode == 0, rotated.stdout[-2000:]
    restored = site.run('restore_store.yml', {'digitro_store_version': '1'})  # the import's version
    assert restored.returncode == 0, restored.stdout[-2000:]
    before = site.store()
    accounts = sorted(before['accounts'])
    assert site.mismatched(('accounts',)) == accounts  # the rotation changed them all since the import
    findings = {'password_audit_max_findings': -1}  # the restored PINs' age is not what this test is about

    dry = site.run('audit_passwords.yml', findings, check=True)
    assert dry.returncode == 0, dry.stdout[-2000:]
    after, pabx = site.store(), emulator.state()
    rewritten = [n for kind in ('devices', 'accounts') for n, e in after[kind].items()
                 if (e['current'], e.get('pending')) != (before[kind][n]['current'], before[kind][n].get('pending'))]
    assert rewritten == []  # check mode writes no PIN into the store
    report = site.latest_report(prefix='pabx1-audit-')
    flagged = dict((row['number'], [f['finding'] for f in row['findings']]) for row in report['entries'])
    # the restored PIN refused once, the candidate accepted: the PABX's count back to 0, never more than one
    assert [(n, bool(after['accounts'][n].get('quarantined')), after['accounts'][n]['wrong_attempts'],
             pabx['accounts'][n]['in_a_row'], pabx['accounts'][n]['most_in_a_row']) for n in accounts] == \
        [(n, False, 0, 0, 1) for n in accounts]
    assert all('candidate_held' in flagged[n] and 'invalid_account' not in flagged[n] for n in accounts), flagged
    assert report['counts']['invalid_account'] == report['counts']['quarantined'] == 0

    real = site.run('audit_passwords.yml', findings)
    assert real.returncode == 0, real.stdout[-2000:]
    settled, pabx = site.store(), emulator.state()
    assert site.mismatched() == []  # the PIN the PABX proved is the current one now, for every entry
    assert [(n, bool(settled['accounts'][n].get('quarantined')), settled['accounts'][n]['wrong_attempts'],
             pabx['accounts'][n]['in_a_row']) for n in accounts] == [(n, False, 0, 0) for n in accounts]
    spent = dict((n, r['wrong_attempts']) for n, r in pabx['accounts'].items())

    again = site.run('audit_passwords.yml', findings)
    assert again.returncode == 0, again.stdout[-2000:]
    assert dict((n, r['wrong_attempts']) for n, r in emulator.state()['accounts'].items()) == spent  # none wrong
    shown = dry.stdout + real.stdout + again.stdout
    secrets = [site.secret] + [r['password'] for kind in ('devices', 'accounts') for r in pabx[kind].values()]
    assert not any(re.search(r'(?<![0-9A-Za-z])%s(?![0-9A-Za-z])' % re.escape(pin), shown) for pin in secrets)
