"""deprecation_marks.DEPRECATIONS_OF_OURS fails a test on a deprecation raised at a line of any
recommender module, and leaves a library's own deprecations (raised from its code) warnings."""

from __future__ import annotations

import warnings

import pytest

from deprecation_marks import DEPRECATIONS_OF_OURS

pytestmark = DEPRECATIONS_OF_OURS


def _warn_from(module: str, category: type[Warning]) -> None:
    """What a library does when a line of ``module`` calls its deprecated API."""
    warnings.warn_explicit("this call changes in the next release", category,
                           filename=module.replace(".", "/") + ".py", lineno=1, module=module)


@pytest.mark.parametrize("module", ["recommender", "recommender.moods", "recommender.web.app"])
@pytest.mark.parametrize("category", [DeprecationWarning, PendingDeprecationWarning, FutureWarning])
def test_a_deprecation_our_code_triggers_fails_the_test(module, category):
    with pytest.raises(category):
        _warn_from(module, category)


def test_pandas_chained_assignment_from_our_code_fails_the_test():
    errors = pytest.importorskip("pandas.errors")
    if not hasattr(errors, "ChainedAssignmentError"):
        pytest.skip("this pandas has no ChainedAssignmentError")
    with pytest.raises(errors.ChainedAssignmentError):
        _warn_from("recommender.library", errors.ChainedAssignmentError)


def test_a_librarys_own_deprecation_stays_a_warning():
    with warnings.catch_warnings(record=True) as seen:  # keeps the mark's filters
        # after the mark's filters (append): one that turned a library's warning into an error wins
        warnings.filterwarnings("always", category=DeprecationWarning, module="matplotlib", append=True)
        _warn_from("matplotlib._mathtext", DeprecationWarning)
    assert [w.category for w in seen] == [DeprecationWarning]
