"""api_overrides: the derived contract, its refusals, and the probe's judgements of what a PABX answered."""
import pytest

from ansible_collections.digitro.pabx.plugins.module_utils import _api, _api_check


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
    ({'slugs': {'verify_password': 'altera-senha'}}, 'would give altera-senha to two operations'),
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
