"""Stage 3: the published tables - codelists, the merged report types, derived tables, Agenda
2030 and the follow-up figures."""
