"""The shell every domain shares: time, actors, the policy guard, security headers, the home page."""
