"""Predict the next step: questions asked before chosen steps of a lesson trace or a replayed run, graded here."""
