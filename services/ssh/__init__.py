"""SSH to the hosts: the pool (pool.py, asyncssh), the light per-command session, the typed errors, and the
HostRunner contract (runner.py) that callers and fakes type against. Nothing is imported here: the runner
contract and the errors load without asyncssh."""
