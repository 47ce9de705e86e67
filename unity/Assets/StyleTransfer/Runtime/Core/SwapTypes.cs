using System;

namespace StyleBridge.Core
{
    /// <summary>
    /// States of the client-side swap machine. The names are part of the contract shared with
    /// the Python reference client (<c>SwapState</c> there) and the vectors in
    /// <c>tests/vectors/swap_state.json</c>: do not rename.
    /// </summary>
    public enum SwapState
    {
        /// <summary>No push in progress; a model may be active.</summary>
        Idle,
        /// <summary>Chunks of a push are arriving.</summary>
        Receiving,
        /// <summary>The last chunk arrived; size and sha256 are being checked (never seen between events).</summary>
        Verifying,
        /// <summary>Verified bytes wait for the host to import them (<see cref="SwapStateMachine.PendingBytes"/>).</summary>
        Loading,
        /// <summary>Imported; the host warms the new worker up.</summary>
        Warming,
        /// <summary>Loaded and warm; the new model runs from the next frame on.</summary>
        Ready,
        /// <summary>The last push is the running model.</summary>
        Active,
        /// <summary>The last push failed; the previous model still runs.</summary>
        RolledBack,
    }

    /// <summary>Outcome of a push; the values equal the protocol's <c>AckStatus</c> numbers.</summary>
    public enum SwapAckStatus
    {
        /// <summary>The new model is active (ACK_STATUS_ACTIVE = 1).</summary>
        Active = 1,
        /// <summary>The client keeps the previous model (ACK_STATUS_ROLLED_BACK = 2).</summary>
        RolledBack = 2,
    }

    /// <summary>
    /// One piece of a pushed ONNX file (the protocol's <c>ModelChunk</c>, as plain C#).
    /// </summary>
    public sealed class ModelChunk
    {
        /// <summary>Creates a chunk.</summary>
        /// <param name="pushId">Id of the push, echoed by the ack.</param>
        /// <param name="model">The model being pushed (id, version, sha256 of the whole file).</param>
        /// <param name="totalBytes">Size of the whole file in bytes.</param>
        /// <param name="offset">Offset of <paramref name="data"/> in the file.</param>
        /// <param name="data">The bytes of this chunk (null = empty). Not copied: do not reuse the array.</param>
        /// <param name="last">True on the final chunk of the push.</param>
        /// <param name="metadata">How to feed the model (sent with the first chunk; null otherwise).</param>
        /// <exception cref="ArgumentOutOfRangeException">totalBytes or offset is negative.</exception>
        public ModelChunk(string pushId, ModelIdentity model, long totalBytes, long offset, byte[] data,
            bool last, ModelInputInfo metadata = null)
        {
            if (totalBytes < 0)
            {
                throw new ArgumentOutOfRangeException("totalBytes", totalBytes, "total_bytes must be >= 0");
            }
            if (offset < 0)
            {
                throw new ArgumentOutOfRangeException("offset", offset, "offset must be >= 0");
            }
            PushId = pushId ?? "";
            Model = model ?? ModelIdentity.None;
            TotalBytes = totalBytes;
            Offset = offset;
            Data = data ?? new byte[0];
            Last = last;
            Metadata = metadata;
        }

        /// <summary>Id of the push, echoed by the ack.</summary>
        public string PushId { get; }

        /// <summary>The model being pushed.</summary>
        public ModelIdentity Model { get; }

        /// <summary>Size of the whole file in bytes.</summary>
        public long TotalBytes { get; }

        /// <summary>Offset of <see cref="Data"/> in the file.</summary>
        public long Offset { get; }

        /// <summary>The bytes of this chunk.</summary>
        public byte[] Data { get; }

        /// <summary>True on the final chunk.</summary>
        public bool Last { get; }

        /// <summary>How to feed the model; set on the first chunk only (may be null).</summary>
        public ModelInputInfo Metadata { get; }
    }

    /// <summary>
    /// What the swap machine reports for one push; the host sends it as the protocol's <c>ModelAck</c>.
    /// </summary>
    public sealed class SwapAck
    {
        /// <summary>Creates an ack (the machine does; hosts and tests read them).</summary>
        public SwapAck(string pushId, ModelIdentity model, SwapAckStatus status, double importMs,
            double warmupMs, double firstInferenceMs, ulong firstSequence, string error)
        {
            PushId = pushId ?? "";
            Model = model ?? ModelIdentity.None;
            Status = status;
            ImportMs = importMs;
            WarmupMs = warmupMs;
            FirstInferenceMs = firstInferenceMs;
            FirstSequence = firstSequence;
            Error = error ?? "";
        }

        /// <summary>The push this answers.</summary>
        public string PushId { get; }

        /// <summary>The pushed model.</summary>
        public ModelIdentity Model { get; }

        /// <summary>Active or rolled back.</summary>
        public SwapAckStatus Status { get; }

        /// <summary>Milliseconds the host took to import the bytes (0 when it never got there).</summary>
        public double ImportMs { get; }

        /// <summary>Milliseconds of warm-up inference (0 when it never got there).</summary>
        public double WarmupMs { get; }

        /// <summary>Milliseconds of the new model's first real frame (Active only).</summary>
        public double FirstInferenceMs { get; }

        /// <summary>Sequence of the first frame the new model produced (Active only, else 0).</summary>
        public ulong FirstSequence { get; }

        /// <summary>Why the push was rolled back (RolledBack only, else empty).</summary>
        public string Error { get; }

        /// <summary>For logs.</summary>
        public override string ToString()
        {
            return Status == SwapAckStatus.Active
                ? "push " + PushId + ": " + Model + " active from frame " + FirstSequence
                : "push " + PushId + ": " + Model + " rolled back: " + Error;
        }
    }

    /// <summary>Which model runs a frame, and the ack when this frame completed a swap.</summary>
    public struct SwapFrameResult
    {
        /// <summary>Creates a result (the machine does).</summary>
        public SwapFrameResult(ModelIdentity model, SwapAck ack)
        {
            Model = model;
            Ack = ack;
        }

        /// <summary>The model that ran (or runs) this frame.</summary>
        public ModelIdentity Model { get; }

        /// <summary>The ACTIVE ack when this frame was the new model's first; null otherwise.</summary>
        public SwapAck Ack { get; }

        /// <summary>True when this frame was the first of a newly swapped-in model.</summary>
        public bool Swapped
        {
            get { return Ack != null; }
        }
    }
}
