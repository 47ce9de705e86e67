using StyleBridge.Core;

namespace StyleBridge.Bridge
{
    /// <summary>What the network thread reports to the main thread.</summary>
    public enum BridgeEventKind
    {
        /// <summary>Hello accepted: <see cref="BridgeEvent.Session"/> is set.</summary>
        SessionOpened,
        /// <summary>The server answered a frame: <see cref="BridgeEvent.Frame"/> is set.</summary>
        FrameAnswered,
        /// <summary>A piece of a model push: <see cref="BridgeEvent.Chunk"/> is set.</summary>
        ModelChunk,
        /// <summary>The session ended or a call failed: <see cref="BridgeEvent.Message"/> says why.</summary>
        Problem,
    }

    /// <summary>One event from the network thread; drained on the main thread every frame.</summary>
    public sealed class BridgeEvent
    {
        private BridgeEvent(BridgeEventKind kind, ServerSession session, FrameResult frame, ModelChunk chunk,
            string message)
        {
            Kind = kind;
            Session = session;
            Frame = frame;
            Chunk = chunk;
            Message = message ?? "";
        }

        public BridgeEventKind Kind { get; }
        public ServerSession Session { get; }
        public FrameResult Frame { get; }
        public ModelChunk Chunk { get; }
        public string Message { get; }

        public static BridgeEvent Opened(ServerSession session)
        {
            return new BridgeEvent(BridgeEventKind.SessionOpened, session, null, null, "");
        }

        public static BridgeEvent Answered(FrameResult frame)
        {
            return new BridgeEvent(BridgeEventKind.FrameAnswered, null, frame, null, "");
        }

        public static BridgeEvent Pushed(ModelChunk chunk)
        {
            return new BridgeEvent(BridgeEventKind.ModelChunk, null, null, chunk, "");
        }

        public static BridgeEvent Failed(string message)
        {
            return new BridgeEvent(BridgeEventKind.Problem, null, null, null, message);
        }
    }

    /// <summary>Where and how to connect.</summary>
    public sealed class BridgeSettings
    {
        public BridgeSettings(string address, string token, bool pinned, WirePixelFormat pixelFormat,
            double helloTimeoutSeconds, bool useTls = false, string rootCertificates = null,
            int maxReceiveMessageBytes = BridgeRules.DefaultMaxReceiveMessageBytes)
        {
            if (maxReceiveMessageBytes <= 0)
            {
                throw new System.ArgumentOutOfRangeException("maxReceiveMessageBytes", maxReceiveMessageBytes,
                    "the receive limit must be > 0 bytes");
            }
            MaxReceiveMessageBytes = maxReceiveMessageBytes;
            Address = string.IsNullOrEmpty(address) ? "127.0.0.1:50051" : address.Trim();
            Token = token ?? "";
            Pinned = pinned;
            PixelFormat = pixelFormat;
            HelloTimeoutSeconds = helloTimeoutSeconds > 0 ? helloTimeoutSeconds : 5;
            RootCertificates = rootCertificates ?? "";
            UseTls = useTls || RootCertificates.Length > 0;
        }

        /// <summary>host:port of the StyleBridge server.</summary>
        public string Address { get; }

        /// <summary>Bearer token ("" = none; required by servers that listen beyond 127.0.0.1).</summary>
        public string Token { get; }

        /// <summary>Opt out of automatic pushes (explicit swaps still come).</summary>
        public bool Pinned { get; }

        public WirePixelFormat PixelFormat { get; }
        public double HelloTimeoutSeconds { get; }

        /// <summary>Speak TLS (a server started with --tls-cert/--tls-key); false = plain text.</summary>
        public bool UseTls { get; }

        /// <summary>
        /// PEM root certificate(s) to trust; "" = the roots.pem embedded in ML-Agents' Grpc.Core.dll 1.10
        /// (gRPC's bundle of early 2018), not the operating system's store. Pass the server's certificate
        /// (or its CA) for a self-signed or recently issued certificate.
        /// </summary>
        public string RootCertificates { get; }

        /// <summary>Largest message accepted from the server (gRPC's grpc.max_receive_message_length).</summary>
        public int MaxReceiveMessageBytes { get; }
    }

    /// <summary>The connection as the main thread sees it; every member is non-blocking.</summary>
    public interface IBridgeConnection : System.IDisposable
    {
        /// <summary>The latest snapshot.</summary>
        BridgeStatus Status { get; }

        /// <summary>Takes the next event, if any.</summary>
        bool TryDequeue(out BridgeEvent item);

        /// <summary>Offers a frame; a newer frame replaces one not yet sent (newest wins).</summary>
        void OfferFrame(CapturedFrame frame);

        /// <summary>Queues a swap ack for the server.</summary>
        void SendAck(SwapAck ack);

        /// <summary>Replaces what the next Hello says (e.g. after a swap, for reconnects).</summary>
        void UpdateClient(ClientDescription client);
    }
}
