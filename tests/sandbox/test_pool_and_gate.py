"""The warm pool hands out ready sandboxes; the start gate passes here and fails when it should."""

from __future__ import annotations

import asyncio

import pytest

from playground.sandbox import Sandbox, SandboxOptions, SandboxPool, run_script, start_gate
from playground.sandbox.host import gate

from .support import ECHO, FAST, connect, final, of, text

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_pool_acquire_returns_a_warm_sandbox():
    pool = SandboxPool(2, FAST)
    await pool.start()
    try:
        assert await pool.wait_full(20)
        sandbox = await pool.acquire()
        assert pool.cold_starts == 0  # how quickly a warm one comes is a speed claim: bench/sandbox_bench.py
        assert not sandbox.loaded and not sandbox.done
        events = await run_script(ECHO, [connect(), text("c1", "warm")], FAST, sandbox=sandbox)
        assert of(events, "consumer.send")[0]["text"] == "warm"
    finally:
        await pool.close()


async def test_pool_refills_in_the_background():
    pool = SandboxPool(1, FAST)
    await pool.start()
    try:
        assert await pool.wait_full(20)
        first = await pool.acquire()
        assert await pool.wait_full(20)
        second = await pool.acquire()
        assert first.pid != second.pid and pool.cold_starts == 0
        await first.stop()
        await second.stop()
    finally:
        await pool.close()


async def test_pool_starts_no_refill_while_paused_and_refills_after(monkeypatch):
    pool = SandboxPool(1, FAST)
    await pool.start()
    taken = []
    try:
        assert await pool.wait_full(20)
        starts = []
        real_start = Sandbox.start.__func__  # type: ignore[attr-defined]

        async def counted_start(cls, *args, **kwargs):
            starts.append(args)
            return await real_start(cls, *args, **kwargs)

        monkeypatch.setattr(Sandbox, "start", classmethod(counted_start))
        async with pool.refill_paused():
            taken.append(await pool.acquire())  # the warm one: wakes the refill, which must stay idle
            taken.append(await pool.acquire())  # cold, since the pool is empty; the refill had its turns meanwhile
            assert pool.cold_starts == 1 and len(starts) == 1, starts
        assert await pool.wait_full(20)  # refilled once the burst is over
        assert len(starts) == 2
    finally:
        for sandbox in taken:
            await sandbox.stop()
        await pool.close()


async def test_pool_starts_cold_when_empty():
    pool = SandboxPool(0, FAST)
    sandbox = await pool.acquire()
    assert pool.cold_starts == 1
    await sandbox.stop()
    assert final([e async for e in sandbox.events()])["reason"] == "stopped"


async def test_pool_skips_a_sandbox_that_died_while_waiting():
    pool = SandboxPool(1, FAST)
    await pool.start()
    try:
        assert await pool.wait_full(20)
        victim = pool._ready[0]
        victim.finish("crashed", detail="test")
        await victim.wait_closed()
        sandbox = await pool.acquire()
        assert sandbox is not victim and not sandbox.done
        await sandbox.stop()
    finally:
        await pool.close()


async def test_sandbox_runs_one_module_only():
    pool = SandboxPool(0, FAST)
    sandbox = await pool.acquire()
    await sandbox.load(ECHO)
    with pytest.raises(RuntimeError, match="one module once"):
        await sandbox.load(ECHO)
    await sandbox.stop()


async def test_pool_close_kills_the_spares():
    pool = SandboxPool(2, FAST)
    await pool.start()
    assert await pool.wait_full(20)
    spares = list(pool._ready)
    await pool.close()
    assert all(s.done and s.exit_event["reason"] == "stopped" for s in spares)
    with pytest.raises(RuntimeError, match="closed"):
        await pool.acquire()


async def test_start_gate_passes_on_this_host():
    result = await start_gate()
    assert result.ok, result.reasons
    assert result.sandboxed and set(result.probes) == set(gate.EXPECTED_PROBES)
    assert all(result.probes.values())


async def test_start_gate_fails_without_bubblewrap():
    result = await start_gate(options=SandboxOptions(bwrap="/nonexistent/bwrap"))
    assert not result.ok and any("bubblewrap is missing" in r for r in result.reasons)


async def test_start_gate_fails_without_interpreter():
    result = await start_gate(options=SandboxOptions(python="/nonexistent/python3"))
    assert not result.ok and any("interpreter" in r for r in result.reasons)


async def test_start_gate_fails_without_package_env(tmp_path):
    result = await start_gate(options=SandboxOptions(env_dir=tmp_path))
    assert not result.ok and any("envbuild" in r for r in result.reasons)


async def test_deny_probes_catch_an_unsandboxed_run():
    result = await gate.run_deny_probes(FAST, SandboxOptions(unsandboxed_development=True), 20)
    assert not result.ok
    # Without bwrap the loopback listener answers and the host canary file is readable.
    assert result.probes["net_loopback"] is False and result.probes["canary_file"] is False
    assert any("net_loopback SUCCEEDED" in r for r in result.reasons)


async def test_start_gate_reports_development_mode_as_unsandboxed():
    result = await start_gate(options=SandboxOptions(unsandboxed_development=True))
    assert result.ok and not result.sandboxed and "unsandboxed" in result.reasons[0]


async def test_development_mode_still_runs_consumers():
    events = await run_script(
        ECHO, [connect(), text("c1", "dev")], FAST, options=SandboxOptions(unsandboxed_development=True)
    )
    assert of(events, "consumer.send")[0]["text"] == "dev"


async def test_many_sandboxes_run_concurrently():
    runs = [run_script(ECHO, [connect(), text("c1", str(i))], FAST) for i in range(6)]
    results = await asyncio.gather(*runs)
    assert [of(events, "consumer.send")[0]["text"] for events in results] == [str(i) for i in range(6)]
