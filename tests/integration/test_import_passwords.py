"""The import_passwords playbook with a spreadsheet as Excel in pt-BR saves it, and with one full of mistakes."""
import os

from pabx_site import Site

BAD_PINS = ('７０７０７', '70 707', '70708')   # a full-width PIN, one with a space, a conflicting duplicate's


def write(path, text, encoding='utf-8-sig'):
    with open(path, 'w', encoding=encoding, newline='') as handle:
        handle.write(text)
    return path


def test_a_pt_br_excel_export_is_imported_and_a_botched_one_is_refused_naming_each_mistake(start_emulator, tmp_path):
    emulator = start_emulator(devices=4, accounts=2, dac_devices=0)
    site = Site(emulator, tmp_path)
    devices, accounts = emulator.site['devices'], emulator.site['accounts']
    first = sorted(devices)[0]

    bad = write(os.path.join(site.workdir, 'errado.csv'), (
        'Tipo;Ramal;Senha\r\n'
        'ramal;%s;%s\r\n'        # line 2: a full-width PIN
        'ramal;10 01;%s\r\n'     # line 3: a number with a space, and a PIN with one
        'ramal;%s;70709\r\n'     # line 4
        'ramal;%s;%s\r\n'        # line 5: line 4's number with another PIN
        'telefone;9;70710\r\n'   # line 6: no such kind
        % ((first, BAD_PINS[0], BAD_PINS[1]) + (sorted(devices)[1],) * 2 + (BAD_PINS[2],))))
    run = site.run('import_passwords.yml', {'credential_store_import_csv': bad})
    output = run.stdout + run.stderr
    assert run.returncode != 0 and 'the CSV has 4 line(s) with problems, so nothing was imported' in output
    assert 'line 2 (device %s): the password has a character that is not an ASCII digit' % first in output
    assert "line 3: the device number '10 01' has a space in it, and the password has a space in it" in output
    assert 'line 5 (device %s): the device is on line 4 too, with another password' % sorted(devices)[1] in output
    assert 'line 6: the kind is neither device' in output and 'Traceback' not in output
    assert not any(pin in output for pin in BAD_PINS + ('70709', '70710'))
    assert not os.path.exists(site.store_path)   # nothing imported, not even an empty store

    # Excel in pt-BR, "CSV UTF-8": a BOM, semicolons, CRLF, Portuguese headers and kinds, an emptied row, a
    # repeated row, and an account with the device that requests its changes
    rows = ['ramal;%s;%s;' % (number, spec['password']) for number, spec in devices.items()]
    rows += ['conta;%s;%s;%s' % (number, spec['password'], first) for number, spec in accounts.items()]
    good = write(os.path.join(site.workdir, 'senhas.csv'),
                 'Tipo;Ramal;Senha;Ramal_Solicitante\r\n' + '\r\n'.join(rows + [';;;', rows[0]]) + '\r\n')
    run = site.run('import_passwords.yml', {'credential_store_import_csv': good})
    assert run.returncode == 0, run.stdout + run.stderr
    assert ('pabx1: 6 entries imported: 6 added, 0 changed; 0 kept; 1 identical duplicate row(s) ignored '
            '(line(s) 9).' in run.stdout)
    store = site.store()
    assert site.mismatched() == [] and sorted(store['devices']) == sorted(devices)
    assert all(store['accounts'][number]['device'] == first for number in accounts)
    assert not any(spec['password'] in run.stdout + run.stderr for spec in list(devices.values()) + list(
        accounts.values()))
