"""The dissection's per-clip parts and their merge."""

from repflow.dissect.tables import PARTS, PartWriter, merge_parts, read_columns
from repflow.io import atomic_path

COLUMNS = ("index", "energy")


def test_a_merge_after_a_killed_run_removes_what_it_left_of_a_part_it_was_writing(tmp_path):
    writer = PartWriter(tmp_path, rank=0, fmt="csv", columns=COLUMNS, flush_every=1)
    for index in (2, 0, 1):
        writer.add({"index": [index], "energy": [float(index) / 2]})
    killed = atomic_path(tmp_path / PARTS / "part-0000-000003.csv")
    half_written = killed.__enter__()  # the process is killed here: the block never ends, nothing renames it
    half_written.write_text("index,ene")
    table = merge_parts(tmp_path, "csv", COLUMNS)
    assert not (tmp_path / PARTS).exists(), "the parts folder is gone, with what the killed write left"
    merged = read_columns(table)
    assert list(merged["index"]) == [0, 1, 2] and list(merged["energy"]) == [0.0, 0.5, 1.0]
    del killed
