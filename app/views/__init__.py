"""The image overlay (2D) and mesh (3D) views."""
