"""The dissection's per-clip parts and their merge."""

from repflow.dissect.tables import PARTS, PartWriter, merge_parts, read_columns

COLUMNS = ("index", "energy")


def test_a_merge_after_a_killed_run_removes_what_it_left_of_a_part_it_was_writing(tmp_path):
    writer = PartWriter(tmp_path, rank=0, fmt="csv", columns=COLUMNS, flush_every=1)
    for index in (2, 0, 1):
        writer.add({"index": [index], "energy": [float(index) / 2]})
    leftover = tmp_path / PARTS / ".part-0000-000003.4242.0123456789ab.tmp.csv"  # killed inside atomic_write
    leftover.write_text("index,ene")
    table = merge_parts(tmp_path, "csv", COLUMNS)
    assert not (tmp_path / PARTS).exists(), "the parts folder is gone"
    merged = read_columns(table)
    assert list(merged["index"]) == [0, 1, 2] and list(merged["energy"]) == [0.0, 0.5, 1.0]
