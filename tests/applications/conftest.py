from tests.reviews.conftest import approver, reviewer  # noqa: F401  (shared staff fixtures)
