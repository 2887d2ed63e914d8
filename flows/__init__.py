"""Aneby open data: the publish pipeline, one folder per stage.

Imports run one way, and a test keeps it so:

    core -> intake -> checks -> tables -> outputs -> pipeline / cli

- core: settings, the dataset register (schemas/datasets.yaml), problems, labels, fingerprints
- intake: where deliveries come from and how they are read (sources, Kolada, discovery, reading)
- checks: verdicts on deliveries (Table Schema via fastcheck, rules, privacy, keys, earlier ones)
- tables: the published tables (codelists, merged report types, derived tables, Agenda 2030,
  the follow-up figures)
- outputs: what a release holds (formats, package, changes, database, DCAT, portal, PDF) and the
  run summary
- pipeline (the Prefect flow) and cli (the `opendata` command) on top, with lock (one run at a
  time) and processes (child servers that die with the command)
"""
