"""Used on both sides of the pipes: the protocol's vocabulary and the run limits."""
