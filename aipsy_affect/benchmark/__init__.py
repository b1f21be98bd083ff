"""The benchmark: submissions (the one intake), scoring, and the leaderboard store."""
