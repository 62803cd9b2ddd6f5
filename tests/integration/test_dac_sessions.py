"""The dac_sessions role: a roster of 500 agents converges; a roster meant for another PABX or with a mistake is
refused, naming what to fix, before anything is sent; dry runs and logouts say who moves on which device."""
import csv
import json
import re

import pytest

from conftest import write_json
from emulator.seed import write_csv
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
    assert shown(forced.stdout, 'pabx1')[1:] == [
        'logged out: agent %s from device %s, to make room for agent %s' % (agents[0], devices[0], agents[1]),
        'logged in: agent %s on device %s' % (agents[1], devices[0])]


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


def two_pabxs(start_emulator, tmp_path):
    """pabx1 with 3 DAC devices and agents, pabx2 with 1 (same numbering): the first numbers are on both."""
    first = start_emulator(devices=3, accounts=3, dac_devices=3)
    second = start_emulator(devices=1, accounts=1, dac_devices=1)
    site = Site(first, tmp_path, host_vars={'digitro_url': first.url})
    write_csv(second.site, str(tmp_path / 'pabx2.csv'))
    with open(site.inventory) as handle:
        inventory = json.load(handle)
    inventory['pabx']['hosts']['pabx2'] = dict(digitro_url=second.url, credential_store_import_csv=str(tmp_path / 'pabx2.csv'),
                                               credential_store_path=str(tmp_path / 'credentials' / 'pabx2.store'))
    write_json(site.inventory, inventory)
    assert site.run('import_passwords.yml').returncode == 0
    return site, first, second


def requests_to(emulator):
    return sum(v for k, v in emulator.state()['stats'].items() if k.startswith('op_'))


def shown(stdout, host):
    """The lines of the DAC report of one host (the debug task's msg list)."""
    found = re.search(r'ok: \[%s\] => \{\n    "msg": \[\n(.*?)\n    \]' % host, stdout, re.DOTALL)
    assert found, stdout[-3000:]
    return [json.loads(line.strip().rstrip(',')) for line in found.group(1).split('\n')]


def test_a_roster_for_one_pabx_fails_on_another_naming_the_numbers_before_anything_is_sent(start_emulator, tmp_path):
    site, first, second = two_pabxs(start_emulator, tmp_path)
    devices, agents = list(first.site['devices']), list(first.site['accounts'])
    roster = [{'device': d, 'account': a} for d, a in zip(devices[:2], agents[:2])]
    before = requests_to(second)
    run = site.run('dac_sessions.yml', {'dac_sessions_roster': roster})
    assert run.returncode != 0
    assert ('the roster names numbers the credential store of pabx2 does not know: devices %s; accounts %s. Nothing '
            'was sent to this PABX' % (devices[1], agents[1])) in run.stdout
    assert 'host_vars/pabx2.yml' in run.stdout and "dac_sessions_roster_csv=rosters/{{ inventory_hostname }}.csv" in run.stdout
    assert requests_to(second) == before and not second.state()['devices'][devices[0]]['dac_account']
    assert shown(run.stdout, 'pabx1') == ['pabx1: 2 moved, 0 already there, 0 failed',
                                          'logged in: agent %s on device %s' % (agents[0], devices[0]),
                                          'logged in: agent %s on device %s' % (agents[1], devices[1])]

    # each PABX its own roster, through one templated path: a dry run, then the logout, report per device
    (tmp_path / 'rosters').mkdir()
    for host, rows in (('pabx1', roster), ('pabx2', roster[:1])):
        with open(str(tmp_path / 'rosters' / (host + '.csv')), 'w') as handle:
            handle.write('device,account\n' + ''.join('%s,%s\n' % (r['device'], r['account']) for r in rows))
    per_pabx = {'dac_sessions_roster_csv': str(tmp_path / 'rosters') + '/{{ inventory_hostname }}.csv',
                'dac_sessions_state': 'logged_out'}
    dry = site.run('dac_sessions.yml', per_pabx, check=True)
    assert dry.returncode == 0, dry.stdout[-2000:]
    assert shown(dry.stdout, 'pabx1') == ['pabx1: dry run, nothing was changed: 2 would move, 0 already there, 0 failed',
                                          'would log out: agent %s from device %s' % (agents[0], devices[0]),
                                          'would log out: agent %s from device %s' % (agents[1], devices[1])]
    assert shown(dry.stdout, 'pabx2') == ['pabx2: dry run, nothing was changed: 0 would move, 1 already there, 0 failed']
    assert first.state()['devices'][devices[0]]['dac_account'] == agents[0]
    logout = site.run('dac_sessions.yml', per_pabx)
    assert logout.returncode == 0, logout.stdout[-2000:]
    assert shown(logout.stdout, 'pabx1') == ['pabx1: 2 moved, 0 already there, 0 failed',
                                             'logged out: agent %s from device %s' % (agents[0], devices[0]),
                                             'logged out: agent %s from device %s' % (agents[1], devices[1])]
    assert not any(d['dac_account'] for d in first.state()['devices'].values())
    for pin in [spec['password'] for kind in ('devices', 'accounts') for spec in first.site[kind].values()]:
        assert pin not in run.stdout + dry.stdout + logout.stdout


def test_a_roster_mistake_fails_before_the_store_is_locked_or_the_pabx_asked(start_emulator, tmp_path):
    emulator = start_emulator(devices=2, accounts=2, dac_devices=2)
    site = Site(emulator, tmp_path)
    roster = str(tmp_path / 'roster.csv')
    with open(roster, 'w') as handle:
        handle.write('device;account;sate\n100000;500000;logged_out\n100000;500001;\n')
    run = site.run('dac_sessions.yml', {'dac_sessions_roster_csv': roster})
    assert run.returncode != 0
    assert 'roster CSV line 2: unknown column(s) sate (the columns are device, account, state' in run.stdout
    assert 'Take the run lock' not in run.stdout and requests_to(emulator) == 0


def pins_of(emulator):
    """Every PIN the PABX holds or held since it was seeded."""
    state = emulator.state()
    return set(spec['password'] for kind in ('devices', 'accounts') for spec in emulator.site[kind].values()) | set(
        record['password'] for kind in ('devices', 'accounts') for record in state[kind].values())


def write_roster(path, device, agent, device_pin, agent_pin):
    with open(path, 'w') as handle:
        handle.write('device,account,device_password,account_password\n%s,%s,%s,%s\n'
                     % (device, agent, device_pin, agent_pin))


@pytest.mark.parametrize('stale', ['device', 'account'])
def test_a_roster_with_the_pins_of_before_the_rotation_never_locks_an_extension(start_emulator, tmp_path, stale):
    """A roster made on day 0 with that day's PINs (device_password, account_password), the monthly rotation, then
    the morning job every day: the roster's PINs, stale now, must never reach the PABX. Each morning is refused
    before any request, naming the number and what to do, and nothing locks; a roster with the store's PINs
    works."""
    emulator = start_emulator(devices=3, accounts=2, dac_devices=2, random_seed=93)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    state = emulator.state()
    device = sorted(n for n, record in state['devices'].items() if record['dac'])[0]
    agent = sorted(state['accounts'])[0]
    roster = str(tmp_path / 'morning.csv')
    write_roster(roster, device, agent, state['devices'][device]['password'], state['accounts'][agent]['password'])
    day0 = site.run('dac_sessions.yml', {'dac_sessions_roster_csv': roster})
    assert day0.returncode == 0, day0.stdout[-2000:]   # PINs equal to the store's: the roster works
    assert emulator.state()['devices'][device]['dac_account'] == agent
    assert site.run('dac_sessions.yml', {'dac_sessions_roster_csv': roster, 'dac_sessions_state': 'logged_out'}
                    ).returncode == 0
    # the monthly rotation: all of it, or the agent alone (its device's PIN in the roster stays right)
    rotation = {'password_rotation_targets': agent} if stale == 'account' else {}
    rotated = site.run('rotate_passwords.yml', rotation)
    assert rotated.returncode == 0 and not site.mismatched(), rotated.stdout[-2000:]
    rotated = emulator.state()
    changed = [kind for kind, number in (('devices', device), ('accounts', agent))
               if rotated[kind][number]['password'] != state[kind][number]['password']]
    assert stale + 's' in changed
    named = '; '.join('%s %s' % (kind, device if kind == 'devices' else agent) for kind in changed)
    for morning in range(6):
        before = requests_to(emulator)
        run = site.run('dac_sessions.yml', {'dac_sessions_roster_csv': roster})
        output = run.stdout + run.stderr
        assert run.returncode != 0, 'morning %d: %s' % (morning, run.stdout[-2000:])
        assert ('differ from every PIN the credential store of pabx1 holds for %s:' % named) in output, output[-3000:]
        assert 'remove the device_password and account_password columns' in output
        assert 'digitro.pabx.resolve_passwords --limit pabx1' in output and 'Traceback' not in output
        assert requests_to(emulator) == before   # refused before anything was sent
        assert not [pin for pin in pins_of(emulator) if pin in output]
    after = emulator.state()
    for kind in ('devices', 'accounts'):
        assert not any(record['locked'] for record in after[kind].values())
        assert max(record['most_in_a_row'] for record in after[kind].values()) == 0
        assert not any(entry.get('wrong_attempts') for entry in site.store()[kind].values())
    assert after['devices'][device]['dac_account'] == ''

    # the roster made again with the PINs the store holds now works; one without PIN columns too
    write_roster(roster, device, agent, after['devices'][device]['password'], after['accounts'][agent]['password'])
    fresh = site.run('dac_sessions.yml', {'dac_sessions_roster_csv': roster})
    assert fresh.returncode == 0, fresh.stdout[-2000:]
    assert emulator.state()['devices'][device]['dac_account'] == agent
    plain = site.run('dac_sessions.yml', {'dac_sessions_roster': [{'device': device, 'account': agent}],
                                          'dac_sessions_state': 'logged_out'})
    assert plain.returncode == 0 and emulator.state()['devices'][device]['dac_account'] == ''


def test_a_run_without_the_store_is_refused_before_anything_is_sent(start_emulator, tmp_path):
    emulator = start_emulator(devices=2, accounts=2, dac_devices=2)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    device, agent = list(emulator.site['devices'])[0], list(emulator.site['accounts'])[0]
    before = requests_to(emulator)
    run = site.run('dac_sessions.yml', {'dac_sessions_passwords_from_store': False, 'dac_sessions_roster': [
        {'device': device, 'account': agent, 'device_password': '739104', 'account_password': '0042'}]})
    assert run.returncode != 0 and 'dac_sessions_passwords_from_store: false is refused' in run.stdout
    assert 'import_passwords' in run.stdout and 'Take the run lock' not in run.stdout
    assert requests_to(emulator) == before and '739104' not in run.stdout


def test_a_check_run_after_a_restore_writes_no_pin_and_the_real_run_records_what_the_pabx_holds(start_emulator, tmp_path):
    emulator = start_emulator(devices=2, accounts=2, dac_devices=2)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    assert site.run('rotate_passwords.yml', {'password_rotation_accounts': True}).returncode == 0
    assert site.run('restore_store.yml', {'digitro_store_version': 1}).returncode == 0  # the PABX holds candidates now
    devices, agents = list(emulator.site['devices']), list(emulator.site['accounts'])
    roster = {'dac_sessions_roster': [{'device': devices[0], 'account': agents[0]}]}
    before = site.store()
    checked = site.run('dac_sessions.yml', roster, check=True)
    assert checked.returncode == 0, checked.stdout[-2000:]
    after = site.store()
    for kind in ('devices', 'accounts'):
        assert {n: (e['current'], e.get('pending')) for n, e in after[kind].items()} == \
            {n: (e['current'], e.get('pending')) for n, e in before[kind].items()}
    done = site.run('dac_sessions.yml', roster)
    assert done.returncode == 0, done.stdout[-2000:]
    assert site.store()['devices'][devices[0]]['current'] == emulator.state()['devices'][devices[0]]['password']
    assert site.store()['accounts'][agents[0]]['current'] == emulator.state()['accounts'][agents[0]]['password']
    assert not any(r['locked'] for kind in ('devices', 'accounts') for r in emulator.state()[kind].values())
