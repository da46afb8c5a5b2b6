"""2D person keypoints for raw photos (BlazePose-full through ai-edge-litert)."""

from engine.detect.keypoints import BLAZEPOSE_NAMES, BLAZEPOSE_TO_COCO17, COCO17_NAMES
from engine.detect.people import PhotoDetections
from engine.detect.pose_detector import (
    MIN_DETECTION_SCORE,
    MIN_PERSON_SIZE,
    PersonDetection,
    PoseDetector,
    detect_all_file,
    detect_file,
)

__all__ = [
    "BLAZEPOSE_NAMES",
    "BLAZEPOSE_TO_COCO17",
    "COCO17_NAMES",
    "MIN_DETECTION_SCORE",
    "MIN_PERSON_SIZE",
    "PersonDetection",
    "PhotoDetections",
    "PoseDetector",
    "detect_all_file",
    "detect_file",
]
