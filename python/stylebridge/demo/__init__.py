"""``stylebridge demo``: server + reference client + live table + report, in one command."""
