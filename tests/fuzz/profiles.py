"""Hypothesis profiles of the fuzz slice, chosen by ``$TWIN_FUZZ_PROFILE``: ``ci`` (default) or ``long``.

``ci`` runs a fixed, small number of derandomised examples per reader, so the whole slice takes under two
minutes on two cores and a failure reproduces on every run; ``long`` (``make fuzz``) runs many random ones
(``$TWIN_FUZZ_EXAMPLES`` per reader) and keeps what it found in a hypothesis database beside the findings.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from .harness import findings_dir

PROFILE = os.environ.get("TWIN_FUZZ_PROFILE", "ci")
#: Examples per reader and mutation kind in the ci profile (scaled per test by its cost).
CI_EXAMPLES = 20
LONG_EXAMPLES = int(os.environ.get("TWIN_FUZZ_EXAMPLES", "1500"))

_COMMON = {"deadline": None, "suppress_health_check": list(HealthCheck), "print_blob": True}
# No shrinking in ci: a failure is reported at once, with its input kept (see harness.check_reader).
_NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
settings.register_profile(
    "twin-fuzz-ci", max_examples=CI_EXAMPLES, derandomize=True, database=None, phases=_NO_SHRINK, **_COMMON
)
settings.register_profile(
    "twin-fuzz-long",
    max_examples=LONG_EXAMPLES,
    database=DirectoryBasedExampleDatabase(str(findings_dir() / "hypothesis-db")) if PROFILE == "long" else None,
    **_COMMON,
)


def fuzz_settings(scale: float = 1.0) -> settings:
    """The profile's settings, with ``scale`` × its examples (cheap readers more, slow ones fewer)."""
    parent = settings.get_profile(f"twin-fuzz-{PROFILE}")
    return settings(parent, max_examples=max(1, round(parent.max_examples * scale)))
