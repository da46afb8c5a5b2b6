"""Candidate sets: ranking, lazy decoding, projection into the photo."""

import numpy as np

from app.candidate_set import BodyDecoder, CandidateSet, Crop


def _set(decoder, scores, params=None):
    n = len(scores)
    if params is None:
        params = np.repeat(decoder.rest_pose_params(), n, axis=0)
    return CandidateSet(np.arange(n), np.zeros(n, int), params, np.asarray(scores, float),
                        {k: np.full(n, np.nan) for k in ("mpjpe", "pa_mpjpe", "pve")},
                        Crop.of_box((100, 50, 300, 450)), decoder)


def test_ranking_puts_the_highest_score_first_and_unscored_last(body):
    c = _set(BodyDecoder(body), [0.2, np.nan, 0.9, 0.5])
    assert c.ranking().tolist() == [2, 3, 0, 1]
    assert c.ranks().tolist() == [3, 4, 1, 2]
    assert c.score_range() == (0.2, 0.9)
    unscored = _set(BodyDecoder(body), [np.nan, np.nan])
    assert unscored.ranking().tolist() == [0, 1] and unscored.score_range() is None


def test_meshes_decode_lazily_and_once(body):
    c = _set(BodyDecoder(body), [0.1, 0.2, 0.3])
    assert not c._vertices
    c.ensure_decoded([0, 2])
    assert sorted(c._vertices) == [0, 2]
    first = c.vertices(0)
    c.ensure_decoded([0, 1, 2])
    assert c.vertices(0) is first and c.vertices(1).shape == (body.num_vertices, 3)


def test_the_average_body_stands_in_its_box(body):
    decoder = BodyDecoder(body)
    box = (100, 50, 300, 450)
    c = CandidateSet.placeholder(box, decoder)
    px = c.vertices_px(0)
    height = px[:, 1].max() - px[:, 1].min()
    assert abs(height - 400) < 40  # as tall as the box
    assert abs(px[:, 0].mean() - 200) < 20
    head_y = c.keypoints_px(0)[0, 1]  # the nose is near the top: upright
    assert head_y < 50 + 0.2 * 400


def test_translation_reproduces_the_crop_projection(body):
    c = CandidateSet.placeholder((100, 50, 300, 450), BodyDecoder(body))
    focal, principal = 800.0, np.array([320.0, 240.0])
    p = c.vertices(0).astype(np.float64) + c.translation(0, focal, principal)
    pinhole = focal * p[:, :2] / p[:, 2:] + principal
    weak = c.vertices_px(0)
    assert np.abs(pinhole - weak).mean() < 0.05 * 400  # close for a person a few metres away
