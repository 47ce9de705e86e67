"""Model pushes: validate for the session, send over its Models stream, await the ack.

Each session with an open ``Models`` stream has a queue of pushes that its stream
drains, one push at a time (a session's pushes never overlap, so a client never sees
one superseded by the server). A push is validated for that session first (size,
engine verdict); a refused model is never sent and the refusal is recorded with its
reason. The bytes go in chunks of ``model_chunk_bytes`` (metadata on the first), then
the push waits up to the ack timeout for the client's ``ModelAck``: ACTIVE (with the
client's import, warm-up and first-inference times and the first frame the new model
ran) or ROLLED_BACK (with the client's error). Every outcome lands in the session (the
live table) and the store. Pinned sessions get no automatic pushes (a file completed in
the catalog, a late join), only explicit swaps. Python starts loading the model while
the bytes travel, so it is ready when the first frame names it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import replace

from stylebridge.bridge.core.domain import now_us
from stylebridge.bridge.core.sessions import Session, SessionRegistry
from stylebridge.bridge.swaps.catalog_entries import RefusedFile, RegisteredModel
from stylebridge.bridge.swaps.following import ModelBackends
from stylebridge.bridge.swaps.push_state import (
    TRIGGER_JOIN,
    TRIGGER_SWAP,
    TRIGGER_WATCH,
    Push,
    SessionPushes,
    chunks_of,
    refused_outcome,
    runs_model,
)
from stylebridge.bridge.swaps.registry import ModelRegistry
from stylebridge.bridge.swaps.swap_domain import (
    RECORDED,
    ChunkTransform,
    OutgoingChunk,
    ReceivedAck,
    check_ack_model,
    swap_record,
    with_ack,
)
from stylebridge.bridge.swaps.validation import Validator, push_target
from stylebridge.errors import InvalidInputError, NotFoundError, StateError
from stylebridge.protocol import SwapOutcome, SwapResult
from stylebridge.store import Store

_log = logging.getLogger(__name__)










class PushManager:
    """Every session's pushes; one per server, used on its event loop."""

    def __init__(
        self,
        *,
        registry: ModelRegistry,
        sessions: SessionRegistry,
        store: Store,
        validator: Validator,
        server_max_model_bytes: int,
        chunk_bytes: int,
        ack_timeout_s: float,
        backends: ModelBackends | None = None,
        chunk_transform: ChunkTransform | None = None,
    ) -> None:
        self._registry = registry
        self._sessions = sessions
        self._store = store
        self._validator = validator
        self._max_bytes = server_max_model_bytes
        self._chunk_bytes = chunk_bytes
        self._ack_timeout_s = ack_timeout_s
        self._backends = backends
        self.chunk_transform = chunk_transform
        self._state: dict[str, SessionPushes] = {}
        self._tasks: set[asyncio.Future[object]] = set()

    @property
    def registry(self) -> ModelRegistry:
        return self._registry

    @property
    def validator(self) -> Validator:
        return self._validator

    def _of(self, session: Session) -> SessionPushes:
        state = self._state.get(session.session_id)
        if state is None:
            state = self._state[session.session_id] = SessionPushes()
        return state

    # --- the Models stream ----------------------------------------------------------

    async def models_stream(
        self, session: Session, *, pinned: bool
    ) -> AsyncIterator[OutgoingChunk]:
        """Chunks for ``session`` until it ends (the Models RPC yields these)."""
        if session.state.ended:
            return
        if session.models_open:
            raise StateError(
                f"session {session.session_id} already has an open Models stream; "
                "open one per session"
            )
        state = self._of(session)
        session.models_open = True
        session.pinned = pinned
        ended = asyncio.ensure_future(session.wait_ended())
        getter: asyncio.Future[Push] | None = None
        try:
            self._maybe_bring_up_to_date(session)
            while True:
                getter = asyncio.ensure_future(state.queue.get())
                await asyncio.wait({getter, ended}, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    return
                push = getter.result()
                try:
                    for chunk in chunks_of(push, self._chunk_bytes, self.chunk_transform):
                        yield chunk
                except BaseException:
                    if not push.sent.done():
                        push.sent.set_exception(StateError("the Models stream closed mid-push"))
                    raise
                if not push.sent.done():
                    push.sent.set_result((time.perf_counter() - push.started) * 1000.0)
        finally:
            ended.cancel()
            # Closed while waiting (client gone): the getter must not outlive the stream,
            # and a push it already took is failed like the queued ones.
            if getter is not None:
                if not getter.done():
                    getter.cancel()
                elif not getter.cancelled() and getter.exception() is None:
                    taken = getter.result()
                    if not taken.sent.done():
                        taken.sent.set_exception(StateError("the Models stream closed"))
            session.models_open = False
            while not state.queue.empty():
                push = state.queue.get_nowait()
                if not push.sent.done():
                    push.sent.set_exception(StateError("the Models stream closed"))

    def _maybe_bring_up_to_date(self, session: Session) -> None:
        """A late joiner (not pinned) gets the current model when it runs another one."""
        current = self._registry.current
        if current is None or session.pinned or runs_model(session, current):
            return
        self.spawn(self.push(session, current, TRIGGER_JOIN))

    def spawn(self, coro: Coroutine[object, object, object]) -> None:
        """Run ``coro`` in the background; ``close`` cancels what is still running."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- pushing --------------------------------------------------------------------

    async def push(
        self,
        session: Session,
        model: RegisteredModel,
        trigger: str,
        *,
        timeout_s: float | None = None,
    ) -> SwapOutcome:
        """Validate ``model`` for ``session``, send it and wait for the ack; never raises
        for the client's or the model's faults (the outcome says what happened)."""
        state = self._of(session)
        async with state.lock:
            return await self._push_locked(session, state, model, trigger, timeout_s)

    async def _push_locked(
        self,
        session: Session,
        state: SessionPushes,
        model: RegisteredModel,
        trigger: str,
        timeout_s: float | None,
    ) -> SwapOutcome:
        requested_at_us = now_us()
        base = SwapOutcome(
            session_id=session.session_id,
            result=SwapResult.NOT_CONNECTED,
            to_model=model.ref,
            from_model=session.active_model,
            requested_at_us=requested_at_us,
            trigger=trigger,
        )
        if session.state.ended or not session.models_open:
            why = (
                "the session has ended"
                if session.state.ended
                else ("the client has no Models stream open (it does not take pushes)")
            )
            return replace(base, reason=why, completed_at_us=now_us())
        if runs_model(session, model):
            return replace(
                base,
                result=SwapResult.UNCHANGED,
                reason=f"the client already runs {model.model_id} v{model.ref.version}",
                completed_at_us=now_us(),
            )
        target = push_target(session.client, session.capabilities, self._max_bytes)
        verdict = await asyncio.to_thread(self._validator.validate, model, target)
        if not verdict.ok:
            outcome = replace(
                base,
                result=SwapResult.REFUSED,
                reason=verdict.reason,
                completed_at_us=now_us(),
            )
            _log.info(
                "session %s: %s refused: %s", session.session_id, model.model_id, verdict.reason
            )
            return self._finish(session, outcome)
        push = Push(
            push_id=uuid.uuid4().hex,
            model=model,
            trigger=trigger,
            requested_at_us=requested_at_us,
            started=time.perf_counter(),
        )
        base = replace(base, push_id=push.push_id)
        if self._backends is not None:
            self._backends.prefetch(model)
        state.pending[push.push_id] = push
        state.queue.put_nowait(push)
        timeout = self._ack_timeout_s if timeout_s is None else timeout_s
        try:
            try:
                push_ms = await asyncio.wait_for(asyncio.shield(push.sent), timeout)
            except StateError as exc:
                # The client went away mid-push (killed, disconnected): no ack will come.
                outcome = replace(
                    base,
                    result=SwapResult.TIMED_OUT,
                    reason=f"{exc}: the client disconnected before it acknowledged the model",
                    completed_at_us=now_us(),
                )
                return self._finish(session, outcome)
            except TimeoutError:
                outcome = replace(
                    base,
                    result=SwapResult.TIMED_OUT,
                    reason=f"the model was not sent within {timeout:.1f} s",
                    completed_at_us=now_us(),
                )
                state.recent.append((push.push_id, outcome))
                return self._finish(session, outcome)
            base = replace(base, push_ms=push_ms)
            left = max(0.0, timeout - push_ms / 1000.0)
            ended = asyncio.ensure_future(session.wait_ended())
            try:
                await asyncio.wait(
                    {push.ack, ended}, timeout=left, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                ended.cancel()
            if push.ack.done():
                return self._finish(session, with_ack(base, push.ack.result()))
            if session.state.ended:
                outcome = replace(
                    base,
                    result=SwapResult.TIMED_OUT,
                    reason="the session ended before the client acknowledged the model",
                    completed_at_us=now_us(),
                )
                return self._finish(session, outcome)
            outcome = replace(
                base,
                result=SwapResult.TIMED_OUT,
                reason=f"no ModelAck within {timeout:.1f} s (is the client streaming frames?)",
                completed_at_us=now_us(),
            )
            state.recent.append((push.push_id, outcome))
            return self._finish(session, outcome)
        finally:
            state.pending.pop(push.push_id, None)

    def on_ack(self, ack: ReceivedAck) -> None:
        """A ModelAck arrived; raises NotFoundError / InvalidInputError for one that
        answers no push of that session or names another model."""
        session = self._sessions.get(ack.session_id)
        state = self._of(session)
        push = state.pending.get(ack.push_id)
        if push is not None:
            check_ack_model(ack, push.model.ref)
            if push.ack.done():
                raise InvalidInputError(f"push {ack.push_id} was already acknowledged")
            push.ack.set_result(ack)
            return
        for push_id, outcome in state.recent:
            if push_id == ack.push_id:
                # The ack came after the timeout: record what really happened.
                check_ack_model(ack, outcome.to_model)
                self._finish(session, with_ack(outcome, ack))
                return
        raise NotFoundError(
            f"session {ack.session_id} has no push {ack.push_id!r} awaiting an ack; "
            "ack each push once, with the push_id of its chunks"
        )

    def _finish(self, session: Session, outcome: SwapOutcome) -> SwapOutcome:
        """Apply an outcome to the session and the store."""
        if not outcome.completed_at_us:
            outcome = replace(outcome, completed_at_us=now_us())
        if outcome.result is SwapResult.ACTIVE:
            session.active_model = outcome.to_model
        session.last_swap = outcome
        if outcome.result in RECORDED:
            self._store.record_swap(swap_record(outcome))
        _log.info(
            "session %s: %s -> %s: %s %s",
            session.session_id,
            outcome.from_model.model_id or "-",
            outcome.to_model.model_id,
            outcome.result.label,
            outcome.reason,
        )
        return outcome

    # --- swaps for the Control service and the watcher ----------------------------

    async def swap(
        self,
        model_id: str,
        session_ids: Sequence[str],
        *,
        all_sessions: bool,
        timeout_s: float | None = None,
        trigger: str = TRIGGER_SWAP,
    ) -> tuple[RegisteredModel, list[SwapOutcome]]:
        """Push ``model_id`` to the named sessions (or all open ones) and wait for them.

        Raises NotFoundError for an unknown model or session, InvalidInputError when
        no session is named and ``all_sessions`` is false.
        """
        model = self._registry.get(model_id)
        if all_sessions:
            targets = self._sessions.open_sessions()
            self._registry.set_current(model.model_id)
        else:
            if not session_ids:
                raise InvalidInputError(
                    "name the sessions to swap (--session ID, repeatable) or pass --all"
                )
            targets = [self._sessions.get(sid) for sid in dict.fromkeys(session_ids)]
        outcomes = await asyncio.gather(
            *(self.push(s, model, trigger, timeout_s=timeout_s) for s in targets)
        )
        return model, list(outcomes)

    async def on_model_complete(self, model: RegisteredModel) -> list[SwapOutcome]:
        """A new version completed in the catalog: it becomes current and goes to every
        session that takes automatic pushes."""
        self._registry.set_current(model.model_id)
        targets = [s for s in self._sessions.open_sessions() if s.models_open and not s.pinned]
        outcomes = await asyncio.gather(*(self.push(s, model, TRIGGER_WATCH) for s in targets))
        return list(outcomes)

    def on_file_refused(self, refused: RefusedFile) -> list[SwapOutcome]:
        """A catalog file that does not load: the sessions that follow the catalog see
        why in their live table (and the store), and nothing is sent."""
        outcomes = []
        for session in self._sessions.open_sessions():
            if not session.models_open or session.pinned:
                continue
            outcomes.append(self._finish(session, refused_outcome(session, refused)))
        return outcomes

    async def close(self) -> None:
        """Cancel background pushes (late joiners); safe to call twice."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
