"""Developer code, not imported by a run: the plain-NumPy reference of the model (the tests'
yardstick and the benchmarks' baseline), the draw-only kernel and a runner on local threads
without the pipeline (``rmp-risk bench`` measures with them)."""
