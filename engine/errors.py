"""The project's exception types.

Every error a user can cause (a bad file, a wrong shape, a missing install) is raised as
one of these, with a one-line message that names the file or value and the problem, so
the CLI and the app can show it without a traceback.
"""


class AdhmrError(Exception):
    """Base of every error the engine raises on purpose."""


class BodyModelError(AdhmrError):
    """A body model file is missing, corrupt, or has the wrong layout."""


class ShapeError(AdhmrError, ValueError):
    """An array or tensor has the wrong shape, dtype or non-finite values."""


class DetectorError(AdhmrError):
    """The keypoint detector is not installed or could not process an image."""


class NoPersonError(DetectorError):
    """The detector found no person in an image."""


class ImageError(AdhmrError):
    """A file does not exist or is not a readable image."""


class DataError(AdhmrError):
    """A dataset or annotation file is malformed."""


class CheckpointError(AdhmrError):
    """A checkpoint is missing, corrupt, untrusted, or does not fit the body model."""


class StoreError(AdhmrError):
    """A project file cannot be opened or written."""


class JobCancelled(AdhmrError):
    """Raised inside long work when its cancel check returns True."""


class DeviceError(AdhmrError):
    """A device name is unknown, or this machine or torch build does not have that device."""


class PluginError(AdhmrError):
    """A sampler or scorer plug-in is unknown, fails to load, or is not a Sampler / Scorer."""
