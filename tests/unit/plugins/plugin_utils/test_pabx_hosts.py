"""Two PABX hosts of one run sharing a PABX or a credential store are named, with what to do."""
import pytest

from ansible_collections.digitro.pabx.plugins.plugin_utils._pabx_hosts import limit_unknown, shared


class Broken(dict):
    def get(self, name, default=None):
        raise ValueError('an undefined variable in a template')


@pytest.mark.parametrize('hostvars, environment_url, named', [
    ({'a': {'digitro_url': 'https://a'}, 'b': {'digitro_url': 'https://b'}}, '', []),
    ({'a': {}, 'b': {}}, '', []),                                            # no URL at all: the role says so
    ({'a': {}, 'b': {}}, 'https://pabx', ['a and b use one PABX URL']),     # both take DIGITRO_URL
    ({'a': {'digitro_url': 'https://PABX:443/'}, 'b': {}}, 'https://pabx', ['a and b use one PABX URL']),
    ({'a': {'digitro_url': 'https://pabx:8443'}, 'b': {}}, 'https://pabx', []),  # another port: another PABX
    ({'a': {'digitro_url': 'https://gw/site-a'}, 'b': {'digitro_url': 'https://gw/site-b/'}}, '', []),  # one gateway
    ({'a': {'digitro_url': 'https://x', 'credential_store_path': '/s'},
      'b': {'digitro_url': 'https://y', 'credential_store_path': '/s'}}, '', ['a and b use one credential store (file /s)']),
    ({'a': {'digitro_url': 'https://x', 'credential_store_backend': 'hashi_vault', 'credential_store_hashi_vault_path': 'p'},
      'b': {'digitro_url': 'https://y', 'credential_store_backend': 'hashi_vault', 'credential_store_hashi_vault_path': 'p'}},
     '', ['a and b use one credential store (Vault secret secret/p)']),
    ({'a': {'digitro_url': 'https://x', 'credential_store_backend': 'custom'},
      'b': {'digitro_url': 'https://y', 'credential_store_backend': 'custom'}}, '', []),
    ({'a': Broken(), 'b': {'digitro_url': 'https://y'}}, '', []),
])
def test_what_two_hosts_share_is_named(hostvars, environment_url, named):
    message = shared(list(hostvars), hostvars, environment_url)
    assert [part for part in named if part in message] == named and bool(message) is bool(named)


def test_a_url_s_user_information_is_never_shown():
    message = shared(['a', 'b'], {'a': {'digitro_url': 'https://user:s3cret@pabx'}, 'b': {}}, 'https://pabx')
    assert 'a and b use one PABX URL' in message and 's3cret' not in message and 'user' not in message


@pytest.mark.parametrize('limit, unknown', [
    ('site-a,stie-b', ['stie-b']), ('site-a:site-b', []), ('pabx:!site-b', []), ('pabx:&site-a', []),
    ('site-*', []), ('~site-[ab]', []), ('@limit.txt', []), ('pabx[0:1]', []), ('fe80::1', []),
    ('2001:db8::2,site-a', []), ('2001:db8::3', ['2001:db8::3']), ('site-a,b:!c:&d', ['b', 'c', 'd']), ('', []),
])
def test_the_names_of_a_limit_the_inventory_lacks(limit, unknown):
    hosts, groups = ['site-a', 'site-b', 'fe80::1', '2001:db8::2'], ['all', 'pabx', 'ungrouped']
    assert limit_unknown(limit, hosts, groups) == unknown


def test_a_limit_file_s_names_are_checked_as_ansible_reads_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'limit.txt').write_text('site-a\n\npbax2\nsite-*\n')
    hosts, groups = ['site-a', 'site-b'], ['all', 'pabx']
    assert limit_unknown('@limit.txt', hosts, groups) == ['pbax2']
    assert limit_unknown('@missing.txt', hosts, groups) == []  # Ansible's to report
