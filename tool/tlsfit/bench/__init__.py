"""The benchmark matrix (`tlsfit bench`), its results files, the size gate and the
dashboard: profiles x targets x {fitted, default}, run by CTest, merged into
bench/results/<commit>.json, compared (gate) and drawn (dashboard)."""
