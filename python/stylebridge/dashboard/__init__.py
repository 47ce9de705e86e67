"""``stylebridge dashboard``: one page of a store's history (perf runs, live sessions)."""
