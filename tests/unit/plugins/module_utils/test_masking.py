"""The module base keeps only the no_log values that occur in a result: Ansible's masking must not change."""
from hypothesis import given, settings, strategies as st

from ansible.module_utils.basic import heuristic_log_sanitize
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.digitro.pabx.plugins.module_utils._module import PabxModule, occurring_values

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


class _LoggedModule(object):
    """What PabxModule._log_invocation uses of a module: its arguments, its no_log values, and Ansible's log(),
    which masks the line once more with the no_log values of the moment."""

    def __init__(self, args, secrets, target_log_info=None):
        self.args, self.no_log_values, self.lines = args, set(secrets), []
        self._target_log_info = target_log_info  # ansible_target_log_info, e.g. an AWX job's name and number

    def _invocation(self):
        return {'module_args': self.args}

    def log(self, msg, log_args=None):
        if self._target_log_info:
            msg = ' '.join([self._target_log_info, msg])
        self.lines.append((remove_values(msg, self.no_log_values), log_args))


def _logged_by_ansible(args, secrets, target_log_info=None):
    """The line Ansible's masking gives with every no_log value (what the module logged before it scanned)."""
    masked = dict((k, heuristic_log_sanitize(str(v), set(secrets))) for k, v in args.items())
    msg = 'Invoked with %s' % ' '.join('%s=%s' % item for item in sorted(masked.items()))
    if target_log_info:
        msg = ' '.join([target_log_info, msg])
    return remove_values(msg, set(secrets)), masked


# Ansible masks longer values first, and values of one length in its set's order: two overlapping values of one
# length ('12' and '21' in '122') can give two lines from two orders of one set, and so can a value that masking's
# own asterisks contain. The module's set is another than the test's, so each value here has a length of its own,
# and none has '*'.
@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(['url', 'lock_file', 'journal', 'batch', 'a']), scalar, max_size=5),
       st.lists(st.text(alphabet='12a', min_size=1, max_size=6), max_size=6, unique_by=len),
       st.one_of(st.none(), st.text(alphabet='12a -', max_size=8)))
def test_the_logged_invocation_is_masked_as_with_every_value(args, secrets, target_log_info):
    module = _LoggedModule(args, secrets, target_log_info)
    PabxModule._log_invocation(module)
    assert module.lines == [_logged_by_ansible(args, secrets, target_log_info)]
    assert module.no_log_values == set(secrets)  # the result's masking still has every value


def test_a_pin_in_the_target_log_info_or_across_its_join_is_masked():
    for info in ('AWX job 480815', 'AWX job 12'):  # '12 Inv...': a PIN across the join of the two texts
        module = _LoggedModule({'batch': '2 entries (not echoed)'}, {'480815', '12 Inv'}, info)
        PabxModule._log_invocation(module)
        assert '480815' not in module.lines[0][0] and '12 Inv' not in module.lines[0][0]


def test_a_pin_in_a_logged_path_is_masked():
    module = _LoggedModule({'lock_file': '/var/lock/4711.lock', 'batch': '2 entries (not echoed)'}, {'4711', '8888'})
    PabxModule._log_invocation(module)
    assert '4711' not in repr(module.lines) and '********' in module.lines[0][0]
