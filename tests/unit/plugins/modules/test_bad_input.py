"""Every module, given any input: a clear failure naming the option, or a run; never a traceback or a leak."""
import io
import json
from contextlib import redirect_stdout

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible.module_utils.testing import patch_module_args
from ansible_collections.digitro.pabx.plugins.modules import (
    digitro_api_check, digitro_dac_session, digitro_password, digitro_user_validate)

BATCH_MODULES = {'digitro_password': digitro_password, 'digitro_user_validate': digitro_user_validate,
                 'digitro_dac_session': digitro_dac_session}
MODULES = dict(BATCH_MODULES, digitro_api_check=digitro_api_check)
SECRET = '48151623'
UNREACHABLE = 'http://127.0.0.1:9'   # nothing listens: a run that passes validation fails fast, clearly

values = st.one_of(st.none(), st.text(max_size=40), st.integers(), st.booleans(), st.just(''), st.just('x' * 5000),
                   st.just('１２３４'), st.just(SECRET), st.lists(st.text(max_size=5), max_size=2))
entries = st.fixed_dictionaries({}, optional={name: values for name in (
    'device', 'device_password', 'account', 'account_password', 'new_password', 'state')})


def run_module(module, args):
    out = io.StringIO()
    with patch_module_args(args), redirect_stdout(out):
        try:
            module.main()
        except SystemExit:
            pass
    return json.loads(out.getvalue())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(MODULES)), entry=entries,
       batch=st.one_of(st.none(), st.lists(entries, max_size=4)), timeout=st.sampled_from([1, 0, -1, 'x']))
def test_any_input_fails_clearly_or_runs(name, entry, batch, timeout):
    args = dict(entry, url=UNREACHABLE, api_key=SECRET, timeout=timeout)
    if batch is not None:
        args['batch'] = batch
    result = run_module(MODULES[name], args)
    text = json.dumps(result)
    assert 'Traceback' not in text and 'exception' not in result
    assert SECRET not in text
    if result.get('failed'):
        assert result['msg']


@pytest.mark.parametrize('name', sorted(BATCH_MODULES))
def test_duplicates_in_a_batch_are_refused_before_any_request(name):
    entry = dict(device='1000', device_password='4321', account='2000', account_password='5678')
    if name == 'digitro_password':
        entry['new_password'] = '8642'
    result = run_module(MODULES[name], dict(url=UNREACHABLE, api_key='k-0192', batch=[entry, dict(entry)]))
    assert result['failed'] and 'both target' in result['msg'] and 'event channel' not in result['msg']


@pytest.mark.parametrize('url', ['pabx.example.com', 'ftp://pabx', 'http://', ''])
def test_a_url_without_scheme_or_host_names_the_option(url):
    result = run_module(digitro_password, dict(url=url, api_key='k-0192', device='1000', device_password='4321',
                                               new_password='8642'))
    expected = 'url is not set: set the PABX host\'s variable digitro_url' if not url else \
        'url must be an http:// or https:// URL'
    assert result['failed'] and expected in result['msg']


def test_a_missing_api_key_names_the_variables_that_give_it():
    result = run_module(digitro_password, dict(url='https://pabx', device='1000', device_password='4321',
                                               new_password='8642'))
    assert result['failed'] and 'digitro_api_key (or the environment variable DIGITRO_API_KEY' in result['msg']
