"""Consumer challenges: content/challenges/ validated at load, graded by client scripts run against the sandbox."""
