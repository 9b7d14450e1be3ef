"""The operator console: a web page (plain HTML and JavaScript in ``static/``, no build
step) served with its live state feed on one port by ``venue console --config FILE``.

It shows the cluster's nodes (role, term, commit and applied index, lag, halts and
divergences), the instruments (status, last price), the L2 book of a chosen instrument,
recent trades and a chosen account's open orders; with the operator token it halts and
resumes instruments, sets an account's kill switch, takes snapshots and transfers
leadership.
"""
