"""Prometheus metrics, in the text format of `prometheus_client` (imported only here, by
`orchestra serve` at a scrape and by `orchestra worker --metrics-port`):

- `gauges`: how things stand, read from PostgreSQL at each scrape of the API's `/metrics`;
- `worker`: what one worker process did (counters and the step-duration histogram), served
  by the worker itself on `--metrics-host:--metrics-port`.
"""
