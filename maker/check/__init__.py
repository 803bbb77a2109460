"""Checking tools: validation in the sandbox, the generality checks and repair feedback; the
`Verdict` they return is the library's record (`library.verdict`)."""
