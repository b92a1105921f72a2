"""Pieces of API schemas that every app uses."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# A database id as the API accepts it: positive and within a 64-bit integer.
Id = Annotated[int, Field(gt=0, le=2**63 - 1)]
