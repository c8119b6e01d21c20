"""The parts of one playground run, one job each; playground.run.session.RunSession coordinates them."""
