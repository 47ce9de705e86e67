"""What every flow of the bridge shares: frames and sessions as plain data.

Below the flows: frames, swaps and control import it, it imports none of them.
"""
