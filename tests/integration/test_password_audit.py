"""The password_audit role: drift and weak PINs found, healthy after a rotation, no PIN in any report."""
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
