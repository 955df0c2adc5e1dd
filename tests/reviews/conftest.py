"""The staff helpers moved to tests/factories.py and the staff fixtures to tests/conftest.py. These names stay
importable from here for tests/notifications/conftest.py, which is being written at the same time and imports
`staff_in` from this module; once it imports from tests.factories, this file can go."""

from tests.factories import role_group, staff_in, submitted_application

__all__ = ["role_group", "staff_in", "submitted_application"]
