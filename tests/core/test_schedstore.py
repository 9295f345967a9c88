"""Schedule install is checked and atomic: the old schedule survives any failure."""

from coretools import bone_health_bytes, bone_health_obj, remove_tree, schedule_bytes, temp_dir

from dispenser import schedstore
from dispenser.core import schedule


def test_install_then_load():
    root = temp_dir()
    try:
        path = root + "/schedule.json"
        assert schedstore.load(path) is None
        installed = schedstore.install(path, bone_health_bytes())
        assert schedstore.load(path).sha == installed.sha
    finally:
        remove_tree(root)


def test_rejected_schedule_leaves_the_old_one_in_place():
    root = temp_dir()
    try:
        path = root + "/schedule.json"
        schedstore.install(path, bone_health_bytes())
        obj = bone_health_obj()
        obj["caps"]["ca"] = 9000
        try:
            schedstore.install(path, schedule_bytes(obj))
            raise AssertionError("installed a schedule over the absolute cap")
        except schedule.ScheduleError:
            pass
        with open(path, "rb") as f:
            assert f.read() == bone_health_bytes()
        assert len(__import__("os").listdir(root)) == 1  # no temp file left behind
    finally:
        remove_tree(root)
