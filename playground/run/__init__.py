"""The parts of one playground run, one job each; playground.runs.RunSession coordinates them."""
