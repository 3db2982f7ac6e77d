"""One staging database per lake: the lake names the staging database it mirrors.

The export's cursor is the last staging load it wrote. A second staging database exporting into
the same lake would write all its rows again (its load ids are newer: the lake holds every row
twice) or nothing at all (older: "nothing new", and the lake silently misses its loads). Several
hosts exporting ONE staging database into one lake are fine: the staging database's writer lock
serializes them and dlt keeps their cursor in the lake.

So the first export claims the lake: it writes `<lake>/_olist_staging.json`, naming the staging
database by its first load id (unique to that database, and the same from every host that
reaches it), created only if absent (an exclusive create on a local folder; S3's If-None-Match,
which AWS S3 and MinIO honour), and every export checks the claim before writing anything. A lake
written before the claim existed is claimed by its next export.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass

from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from olist.config import Settings
from olist.errors import LakeError

OWNER_FILE = "_olist_staging.json"


@dataclass(frozen=True)
class StagingIdentity:
    first_load_id: str  # the staging database's first completed load: what makes it this one
    display: str  # where it was at the claim (password masked): for the message only

    def to_json(self) -> str:
        claimed_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return json.dumps({**self.__dict__, "claimed_at": claimed_at}, indent=2) + "\n"


def claim_lake(
    fs: AbstractFileSystem, lake_path: str, staging: StagingIdentity, settings: Settings
) -> None:
    """Claim the lake for `staging`, or raise LakeError if another staging database holds it.

    `fs` and `lake_path` are the lake's filesystem and folder as dlt's destination sees them, the
    folder already created (dlt refuses to start a lake in a folder it did not create).
    """
    path = f"{lake_path.rstrip('/')}/{OWNER_FILE}"
    owner = _read(fs, path)
    if owner is None:
        _create_exclusive(fs, path, staging.to_json())
        owner = _read(fs, path)  # another export may have claimed it in between: it won
    if owner is None:
        raise LakeError(f"Cannot claim the lake {settings.lake_url}: {path} was not written.")
    if owner.get("first_load_id") != staging.first_load_id:
        raise LakeError(
            f"The lake {settings.lake_url} holds the exports of another staging database "
            f"({owner.get('display', 'unknown')}, first load {owner.get('first_load_id')}, "
            f"claimed {owner.get('claimed_at', 'at an unknown time')}); this export is from "
            f"{staging.display} (first load {staging.first_load_id}). One lake mirrors one "
            "staging database: exporting here would write its rows twice or miss some. Point "
            "OLIST_LAKE_URL at a new lake, or OLIST_STAGING_URL back at the lake's staging "
            f"database. Nothing was written (the claim is {path})."
        )


def _read(fs: AbstractFileSystem, path: str) -> dict[str, str] | None:
    try:
        return json.loads(fs.cat_file(path))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as error:
        raise LakeError(
            f"The lake's claim file {path} is not JSON ({error}): it names the staging database "
            "the lake mirrors; restore it, or delete it if you know the lake and the staging "
            "database match."
        ) from None


def _create_exclusive(fs: AbstractFileSystem, path: str, text: str) -> None:
    """Create `path` only if absent; losing the race to another export is not an error here
    (the caller reads back whichever claim won)."""
    data = text.encode()
    if isinstance(fs, LocalFileSystem):
        # Written whole beside it, then linked into place: link() fails if the claim exists, and
        # a crash never leaves a half-written claim.
        draft = f"{path}.{os.getpid()}.draft"
        with open(draft, "wb", opener=lambda name, flags: os.open(name, flags, 0o600)) as file:
            file.write(data)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
        return
    try:
        # If-None-Match: *. S3 servers that ignore it (rclone) let a simultaneous second claim
        # overwrite the first; each export reads the claim back, so only an exact tie slips by.
        fs.pipe_file(path, data, mode="create")
    except OSError:
        if not fs.exists(path):
            raise  # not the precondition failing: the lake refused the write
