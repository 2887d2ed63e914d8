"""Stage 4: what a release holds - every format, the Data Package, changes, the database, the
DCAT catalogue, the portal and PDF - and the run summary."""
