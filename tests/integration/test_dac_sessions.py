"""The dac_sessions role: a roster of 500 agents converges in one run; the second run changes nothing."""
import csv

from pabx_site import Site


def test_roster_of_500_converges_then_changes_nothing(start_emulator, tmp_path):
    emulator = start_emulator(devices=500, accounts=500, dac_devices=500)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    roster = str(tmp_path / 'morning-shift.csv')
    with open(roster, 'w', newline='') as handle:
        writer = csv.writer(handle)
        writer.writerow(['device', 'account'])
        writer.writerows(zip(emulator.site['devices'], emulator.site['accounts']))
    first = site.run('dac_sessions.yml', {'dac_sessions_roster_csv': roster, 'dac_sessions_concurrency': 32})
    assert first.returncode == 0, first.stdout[-2000:]
    assert 'pabx1: 500 moved, 0 already there, 0 failed' in first.stdout
    sessions = {n: d['dac_account'] for n, d in emulator.state()['devices'].items()}
    assert sessions == dict(zip(emulator.site['devices'], emulator.site['accounts']))
    second = site.run('dac_sessions.yml', {'dac_sessions_roster_csv': roster})
    assert second.returncode == 0 and 'pabx1: 0 moved, 500 already there, 0 failed' in second.stdout
    shift_end = site.run('dac_sessions.yml', {'dac_sessions_roster_csv': roster, 'dac_sessions_state': 'logged_out'})
    assert 'pabx1: 500 moved, 0 already there, 0 failed' in shift_end.stdout
    assert not any(d['dac_account'] for d in emulator.state()['devices'].values())
    for secret in [spec['password'] for spec in list(emulator.site['accounts'].values())[:20]]:
        assert secret not in first.stdout + second.stdout


def test_occupied_device_is_reported_and_force_moves_it(start_emulator, tmp_path):
    emulator = start_emulator(devices=3, accounts=3, dac_devices=3)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    devices, agents = list(emulator.site['devices']), list(emulator.site['accounts'])
    assert site.run('dac_sessions.yml', {'dac_sessions_roster': [{'device': devices[0], 'account': agents[0]}]}
                    ).returncode == 0
    takeover = {'dac_sessions_roster': [{'device': devices[0], 'account': agents[1]}]}
    refused = site.run('dac_sessions.yml', takeover)
    assert refused.returncode != 0 and 'set force: true' in refused.stdout
    forced = site.run('dac_sessions.yml', dict(takeover, dac_sessions_force=True))
    assert forced.returncode == 0, forced.stdout[-2000:]
    assert emulator.state()['devices'][devices[0]]['dac_account'] == agents[1]


def test_a_pin_changed_at_the_console_is_never_retried_by_shift_runs(start_emulator, tmp_path):
    emulator = start_emulator(devices=4, accounts=4, dac_devices=4)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    devices, agents = list(emulator.site['devices']), list(emulator.site['accounts'])
    emulator.control(set_passwords=[['devices', devices[0], '740163'], ['accounts', agents[1], '285017']])
    roster = {'dac_sessions_roster': [{'device': d, 'account': a} for d, a in zip(devices, agents)],
              'dac_sessions_max_fail_percent': 100}
    for shift in ('logged_in', 'logged_out') * 3:   # three days of morning and evening runs
        run = site.run('dac_sessions.yml', dict(roster, dac_sessions_state=shift))
        assert run.returncode == 0, run.stdout[-2000:]
        assert '2 failed' in run.stdout and 'device %s: its stored PIN did not verify' % devices[0] in run.stdout
    state = emulator.state()
    assert state['devices'][devices[0]]['most_in_a_row'] == 1 and state['accounts'][agents[1]]['most_in_a_row'] == 1
    store = site.store()
    assert store['devices'][devices[0]]['quarantined'] and store['accounts'][agents[1]]['quarantined']
    assert state['devices'][devices[2]]['dac_account'] == ''   # the others followed their shifts
    assert '740163' not in run.stdout and '285017' not in run.stdout
