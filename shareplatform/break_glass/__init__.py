"""Emergency ("break-glass") access to a case for someone not on its team, and its review."""
