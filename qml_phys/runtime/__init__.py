"""Everything that touches the outside world: records, progress bars, plots, checkpoints."""
