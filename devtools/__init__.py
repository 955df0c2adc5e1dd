"""Development tools shared by the benchmarks (bench/), the fault drill (bench/drill.py) and the test suite:
process helpers, scratch databases and seed SQL, an SMTP sink and a Celery worker launcher.

Nothing of the application imports this package; it imports the application where it needs to."""
