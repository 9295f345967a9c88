"""A schedule upload cut by power loss, end to end on the sim board: the half upload dies
with the process, the old file stays on the real flash folder, a full push then installs.

Refused uploads, spacing, stock and the test dispense are proven in-process
(tests/test_commands_inprocess.py, tests/test_controller_inprocess.py); cuts racing the
commit at every step are the soak campaign's `install` cuts (docs/soak.md).
"""

from __future__ import annotations

import hashlib
from base64 import b64encode

import pytest
from simhelpers import board_with, compiled, log_records, wait_hello

from pillctl.device import Device, DeviceError, open_device
from pillctl.schedule.hashing import embedded_hash
from pillctl.transfer import PUSH_CHUNK, fetch_schedule, push_schedule

BONE = compiled("bone-health")
FUSION = compiled("spinal-fusion-regimen")
BONE_SHA, FUSION_SHA = embedded_hash(BONE), embedded_hash(FUSION)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def installed_sha(device: Device) -> str:
    return device.request("status")["schedule"]["sha256"]


def begin_upload(device: Device, data: bytes, chunks: int, sha: str | None = None) -> None:
    """schedule.put begin and the first `chunks` data chunks of `data`."""
    device.request(
        "schedule.put", {"op": "begin", "size": len(data), "sha256": sha or sha256_hex(data)}
    )
    for off in range(0, min(len(data), chunks * PUSH_CHUNK), PUSH_CHUNK):
        chunk = b64encode(data[off : off + PUSH_CHUNK]).decode()
        device.request("schedule.put", {"op": "data", "off": off, "b64": chunk})


def power_cycle(board, device: Device) -> dict:
    board.control.power(False)
    board.control.power(True)
    return wait_hello(device)


@pytest.fixture
def bone_board(tmp_path):
    with board_with(tmp_path / "board", BONE) as board:
        yield board


# --- a. schedule installs and power cuts -------------------------------------------------


def test_power_cut_mid_upload_keeps_the_old_schedule_then_a_full_push_installs(bone_board):
    assert len(FUSION) > 2 * PUSH_CHUNK  # the cut really falls between chunks
    with open_device(bone_board.port) as device:
        assert installed_sha(device) == BONE_SHA
        begin_upload(device, FUSION, chunks=2)
        assert power_cycle(bone_board, device)["reset"] == "power"
        assert installed_sha(device) == BONE_SHA
        assert fetch_schedule(device) == BONE  # the file itself, byte for byte
        assert sorted(p.name for p in bone_board.fs.glob("schedule*")) == ["schedule.json"]
        # The half upload died with the power: a commit now has nothing to install.
        with pytest.raises(DeviceError) as refused:
            device.request("schedule.put", {"op": "commit"})
        assert refused.value.code == "refused"
        assert installed_sha(device) == BONE_SHA

        assert push_schedule(device, FUSION)["sha256"] == FUSION_SHA
        assert installed_sha(device) == FUSION_SHA
        assert fetch_schedule(device) == FUSION
    schedule_records = [r for r in log_records(bone_board) if r["kind"] == "schedule"]
    # The first boot logged the schedule it found on the flash (issue 8 item 6); the cut
    # upload logged nothing; the full push logged FUSION.
    hashes = [int(sha[:8], 16) for sha in (BONE_SHA, FUSION_SHA)]
    assert [r["hash32"] for r in schedule_records] == hashes
