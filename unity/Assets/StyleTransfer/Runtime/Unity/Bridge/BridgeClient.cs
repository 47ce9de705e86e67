using System;
using System.IO;
using StyleBridge.Core;
using StyleBridge.Inference;
using StyleBridge.Swap;
using Unity.Collections;
using UnityEngine;
using UnityEngine.Rendering;

namespace StyleBridge.Bridge
{
    /// <summary>
    /// Streams what <see cref="StyleTransfer"/> runs to the StyleBridge server and feeds model pushes to
    /// the <see cref="ModelSwapper"/>. Frames are downscaled on the GPU to the stream resolution
    /// (<c>Graphics.Blit</c>) and read back with <c>AsyncGPUReadback</c>; packing, gRPC and reconnects run
    /// on a background thread; a slow or absent server costs the game nothing but skipped frames.
    /// </summary>
    [DisallowMultipleComponent]
    [AddComponentMenu("StyleBridge/Bridge Client")]
    public sealed class BridgeClient : MonoBehaviour
    {
        // GPU readbacks (AsyncGPUReadback requests) pending at once; a parity frame needs two.
        private const int MaxReadbacksInFlight = 3;
        // Same variable as the Python side; read when the Token field is empty.
        private const string TokenVariable = "STYLEBRIDGE_TOKEN";

        [Header("Server")]
        [Tooltip("host:port of `stylebridge serve` (default 127.0.0.1:50051).")]
        [SerializeField] private string m_Address = "127.0.0.1:50051";

        [Tooltip("Bearer token, when the server requires one (servers listening beyond 127.0.0.1 do). "
            + "Saved with the scene: prefer leaving it empty and setting STYLEBRIDGE_TOKEN in the environment.")]
        [SerializeField] private string m_Token = "";

        [Tooltip("Speak TLS, for a server started with --tls-cert/--tls-key.")]
        [SerializeField] private bool m_UseTls;

        [Tooltip("PEM file of the root certificate to trust (e.g. the server's self-signed certificate); "
            + "empty = the roots.pem embedded in ML-Agents' Grpc.Core.dll 1.10 (early 2018), NOT the "
            + "operating system's store. Setting it turns TLS on.")]
        [SerializeField] private string m_RootCertificatePath = "";

        [Tooltip("Connect when Play starts (and when the component is re-enabled).")]
        [SerializeField] private bool m_ConnectOnEnable = true;

        [Tooltip("Opt out of automatic model pushes (explicit `stylebridge swap --session` still comes).")]
        [SerializeField] private bool m_Pinned;

        [Header("Stream")]
        [SerializeField, Min(1)] private int m_StreamWidth = 640;

        [SerializeField, Min(1)] private int m_StreamHeight = 360;

        [Tooltip("Send every Nth stylized frame (1 = all).")]
        [SerializeField, Min(1)] private int m_SendEveryNFrames = 1;

        [Tooltip("Also send the engine's own output every Nth sent frame for the parity check (0 = never). "
            + "Only when the stream resolution equals the inference resolution.")]
        [SerializeField, Min(0)] private int m_ParityEveryNFrames = 30;

        [SerializeField] private WirePixelFormat m_PixelFormat = WirePixelFormat.Rgb8;

        private readonly TimingStats m_PythonTimings = new TimingStats();
        private StyleTransfer m_StyleTransfer;
        private ModelSwapper m_Swapper;
        private IBridgeConnection m_Connection;
        private RenderTexture m_StreamTexture;
        private ServerSession m_Session;
        private FrameResult m_LastFrame;
        private string m_LastProblem = "";
        private ModelIdentity m_AnnouncedModel = ModelIdentity.None;
        private int m_ReadbacksInFlight;
        private long m_FramesSkipped;
        private ulong m_SentCount;
        private bool m_Started;

        /// <summary>Address used by the next <see cref="Connect()"/>.</summary>
        public string Address
        {
            get { return m_Address; }
            set { m_Address = value ?? ""; }
        }

        /// <summary>Token used by the next <see cref="Connect()"/>.</summary>
        public string Token
        {
            get { return m_Token; }
            set { m_Token = value ?? ""; }
        }

        /// <summary>Connection snapshot (state, session, last error, frames sent).</summary>
        public BridgeStatus Status
        {
            get { return m_Connection != null ? m_Connection.Status : BridgeStatus.Disconnected; }
        }

        /// <summary>The session the server opened (null before the first Hello).</summary>
        public ServerSession Session
        {
            get { return m_Session; }
        }

        /// <summary>Python inference times of processed frames (median, p90, p99).</summary>
        public TimingStats PythonTimings
        {
            get { return m_PythonTimings; }
        }

        /// <summary>The last frame the server answered.</summary>
        public FrameResult LastFrame
        {
            get { return m_LastFrame; }
        }

        /// <summary>The last problem reported by the network thread ("" when none).</summary>
        public string LastProblem
        {
            get { return m_LastProblem; }
        }

        /// <summary>Frames not captured because readbacks were still in flight or the GPU lacks async readback.</summary>
        public long FramesSkipped
        {
            get { return m_FramesSkipped; }
        }

        /// <summary>True while connected or trying to.</summary>
        public bool IsConnecting
        {
            get { return m_Connection != null; }
        }

        private void OnEnable()
        {
            m_StyleTransfer = GetComponent<StyleTransfer>();
            m_Swapper = GetComponent<ModelSwapper>();
            if (m_StyleTransfer != null)
            {
                m_StyleTransfer.FrameStylized += OnFrameStylized;
            }
            if (m_Swapper != null)
            {
                m_Swapper.AckReady += OnAck;
            }
            if (m_Started && m_ConnectOnEnable)
            {
                Connect(); // re-enabled later: the StyleTransfer next to it is already set up
            }
        }

        private void Start()
        {
            // Not in OnEnable: the order of OnEnable between components is undefined, and Hello must
            // name the engine and the model that StyleTransfer sets up in its own OnEnable.
            m_Started = true;
            if (m_ConnectOnEnable)
            {
                Connect();
            }
        }

        private void OnDisable()
        {
            if (m_StyleTransfer != null)
            {
                m_StyleTransfer.FrameStylized -= OnFrameStylized;
            }
            if (m_Swapper != null)
            {
                m_Swapper.AckReady -= OnAck;
            }
            Disconnect();
            if (m_StreamTexture != null)
            {
                m_StreamTexture.Release();
                Destroy(m_StreamTexture);
                m_StreamTexture = null;
            }
        }

        /// <summary>Connects to <see cref="Address"/> (reconnecting with back-off until <see cref="Disconnect"/>).</summary>
        public void Connect()
        {
            Disconnect();
            if (!BridgeConnectionFactory.Supported)
            {
                m_LastProblem = BridgeConnectionFactory.Unavailable;
                Debug.LogWarning("StyleBridge: " + m_LastProblem);
                return;
            }
            string roots;
            if (!TryReadRootCertificates(out roots))
            {
                return;
            }
            string token = m_Token.Length > 0 ? m_Token : (Environment.GetEnvironmentVariable(TokenVariable) ?? "").Trim();
            var settings = new BridgeSettings(m_Address, token, m_Pinned, m_PixelFormat, 5, m_UseTls, roots);
            m_AnnouncedModel = CurrentModel();
            m_Connection = BridgeConnectionFactory.Create(settings, Describe());
            m_LastProblem = "";
        }

        /// <summary>Reads <c>m_RootCertificatePath</c> ("" when unset); false, with the problem reported, when it cannot.</summary>
        private bool TryReadRootCertificates(out string roots)
        {
            roots = "";
            if (string.IsNullOrEmpty(m_RootCertificatePath))
            {
                return true;
            }
            try
            {
                roots = File.ReadAllText(m_RootCertificatePath);
                return true;
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                m_LastProblem = "cannot read the root certificate " + m_RootCertificatePath + ": " + e.Message;
                Debug.LogWarning("StyleBridge: " + m_LastProblem);
                return false;
            }
        }

        /// <summary>Connects to another server (e.g. from the StyleBridge window).</summary>
        public void Connect(string address, string token)
        {
            Address = address;
            Token = token;
            Connect();
        }

        /// <summary>Closes the session; frames keep being stylized locally.</summary>
        public void Disconnect()
        {
            if (m_Connection != null)
            {
                m_Connection.Dispose();
                m_Connection = null;
            }
            m_Session = null;
        }

        private void Update()
        {
            if (m_Connection == null)
            {
                return;
            }
            BridgeEvent item;
            while (m_Connection != null && m_Connection.TryDequeue(out item))
            {
                Handle(item);
            }
            ModelIdentity current = CurrentModel();
            if (!current.Equals(m_AnnouncedModel) && m_Connection != null)
            {
                m_AnnouncedModel = current;
                m_Connection.UpdateClient(Describe()); // a reconnect announces the model that runs now
            }
        }

        private void Handle(BridgeEvent item)
        {
            switch (item.Kind)
            {
                case BridgeEventKind.SessionOpened:
                    m_Session = item.Session;
                    Debug.Log("StyleBridge: session " + m_Session.SessionId + " with " + m_Session.ServerVersion
                        + " (Python: " + m_Session.PythonBackend + ")");
                    break;
                case BridgeEventKind.FrameAnswered:
                    m_LastFrame = item.Frame;
                    if (item.Frame.Processed)
                    {
                        m_PythonTimings.Add(item.Frame.PythonMs);
                    }
                    break;
                case BridgeEventKind.ModelChunk:
                    if (m_Swapper != null)
                    {
                        m_Swapper.OnChunk(item.Chunk);
                    }
                    break;
                case BridgeEventKind.Problem:
                    m_LastProblem = item.Message;
                    Debug.LogWarning("StyleBridge: " + item.Message);
                    break;
            }
        }

        private void OnAck(SwapAck ack)
        {
            if (m_Connection != null)
            {
                m_Connection.SendAck(ack);
            }
        }

        private ModelIdentity CurrentModel()
        {
            return m_Swapper != null ? m_Swapper.ActiveModel : ModelIdentity.None;
        }

        /// <summary>What Hello says about this client; reads Unity APIs, so main thread only.</summary>
        private ClientDescription Describe()
        {
            IStyleEngine engine = m_StyleTransfer != null ? m_StyleTransfer.Engine : null;
            return new ClientDescription(
                engine != null ? engine.Family : EngineFamily.Barracuda,
                engine != null ? engine.Version : "",
                Application.unityVersion,
                engine != null ? engine.WorkerType : "",
                SystemInfo.graphicsDeviceName,
                Application.platform.ToString(),
                m_Swapper != null && m_Swapper.AcceptsPushes,
                m_ParityEveryNFrames > 0,
                false,
                m_Swapper != null ? m_Swapper.MaxModelBytes : 0,
                CurrentModel());
        }

        private void OnFrameStylized(StylizedFrame frame)
        {
            if (m_Connection == null || m_Connection.Status.State != SessionState.Streaming)
            {
                return;
            }
            if (frame.Sequence % (ulong)m_SendEveryNFrames != 0)
            {
                return;
            }
            bool sameSize = frame.Input.width == m_StreamWidth && frame.Input.height == m_StreamHeight;
            bool parity = sameSize && m_ParityEveryNFrames > 0 && (m_SentCount + 1) % (ulong)m_ParityEveryNFrames == 0;
            // Count what this frame would add: a parity frame reads back the input and the output.
            if (!SystemInfo.supportsAsyncGPUReadback || m_ReadbacksInFlight + (parity ? 2 : 1) > MaxReadbacksInFlight)
            {
                m_FramesSkipped++; // never stall the game waiting for the GPU
                return;
            }
            m_SentCount++;
            Texture source = frame.Input;
            if (!sameSize)
            {
                EnsureStreamTexture();
                Graphics.Blit(frame.Input, m_StreamTexture); // downscale on the GPU
                source = m_StreamTexture;
            }
            var capture = new PendingCapture(this, frame, parity, CaptureTimeUs());
            RequestReadback(source, capture.OnImage);
            if (parity)
            {
                RequestReadback(frame.Output, capture.OnEngineOutput);
            }
        }

        private void RequestReadback(Texture source, Action<AsyncGPUReadbackRequest> callback)
        {
            m_ReadbacksInFlight++;
            AsyncGPUReadback.Request(source, 0, TextureFormat.RGBA32, request =>
            {
                m_ReadbacksInFlight--;
                callback(request);
            });
        }

        private void EnsureStreamTexture()
        {
            if (m_StreamTexture != null && m_StreamTexture.width == m_StreamWidth
                && m_StreamTexture.height == m_StreamHeight)
            {
                return;
            }
            if (m_StreamTexture != null)
            {
                m_StreamTexture.Release();
                Destroy(m_StreamTexture);
            }
            // Linear like the engine's input (StyleTextures), so that a downscaled frame carries the same
            // values as a full-size one and as the model's input.
            m_StreamTexture = StyleTextures.Create(m_StreamWidth, m_StreamHeight, false);
        }

        private static long CaptureTimeUs()
        {
            return (DateTime.UtcNow.Ticks - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks) / 10;
        }

        private void Offer(CapturedFrame frame)
        {
            if (m_Connection != null)
            {
                m_Connection.OfferFrame(frame);
            }
        }

        /// <summary>Collects the one or two readbacks of a frame, then hands it to the network thread.</summary>
        private sealed class PendingCapture
        {
            private readonly BridgeClient m_Owner;
            private readonly ulong m_Sequence;
            private readonly string m_ModelId;
            private readonly EngineTimingSample m_Timing;
            private readonly long m_CaptureTimeUs;
            private int m_Waiting;
            private bool m_Failed;
            private byte[] m_Image;
            private byte[] m_EngineOutput;
            private int m_Width;
            private int m_Height;

            public PendingCapture(BridgeClient owner, StylizedFrame frame, bool parity, long captureTimeUs)
            {
                m_Owner = owner;
                m_Sequence = frame.Sequence;
                m_ModelId = frame.Model.ModelId;
                m_Timing = frame.Timing;
                m_CaptureTimeUs = captureTimeUs;
                m_Waiting = parity ? 2 : 1;
            }

            public void OnImage(AsyncGPUReadbackRequest request)
            {
                m_Image = Copy(request);
                m_Width = request.width;
                m_Height = request.height;
                Done();
            }

            public void OnEngineOutput(AsyncGPUReadbackRequest request)
            {
                m_EngineOutput = Copy(request);
                Done();
            }

            private byte[] Copy(AsyncGPUReadbackRequest request)
            {
                if (request.hasError)
                {
                    m_Failed = true;
                    return null;
                }
                NativeArray<byte> data = request.GetData<byte>();
                var bytes = new byte[data.Length];
                data.CopyTo(bytes);
                return bytes;
            }

            private void Done()
            {
                if (--m_Waiting > 0)
                {
                    return;
                }
                if (m_Failed || m_Image == null)
                {
                    m_Owner.m_FramesSkipped++;
                    return;
                }
                m_Owner.Offer(new CapturedFrame(m_Sequence, m_CaptureTimeUs, m_Width, m_Height, m_Image, m_ModelId,
                    m_Timing, m_EngineOutput));
            }
        }
    }
}
