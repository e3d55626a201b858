r"""Machine learning of phases of the 2D Ising model.

* :mod:`~qml_phys.phases.classifiers` — Flax networks (one-hidden-layer dense classifier,
  convolutional classifier, autoencoder) following the ``train`` keyword convention of
  :func:`qml_phys.train.flax_loss`;
* :mod:`~qml_phys.phases.supervised` — Carrasquilla & Melko, Nat. Phys. 13, 431 (2017),
  arXiv:1605.01735: train on configurations far from :math:`T_c`, read :math:`T_c(L)` off
  the 0.5 crossing of the averaged output (bootstrap errors), finite-size scaling to
  :math:`T_c(\infty)`; transfer to the triangular lattice;
* :mod:`~qml_phys.phases.unsupervised` — PCA (Wang, PRB 94, 195105 (2016),
  arXiv:1606.00318), an autoencoder (Wetzel, PRE 96, 022140 (2017), arXiv:1703.02435)
  and k-means clustering of the leading components, each with a :math:`T_c` estimate;
* :mod:`~qml_phys.phases.confusion` — learning by confusion (van Nieuwenburg, Liu &
  Huber, Nat. Phys. 13, 435 (2017), arXiv:1610.02048): the W-shaped accuracy curve and
  :math:`T_c` from its middle peak.

This package never imports NetKet or PennyLane.
"""
