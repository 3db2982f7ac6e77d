"""Errors the pipeline reports to its user, written for the person who reads them at 3 a.m.

Each says what failed, where (file, line, column, table or server) and what to do. The CLI prints
them without a traceback and exits non-zero.
"""

from __future__ import annotations


class PipelineError(Exception):
    """A failure the user can act on; the message is complete and shown as is."""


class SourceFileError(PipelineError):
    """A source file cannot be loaded at all (missing, empty, wrong header); nothing was loaded."""


class StagingDatabaseError(PipelineError):
    """The staging database cannot be reached or refused the credentials."""


class LakeError(PipelineError):
    """The lake (local folder or S3 bucket) cannot be reached, refused the keys, or is missing."""


class WarehouseError(PipelineError):
    """The warehouse cannot be opened (held by another program) or SQLMesh could not build it."""
