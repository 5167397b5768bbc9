"""The benchmark harness shared by every scenario: protocol (methods, grid), data subsets, the train-once run cache,
scoring (one pass per model, both decodings, change report), rendering (tables, figure) and the command line.

A scenario (e.g. benchmarks/wikiann_facility.py) only says which data, which teacher and which methods."""
