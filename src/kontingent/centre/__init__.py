"""The centre console: the second dose on the spot (spot*.py) and the centre's day."""
