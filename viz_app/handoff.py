"""Opening the explorer on a clip, layer and channel from another page (the Dataset page's top clips).

The link carries the request in the page's address: ``clip`` / ``clip_name`` (the clip, copied into the upload
cache, as the explorer restores an upload), ``model`` (a bundled model's file name), ``layer`` and ``channel``.
The explorer applies ``model``, ``layer`` and ``channel`` once (:func:`take_request`) and drops them from the
address, so that the user's later choices stay theirs.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from viz_app.sources import find_models, models_dir, store_upload

REQUEST = ("model", "layer", "channel")


@st.cache_data(show_spinner=False, max_entries=64)
def _cached_clip(path: str, mtime_ns: int, size: int) -> str:
    return store_upload(Path(path).name, Path(path).read_bytes(), kind="clips").name


def explorer_request(clip: Path, *, model: str, layer: str, channel: int) -> dict[str, str]:
    """The query parameters that open the explorer on ``clip`` with the bundled ``model`` (file name), ``layer``
    and ``channel``; the clip is copied into the upload cache the explorer restores clips from."""
    stat = clip.stat()
    return {"clip": _cached_clip(str(clip), stat.st_mtime_ns, stat.st_size), "clip_name": clip.name,
            "model": model, "layer": layer, "channel": str(channel)}


def take_request() -> None:
    """Apply a request in the address (model, layer, channel) to the explorer's widgets before they are drawn,
    once, and take it out of the address; the clip is restored by the sidebar from ``clip`` / ``clip_name``."""
    params = st.query_params
    if not any(key in params for key in REQUEST):
        return
    models = {path.name: str(path) for path in find_models(models_dir())}
    if params.get("model") in models:
        st.session_state["model_source"] = "checkpoint"
        st.session_state["model_choice"] = models[params["model"]]
    if params.get("clip"):
        st.session_state.pop("restored_clip", None)  # read the address's clip again
    if params.get("layer"):
        st.session_state["layer"] = params["layer"]
    if (params.get("channel") or "").isdigit():
        st.session_state["channel"] = st.session_state["_next_channel"] = int(params["channel"])
    for key in REQUEST:
        if key in params:
            del params[key]
