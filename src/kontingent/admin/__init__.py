"""The admin console (issue 17): running the campaign. One module group per part, each
named after it (`centres_*`, `cohorts_*`, ...), the frame in `home.py` and
`templates/admin_base.html`.

Invariants kept here:
- Every route of the console is for the role admin only, and every change an admin makes
  is audited in the transaction that makes it (staff/audit.py) and limited per admin.
- The console changes bookings only through the citizens' own use cases (booking/).
"""
