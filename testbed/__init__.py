"""What both the tests and the benchmarks (bench/) run against: bounded process helpers, the gateway
double and its exposition, the live local stack (Debian's Prometheus, Alertmanager, Caddy on
127.0.0.1), the S3 stand-in, the Pulumi mocks harness, settings for a stack, the repository's paths.

Neither tests nor bench is imported here (tests/unit/test_hygiene.py checks it), so the benchmarks
do not depend on the test suite; test-only helpers stay in tests/support.
"""
