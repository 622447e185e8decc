"""`stsdash demo` and the emulators behind it: moto's STS with an MFA-checking proxy, and a local SSO.

A package of its own, beside `stsdash`: the product never imports it; the `demo` command, the tests and
the benchmarks do. It needs moto's server (`pip install 'stsdash[demo]'`).
"""
