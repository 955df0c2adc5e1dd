"""Development tools shared by the benchmarks (bench/), the drills (bench/drill.py, bench/scale_drill.py) and the test
suite: process helpers, scratch databases and seed SQL, an SMTP sink, a Celery worker and beat launcher, nginx as a
load balancer and a form-filling web client.

Nothing of the application imports this package; it imports the application where it needs to."""
