"""Checking tools: validation in the sandbox, the generality checks, verdicts and feedback."""
