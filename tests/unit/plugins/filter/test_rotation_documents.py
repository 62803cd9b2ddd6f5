"""The rotation filters hand their large documents (store, batch, report) from task to task as JSON text."""
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.digitro.pabx.plugins.filter import rotation
from ansible_collections.digitro.pabx.plugins.plugin_utils import _store
from ansible_collections.digitro.pabx.plugins.plugin_utils._filters import packed, unpacked

NOW = '2026-11-27T03:00:00Z'


def loaded_store(count):
    doc = _store.empty_store()
    for index in range(count):
        doc['devices'][str(1000 + index)] = {'current': '%06d' % (482913 + index), 'pending': None, 'history': [],
                                             'changed_at': None}
    return doc


def test_packed_text_comes_back_as_it_was():
    doc = loaded_store(3)
    assert unpacked(packed(doc)) == doc and unpacked(doc) == doc and unpacked([]) == []


def test_a_text_that_is_not_a_document_is_refused_without_being_echoed():
    with pytest.raises(ValueError) as raised:
        unpacked('482913')
    assert '482913' not in str(raised.value) and 'not JSON of one' in str(raised.value)


def test_a_rotation_round_passes_text_from_stage_to_module_runs_to_commit_and_report():
    doc = loaded_store(5)
    staged = rotation.rotation_stage(doc, 'devices', {'targets': 'all'}, {}, NOW)
    assert all(isinstance(staged[key], str) for key in ('store', 'batch', 'skipped')) and staged['entries'] == 5
    runs = rotation.rotation_chunks(staged['entries'], 2)
    batches = [json.loads(rotation.rotation_batch(staged['batch'], run)) for run in runs]
    assert [len(b) for b in batches] == [2, 2, 1] and sum(batches, []) == json.loads(staged['batch'])
    # each module run's results come back as text, as the action plugin returns them for a batch given as text
    results = [{'results': json.dumps([{'status': 'changed', 'holds': 'new', 'wrong_attempts': 0} for _entry in b])}
               for b in batches]
    settled = rotation.rotation_commit(staged, 'devices', results, NOW)
    assert isinstance(settled['store'], str) and isinstance(settled['report'], str)
    store = json.loads(settled['store'])
    assert all(entry['current'] != doc['devices'][n]['current'] for n, entry in store['devices'].items())
    assert settled['counts']['rotated'] == 5 and sorted(json.loads(settled['verified'])) == sorted(doc['devices'])
    # the next round and the report take the text as it is
    again = rotation.rotation_stage(settled['store'], 'devices', {'only': []}, {}, NOW, verified=settled['verified'])
    assert again['entries'] == 0
    rendered = rotation.rotation_report(settled['report'], {'pabx': 'p'})
    assert rendered['problems'] == [] and json.loads(rendered['json'])['entries'][0]['status'] == 'rotated'
    assert rotation.rotation_summary(settled['report'])['rotated'] == 5
    number = sorted(store['devices'])[0]
    assert rotation.rotation_unmet(settled['store'], {number: store['devices'][number]['current']}) == []


def test_the_report_lists_what_needs_attention():
    rows = [dict(kind='devices', number=str(n), status=s, reason='r', pending=False)
            for n, s in enumerate(('rotated', 'failed', 'quarantined', 'skipped'))]
    assert [r['status'] for r in rotation.rotation_report(packed(rows))['problems']] == ['failed', 'quarantined']


def test_a_filter_given_a_text_that_is_not_json_says_which_filter():
    with pytest.raises(AnsibleFilterError) as raised:
        rotation.rotation_stage('{not json', 'devices', {'targets': 'all'}, {}, NOW)
    assert 'rotation_stage' in str(raised.value)
