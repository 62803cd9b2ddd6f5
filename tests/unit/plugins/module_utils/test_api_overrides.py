"""api_overrides: the derived contract, its refusals, and the probe's judgements of what a PABX answered."""
import pytest

from ansible_collections.digitro.pabx.plugins.module_utils import _api, _api_check
from ansible_collections.digitro.pabx.plugins.module_utils._validation import check_url


def test_stock_contract_is_the_table():
    stock = _api.contract(None)
    assert stock.events_path == '/events' and stock.channel_id_field == 'ID_CANAL' and stock.overrides == {}
    assert dict((n, op.slug) for n, op in stock.operations.items()) == dict(
        (n, op.slug) for n, op in _api.OPERATIONS.items())
    assert stock.to_wire({_api.DEVICE: '1'}) == {'DISPOSITIVO': '1'}


def test_renamed_fields_translate_both_ways_and_keep_unknown_names():
    contract = _api.contract({'fields': {'device_password': 'PIN', 'user_name': 'NOME_COMPLETO'},
                              'slugs': {'validate_user': 'validar'}})
    assert contract.operations[_api.VALIDATE_USER] == _api.Operation(
        'validar', ('DISPOSITIVO', 'PIN', 'CONTA', 'SENHA'), (), False, False)
    assert contract.to_wire({_api.DEVICE_PASSWORD: 'x'}) == {'PIN': 'x'}
    assert contract.from_wire({'NOME_COMPLETO': 'Ana', 'EXTRA': '1'}) == {_api.USER_NAME: 'Ana', 'EXTRA': '1'}
    assert contract.secret_fields == frozenset(['PIN', 'SENHA', 'NOVA_SENHA'])


@pytest.mark.parametrize('overrides, message', [
    ({'slug': {}}, 'api_overrides has unknown key(s) slug; allowed: channel_id_field, events_path, fields, slugs'),
    ({'fields': {'pin': 'X'}}, 'api_overrides.fields has unknown key(s) pin; allowed: account, account_password,'),
    ({'slugs': {'verify_password': 'a/b'}}, 'api_overrides.slugs.verify_password must be a slug'),
    ({'slugs': {'verify_password': 'altera-senha'}}, 'slugs.verify_password must not be altera-senha, the slug of an '
     'operation that changes something'),
    ({'slugs': {'verify_password': 'consulta-dac'}}, 'would give consulta-dac to two operations'),
    ({'fields': {'device': 'CONTA'}}, 'would give CONTA to two fields'),
    ({'events_path': 'events'}, 'api_overrides.events_path must be a path'),
    ({'channel_id_field': 7}, 'api_overrides.channel_id_field must be a field name'),
    (['slugs'], 'api_overrides must be a mapping'),
])
def test_wrong_overrides_are_refused_with_what_is_allowed(overrides, message):
    with pytest.raises(_api.OverrideError) as raised:
        _api.contract(overrides)
    assert message in str(raised.value)


def test_an_unknown_slug_is_told_from_a_known_one_by_its_answer():
    unknown = _api_check.Answer(404, '{"ERRO": "no operation x-unknown"}')
    assert _api_check.same_answer(_api_check.Answer(404, '{"ERRO": "no operation verifica"}'), unknown,
                                  'verifica', 'x-unknown')
    assert not _api_check.same_answer(_api_check.Answer(400, '{"ERRO": "campo ausente"}'), unknown,
                                      'verifica', 'x-unknown')


@pytest.mark.parametrize('data, expected', [
    ('{"ID_CANAL": "42"}', ('confirmed', None)),
    ('{"CANAL": 42, "TIPO": "x"}', ('contradicted', 'CANAL')),
    ('{"A": "1", "B": "2"}', ('contradicted', None)),
    ('42', ('contradicted', None)),
])
def test_the_channel_id_field_is_found_when_only_one_field_is_numeric(data, expected):
    assert _api_check.channel_id_candidates(data, 'ID_CANAL') == expected


def test_error_bodies_and_refused_fields_name_the_setting():
    assert _api_check.error_field_of(_api_check.Answer(400, '{"ERRO": "x"}'), 'ERRO') == ('confirmed', None)
    assert _api_check.error_field_of(_api_check.Answer(400, '{"MSG": "x"}'), 'ERRO') == ('contradicted', 'MSG')
    assert _api_check.error_field_of(_api_check.Answer(400, 'plain text'), 'ERRO') == ('contradicted', None)
    named = _api_check.fields_named('{"ERRO": "campo desconhecido: SENHA_DISPOSITIVO"}', _api.STOCK,
                                    ['DISPOSITIVO', 'SENHA_DISPOSITIVO'])
    assert named == ['device_password']


# -- the attack on issue 17: 8 (a read reaching a write), 11, 22-24 --------------------------------------------------

@pytest.mark.parametrize('overrides, message', [
    # 8: a read given a write slug (stock or overridden), a secret field trading names with another field
    ({'slugs': {'validate_user': 'altera-senha', 'change_password': 'x-altera'}},
     'slugs.validate_user must not be altera-senha, the slug of an operation that changes something'),
    ({'slugs': {'dac_query': 'login-logout-dac', 'dac_login_logout': 'dac'}}, 'slugs.dac_query must not be'),
    ({'slugs': {'verify_password': 'muda', 'change_password': 'muda'}}, 'gives muda to two keys'),
    ({'fields': {'account': 'NOVA_SENHA', 'new_password': 'CONTA'}},
     'fields.account must not be NOVA_SENHA, the name of the field new_password'),
    ({'fields': {'device_password': 'NOVA_SENHA', 'new_password': 'SENHA_DISPOSITIVO'}}, 'must not be'),
    ({'fields': {'device_password': 'SENHA'}}, 'fields.device_password must not be SENHA'),
    # 24: empty strings, wrong types, dot segments, huge or control-character names, the probe's own slug
    ({'events_path': ''}, 'events_path must be a path'),
    ({'events_path': 0}, 'events_path must be a path'),
    ({'events_path': None}, 'events_path must be a path'),
    ({'events_path': '/../../admin'}, 'no . or .. segment'),
    ({'events_path': '/cti/./events'}, 'no . or .. segment'),
    ({'events_path': '/' + 'a' * 200}, 'at most 128 characters'),
    ({'channel_id_field': ''}, 'channel_id_field must be a field name'),
    ({'channel_id_field': 'ID\x7f\x00'}, 'channel_id_field must be a field name'),
    ({'slugs': ''}, 'api_overrides.slugs must be a mapping'),
    ({'fields': []}, 'api_overrides.fields must be a mapping'),
    ({'slugs': {'verify_password': '..'}}, 'slugs.verify_password must be a slug'),
    ({'slugs': {'verify_password': '.'}}, 'slugs.verify_password must be a slug'),
    ({'slugs': {'verify_password': ''}}, 'slugs.verify_password must be a slug'),
    ({'slugs': {'verify_password': 'a' * 1000000}}, 'at most 64 characters'),
    ({'fields': {'device': 'X' * 1000000}}, 'at most 64 characters'),
    ({'fields': {'device': 'A\x00B'}}, 'fields.device must be a field name'),
    ({'fields': {'device': 7}}, 'fields.device must be a field name'),
    ({'slugs': {'verify_password': 'digitro-check-api-no-such-operation'}}, 'an operation that surely does not exist'),
])
def test_overrides_that_could_mislead_a_request_are_refused(overrides, message):
    with pytest.raises(_api.OverrideError) as raised:
        _api.contract(overrides)
    assert message in str(raised.value) and len(str(raised.value)) < 400


def test_a_flood_of_unknown_keys_gives_a_short_message():
    for overrides in ({'slugs': dict(('no_such_operation_%06d' % i, 'x') for i in range(100000))},
                      dict(('k%06d' % i, 1) for i in range(100000)),
                      {'fields': {'x' * 100000: 'y'}}):
        with pytest.raises(_api.OverrideError) as raised:
            _api.contract(overrides)
        assert len(str(raised.value)) < 1000 and 'unknown key(s)' in str(raised.value)


def test_renames_that_keep_fields_apart_are_taken():
    contract = _api.contract({'fields': {'device': 'RAMAL', 'new_password': 'SENHA_NOVA', 'error': 'MENSAGEM'},
                              'slugs': {'change_password': 'alterar-senha', 'verify_password': 'verificar-senha'}})
    assert contract.wire(_api.NEW_PASSWORD) == 'SENHA_NOVA'
    assert contract.operations[_api.VERIFY_PASSWORD].slug == 'verificar-senha'


@pytest.mark.parametrize('text, message', [
    ('{"slugs": {"verify_password": "x"}', 'DIGITRO_API_OVERRIDES is not valid JSON (line 1 column 35'),
    ('events_path=/events', 'DIGITRO_API_OVERRIDES is not valid JSON'),
    ('{"slugs": {"verify_password": "x", "verify_password": "verifica-senha"}}',
     'DIGITRO_API_OVERRIDES gives the key(s) verify_password twice'),
    ('[' * 100000, 'DIGITRO_API_OVERRIDES is not valid JSON'),
])
def test_the_environment_variable_is_strict_json(text, message):
    with pytest.raises(_api.OverrideError) as raised:
        _api.overrides_from_json('DIGITRO_API_OVERRIDES', text)
    assert message in str(raised.value)
    assert _api.overrides_from_json('X', '{"slugs": {"verify_password": "v"}}') == {'slugs': {'verify_password': 'v'}}


def test_a_url_with_a_user_or_password_is_refused_without_echoing_it():
    for url in ('http://operator-token-S3CR3T@127.0.0.1:8080', 'https://u:S3CR3T@pabx.example.com/x'):
        message = check_url('url', url)
        assert 'must not carry a user name or password' in message and 'S3CR3T' not in message
    assert check_url('url', 'https://pabx.example.com:8443/api?a=b@c') is None
    assert check_url('url', 'https://pabx.example.com:8443') is None
