"""The emulator serves the variant of --api-overrides, through the same contract() as the client's api_overrides."""
import json
import os
import subprocess
import sys

import requests

from conftest import API_KEY, REPO_ROOT, write_json

VARIANT = {'events_path': '/cti/eventos', 'channel_id_field': 'CANAL', 'slugs': {'verify_password': 'verificar-senha'},
           'fields': {'device_password': 'SENHA_RAMAL', 'dac_state': 'SITUACAO', 'error': 'MENSAGEM'}}


def open_channel(emulator, path):
    response = requests.get(emulator.url + path, headers={'x-api-key': API_KEY}, stream=True, timeout=10)
    lines = response.iter_lines(chunk_size=1, decode_unicode=True)
    assert next(lines) == 'event: EVENTO_DE_ABERTURA_DE_CANAL'
    return json.loads(next(lines)[len('data: '):]), response


def post(emulator, channel_id, slug, body):
    return requests.post('%s/requests/%s/%s' % (emulator.url, channel_id, slug), data=json.dumps(body), timeout=10,
                         headers={'x-api-key': API_KEY, 'Content-Type': 'application/json'})


def test_the_variant_is_served_and_the_stock_names_are_not(start_emulator):
    emulator = start_emulator(devices=2, accounts=0, dac_devices=1, api_overrides=VARIANT)
    device, spec = next(iter(emulator.site['devices'].items()))
    assert requests.get(emulator.url + '/events', headers={'x-api-key': API_KEY}, timeout=10).status_code == 404
    opening, stream = open_channel(emulator, '/cti/eventos')
    with stream:
        channel = opening['CANAL']
        renamed = {'DISPOSITIVO': device, 'SENHA_RAMAL': spec['password']}
        assert post(emulator, channel, 'verificar-senha', renamed).status_code == 200
        assert post(emulator, channel, 'verifica-senha', renamed).status_code == 404
        stock = post(emulator, channel, 'verificar-senha', {'DISPOSITIVO': device, 'SENHA_DISPOSITIVO': spec['password']})
        assert stock.status_code == 400 and stock.json() == {'MENSAGEM': 'campo desconhecido: SENHA_DISPOSITIVO'}
        assert post(emulator, channel, 'consulta-dac', renamed).json() == {'SITUACAO': 'DESLOGADO', 'CONTA': ''}
    assert emulator.state()['devices'][device]['wrong_attempts'] == 0


def test_a_wrong_overrides_file_stops_the_emulator_with_the_allowed_keys(tmp_path):
    path = write_json(tmp_path / 'overrides.json', {'slugs': {'verify': 'x'}})
    done = subprocess.run([sys.executable, '-m', 'emulator', 'serve', '--port', '0', '--api-overrides', path],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, env=dict(os.environ), check=False)
    assert done.returncode != 0
    assert ('--api-overrides: api_overrides.slugs has unknown key(s) verify; allowed: change_password, '
            'dac_login_logout, dac_query, validate_user, verify_password') in done.stderr
