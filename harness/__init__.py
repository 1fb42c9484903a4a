"""The project as production runs it, in real processes: one home for what the checks in
ops/, the benchmark in bench/ and the live tests all use, so that none imports another."""
