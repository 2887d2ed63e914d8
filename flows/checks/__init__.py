"""Stage 2: verdicts on deliveries - Table Schema (fastcheck, with Frictionless's verdicts), the
flow's own rules, personal data, keys across files and earlier valid deliveries."""
