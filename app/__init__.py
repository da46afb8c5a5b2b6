"""ADHMR Studio's Qt application: it calls ``engine``, never the reverse.

``state`` (what is shown, with change signals) and ``candidate_set`` (one person's
candidates, decoded lazily) hold no widgets; ``views`` draw the photo (2D) and the meshes
(3D); ``panels`` are the docks (image browser, candidate table, and the registry through
which later panels join); ``dialogs`` and ``widgets`` are small parts; ``main_window`` and
``window_actions`` put them together. Start it with ``adhmr-gui`` (``adhmr_gui.main``).
"""
