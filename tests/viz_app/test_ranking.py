"""AppTest tests of the channel ranking: motion energy by default, agreement with TV-L1 on request (sidebar
buttons, channel grid, export rows), and the fallback when a window has no local motion."""

import numpy as np
import pytest
import streamlit as st

from repflow.agreement import channel_agreement
from repflow.video import write_video
from tests.viz_app.apptest_helpers import assert_clean, export_rows, run_app


@pytest.fixture
def textured_clip(app_env, tmp_path, monkeypatch, moving_square):
    """A samples folder holding one clip with local motion: the square over a still texture."""
    write_video(tmp_path / "textured.mp4", moving_square(textured=True))
    monkeypatch.setenv("REPFLOW_SAMPLES_DIR", str(tmp_path))
    return tmp_path / "textured.mp4"


def ranked_buttons(at) -> list[int]:
    return [int(at.button(key=f"rank_{position}").label) for position in range(8)]


def test_channels_rank_by_agreement_with_tvl1_on_request(textured_clip, monkeypatch):
    from repflow import agreement as library

    scored, tvl1_runs = [], []
    real_agreement, real_magnitude = library.channel_agreement, library.tvl1_magnitude

    def recording(flows, frames, **kwargs):
        scored.append((flows, frames))
        return real_agreement(flows, frames, **kwargs)

    monkeypatch.setattr(library, "channel_agreement", recording)
    monkeypatch.setattr(library, "tvl1_magnitude",
                        lambda frames, **kwargs: tvl1_runs.append(1) or real_magnitude(frames, **kwargs))
    st.cache_data.clear()
    at = run_app()
    assert_clean(at)
    assert at.radio(key="rank_by").value == "energy" and not scored, "the first view needs no TV-L1"
    assert "energy" in at.button(key="rank_0").help and "agreement" not in at.button(key="rank_0").help
    energy_order = ranked_buttons(at)

    at.session_state["export_open"] = True  # the export's rows are checked below
    at.radio(key="rank_by").set_value("agreement").run()
    assert_clean(at)
    assert not at.sidebar.info, "the window has local motion: no fallback"
    ((flows, frames),) = scored
    agreement = channel_agreement(flows, frames, motion=real_magnitude(frames))  # of the frames the model read
    order = [int(c) for c in np.argsort(-agreement, kind="stable")]
    assert ranked_buttons(at) == order != energy_order
    assert at.session_state["channel"] == order[0], "a new ranking opens on its best channel"
    assert f"agreement with TV-L1 r {agreement[order[0]]:.2f}" in at.button(key="rank_0").help
    assert any(c.value.startswith("Most in agreement with TV-L1 (mean r over the ") for c in at.sidebar.caption)
    assert export_rows(at).value == order[:4], (
        "the export's rows follow the ranking"
    )

    at.radio(key="grid_sort").set_value("agreement with TV-L1 over the clip").run()
    assert_clean(at)
    assert [int(o.removeprefix("ch ")) for o in at.pills(key="grid_pick").options] == order
    at.number_input(key="channel").set_value(order[5]).run()
    assert at.session_state["channel"] == order[5], "the user's channel stays under the same ranking"
    assert len(scored) == 1 and len(tvl1_runs) == 1, "the agreement is computed once per model, window and layer"
    at.selectbox(key="layer").select("flow_block.flow2").run()
    assert_clean(at)
    assert len(scored) == 2 and len(tvl1_runs) == 1, "another layer of the same window reuses its TV-L1"


def test_a_window_without_local_motion_says_so_and_ranks_by_energy(app_env):
    at = run_app()  # the moving square over a flat background: TV-L1 moves the whole frame
    energy_order = ranked_buttons(at)
    at.radio(key="rank_by").set_value("agreement").run()
    assert not at.exception and not at.error
    (note,) = at.sidebar.info
    assert note.value.startswith("No step of this window has local motion") and "ranked by motion energy" in note.value
    assert ranked_buttons(at) == energy_order
    assert any(c.value.startswith("Most moving channels") for c in at.sidebar.caption)
