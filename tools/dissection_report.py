"""The numbers models/README.md quotes about the bundled dissections, and its figure: per dissection and layer, the
spread of the channels' selectivity index, their preferred classes, how strongly each channel prefers one
direction (the largest of its 8 shares of |flow|², pooled over all clips), the default channel (highest mean
agreement with TV-L1) and the top-1 predictions. A tool, not part of the library or the app.

    python tools/dissection_report.py models/synthetic112_*.dissection
    python tools/dissection_report.py models/synthetic112_flow_of_flow.dissection --figure docs/figures/x.png \\
        --layer flow_block.flow1 --channel 1 --title "..."
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np

from repflow.dissect import Dissection, load_dissection
from repflow.dissect.tables import DIRECTIONS
from repflow.motion_stats import SECTOR_NAMES


def pooled_tuning(dissection: Dissection, layer: str):
    """Per channel of ``layer``: its share of |flow|² in each direction over all clips together (each clip's
    shares weighted by its energy: every window has as many steps and cells)."""
    rows = dissection.clips[dissection.clips["layer"] == layer]
    weighted = rows[list(DIRECTIONS)].mul(rows["energy"], axis=0).groupby(rows["channel"]).sum()
    return weighted.div(weighted.sum(axis=1), axis=0)


def layer_report(dissection: Dissection, layer: str) -> list[str]:
    """Lines describing one layer of a dissection."""
    scores = dissection.channel_scores(layer)
    selectivity = scores["selectivity"].to_numpy(dtype=float)
    preferred = Counter(scores["preferred_class"]).most_common()
    tuning = pooled_tuning(dissection, layer)
    peak = tuning.max(axis=1).sort_values(ascending=False)
    strongest = ", ".join(f"ch {c} {peak[c]:.0%} {SECTOR_NAMES[int(np.argmax(tuning.loc[c].to_numpy()))]}"
                          for c in peak.index[:3])
    lines = [f"  {layer}: {len(scores)} channels",
             f"    selectivity min / median / max: {selectivity.min():.2f} / {np.median(selectivity):.2f} / "
             f"{selectivity.max():.2f} (most selective: ch {int(scores['selectivity'].idxmax())})",
             "    preferred classes: " + ", ".join(f"{name} ({count})" for name, count in preferred),
             f"    largest direction share, median over channels: {peak.median():.2f}; strongest: {strongest}"]
    if dissection.has_agreement:
        channel = dissection.default_channel(layer)
        lines.append(f"    default channel (highest mean agreement with TV-L1): ch {channel} "
                     f"(r {scores.loc[channel, 'agreement']:.2f})")
    return lines


def report(dissection: Dissection) -> list[str]:
    """Lines describing a dissection: its model and clips, each layer, and its predictions."""
    per_clip = dissection.clips.drop_duplicates("clip")
    right = int((per_clip["predicted"] == per_clip["label"]).sum())
    lines = [f"{dissection.folder}: {dissection.summary.get('model')}, {len(per_clip)} clips "
             f"({dissection.summary.get('clips_done')} done, complete: {dissection.summary.get('complete')})"]
    for layer in dissection.layers:
        lines += layer_report(dissection, layer)
    lines.append(f"  top-1 predictions right: {right} / {len(per_clip)}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="dissection folders (repflow dissect --out-dir)")
    parser.add_argument("--figure", type=Path, help="also write the first folder's figure here (PNG / PDF / SVG)")
    parser.add_argument("--layer", help="the figure's layer (default: the first)")
    parser.add_argument("--channel", type=int, help="the figure's tuning channel (default: the most selective)")
    parser.add_argument("--title", help="the figure's title")
    args = parser.parse_args(argv)
    dissections = [load_dissection(folder) for folder in args.folders]
    for dissection in dissections:
        print("\n".join(report(dissection)))
    if args.figure:
        from repflow.dissect.figure import dissection_figure
        from repflow.figure import save_figure

        first = dissections[0]
        layer = args.layer or first.layers[0]
        channel = args.channel if args.channel is not None else first.channel_order(layer, "selectivity")[0]
        save_figure(dissection_figure(first, layer, channel, title=args.title), args.figure)
        print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
