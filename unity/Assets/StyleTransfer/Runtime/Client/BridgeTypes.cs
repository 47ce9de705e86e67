using StyleBridge.Core;
using StyleBridge.Inference;

namespace StyleBridge.Bridge
{
    /// <summary>What this client tells the server in Hello; built on the main thread (Unity APIs).</summary>
    public sealed class ClientDescription
    {
        /// <summary>Creates a description (all strings non-null).</summary>
        public ClientDescription(EngineFamily engine, string engineVersion, string unityVersion, string workerType,
            string gpu, string platform, bool acceptsModelPush, bool sendsEngineOutput, bool wantsStylizedPixels,
            long maxModelBytes, ModelIdentity activeModel)
        {
            Engine = engine;
            EngineVersion = engineVersion ?? "";
            UnityVersion = unityVersion ?? "";
            WorkerType = workerType ?? "";
            Gpu = gpu ?? "";
            Platform = platform ?? "";
            AcceptsModelPush = acceptsModelPush;
            SendsEngineOutput = sendsEngineOutput;
            WantsStylizedPixels = wantsStylizedPixels;
            MaxModelBytes = maxModelBytes;
            ActiveModel = activeModel ?? ModelIdentity.None;
        }

        /// <summary>Client program name reported in Hello.</summary>
        public const string ClientName = BridgeProtocol.ClientName;

        public EngineFamily Engine { get; }
        public string EngineVersion { get; }
        public string UnityVersion { get; }
        public string WorkerType { get; }
        public string Gpu { get; }
        public string Platform { get; }
        public bool AcceptsModelPush { get; }
        public bool SendsEngineOutput { get; }
        public bool WantsStylizedPixels { get; }
        public long MaxModelBytes { get; }
        public ModelIdentity ActiveModel { get; }
    }

    /// <summary>
    /// One captured frame on its way to the network thread: the raw bottom-up RGBA32 readback (packed
    /// for the wire on the network thread, never on the game thread) and what the engine did with it.
    /// </summary>
    public sealed class CapturedFrame
    {
        public CapturedFrame(ulong sequence, long captureTimeUs, int width, int height, byte[] rgba32,
            string modelId, EngineTimingSample timing, byte[] engineOutputRgba32)
        {
            Sequence = sequence;
            CaptureTimeUs = captureTimeUs;
            Width = width;
            Height = height;
            Rgba32 = rgba32;
            ModelId = modelId ?? "";
            Timing = timing;
            EngineOutputRgba32 = engineOutputRgba32;
        }

        public ulong Sequence { get; }
        public long CaptureTimeUs { get; }
        public int Width { get; }
        public int Height { get; }

        /// <summary>width * height * 4 bytes, bottom row first (Unity's readback order).</summary>
        public byte[] Rgba32 { get; }

        public string ModelId { get; }
        public EngineTimingSample Timing { get; }

        /// <summary>The engine's output of this frame at the same size, for the parity check; null when not sent.</summary>
        public byte[] EngineOutputRgba32 { get; }
    }

    /// <summary>What the server said about one frame (FrameDown, without pixels).</summary>
    public sealed class FrameResult
    {
        public FrameResult(ulong sequence, string status, double pythonMs, double queueMs, string backend,
            string modelId, double? parityPsnrDb, ulong droppedTotal, string error)
        {
            Sequence = sequence;
            Status = status ?? "";
            PythonMs = pythonMs;
            QueueMs = queueMs;
            Backend = backend ?? "";
            ModelId = modelId ?? "";
            ParityPsnrDb = parityPsnrDb;
            DroppedTotal = droppedTotal;
            Error = error ?? "";
        }

        public ulong Sequence { get; }

        /// <summary>"processed", "dropped", "recorded", "failed" or "rejected" (the frame broke a protocol rule; see Error).</summary>
        public string Status { get; }

        public double PythonMs { get; }
        public double QueueMs { get; }
        public string Backend { get; }
        public string ModelId { get; }
        public double? ParityPsnrDb { get; }
        public ulong DroppedTotal { get; }
        public string Error { get; }

        /// <summary>True when Python ran on the frame (so <see cref="PythonMs"/> is a timing).</summary>
        public bool Processed
        {
            get { return Status == "processed"; }
        }
    }

    /// <summary>The session the server opened (HelloResponse).</summary>
    public sealed class ServerSession
    {
        public ServerSession(string sessionId, string serverVersion, string pythonBackend, ModelIdentity pythonModel,
            bool modelPush, long maxFrameBytes)
        {
            SessionId = sessionId ?? "";
            ServerVersion = serverVersion ?? "";
            PythonBackend = pythonBackend ?? "";
            PythonModel = pythonModel ?? ModelIdentity.None;
            ModelPush = modelPush;
            MaxFrameBytes = maxFrameBytes;
        }

        public string SessionId { get; }
        public string ServerVersion { get; }
        public string PythonBackend { get; }
        public ModelIdentity PythonModel { get; }
        public bool ModelPush { get; }

        /// <summary>Largest Image.pixels the server accepts (0 = not said).</summary>
        public long MaxFrameBytes { get; }
    }

    /// <summary>A connection snapshot for the UI; immutable, replaced as a whole by the network thread.</summary>
    public sealed class BridgeStatus
    {
        public static readonly BridgeStatus Disconnected =
            new BridgeStatus(SessionState.Disconnected, "", "", "", 0, 0, 0, 0);

        public BridgeStatus(SessionState state, string address, string sessionId, string lastError, int attempt,
            double retryInSeconds, long framesSent, long framesReplaced)
        {
            State = state;
            Address = address ?? "";
            SessionId = sessionId ?? "";
            LastError = lastError ?? "";
            Attempt = attempt;
            RetryInSeconds = retryInSeconds;
            FramesSent = framesSent;
            FramesReplaced = framesReplaced;
        }

        public SessionState State { get; }
        public string Address { get; }
        public string SessionId { get; }
        public string LastError { get; }
        public int Attempt { get; }
        public double RetryInSeconds { get; }

        /// <summary>Frames written to the stream.</summary>
        public long FramesSent { get; }

        /// <summary>Captured frames replaced by a newer one before the network thread took them.</summary>
        public long FramesReplaced { get; }
    }
}
