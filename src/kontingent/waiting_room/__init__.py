"""The fair waiting room in front of verification and booking (issue 4)."""
