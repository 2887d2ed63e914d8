"""Stage 0: what every stage shares - settings, the dataset register, problems, labels and
content fingerprints."""
