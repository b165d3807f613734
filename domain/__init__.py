"""The users domain: plain Python, standard library only."""
