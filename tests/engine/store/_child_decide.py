"""Child process for the crash tests: records manual pair decisions in a loop.

Usage: _child_decide.py PROJECT PERSON_ID LIMIT. Prints each pair id once
``decide_pair`` has returned (the decision is then acknowledged as saved).
"""

import sys

from engine import store as st

path, person, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with st.Project.open(path) as project:
    for pair in st.list_pairs(project, person_id=person)[:limit]:
        st.decide_pair(
            project, pair.id, "accepted" if pair.id % 2 else "rejected", who=f"pid-{person}"
        )
        print(pair.id, flush=True)
