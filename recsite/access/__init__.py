"""Who may use the service, in one place: one module per concern.

- ``clients``: who a request comes from (the address a declared proxy vouches for).
- ``limits``: the atomic request limits every worker shares, the DRF throttle over them,
  and one checked password's share of the login limits.
- ``password``: the session password, its constant-time check and its fingerprint.
- ``tokens``: the access tokens it buys, verified without a database.
- ``login``: the session password checked under the login limits (/api/login, /try/),
  POST /api/login, and the admin's login, throttled alike.
"""
