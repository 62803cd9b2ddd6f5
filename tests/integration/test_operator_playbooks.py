"""The operator playbooks (show, set, resolve, remove, restore) against the emulator: what the helpdesk asks for,
what a careless operator gives them, and that none of them loses a PIN or costs a lockout."""
import os
import subprocess

import pytest

from pabx_site import Site, api_check_vars


@pytest.fixture
def site(start_emulator, tmp_path):
    emulator = start_emulator(devices=6, accounts=2, dac_devices=0)
    site = Site(emulator, tmp_path)
    assert site.run('import_passwords.yml').returncode == 0
    return site


def devices(site):
    return sorted(site.emulator.site['devices'])


def assert_fails(run, *words):
    assert run.returncode != 0, run.stdout
    for word in words:
        assert word in run.stdout + run.stderr, (word, run.stdout[-3000:])
    assert 'Traceback' not in run.stdout + run.stderr


def test_set_show_remove_and_restore_keep_every_pin(site):
    first, second = devices(site)[:2]
    before = site.store()['devices'][first]['current']

    done = site.run('set_passwords.yml', {'digitro_passwords': {first: '583016'}})
    assert done.returncode == 0, done.stdout[-3000:]
    assert site.emulator.state()['devices'][first]['password'] == '583016'
    assert site.store()['devices'][first]['current'] == '583016'
    assert '583016' not in done.stdout + done.stderr  # set never prints the PIN

    shown = site.run('show_passwords.yml', {'digitro_numbers': '%s, %s' % (first, second)})
    assert shown.returncode == 0, shown.stdout[-3000:]
    assert 'device %s: PIN 583016; ok' % first in shown.stdout
    assert 'device %s: PIN %s' % (second, site.store()['devices'][second]['current']) in shown.stdout

    retired = site.run('remove_passwords.yml', {'digitro_numbers': second})
    assert retired.returncode == 0, retired.stdout[-3000:]
    store = site.store()
    assert second not in store['devices'] and store['archive']['devices'][second]['removed_at']
    rotated = site.run('rotate_passwords.yml', {'password_rotation_targets': 'all'})
    assert rotated.returncode == 0, rotated.stdout[-3000:]
    assert site.emulator.state()['devices'][second]['password'] == store['archive']['devices'][second]['current']

    # restore the store as it was before the set: the PIN the PABX holds now stays a candidate
    listing = site.run('restore_store.yml')
    assert listing.returncode == 0 and '(the store as it is now)' in listing.stdout, listing.stdout[-3000:]
    versions = sorted(int(name.split('.')[0]) for name in os.listdir(site.store_path + '.versions'))
    oldest_with_before = [v for v in versions if v >= 1][0]
    restored = site.run('restore_store.yml', {'digitro_store_version': oldest_with_before})
    assert restored.returncode == 0, restored.stdout[-3000:]
    store = site.store()
    assert store['devices'][first]['current'] == before
    assert second in store['devices'] and second not in store.get('archive', {}).get('devices', {})
    # every entry rotated since went back to its old PIN, with the one the PABX holds as a candidate: the
    # next rotation finds each without a lockout
    again = site.run('rotate_passwords.yml', {'password_rotation_targets': 'all'})
    assert again.returncode == 0, again.stdout[-3000:]
    assert site.mismatched() == []
    assert not any(record['locked'] for kind in ('devices', 'accounts') for record in site.emulator.state()[kind].values())


def test_resolve_a_pin_changed_at_the_console(site):
    first = devices(site)[0]
    site.emulator.control(set_passwords=[['devices', first, '749130']])
    rotated = site.run('rotate_passwords.yml', {'password_rotation_targets': first})
    assert_fails(rotated, 'quarantined')
    assert site.store()['devices'][first]['quarantined']

    wrong = site.run('resolve_passwords.yml', {'digitro_passwords': {first: '123123'}})
    assert_fails(wrong, 'device   %s       quarantined the PABX refused the PIN given; the entry stays quarantined' % first)
    assert site.store()['devices'][first]['quarantined']
    assert '123123' not in wrong.stdout + wrong.stderr

    spent = site.run('resolve_passwords.yml', {'digitro_passwords': {first: '749130'}})
    assert_fails(spent, 'digitro_reset_attempts=true', first)

    site.emulator.control(set_passwords=[['devices', first, '749130']])  # set at the console: the count is reset
    resolved = site.run('resolve_passwords.yml', {'digitro_passwords': {first: '749130'}, 'digitro_reset_attempts': True})
    assert resolved.returncode == 0, resolved.stdout[-3000:]
    entry = site.store()['devices'][first]
    assert entry['current'] == '749130' and not entry['quarantined'] and entry['wrong_attempts'] == 0
    assert site.run('rotate_passwords.yml', {'password_rotation_targets': first}).returncode == 0
    assert site.mismatched() == [] and not site.emulator.state()['devices'][first]['locked']

    # an import that verifies what it imported: the PIN the PABX refuses is quarantined, and the import fails
    second, third = devices(site)[1:3]
    csv = os.path.join(site.workdir, 'fix.csv')
    with open(csv, 'w') as handle:
        handle.write('\ufefftipo;ramal;senha\r\nramal;%s;%s\r\nramal;%s;284017\r\n'
                     % (second, site.emulator.state()['devices'][second]['password'], third))
    verified = site.run('import_passwords.yml', {'credential_store_import_csv': csv, 'credential_store_import_overwrite': True,
                                                 'credential_store_import_verify': True})
    assert_fails(verified, 'quarantined', third)
    store = site.store()
    assert store['devices'][third]['quarantined'] and not store['devices'][second].get('quarantined')
    assert store['devices'][third]['wrong_attempts'] == 1 and not site.emulator.state()['devices'][third]['locked']


def test_bad_operator_input_fails_before_the_pabx(site):
    first, second = devices(site)[:2]
    account = sorted(site.emulator.site['accounts'])[0]
    device_of_account = site.store()['accounts'][account].get('device')
    cases = [
        ('set_passwords.yml', {'digitro_passwords': {first: 583016}}, ['not a quoted string', first]),
        ('set_passwords.yml', {'digitro_passwords': {first: '111111'}}, ['breaks the PIN policy', 'digitro_pin_policy_exception']),
        ('set_passwords.yml', {'digitro_passwords': {'99999': '583016', first: '５８３０１６'}},
         ['its 1st number is not in the credential store', 'not ASCII digits']),
        ('set_passwords.yml', {'digitro_passwords': 'not json'}, ['digitro_passwords must be a mapping']),
        ('show_passwords.yml', {'digitro_numbers': '%s 99999' % first}, ['does not have: its 2nd item']),
        ('show_passwords.yml', {}, ['digitro_numbers is empty']),
        ('remove_passwords.yml', {'digitro_numbers': 'abc'}, ['ASCII digits']),
        ('restore_store.yml', {'digitro_store_version': 999}, ['is not one of the earlier versions']),
    ]
    if device_of_account:
        cases.append(('remove_passwords.yml', {'digitro_numbers': device_of_account}, ['requesting device of account']))
    store = site.store()
    for playbook, variables, words in cases:
        with open(site.emulator.log_file) as log:
            requests = len(log.readlines())
        assert_fails(site.run(playbook, variables), *words)
        with open(site.emulator.log_file) as log:
            assert len(log.readlines()) == requests, playbook  # nothing reached the PABX
    assert site.store() == store


# Found by attacking the operator tools (a careless operator repeating runs, typos in the PIN file).

def test_reset_claims_that_the_pabx_disproves_never_add_up_to_a_lockout(site):
    first, second = devices(site)[:2]
    for attempt in range(3):
        site.run('resolve_passwords.yml', {'digitro_passwords': {first: '%06d' % (271828 + attempt)},
                                           'digitro_reset_attempts': True})
    csv = os.path.join(site.workdir, 'wrong.csv')
    for attempt in range(3):
        with open(csv, 'w') as handle:
            handle.write('kind,number,password\ndevice,%s,%06d\n' % (second, 314159 + attempt))
        site.run('import_passwords.yml', {'credential_store_import_csv': csv, 'credential_store_import_overwrite': True,
                                          'credential_store_import_verify': True,
                                          'credential_store_import_reset_attempts': True})
    store, state = site.store(), site.emulator.state()
    for number in (first, second):
        assert state['devices'][number]['most_in_a_row'] <= 2 and not state['devices'][number]['locked']
        assert store['devices'][number]['quarantined'] and store['devices'][number]['reset_refused']
    refused = site.run('resolve_passwords.yml', {'digitro_passwords': {first: state['devices'][first]['password']},
                                                 'digitro_reset_attempts': True})
    assert_fails(refused, 'digitro_reset_attempts=forced')
    forced = site.run('resolve_passwords.yml', {'digitro_passwords': {first: state['devices'][first]['password']},
                                                'digitro_reset_attempts': 'forced'})
    assert forced.returncode == 0, forced.stdout[-3000:]
    assert not site.store()['devices'][first]['quarantined']


def test_forced_reset_claims_repeated_with_a_wrong_pin_never_lock_the_extension(site):
    number = devices(site)[0]
    site.emulator.control(set_passwords=[['devices', number, '749130']])  # changed at the console, unknown to the store
    assert_fails(site.run('rotate_passwords.yml', {'password_rotation_targets': number}), 'quarantined')
    runs = [site.run('resolve_passwords.yml', {'digitro_passwords': {number: '%06d' % (271828 + attempt % 2)},
                                               'digitro_reset_attempts': 'forced'}) for attempt in range(8)]
    assert_fails(runs[0], 'the PABX refused the PIN given')
    for run in runs[1:]:  # refused before the PABX: what to do next, named by number
        assert_fails(run, '%s has used its wrong-attempt budget, and a PIN given with digitro_reset_attempts=forced was '
                          'refused' % number, 'logging in on a phone')
    for run in runs:
        assert '271828' not in run.stdout + run.stderr and '271829' not in run.stdout + run.stderr
    state, entry = site.emulator.state()['devices'][number], site.store()['devices'][number]
    assert not state['locked'] and state['most_in_a_row'] <= 3
    assert entry['wrong_attempts'] == state['in_a_row'] and entry['quarantined'] and entry['forced_refused']


def test_check_api_s_wrong_pin_and_careless_claims_never_add_up_to_a_lockout(site):
    number = devices(site)[0]
    site.emulator.control(set_passwords=[['devices', number, '583920']])  # changed at the console, unknown to the store
    check = dict(api_check_vars(site.emulator), digitro_check_device=number, digitro_check_device_password='640172')
    for key in ('digitro_check_account', 'digitro_check_account_password'):
        check.pop(key)
    site.run('check_api.yml', check)  # a mistyped PIN: one wrong attempt the store does not count
    for pin, reset in (('402718', False), ('519327', False), ('731904', True), ('815263', 'forced'),
                       ('906152', 'forced')):
        variables = {'digitro_passwords': {number: pin}}
        if reset:
            variables['digitro_reset_attempts'] = reset
        site.run('resolve_passwords.yml', variables)
    state = site.emulator.state()['devices'][number]
    assert not state['locked'] and state['most_in_a_row'] <= 4


def test_a_restore_brings_back_a_retired_entry_with_the_pin_the_pabx_holds(site):
    number = devices(site)[2]
    assert site.run('set_passwords.yml', {'digitro_passwords': {number: '583016'}}).returncode == 0
    assert site.run('remove_passwords.yml', {'digitro_numbers': number}).returncode == 0
    oldest = min(int(name.split('.')[0]) for name in os.listdir(site.store_path + '.versions'))
    assert site.run('restore_store.yml', {'digitro_store_version': oldest}).returncode == 0
    entry = site.store()['devices'][number]
    assert '583016' in [entry['current']] + [s['password'] for s in entry['sent']]
    assert site.run('rotate_passwords.yml', {'password_rotation_targets': number}).returncode == 0
    assert site.mismatched() == []


def test_set_does_what_it_is_asked_whatever_the_inventory_and_repeats(site):
    number = devices(site)[0]
    done = site.run('set_passwords.yml', {'digitro_passwords': {' %s ' % number: '583016'},
                                          'password_rotation_max_age_days': 90, 'password_rotation_pattern': '^9'})
    assert done.returncode == 0, done.stdout[-3000:]
    again = site.run('set_passwords.yml', {'digitro_passwords': {number: '583016'}})  # a job run twice
    assert again.returncode == 0, again.stdout[-3000:]
    assert site.emulator.state()['devices'][number]['password'] == '583016' and site.mismatched() == []
    twice = site.run('set_passwords.yml', {'digitro_passwords': {number: '583016', ' %s' % number: '694027'}})
    assert_fails(twice, '%s is given twice' % number)


def test_a_typo_in_the_pin_file_never_prints_the_pin(site):
    number = devices(site)[0]
    pins = os.path.join(site.workdir, 'pins.yml')
    with open(pins, 'w') as handle:
        handle.write('digitro_passwords: {%s:482913}\n' % number)  # no space after the colon: one key
    typo = subprocess.run(site.command('set_passwords.yml') + ['-e', '@' + pins], cwd=site.workdir, env=site.env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert_fails(typo, 'its 1st key is not an extension or account number')
    swapped = site.run('set_passwords.yml', {'digitro_passwords': {'482913': number}})
    assert_fails(swapped, 'its 1st number is not in the credential store')
    shown = site.run('show_passwords.yml', {'digitro_numbers': '%s:482913' % number})
    assert_fails(shown, 'its 1st item')
    for run in (typo, swapped, shown):
        assert '482913' not in run.stdout + run.stderr


def test_versions_another_secret_cannot_read_are_listed_as_such(site):
    from ansible.parsing.vault import VaultLib, VaultSecret
    with open(site.store_path, 'rb') as handle:
        plain = VaultLib([('default', VaultSecret(site.secret.encode()))]).decrypt(handle.read())
    assert site.run('remove_passwords.yml', {'digitro_numbers': devices(site)[3]}).returncode == 0  # a version
    site.secret = site.env['DIGITRO_STORE_SECRET'] = 'n' * 32
    with open(site.store_path, 'wb') as handle:
        handle.write(VaultLib([('default', VaultSecret(site.secret.encode()))]).encrypt(plain))
    listing = site.run('restore_store.yml')
    assert listing.returncode == 0 and 'cannot be read with this store secret' in listing.stdout, listing.stdout[-2000:]


def test_a_number_that_is_a_device_and_an_account_is_shown_as_both_and_never_guessed(site):
    number = devices(site)[3]
    csv = os.path.join(site.workdir, 'account.csv')
    with open(csv, 'w') as handle:
        handle.write('kind,number,password\naccount,%s,246801\n' % number)
    assert site.run('import_passwords.yml', {'credential_store_import_csv': csv}).returncode == 0
    shown = site.run('show_passwords.yml', {'digitro_numbers': number})
    assert 'device %s: PIN' % number in shown.stdout and 'account %s: PIN 246801' % number in shown.stdout
    assert_fails(site.run('remove_passwords.yml', {'digitro_numbers': number}), 'both as an extension and as an account')


# A check run of set or resolve sends the same PINs to verify as a real run (a refused one costs a real wrong
# attempt), but writes no PIN into the store: it is judged by what the PABX answered, and fails as the real run would.

def test_resolve_check_fails_on_a_refused_pin_and_passes_on_the_right_one_without_recording_it(site):
    first = devices(site)[0]
    site.emulator.control(set_passwords=[['devices', first, '739154']])  # changed at the console
    assert site.run('rotate_passwords.yml', {'password_rotation_targets': first}).returncode != 0  # quarantined
    before = site.store()['devices'][first]['current']

    wrong = site.run('resolve_passwords.yml', {'digitro_passwords': {first: '316842'}}, check=True)
    assert_fails(wrong, '(check mode): 1 of the 1 PIN(s) given were not verified: %s (the PABX refused the PIN given' % first,
                 'run resolve_passwords again')
    entry = site.store()['devices'][first]
    assert entry['current'] == before and entry['quarantined'] and entry['wrong_attempts'] == 2  # the PABX counted it

    site.emulator.control(set_passwords=[['devices', first, '739154']])  # set again at the console: its count reset
    right = site.run('resolve_passwords.yml', {'digitro_passwords': {first: '739154'}, 'digitro_reset_attempts': True},
                     check=True)
    assert right.returncode == 0, right.stdout[-3000:]
    entry = site.store()['devices'][first]
    assert entry['current'] == before and entry['quarantined']  # a check run records no PIN

    # the dry run asked for in a variable (an AWX survey) is a check run too
    dry = site.run('resolve_passwords.yml', {'digitro_passwords': {first: '528163'}, 'password_rotation_dry_run': True})
    assert_fails(dry, '(check mode): 1 of the 1 PIN(s) given were not verified: %s' % first)
    for run in (wrong, right, dry):
        assert not [pin for pin in ('316842', '739154', '528163') if pin in run.stdout + run.stderr]

    resolved = site.run('resolve_passwords.yml', {'digitro_passwords': {first: '739154'}, 'digitro_reset_attempts': True})
    assert resolved.returncode == 0, resolved.stdout[-3000:]
    assert site.store()['devices'][first]['current'] == '739154' and not site.emulator.state()['devices'][first]['locked']


def test_set_check_fails_where_the_real_set_would_and_passes_where_it_would_set(site):
    first, second = devices(site)[:2]
    site.emulator.control(set_passwords=[['devices', first, '739154']])  # the store's PIN no longer works
    before = site.store()['devices'][second]['current']
    planned = site.run('set_passwords.yml', {'digitro_passwords': {first: '583016', second: '694027'}}, check=True)
    assert_fails(planned, '(check mode): 1 of the 2 PIN(s) given would not be set: %s (the PABX accepted none' % first,
                 'resolve_passwords')
    assert 'would not be set: %s (' % second not in planned.stdout

    fine = site.run('set_passwords.yml', {'digitro_passwords': {second: '694027'}}, check=True)
    assert fine.returncode == 0, fine.stdout[-3000:]
    assert site.store()['devices'][second]['current'] == before
    assert site.emulator.state()['devices'][second]['password'] == before
    for run in (planned, fine):
        assert not [pin for pin in ('583016', '694027', '739154') if pin in run.stdout + run.stderr]


def test_a_dry_run_asked_for_in_a_variable_is_a_dry_run_or_refused_never_ignored(site):
    first, second = devices(site)[:2]
    before = site.store()
    resolved = site.run('resolve_passwords.yml', {'digitro_passwords': {first: before['devices'][first]['current']},
                                                  'digitro_dry_run': True})
    assert resolved.returncode == 0 and 'dry run' in resolved.stdout, resolved.stdout[-3000:]
    for playbook, variables in (('remove_passwords.yml', {'digitro_numbers': second}),
                                ('restore_store.yml', {'digitro_store_version': '1'}),
                                ('import_passwords.yml', {})):
        variables = dict(variables, digitro_dry_run=True)
        assert_fails(site.run(playbook, variables), 'digitro_dry_run is set, but this playbook reads no such variable',
                     '--check')
    # as an AWX survey's free text may give it: read as the argument spec reads it, never as false
    for answer in ('y', 'True ', ' yes'):
        dry = site.run('rotate_passwords.yml', {'digitro_dry_run': answer})
        assert dry.returncode == 0 and 'dry run' in dry.stdout, (answer, dry.stdout[-3000:])
        assert_fails(site.run('import_passwords.yml', {'digitro_dry_run': answer}), 'digitro_dry_run is set')
    # an extra var setting the role's own dry run to false does not undo the survey's
    dry = site.run('rotate_passwords.yml', {'digitro_dry_run': True, 'password_rotation_dry_run': 'false'})
    assert dry.returncode == 0 and 'dry run' in dry.stdout, dry.stdout[-3000:]
    assert_fails(site.run('import_passwords.yml', {'digitro_dry_run': 'maybe'}),
                 'digitro_dry_run must be true or false')
    assert site.run('rotate_passwords.yml', {'digitro_dry_run': 'maybe'}).returncode != 0
    assert site.store() == before
    assert site.emulator.state()['stats'].get('op_altera-senha', 0) == 0
    assert site.run('remove_passwords.yml', {'digitro_numbers': second, 'digitro_dry_run': False}).returncode == 0
