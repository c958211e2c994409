"""Side-by-side benchmarks of omnicrm against the approach people would otherwise use: one
runner (``python -m benchmarks``) prints one table, each row ours vs its peer measured in the
same run. See benchmarks/README.md."""
