"""The names check_variables knows: read from the roles and playbooks, so a misspelling fails and no option does."""
import glob
import os
import re
import shutil
import time
from unittest import mock

import pytest
import yaml

from ansible.playbook.play_context import PlayContext
from ansible_collections.digitro.pabx.plugins.action.check_variables import ActionModule
from ansible_collections.digitro.pabx.plugins.plugin_utils import _known_variables as kv

ROOT = kv._COLLECTION_ROOT
SECRET = 'Zq81-do-not-print-me'


def role_options():
    """Every option of every entry point, read here independently of the module under test."""
    options = set()
    for path in glob.glob(os.path.join(ROOT, 'roles', '*', 'meta', 'argument_specs.yml')):
        with open(path) as handle:
            for entry in yaml.safe_load(handle)['argument_specs'].values():
                options.update(entry.get('options') or {})
    return options


def test_the_names_come_from_the_collection_next_to_the_plugin():
    assert os.path.isfile(os.path.join(ROOT, 'galaxy.yml'))
    assert len(role_options()) > 20


@pytest.mark.parametrize('name, suggestion', [
    ('password_rotation_targes', 'password_rotation_targets'),
    ('password_rotation_target', 'password_rotation_targets'),
    ('password_rotation_maxage_days', 'password_rotation_max_age_days'),
    ('password_audit_max_finding', 'password_audit_max_findings'),
    ('credential_store_pth', 'credential_store_path'),
    ('dac_sessions_rooster', 'dac_sessions_roster'),
    ('digitro_ulr', 'digitro_url'),
    ('digitro_dryrun', 'digitro_dry_run'),
])
def test_a_misspelling_is_caught_with_the_closest_option(name, suggestion):
    assert kv.unknown_variables([name, 'password_rotation_targets', 'inventory_hostname']) == [(name, suggestion)]
    text = kv.message(kv.unknown_variables([name]), 'pabx1')
    assert '%s is not an option of digitro.pabx (did you mean %s?)' % (name, suggestion) in text
    assert 'pabx1' in text and 'Fix the spelling' in text and 'ansible-doc -t role digitro.pabx.' in text


def test_a_name_close_to_nothing_is_still_caught():
    assert kv.unknown_variables(['digitro_zzz_qqq']) == [('digitro_zzz_qqq', None)]
    assert 'no known option is close' in kv.message([('digitro_zzz_qqq', None)])


def test_every_option_of_every_argument_spec_is_known():
    options = role_options()
    assert kv.unknown_variables(options) == []
    assert options <= kv.known().options  # and suggested before internal names


def test_every_default_and_collection_variable_is_known():
    defaults = set()
    for path in glob.glob(os.path.join(ROOT, 'roles', '*', 'defaults', 'main.yml')):
        with open(path) as handle:
            defaults.update(yaml.safe_load(handle) or {})
    assert defaults and kv.unknown_variables(defaults) == []
    used = set()
    for path in glob.glob(os.path.join(ROOT, 'roles', '*', 'tasks', '*.yml')) + glob.glob(
            os.path.join(ROOT, 'playbooks', '*.yml')):
        with open(path) as handle:
            used.update(re.findall(r'\bdigitro_(?:url|api_key|validate_certs|ca_path|hosts|dry_run)\b', handle.read()))
    assert used and kv.unknown_variables(used) == []


def tasks_of(tasks):
    for task in tasks or []:
        yield task
        for section in ('block', 'rescue', 'always'):
            yield from tasks_of(task.get(section))


def test_names_the_roles_and_playbooks_set_are_known():
    set_by_roles = set()
    for path in glob.glob(os.path.join(ROOT, 'roles', '*', 'tasks', '*.yml')):
        with open(path) as handle:
            text = handle.read()
        set_by_roles.update(re.findall(r'^\s*(?:register|loop_var):\s*([A-Za-z_][A-Za-z0-9_]*)\s*$', text, re.M))
        for task in tasks_of(yaml.safe_load(text)):
            set_by_roles.update(task.get('ansible.builtin.set_fact') or {})
            set_by_roles.update(task.get('vars') or {})
            stats = (task.get('ansible.builtin.set_stats') or {}).get('data')
            set_by_roles.update(stats if isinstance(stats, dict) else {})
    ours = set(n for n in set_by_roles if n.lstrip('_').startswith(kv.PREFIXES))
    assert len(ours) >= 10  # the roles do set names with the prefixes (internals as __<role>_*)
    assert kv.unknown_variables(set_by_roles) == []
    # set_stats counts built in Python and the AWX playbook's settings
    assert kv.unknown_variables(['digitro_audit_weak', 'digitro_audit_checked', 'digitro_rotation_quarantined',
                                 'digitro_dac_moved', 'digitro_dac_failed', 'digitro_awx_sites',
                                 'digitro_awx_credential_type_injectors']) == []


def test_each_way_of_setting_or_reading_a_name_counts(tmp_path, monkeypatch):
    role = tmp_path / 'roles' / 'r'
    for folder in ('tasks', 'meta', 'defaults', 'vars', 'templates'):
        (role / folder).mkdir(parents=True)
    (tmp_path / 'playbooks').mkdir()
    (role / 'meta' / 'argument_specs.yml').write_text(
        'argument_specs:\n  main:\n    options: &o\n      password_rotation_a1: {type: str}\n'
        '  other:\n    options:\n      <<: *o\n      password_rotation_a2: {type: str}\n')
    (role / 'defaults' / 'main.yml').write_text('password_rotation_d1: 1\n')
    (role / 'vars' / 'main.yml').write_text('password_rotation_v1: !unsafe "{{ x }}"\n')
    (role / 'templates' / 't.j2').write_text('{{ password_rotation_t1 }} password_rotation_prose\n')
    (role / 'tasks' / 'main.yml').write_text("""
- name: Facts  # password_rotation_comment
  ansible.builtin.set_fact:
    password_rotation_f1: "{{ password_rotation_j1 | default(password_rotation_j2) }}"
    cacheable: false
- name: Loop
  ansible.builtin.debug:
    msg: password_rotation_prose {{ item.password_rotation_attr }}
  loop: [1]
  loop_control: {loop_var: password_rotation_l1, index_var: password_rotation_i1}
  register: password_rotation_r1
  when: password_rotation_w1 and password_rotation_w2 is defined
  vars:
    password_rotation_tv1: 1
- name: Block
  block:
    - name: Stats
      ansible.builtin.set_stats:
        data: {digitro_s1: 1}
      failed_when: [password_rotation_fw1]
""")
    (tmp_path / 'playbooks' / 'p.yml').write_text(
        '- name: P\n  hosts: all\n  vars:\n    digitro_pv1: 1\n  roles: [{role: r, vars: {dac_sessions_rv1: 1}}]\n')
    monkeypatch.setattr(kv, '_COLLECTION_ROOT', str(tmp_path))
    known = kv.compute()
    expected = {'password_rotation_a1', 'password_rotation_a2', 'password_rotation_d1', 'password_rotation_v1',
                'password_rotation_t1', 'password_rotation_f1', 'password_rotation_j1', 'password_rotation_j2',
                'password_rotation_l1', 'password_rotation_i1', 'password_rotation_r1', 'password_rotation_w1',
                'password_rotation_w2', 'password_rotation_tv1', 'digitro_s1', 'password_rotation_fw1',
                'digitro_pv1', 'dac_sessions_rv1'}
    assert expected <= known.names
    options = {'password_rotation_a1', 'password_rotation_a2', 'password_rotation_d1', 'password_rotation_v1'}
    assert options <= known.options
    # prose, comments, attributes and the option "cacheable" are not names
    assert not {'password_rotation_prose', 'password_rotation_comment', 'password_rotation_attr'} & known.names
    assert 'cacheable' not in known.names


def test_internal_ignored_and_foreign_names_pass():
    assert kv.unknown_variables(['__password_rotation_x', '__digitro_anything', 'ansible_host', 'my_var']) == []
    assert kv.unknown_variables(['digitro_site_owner'], ignore=['digitro_site_owner']) == []
    assert kv.unknown_variables(['digitro_site_owner'], prefixes=['password_rotation_']) == []


def test_a_new_option_is_known_as_soon_as_a_role_declares_it(tmp_path, monkeypatch):
    """Nothing to keep in step: the names are read from the files, wherever the collection is installed."""
    copy = tmp_path / 'pabx'
    ignored = shutil.ignore_patterns('.venv', '.git', 'tests', 'emulator', 'docs', 'benchmarks', '.hypothesis', 'build')
    shutil.copytree(ROOT, str(copy), ignore=ignored)
    spec = copy / 'roles' / 'password_rotation' / 'meta' / 'argument_specs.yml'
    spec.write_text(spec.read_text().replace(
        '    options:\n', '    options:\n      password_rotation_brand_new:\n        type: str\n'
        '        description: New.\n', 1))
    monkeypatch.setattr(kv, '_COLLECTION_ROOT', str(copy))
    assert 'password_rotation_brand_new' in kv.compute().options
    assert kv.unknown_variables(['password_rotation_brand_new'], names=kv.compute()) == []


def test_the_names_are_computed_once_per_process():
    first = kv.known()
    assert kv.known() is first
    start = time.perf_counter()
    kv.compute()
    assert time.perf_counter() - start < 2  # tens of milliseconds in practice


def run_action(task_vars, args=None):
    task = mock.MagicMock(args=args or {}, check_mode=False, async_val=0, diff=False)
    task.get_validated_value.side_effect = lambda name, attribute, value, templar: value
    action = ActionModule(task, mock.MagicMock(), PlayContext(), mock.MagicMock(), mock.MagicMock(), mock.MagicMock())
    return action.run(task_vars=task_vars)


def test_the_action_fails_with_names_and_never_a_value():
    task_vars = {'inventory_hostname': 'pabx1', 'password_rotation_targes': SECRET, 'digitro_api_kye': SECRET,
                 'password_rotation_targets': SECRET, 'credential_store_secret': SECRET}
    result = run_action(task_vars)
    assert result['failed'] and result['unknown'] == ['digitro_api_kye', 'password_rotation_targes']
    assert result['suggestions'] == {'digitro_api_kye': 'digitro_api_key',
                                     'password_rotation_targes': 'password_rotation_targets'}
    assert 'password_rotation_targes is not an option of digitro.pabx (did you mean password_rotation_targets?)' \
        in result['msg']
    assert SECRET not in repr(result)


def test_the_action_passes_known_names_and_honours_ignore():
    result = run_action({'password_rotation_targets': '1000', 'digitro_url': 'https://x', 'ansible_check_mode': False})
    assert not result.get('failed') and result['unknown'] == [] and result['changed'] is False
    result = run_action({'digitro_site_owner': 'me'}, {'ignore': ['digitro_site_owner']})
    assert not result.get('failed')
