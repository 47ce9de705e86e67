"""In-engine performance tests through ML-Agents: ``stylebridge perf-test``.

Flow: a TOML plan (``plan``) -> ML-Agents' ``UnityEnvironment`` launches the player
or waits for Play in the editor (``launch``) -> per model x resolution the player
measures its engine and Python measures the same model and frames (``runner``) ->
the regression gate compares with a baseline run (``gate``) -> JSON, JUnit XML,
Markdown and a plot (``outputs``) -> the SQLite store (``history``). ``perf_test``
ties them together; ``commands/perf.py`` is the CLI.

mlagents-envs 0.28.0's generated protos do not import on protobuf >= 4:
``mlagents_compat.ensure_mlagents_importable()`` installs an import hook that builds
them from their serialized descriptors; ``launch`` calls it before importing
mlagents_envs, and nothing else in the package imports mlagents_envs.

The side-channel protocol (the contract a Unity player implements; the stand-in
player ``standin_player`` is its reference implementation):

* Channels: ML-Agents' EngineConfigurationChannel
  (``e951342c-4f7e-11ea-b238-784f4387d1f7``) for resolution, quality level, time
  scale and target frame rate; the StyleBridge perf channel
  (``6f3b0c8e-2d4a-4c55-9a61-5b7e1f0c9d27``, ``protocol.PERF_CHANNEL_ID``) whose every
  payload is one serialized ``stylebridge.v1.PerfToPlayer`` (Python -> player) or
  ``PerfFromPlayer`` (player -> Python) message (protos/stylebridge/v1/perf.proto).
* Order: ML-Agents handshake; Python sends RESET; the player answers RESET with
  ``player_info``. Per case, one exchange carries the engine configuration then
  ``run_case``; the player runs warm-up + measured frames, one per academy step,
  and answers ``case_result`` (same ``case_id``; ``error`` set when it cannot run
  the case). After the last case Python sends ``finish`` and closes (status 400).
* The model travels by reference: ``model_path`` (absolute, on the player's machine)
  plus ``sha256``, or, with an empty path, ``model_id`` for a model the player
  bundles. Results name their engine and timing method; parity frames (input and
  engine output, RGB8) come back when ``send_parity`` is set.
* Timeouts: ``--timeout`` bounds the wait for the connection and for every exchange
  (one frame); a case that gets no result within warm-up + measured + 20 steps
  fails; a player process that exits is noticed within 0.5 s.
"""
