"""The module base keeps only the no_log values that occur in a result: Ansible's masking must not change."""
from hypothesis import given, settings, strategies as st

from ansible.module_utils.common.parameters import remove_values

from ansible_collections.digitro.pabx.plugins.module_utils._module import occurring_values

# Small alphabets make collisions (a PIN inside a number, inside a message, next to asterisks) likely.
secret = st.text(alphabet='12*a', min_size=1, max_size=4)
scalar = st.one_of(st.text(alphabet='12*a -', max_size=12), st.integers(0, 2500), st.booleans(), st.none())
result = st.recursive(scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(alphabet='12ab', max_size=3), inner, max_size=4)),
    max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(result, st.lists(secret, max_size=12, unique=True))
def test_masking_with_the_occurring_values_equals_masking_with_all(data, secrets):
    # Ansible masks longer values first; between values of one length its order is the set's (arbitrary
    # for overlapping values), so both sides get the same order here.
    assert remove_values(data, occurring_values(data, secrets)) == remove_values(data, secrets)


def test_a_batch_result_keeps_only_the_values_it_shows():
    batch_result = {'results': [{'device': '100000', 'status': 'changed'}, {'device': '100001', 'msg': 'PIN 4711'}]}
    kept = occurring_values(batch_result, {'4711', '100000', '8888', 'x*'})
    assert sorted(kept) == ['100000', '4711', 'x*']
