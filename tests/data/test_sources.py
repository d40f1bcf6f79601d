"""repflow.data.sources: folder-per-class, list files, HMDB-51 splits and Kinetics-400 layouts."""

from __future__ import annotations

import shutil

import pytest

from repflow.data.sources import from_folders, from_list_file, hmdb51, kinetics400
from repflow.data.toy import write_toy_dataset


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    root = tmp_path_factory.mktemp("toy")
    write_toy_dataset(root, num_classes=3, videos_per_class=3, num_frames=6, height=32, width=40)
    return root


def test_folders(toy):
    videos = from_folders(toy)
    assert videos.classes == ("class_0", "class_1", "class_2")
    assert len(videos) == 9
    assert all(r.path.parent.name == videos.classes[r.label] for r in videos.records)


def test_folders_errors(tmp_path, toy):
    with pytest.raises(FileNotFoundError, match="missing"):
        from_folders(tmp_path / "missing")
    with pytest.raises(ValueError, match="sub-folder"):
        from_folders(tmp_path)
    with pytest.raises(ValueError, match="not one of"):
        from_folders(toy, classes=["class_0", "class_1"])


def test_list_file(toy, tmp_path):
    lines = ["class_1/video_0.mp4 1", "", "# comment", "class_2/video_2.mp4 2"]
    (toy / "list.txt").write_text("\n".join(lines))
    videos = from_list_file(toy / "list.txt")
    assert [(r.path.name, r.label) for r in videos.records] == [("video_0.mp4", 1), ("video_2.mp4", 2)]
    assert videos.classes == ("class_0", "class_1", "class_2")
    (tmp_path / "classes.txt").write_text("walk\nrun\njump\n")
    (tmp_path / "list.txt").write_text("class_0/video_1.mp4 0\n")
    named = from_list_file(tmp_path / "list.txt", root=toy)
    assert named.classes == ("walk", "run", "jump") and named.records[0].path == toy / "class_0/video_1.mp4"


@pytest.mark.parametrize(
    "text, error, message",
    [
        ("class_0/video_0.mp4\n", ValueError, r"list.txt:1: expected"),
        ("class_0/video_0.mp4 x\n", ValueError, "expected"),
        ("class_0/gone.mp4 0\n", FileNotFoundError, "gone.mp4"),
        ("class_0/video_0.mp4 7\n", ValueError, "outside"),
    ],
)
def test_list_file_errors(tmp_path, toy, text, error, message):
    (tmp_path / "list.txt").write_text(text)
    with pytest.raises(error, match=message):
        from_list_file(tmp_path / "list.txt", root=toy, classes=["a", "b", "c"])


def _hmdb_layout(root, toy):
    """HMDB-51-style tree: root/<class>/*.avi and split files in root/splits."""
    splits = root / "splits"
    splits.mkdir(parents=True)
    for name in ("brush_hair", "cartwheel"):
        (root / name).mkdir()
        for i in range(3):
            shutil.copy(toy / "class_0" / f"video_{i}.mp4", root / name / f"{name}_{i}.avi")
        for split in (1, 2, 3):
            marks = [(1, 2, 0), (2, 1, 1), (1, 1, 2)][split - 1]
            lines = [f"{name}_{i}.avi {mark} " for i, mark in enumerate(marks)]
            (splits / f"{name}_test_split{split}.txt").write_text("\n".join(lines) + "\n")
    return splits


def test_hmdb51(tmp_path, toy):
    splits = _hmdb_layout(tmp_path, toy)
    train = hmdb51(tmp_path, split=1, subset="train", splits_dir=splits)
    test = hmdb51(tmp_path, split=1, subset="test", splits_dir=splits)
    assert train.classes == ("brush_hair", "cartwheel")
    assert sorted(r.path.name for r in train.records) == ["brush_hair_0.avi", "cartwheel_0.avi"]
    assert sorted((r.path.name, r.label) for r in test.records) == [("brush_hair_1.avi", 0), ("cartwheel_1.avi", 1)]
    assert len(hmdb51(tmp_path, split=2, subset="train", splits_dir=splits)) == 4


def test_hmdb51_errors(tmp_path, toy):
    splits = _hmdb_layout(tmp_path, toy)
    with pytest.raises(ValueError, match="no HMDB-51 split files"):
        hmdb51(tmp_path)
    with pytest.raises(ValueError, match="splits 1, 2 and 3"):
        hmdb51(tmp_path, split=4, splits_dir=splits)
    (tmp_path / "cartwheel" / "cartwheel_1.avi").unlink()
    with pytest.raises(FileNotFoundError, match="cartwheel_1.avi"):
        hmdb51(tmp_path, subset="test", splits_dir=splits)


def _kinetics_layout(root, toy):
    for subset, count in (("train", 2), ("val", 1)):
        for label, name in enumerate(("air drumming", "abseiling")):
            folder = root / subset / name
            folder.mkdir(parents=True)
            for i in range(count):
                shutil.copy(toy / f"class_{label}" / f"video_{i}.mp4", folder / f"{subset}{label}{i}_000010_000020.mp4")


def test_kinetics_folders_use_train_classes(tmp_path, toy):
    _kinetics_layout(tmp_path, toy)
    shutil.rmtree(tmp_path / "val" / "abseiling")  # val lacks a class: labels must still agree with train
    train = kinetics400(tmp_path, subset="train")
    val = kinetics400(tmp_path, subset="val")
    assert train.classes == val.classes == ("abseiling", "air drumming")
    assert [r.label for r in val.records] == [1]


def test_kinetics_csv_labels_and_missing(tmp_path, toy, caplog):
    _kinetics_layout(tmp_path, toy)
    csv_file = tmp_path / "val.csv"
    csv_file.write_text(
        "label,youtube_id,time_start,time_end,split\n"
        "air drumming,val00,10,20,val\n"
        "abseiling,val10,10,20,val\n"
        "abseiling,gone_video1,0,10,val\n"
    )
    val = kinetics400(tmp_path, subset="val", csv_file=csv_file)
    assert val.classes == ("abseiling", "air drumming")
    assert sorted((r.path.stem, r.label) for r in val.records) == [
        ("val00_000010_000020", 1),
        ("val10_000010_000020", 0),
    ]
    assert "1 of 3 videos" in caplog.text


def test_kinetics_csv_needs_columns(tmp_path, toy):
    _kinetics_layout(tmp_path, toy)
    (tmp_path / "bad.csv").write_text("id,label\nx,y\n")
    with pytest.raises(ValueError, match="youtube_id"):
        kinetics400(tmp_path, subset="val", csv_file=tmp_path / "bad.csv")
