import cv2
import numpy as np
import pytest
from synthetic_rig import rig, write_qca

from engine.cli import main
from engine.errors import DataError, ImageError
from engine.multiview.recording import match_videos
from engine.multiview.video import read_frames


def _write_video(path, frames=5, size=(64, 48)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    for i in range(frames):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        frame[..., 2] = 40 * i  # red rises frame by frame (BGR)
        writer.write(frame)
    writer.release()


def test_frames_come_rgb_with_stride_and_limit(tmp_path):
    path = tmp_path / "v.avi"
    _write_video(path)

    frames = list(read_frames(path, stride=2))
    limited = list(read_frames(path, stride=1, max_frames=2))

    assert [i for i, _ in frames] == [0, 2, 4]
    assert frames[0][1].shape == (48, 64, 3)
    assert frames[2][1][..., 0].mean() == pytest.approx(160, abs=8)  # red is channel 0 in RGB
    assert frames[2][1][..., 2].mean() < 8
    assert [i for i, _ in limited] == [0, 1]
    # A held-out tail of the recording: from frame 1 on, every 2nd, at most 2.
    assert [i for i, _ in read_frames(path, stride=2, max_frames=2, first_frame=1)] == [1, 3]
    with pytest.raises(ImageError, match="first frame"):
        list(read_frames(path, first_frame=-1))


@pytest.mark.parametrize("content", [b"", b"not a video at all" * 50])
def test_a_video_that_cannot_be_decoded_is_one_line(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(ImageError, match="not a readable video") as info:
        list(read_frames(path))
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_missing_video_is_named(tmp_path):
    with pytest.raises(ImageError, match="no such video"):
        list(read_frames(tmp_path / "cam09.mp4"))


def test_videos_match_cameras_by_name_else_by_order(tmp_path):
    cams = rig()
    named = [tmp_path / f"cam0{i}.mp4" for i in (3, 1, 4, 2)]
    plain = [tmp_path / f"v{i}.mp4" for i in range(4)]

    assert [p.stem for p in match_videos(cams, named)] == ["cam01", "cam02", "cam03", "cam04"]
    assert match_videos(cams, plain) == plain
    with pytest.raises(DataError, match="cam04"):
        match_videos(cams, named[:2] + plain[:1] + named[3:])
    with pytest.raises(DataError, match="3 videos for 4"):
        match_videos(cams, plain[:3])


def test_cli_reports_an_undecodable_video_in_one_line(tmp_path, capsys):
    calib = tmp_path / "Calib.qca.txt"
    write_qca(calib, rig())
    videos = []
    for i in range(1, 5):
        videos.append(tmp_path / f"cam0{i}.mp4")
        videos[-1].write_bytes(b"\x00" * 100)

    code = main(["eval-multiview", str(calib), *map(str, videos), "--methods", "blazepose_world"])

    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the progress bar
    assert code == 1
    assert last.startswith("adhmr eval-multiview: error:") and "cam01.mp4: not a readable video" in last


def test_cli_refuses_an_unknown_method(tmp_path, capsys):
    calib = tmp_path / "Calib.qca.txt"
    write_qca(calib, rig())

    code = main(["eval-multiview", str(calib), "a.mp4", "--methods", "magic"])

    assert code == 1 and "unknown method(s) magic" in capsys.readouterr().err
