"""The case kernel: what every workflow's domain services share.

- :mod:`workflow_app.cases.messages` — texts that people read later (timeline entries, decision
  summaries) are stored as a code and parameters and rendered in the reader's language.
- :mod:`workflow_app.cases.transitions` — the transition plumbing: lock, check, save with a
  history reason, audit entry.
- :mod:`workflow_app.cases.evidence` — one evidence mechanism for every case kind.
- :mod:`workflow_app.cases.hooks` — extension points that higher layers fill in (report row
  actions, home-page counts) so the kernel never imports a domain app or ``processes``.
"""
