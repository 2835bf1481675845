"""A library deprecation that our own code triggers fails the tests that exercise it.

pandas, numpy, scikit-learn, scipy, matplotlib, starlette, typer/click and spotipy attribute
their DeprecationWarning, PendingDeprecationWarning and FutureWarning to the line that called
them: one raised at a line of ``recommender`` announces a removal or a change of behaviour in a
coming release (pandas 2.x's FutureWarnings became pandas 3's silent new behaviour). A test
module that sets ``pytestmark = DEPRECATIONS_OF_OURS`` turns such a warning into an error, so
CI (.ci/run, the newest releases; .ci/lowest, the oldest allowed) says so while both behaviours
still exist. So does pandas 3's ChainedAssignmentError: an assignment through a copy, which
changes nothing. A warning a library raises from its own code (matplotlib 3.8 calling
pyparsing 3.3's old names) is that library's and stays a warning.
"""

from __future__ import annotations

import pytest

OUR_MODULES = "recommender"  # a regex matched at the start of the module name: every submodule too
CATEGORIES = ("DeprecationWarning", "PendingDeprecationWarning", "FutureWarning",
              "pandas.errors.ChainedAssignmentError", "numpy.exceptions.VisibleDeprecationWarning")
DEPRECATIONS_OF_OURS = pytest.mark.filterwarnings(*(f"error::{c}:{OUR_MODULES}" for c in CATEGORIES))
