"""The hashi_vault backend's logic that needs no server: settings, the secret's format, versions, scrubbing."""
import base64
import gzip
import json

import pytest

from ansible_collections.digitro.pabx.plugins.plugin_utils import _hashi_vault as hv

STORE = {'schema': 2, 'devices': {str(n): {'current': '%06d' % n, 'history': []} for n in range(1000, 1500)},
         'accounts': {'500': {'current': '1234'}}}


def test_settings_read_the_environment_as_the_vault_cli_does(tmp_path):
    env = {'VAULT_ADDR': 'https://v:8200', 'VAULT_TOKEN': 't', 'VAULT_NAMESPACE': 'ns', 'VAULT_CACERT': '/ca.pem',
           'HOME': str(tmp_path)}
    found = hv.settings({'url': None, 'token': None}, env)
    assert (found['url'], found['token'], found['namespace'], found['ca_cert']) == ('https://v:8200', 't', 'ns', '/ca.pem')
    assert found['validate_certs'] is True and found['auth_mount'] == 'approle'
    assert hv.settings({'url': 'https://given'}, env)['url'] == 'https://given'  # an option wins
    assert hv.settings({}, dict(env, VAULT_SKIP_VERIFY='true'))['validate_certs'] is False
    assert hv.settings({}, {'ANSIBLE_HASHI_VAULT_ADDR': 'https://a', 'HOME': str(tmp_path)})['url'] == 'https://a'
    (tmp_path / '.vault-token').write_text('from-file\n')
    assert hv.settings({}, {'HOME': str(tmp_path)})['token'] == 'from-file'
    assert hv.settings({}, {'HOME': str(tmp_path), 'VAULT_ROLE_ID': 'r'})['token'] is None  # AppRole: no token file


def test_the_secret_is_one_compressed_field_and_reads_back():
    secret = hv.pack(dict(STORE, generation=9))
    assert set(secret) == {'format', 'schema', 'devices', 'accounts', 'store'}
    assert (secret['devices'], secret['accounts'], secret['schema']) == (500, 1, 2)
    assert '001000' not in json.dumps(secret)  # no PIN readable at a glance
    assert hv.unpack(secret) == STORE  # the generation is the KV version, not content
    assert hv.unpack(dict(STORE, generation=3)) == STORE  # a plain document written by hand
    with pytest.raises(ValueError, match='does not know'):
        hv.unpack({'format': 'other/2', 'store': ''})
    with pytest.raises(ValueError, match='not gzip-compressed'):
        hv.unpack({'format': hv.FORMAT, 'store': base64.b64encode(b'plain').decode()})
    with pytest.raises(ValueError, match='not a JSON object'):
        hv.unpack({'format': hv.FORMAT, 'store': base64.b64encode(gzip.compress(b'[1]')).decode()})


def test_versions_gone_and_times():
    assert hv.gone({'destroyed': True}) and hv.gone({'deletion_time': '2020-01-01T00:00:00.1Z'})
    assert not hv.gone({'deletion_time': ''}) and not hv.gone({'deletion_time': '2999-01-01T00:00:00Z'})
    assert hv.saved_at('2026-11-27T13:13:10.761602288Z') == '2026-11-27T13:13:10Z' and hv.saved_at('') is None


def test_messages_name_no_secret():
    assert hv.scrub('https://user:pw@vault:8200/v1 token abc', ['abc']) == 'https://vault:8200/v1 token ********'
    message = hv.refused('secret/digitro-pabx/a at https://v', 3, {'current_version': 5})
    assert 'generation 3, now 5' in message and 'nothing was saved' in message


def test_pasted_values_are_trimmed_and_addresses_checked(tmp_path):
    found = hv.settings({'url': ' https://v:8200\n', 'token': 'tok\n', 'secret_id': ' s '}, {'HOME': str(tmp_path)})
    assert (found['url'], found['token'], found['secret_id']) == ('https://v:8200', 'tok', 's')
    assert hv.settings({'token': ' \n'}, {'HOME': str(tmp_path)})['token'] is None
    for address in ('v:8200', '127.0.0.1:8200', 'https://v:8200/v1', 'https://v:8200/v1/', 'ftp://v'):
        with pytest.raises(hv.StoreError) as caught:
            hv.KV2Store({'url': address, 'token': 'secret-token'}, 'secret', 'p')
        assert 'is not a server address' in str(caught.value) and 'secret-token' not in str(caught.value)


@pytest.mark.parametrize('document, named', [
    ({'schema': 2, 'devices': {'100000': '123456'}, 'accounts': {}}, 'device entry 100000'),
    ({'schema': 2, 'devices': {}, 'accounts': {'500': {'current': 1234}}}, 'account entry 500'),
    ({'schema': 2, 'devices': ['100000'], 'accounts': {}}, 'devices section'),
])
def test_a_hand_edited_store_is_refused_naming_the_entry(document, named):
    with pytest.raises(ValueError) as caught:
        hv.unpack(document)
    assert named in str(caught.value) and '123456' not in str(caught.value)
    assert hv.unpack({'schema': 2, 'devices': {'1': {'current': '1'}}, 'accounts': {}})['devices']


def test_a_lock_of_a_process_gone_on_this_host_is_stale():
    import os
    import socket
    import subprocess
    gone = subprocess.Popen(['true'])
    gone.wait()
    host, here = socket.gethostname(), hv.machine()
    assert hv.dead_here({'host': host, 'pid': gone.pid, 'machine': here}, host)
    assert not hv.dead_here({'host': host, 'pid': os.getpid(), 'machine': here,
                             'pid_start': hv.process_start(os.getpid())}, host)
    assert not hv.dead_here({'host': 'elsewhere', 'pid': gone.pid, 'machine': here}, host)
    assert not hv.dead_here({'host': host, 'pid': gone.pid}, host)  # a record that cannot say where: alive
