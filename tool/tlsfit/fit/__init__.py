"""`tlsfit fit`'s library: the objectives (objective), the knob model (knobs), the
search over measured headers and the ablation (search), and the report (report)."""
