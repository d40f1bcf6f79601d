import numpy as np
import pytest

from repflow.motion_stats import SECTOR_NAMES, direction_shares, preferred_class, selectivity_index


def field(x: float, y: float, *, steps: int = 3, size: int = 5) -> np.ndarray:
    """One channel of uniform flow (1, steps, size, size, 2) in image coordinates (y down)."""
    flow = np.zeros((1, steps, size, size, 2), np.float32)
    flow[..., 0], flow[..., 1] = x, y
    return flow


@pytest.mark.parametrize(
    "x, y, sector",
    [(1, 0, 0), (1, -1, 1), (0, -1, 2), (-1, -1, 3), (-1, 0, 4), (-1, 1, 5), (0, 1, 6), (1, 1, 7)],
)
def test_a_uniform_field_lands_in_its_screen_direction(x, y, sector):
    shares = direction_shares(field(x, y))
    assert shares.shape == (1, 8)
    assert shares[0, sector] == pytest.approx(1.0), SECTOR_NAMES[sector]
    assert shares.sum() == pytest.approx(1.0)


def test_moving_right_is_sector_zero_and_down_is_not_up():
    assert direction_shares(field(2.5, 0.0))[0, 0] == 1.0
    down = direction_shares(field(0.0, 3.0))[0]  # image y positive = down on screen
    assert down[6] == 1.0 and down[2] == 0.0


def test_shares_weigh_by_squared_magnitude_per_channel():
    flows = np.zeros((2, 1, 1, 2, 2), np.float32)
    flows[0, 0, 0, 0] = (1.0, 0.0)   # right, |u|^2 = 1
    flows[0, 0, 0, 1] = (-2.0, 0.0)  # left, |u|^2 = 4
    flows[1, 0, 0, 0] = (0.0, -1.0)  # second channel: up only
    shares = direction_shares(flows)
    np.testing.assert_allclose(shares[0], [0.2, 0, 0, 0, 0.8, 0, 0, 0])
    np.testing.assert_allclose(shares[1], [0, 0, 1, 0, 0, 0, 0, 0])


def test_a_still_channel_has_no_direction():
    shares = direction_shares(np.zeros((1, 2, 3, 3, 2), np.float32))
    assert np.isnan(shares).all()


def test_sector_borders_split_at_22_5_degrees():
    angle = np.deg2rad(22.0)  # just inside sector 0, counter-clockwise = up on screen
    assert direction_shares(field(np.cos(angle), -np.sin(angle)))[0, 0] == 1.0
    angle = np.deg2rad(23.0)
    assert direction_shares(field(np.cos(angle), -np.sin(angle)))[0, 1] == 1.0


def test_selectivity_index_bounds_and_value():
    means = np.array([[1.0, 1.0, 1.0], [3.0, 0.0, 0.0], [4.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(selectivity_index(means), [0.0, 1.0, (4 - 1) / (4 + 1), 0.0])
    assert preferred_class(means)[1:3].tolist() == [0, 0]


def test_selectivity_ignores_classes_without_clips():
    means = np.array([[2.0, np.nan, 1.0]])
    np.testing.assert_allclose(selectivity_index(means), [(2 - 1) / 3])
    assert preferred_class(means).tolist() == [0]
    with pytest.raises(ValueError, match="two classes"):
        selectivity_index(np.array([[1.0, np.nan]]))
