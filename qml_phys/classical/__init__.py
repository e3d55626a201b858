"""The classical side: Ising Monte Carlo, observables with honest errors, datasets."""
