"""The malloc tuning of sim.core.memory: on where glibc allows it, off on request."""

import platform
import sys

import pytest

from sim.core.memory import keep_freed_memory

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="glibc only")
def test_keep_freed_memory_takes_effect_with_glibc(monkeypatch):
    monkeypatch.delenv("NEXTPRACTICE_KEEP_MEMORY", raising=False)
    assert keep_freed_memory() is True


def test_keep_freed_memory_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("NEXTPRACTICE_KEEP_MEMORY", "0")
    assert keep_freed_memory() is False
