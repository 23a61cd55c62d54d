"""The screening as an OGC API - Processes process (placeholder until built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["OGC API - Processes"])
