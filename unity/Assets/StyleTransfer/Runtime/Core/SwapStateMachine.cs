using System;
using System.Collections.Generic;
using System.Globalization;

namespace StyleBridge.Core
{
    /// <summary>
    /// The client-side swap state machine of one session (spec: the hot-swap issue's
    /// "client-side swap state machine"; the Python reference client implements the same one,
    /// and both run <c>tests/vectors/swap_state.json</c>).
    /// <para>
    /// Pure logic: no threads, no I/O, no engine. The host feeds it events (chunks, the results of
    /// the import and warm-up it performs, frame boundaries) and sends the acks it returns as
    /// <c>ModelAck</c>. Frames never wait on it: until a push becomes Active the previous model
    /// answers every frame. Not thread-safe: call it from one thread, or under one lock.
    /// </para>
    /// Host loop: feed <see cref="OnChunk"/>; when <see cref="State"/> is Loading, import
    /// <see cref="PendingBytes"/> into a second worker and report <see cref="OnLoadSucceeded"/> or
    /// <see cref="OnLoadFailed"/>; then warm up and report <see cref="OnWarmSucceeded"/> or
    /// <see cref="OnWarmFailed"/>; before each frame run the worker of <see cref="ModelForNextFrame"/>,
    /// after it call <see cref="OnFrame"/> (which swaps when Ready), and dispose the old worker
    /// when the result says <see cref="SwapFrameResult.Swapped"/>; when a push is superseded or
    /// rolled back while a second worker exists, dispose that one.
    /// </summary>
    public sealed class SwapStateMachine
    {
        private const int AbandonedMemory = 64;
        private static readonly SwapAck[] NoAcks = new SwapAck[0];

        private readonly long _maxModelBytes;
        private readonly HashSet<string> _abandoned = new HashSet<string>();
        private readonly Queue<string> _abandonedOrder = new Queue<string>();
        private ChunkAssembler _assembler;
        private long _totalBytes;
        private double _importMs;
        private double _warmupMs;

        /// <summary>Creates a machine in <see cref="SwapState.Idle"/>.</summary>
        /// <param name="initialModel">The model running before any push (null = none).</param>
        /// <param name="maxModelBytes">Largest file accepted, in bytes; 0 = no limit of its own.</param>
        /// <exception cref="ArgumentOutOfRangeException">maxModelBytes is negative.</exception>
        public SwapStateMachine(ModelIdentity initialModel, long maxModelBytes = 0)
        {
            if (maxModelBytes < 0)
            {
                throw new ArgumentOutOfRangeException("maxModelBytes", maxModelBytes, "must be >= 0 (0 = no limit)");
            }
            _maxModelBytes = maxModelBytes;
            ActiveModel = initialModel ?? ModelIdentity.None;
            PendingModel = ModelIdentity.None;
            PendingPushId = "";
            State = SwapState.Idle;
        }

        /// <summary>Where the machine is.</summary>
        public SwapState State { get; private set; }

        /// <summary>The model that runs frames now (<see cref="ModelIdentity.None"/> when none).</summary>
        public ModelIdentity ActiveModel { get; private set; }

        /// <summary>How to feed the active model: the metadata of the push that made it active
        /// (null for the initial model, or when that push carried none).</summary>
        public ModelInputInfo ActiveMetadata { get; private set; }

        /// <summary>The model of the push in progress (None when no push is in progress).</summary>
        public ModelIdentity PendingModel { get; private set; }

        /// <summary>The id of the push in progress ("" when none).</summary>
        public string PendingPushId { get; private set; }

        /// <summary>How to feed the pending model (from its first chunk; may be null).</summary>
        public ModelInputInfo PendingMetadata { get; private set; }

        /// <summary>The verified file; set in <see cref="SwapState.Loading"/> only (the host imports it).</summary>
        public byte[] PendingBytes { get; private set; }

        /// <summary>Bytes of the pending push received so far (for progress displays).</summary>
        public long ReceivedBytes
        {
            get { return _assembler == null ? 0 : _assembler.Length; }
        }

        /// <summary>Announced size of the pending push (0 when none).</summary>
        public long TotalBytes
        {
            get { return _totalBytes; }
        }

        /// <summary>The most recent ack emitted (null before the first).</summary>
        public SwapAck LastAck { get; private set; }

        /// <summary>True while a push is between its first chunk and Active / RolledBack.</summary>
        public bool PushInProgress
        {
            get
            {
                return State == SwapState.Receiving || State == SwapState.Verifying || State == SwapState.Loading
                    || State == SwapState.Warming || State == SwapState.Ready;
            }
        }

        /// <summary>The model the next frame must run: the pending one when Ready, else the active one.</summary>
        public ModelIdentity ModelForNextFrame
        {
            get { return State == SwapState.Ready ? PendingModel : ActiveModel; }
        }

        /// <summary>
        /// A chunk arrived. Starts, continues, supersedes or rolls back a push as the spec says;
        /// chunks of abandoned pushes, duplicates and strays (offset != 0 outside a push) are ignored.
        /// </summary>
        /// <returns>The acks to send, in order (usually none; a superseded push and a new push
        /// that fails at once give two).</returns>
        public IReadOnlyList<SwapAck> OnChunk(ModelChunk chunk)
        {
            if (chunk == null)
            {
                throw new ArgumentNullException("chunk");
            }
            if (_abandoned.Contains(chunk.PushId))
            {
                return NoAcks;
            }
            var acks = new List<SwapAck>(2);
            switch (State)
            {
                case SwapState.Receiving:
                    if (chunk.PushId == PendingPushId)
                    {
                        Append(chunk, acks);
                    }
                    else if (chunk.Offset == 0)
                    {
                        Supersede(chunk.PushId, acks);
                        Start(chunk, acks);
                    }
                    break;
                case SwapState.Verifying:
                case SwapState.Loading:
                case SwapState.Warming:
                case SwapState.Ready:
                    if (chunk.PushId != PendingPushId && chunk.Offset == 0)
                    {
                        Supersede(chunk.PushId, acks);
                        Start(chunk, acks);
                    }
                    break;
                default:
                    if (chunk.Offset == 0)
                    {
                        Start(chunk, acks);
                    }
                    break;
            }
            return acks.Count == 0 ? (IReadOnlyList<SwapAck>)NoAcks : acks;
        }

        /// <summary>The host imported <see cref="PendingBytes"/> in <paramref name="importMs"/> ms:
        /// Loading → Warming. Ignored in any other state, and when <paramref name="pushId"/> is given
        /// and is not the pending push (a stale result of a superseded push's import).</summary>
        public void OnLoadSucceeded(double importMs, string pushId = null)
        {
            if (!Expects(SwapState.Loading, pushId))
            {
                return;
            }
            _importMs = importMs;
            PendingBytes = null;
            State = SwapState.Warming;
        }

        /// <summary>The import failed: Loading → RolledBack, with an ack carrying
        /// <paramref name="error"/>. Ignored (null) in any other state or for another
        /// <paramref name="pushId"/> (when given).</summary>
        public SwapAck OnLoadFailed(string error, string pushId = null)
        {
            return Expects(SwapState.Loading, pushId) ? RollBack(error) : null;
        }

        /// <summary>The new worker is warm after <paramref name="warmupMs"/> ms: Warming → Ready
        /// (it runs from the next frame). Ignored in any other state or for another
        /// <paramref name="pushId"/> (when given).</summary>
        public void OnWarmSucceeded(double warmupMs, string pushId = null)
        {
            if (!Expects(SwapState.Warming, pushId))
            {
                return;
            }
            _warmupMs = warmupMs;
            State = SwapState.Ready;
        }

        /// <summary>The warm-up failed: Warming → RolledBack, with an ack carrying
        /// <paramref name="error"/>. Ignored (null) in any other state or for another
        /// <paramref name="pushId"/> (when given).</summary>
        public SwapAck OnWarmFailed(string error, string pushId = null)
        {
            return Expects(SwapState.Warming, pushId) ? RollBack(error) : null;
        }

        private bool Expects(SwapState state, string pushId)
        {
            return State == state && (pushId == null || pushId == PendingPushId);
        }

        /// <summary>
        /// A frame boundary: frame <paramref name="sequence"/> ran in <paramref name="inferenceMs"/> ms.
        /// In Ready it was the new model's first frame: the new model becomes active and the
        /// result carries the ACTIVE ack. Otherwise the active model ran it.
        /// </summary>
        public SwapFrameResult OnFrame(ulong sequence, double inferenceMs)
        {
            if (State != SwapState.Ready)
            {
                return new SwapFrameResult(ActiveModel, null);
            }
            var ack = new SwapAck(PendingPushId, PendingModel, SwapAckStatus.Active, _importMs, _warmupMs,
                inferenceMs, sequence, "");
            ActiveModel = PendingModel;
            ActiveMetadata = PendingMetadata;
            ClearPending();
            State = SwapState.Active;
            LastAck = ack;
            return new SwapFrameResult(ActiveModel, ack);
        }

        private void Start(ModelChunk chunk, List<SwapAck> acks)
        {
            ClearPending();
            PendingPushId = chunk.PushId;
            PendingModel = chunk.Model;
            PendingMetadata = chunk.Metadata;
            _totalBytes = chunk.TotalBytes;
            _importMs = 0;
            _warmupMs = 0;
            if (_maxModelBytes > 0 && chunk.TotalBytes > _maxModelBytes)
            {
                acks.Add(RollBack(string.Format(CultureInfo.InvariantCulture,
                    "model is too large: {0} bytes, this client accepts at most {1}",
                    chunk.TotalBytes, _maxModelBytes)));
                return;
            }
            if (chunk.TotalBytes > ChunkAssembler.MaxBytes)
            {
                acks.Add(RollBack(string.Format(CultureInfo.InvariantCulture,
                    "model is too large: {0} bytes, more than one array can hold", chunk.TotalBytes)));
                return;
            }
            _assembler = new ChunkAssembler(chunk.TotalBytes);
            State = SwapState.Receiving;
            Append(chunk, acks);
        }

        private void Append(ModelChunk chunk, List<SwapAck> acks)
        {
            long received = _assembler.Length;
            if (chunk.Offset != received)
            {
                acks.Add(RollBack(string.Format(CultureInfo.InvariantCulture,
                    "chunk out of order: offset {0}, expected {1}", chunk.Offset, received)));
                return;
            }
            if (received + chunk.Data.LongLength > _totalBytes)
            {
                acks.Add(RollBack(string.Format(CultureInfo.InvariantCulture,
                    "model is too large: {0} bytes received, total_bytes says {1}",
                    received + chunk.Data.LongLength, _totalBytes)));
                return;
            }
            _assembler.Append(chunk.Data);
            if (chunk.Last)
            {
                State = SwapState.Verifying;
                Verify(acks);
            }
        }

        private void Verify(List<SwapAck> acks)
        {
            if (_assembler.Length != _totalBytes)
            {
                acks.Add(RollBack(string.Format(CultureInfo.InvariantCulture,
                    "size mismatch: received {0} bytes, total_bytes says {1}", _assembler.Length, _totalBytes)));
                return;
            }
            string digest = _assembler.FinishDigest();
            if (digest != PendingModel.Sha256)
            {
                acks.Add(RollBack("sha256 mismatch: received bytes hash to " + digest + ", the push says "
                    + (PendingModel.Sha256.Length == 0 ? "(none)" : PendingModel.Sha256)));
                return;
            }
            PendingBytes = _assembler.ToArray();
            _assembler.Dispose();
            _assembler = null;
            State = SwapState.Loading;
        }

        private void Supersede(string newPushId, List<SwapAck> acks)
        {
            acks.Add(RollBack("superseded by push " + newPushId + " before it became active"));
        }

        private SwapAck RollBack(string error)
        {
            var ack = new SwapAck(PendingPushId, PendingModel, SwapAckStatus.RolledBack, _importMs, _warmupMs, 0,
                0, string.IsNullOrEmpty(error) ? "unknown error" : error);
            Abandon(PendingPushId);
            ClearPending();
            State = SwapState.RolledBack;
            LastAck = ack;
            return ack;
        }

        private void Abandon(string pushId)
        {
            if (pushId.Length == 0 || !_abandoned.Add(pushId))
            {
                return;
            }
            _abandonedOrder.Enqueue(pushId);
            if (_abandonedOrder.Count > AbandonedMemory)
            {
                _abandoned.Remove(_abandonedOrder.Dequeue());
            }
        }

        private void ClearPending()
        {
            if (_assembler != null)
            {
                _assembler.Dispose();
                _assembler = null;
            }
            PendingPushId = "";
            PendingModel = ModelIdentity.None;
            PendingMetadata = null;
            PendingBytes = null;
            _totalBytes = 0;
        }
    }
}
