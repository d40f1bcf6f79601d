"""Channel rankings of a flow layer: by motion energy (free: the flows are at hand) or by agreement with TV-L1
(:mod:`repflow.agreement`: one OpenCV TV-L1 pass over the frames the model read, cached). The sidebar's channel
buttons, the export's default rows and the channel browser's ordered slider follow the ranking chosen in the
sidebar; the channel grid offers both as sort orders of its own.

Motion energy is the default: it costs nothing, so a new model, clip or layer opens at once; TV-L1 of the window
takes about 0.1 s per frame pair at 56 px and 0.4 s at 112 px on 2 CPU cores (1-1.5 s for the bundled 56-px
models' 8 frames, 6-7.5 s for 16 frames at 112 px).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from repflow import flowviz
from repflow.agreement import LOCAL_MOTION, STILL_PX, counted_steps, rank_by_agreement, reference_motion
from repflow.analysis import ClipAnalysis
from repflow.dissect import Dissection
from viz_app import compute

RANKINGS = {"energy": "motion energy", "agreement": "agreement with TV-L1", "selectivity": "dataset selectivity"}
SECONDS_PER_PAIR_56PX = 0.12  # OpenCV TV-L1 of one 56-px frame pair on 2 busy cores; it grows with the pixels
RANKING_HELP = (
    "Motion energy: mean |flow|² of the channel over the window (free). Agreement with TV-L1: mean Pearson r between "
    "the channel's |flow| and OpenCV TV-L1 |flow| of the frames the model read, area-averaged to the layer's map, "
    f"over the steps where TV-L1 motion is local (spatial std/mean ≥ {LOCAL_MOTION}, mean ≥ {STILL_PX} px), as "
    "`repflow bench alignment` scores layers: does the channel show where things move? It costs one TV-L1 pass over "
    f"the window (about {SECONDS_PER_PAIR_56PX:.2g} s per frame pair at 56 px, {4 * SECONDS_PER_PAIR_56PX:.2g} s at "
    "112 px), once per window. Dataset selectivity: how much more one action moves the channel than the others "
    "across the model's bundled dissection of the test set (`repflow dissect`; no computation here)."
)


@dataclass(frozen=True)
class Ranking:
    """A layer's channels in ranked order, with what they were ranked by.

    ``by`` is the ranking used: "energy" also when agreement was asked for but cannot be measured (``note`` says
    why). ``agreement`` (C,) is the r per channel when measured, ``counted`` / ``steps`` the steps it averages."""

    by: str
    order: tuple[int, ...]
    energy: np.ndarray
    agreement: np.ndarray | None = None
    counted: int = 0
    steps: int = 0
    note: str = ""
    selectivity: dict[int, tuple[float, str]] | None = None  # channel -> (index, preferred class), from a dissection

    def describe(self, channel: int) -> str:
        """Channel ``channel``'s scores: "energy 0.0123", then " · agreement with TV-L1 r 0.53" when measured."""
        text = f"energy {self.energy[channel]:.3g}"
        if self.selectivity is not None and channel in self.selectivity:
            index, preferred = self.selectivity[channel]
            return f"{text} · dataset selectivity {index:.2f} (most: {preferred})"
        return text if self.agreement is None else f"{text} · agreement with TV-L1 r {self.agreement[channel]:.2f}"

    @property
    def heading(self) -> str:
        """What the ranked channels are, for a caption above them."""
        if self.by == "selectivity":
            return "Most selective for one action across the test set (bundled dissection):"
        if self.by == "agreement":
            return (f"Most in agreement with TV-L1 (mean r over the {self.counted} of {self.steps} steps with local "
                    "motion):")
        return "Most moving channels (motion energy over the clip):"


def rank_channels(analysis: ClipAnalysis, layer: str, by: str, *, key: tuple, dataset: Dissection | None = None
                  ) -> Ranking:
    """``layer``'s channels ranked ``by`` "energy", "agreement" or "selectivity" (read from the model's ``dataset``
    dissection) (``key`` identifies the analysis in the cache). Agreement falls back to energy, with a ``note``,
    when no step has local motion or it cannot be measured; selectivity when the layer has no dissection."""
    flows = analysis.flows[layer]
    energy = flowviz.flow_energy(flows)
    by_energy = tuple(int(c) for c in flowviz.rank_by_energy(flows))
    if by == "selectivity":
        if dataset is None or layer not in dataset.layers:
            return Ranking("energy", by_energy, energy, note="This model and layer have no bundled dataset "
                           "dissection (`repflow dissect`): channels are ranked by motion energy.")
        scores = dataset.channel_scores(layer)
        order = tuple(c for c in dataset.channel_order(layer, "selectivity") if c < len(flows))
        selectivity = {int(c): (float(row.selectivity), str(row.preferred_class)) for c, row in scores.iterrows()}
        return Ranking("selectivity", order, energy, selectivity=selectivity)
    if by != "agreement":
        return Ranking("energy", by_energy, energy)
    try:
        frames, side = len(analysis.frames), analysis.frames.shape[1]
        seconds = max(1, round(SECONDS_PER_PAIR_56PX * (frames - 1) * (side / 56) ** 2))
        with st.spinner(f"Agreement with TV-L1: OpenCV TV-L1 of the {frames} frames the model read ({side} px; "
                        f"about {seconds} s on 2 cores), once per window…"):
            agreement = compute.channel_agreement(key, layer, flows, analysis.frames)
            motion = compute.clip_motion(analysis.frames)
    except Exception as error:  # noqa: BLE001 (the energy ranking still works)
        return Ranking("energy", by_energy, energy, note=f"Agreement with TV-L1 cannot be measured here ({error}): "
                       "channels are ranked by motion energy.")
    counted = counted_steps(reference_motion(motion, flows.shape[2:4], flows.shape[1]))
    if np.isnan(agreement).all():
        note = ("No step of this window has local motion (TV-L1 finds the frames still or moving as a whole), so "
                "agreement with TV-L1 cannot be measured: channels are ranked by motion energy.")
        return Ranking("energy", by_energy, energy, note=note)
    order = tuple(int(c) for c in rank_by_agreement(agreement))
    return Ranking("agreement", order, energy, agreement, int(counted.sum()), len(counted))
