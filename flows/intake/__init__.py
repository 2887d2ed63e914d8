"""Stage 1: where deliveries come from (a local folder, any fsspec source, Kolada) and how a
delivered file is found and read."""
