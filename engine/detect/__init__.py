"""2D person keypoints for raw photos (BlazePose-full through ai-edge-litert)."""

from engine.detect.keypoints import BLAZEPOSE_NAMES, BLAZEPOSE_TO_COCO17, COCO17_NAMES
from engine.detect.pose_detector import PersonDetection, PoseDetector, detect_file

__all__ = [
    "BLAZEPOSE_NAMES",
    "BLAZEPOSE_TO_COCO17",
    "COCO17_NAMES",
    "PersonDetection",
    "PoseDetector",
    "detect_file",
]
